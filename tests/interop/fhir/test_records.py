"""Patient, conditions, allergies, medicines, infusions and overrides (synthetic)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from natalizumab_cds.domain.protocol import ATC, LOCAL, RXNORM, SNOMED
from natalizumab_cds.domain.timeline import Coding
from tests.interop.fhir.builders import (
    AT,
    PML,
    PNEUMONIA,
    a_condition,
    a_medication_request,
    a_medication_statement,
    a_patient,
    an_allergy,
    an_infusion,
    an_override,
    concept,
    read_record,
    refusal,
)

# -- patient ----------------------------------------------------------------------


def test_reads_the_patient_with_name_birth_date_and_medical_record_number() -> None:
    patient = read_record().patient
    assert patient.id == "Patient/p1"
    assert patient.birth_date == date(1980, 5, 1)
    assert patient.name == "Synthetic Patient"
    assert patient.mrn == "MRN0000001"


def test_takes_the_first_identifier_when_none_is_typed_as_a_medical_record_number() -> None:
    patient = a_patient(mrn=None)
    patient["identifier"] = [{"value": "A-1"}, {"value": "B-2"}]
    assert read_record(patient=patient).patient.mrn == "A-1"


def test_reads_a_patient_without_birth_date_or_identifiers() -> None:
    patient = read_record(patient=a_patient(birth_date=None, mrn=None)).patient
    assert (patient.birth_date, patient.mrn) == (None, None)


def test_refuses_an_impossible_birth_date() -> None:
    message = refusal(patient=a_patient(birth_date="1980-02-30"))
    assert message == "Patient/p1: birthDate '1980-02-30' is not a valid date"


def test_refuses_a_birth_date_that_is_not_a_string() -> None:
    assert refusal(patient=a_patient(birth_date=1980)).startswith("Patient/p1: birthDate must be")


# -- conditions -------------------------------------------------------------------


def test_reads_an_active_infection_with_its_statuses_and_onset() -> None:
    condition = read_record(a_condition(PNEUMONIA, id="c-1")).conditions[0]
    assert condition.id == "Condition/c-1"
    assert condition.codes == (Coding(SNOMED, PNEUMONIA, "Pneumonia"),)
    assert (condition.clinical_status, condition.verification_status) == ("active", "confirmed")
    assert condition.at == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert condition.name == "Pneumonia"
    assert condition.is_active(AT)


@pytest.mark.parametrize(("code", "system"), [
    (PML, SNOMED), ("herpes-encephalitis", LOCAL), ("active-infection", LOCAL),
])  # fmt: skip
def test_reads_conditions_in_the_infection_value_sets(code: str, system: str) -> None:
    assert read_record(a_condition(code, system)).conditions[0].codes[0].code == code


def test_ignores_conditions_no_rule_asks_about() -> None:
    diabetes = a_condition("44054006", onset="not a date")
    assert read_record(diabetes).conditions == ()


def test_dates_a_condition_by_onset_period_then_recorded_date_else_leaves_it_undated() -> None:
    by_period = a_condition(onset=None, onsetPeriod={"start": "2026-09-01"})
    by_record = a_condition(onset=None, recordedDate="2026-09-02")
    undated = a_condition(onset=None)
    days = [
        c.at.day if c.at else None for c in read_record(by_period, by_record, undated).conditions
    ]
    assert days == [1, 2, None]


def test_reads_the_abatement_of_a_condition() -> None:
    condition = read_record(a_condition(abatementDateTime="2026-11-10T00:00:00Z")).conditions[0]
    assert not condition.is_active(AT)


def test_refuses_a_condition_with_an_impossible_onset() -> None:
    message = refusal(a_condition(id="c-2", onset="2026-13-01"))
    assert message == "Condition/c-2: onsetDateTime '2026-13-01' is not a valid date"


def test_refuses_a_clinical_status_that_is_not_a_codeable_concept() -> None:
    condition = a_condition(id="c-3")
    condition["clinicalStatus"] = "active"
    assert refusal(condition) == "Condition/c-3: clinicalStatus must be an object, got 'active'"


# -- allergies --------------------------------------------------------------------


def test_reads_a_natalizumab_allergy_with_its_reaction() -> None:
    allergy = read_record(an_allergy(id="a-1")).allergies[0]
    assert allergy.id == "AllergyIntolerance/a-1"
    assert (allergy.verification_status, allergy.reaction) == ("confirmed", "Urticaria")
    assert allergy.at == datetime(2026, 11, 1, 8, tzinfo=UTC)


def test_an_allergys_reaction_reads_as_its_description_else_its_manifestations_and_grade() -> None:
    """What the summary PDF and the finding print: the grade and treatment when given."""
    described = an_allergy(id="a-2")
    described["reaction"][0]["description"] = "urticaria (moderate); treated with cetirizine"
    graded = an_allergy(id="a-3")
    graded["reaction"][0]["manifestation"].append({"text": "Dyspnea"})
    graded["reaction"][0]["severity"] = "moderate"
    texts = {a.id: a.reaction for a in read_record(described, graded).allergies}
    assert texts == {
        "AllergyIntolerance/a-2": "urticaria (moderate); treated with cetirizine",
        "AllergyIntolerance/a-3": "Urticaria, Dyspnea (moderate)",
    }


def test_reads_a_natalizumab_allergy_coded_in_snomed() -> None:
    assert read_record(an_allergy("414804006", SNOMED)).allergies


def test_reads_an_allergy_whose_reaction_substance_is_natalizumab() -> None:
    allergy = an_allergy("91936005", SNOMED)  # allergy to penicillin, as the code says
    allergy["reaction"][0]["substance"] = concept(RXNORM, "354770")
    assert read_record(allergy).allergies


def test_ignores_allergies_to_other_substances() -> None:
    assert read_record(an_allergy("7980", RXNORM)).allergies == ()


def test_keeps_a_refuted_allergy_but_it_does_not_count() -> None:
    timeline = read_record(an_allergy(verification="refuted"))
    assert len(timeline.allergies) == 1
    assert timeline.allergies_known(AT) == []


# -- medicines --------------------------------------------------------------------


def test_reads_an_active_medication_statement_over_its_period() -> None:
    statement = a_medication_statement(id="m-1", start="2026-01-01", end="2026-11-24")
    medication = read_record(statement).medications[0]
    assert medication.id == "MedicationStatement/m-1"
    assert medication.codes == (Coding(RXNORM, "1256", "azathioprine"),)
    assert (medication.status, medication.name) == ("active", "azathioprine")
    assert medication.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert medication.is_active(datetime(2026, 11, 24, 23, 0, tzinfo=UTC))  # end day included
    assert not medication.is_active(datetime(2026, 11, 25, tzinfo=UTC))


def test_reads_a_statement_dated_by_a_single_date_time_as_an_open_period() -> None:
    statement = a_medication_statement(effectiveDateTime="2026-03-01T00:00:00Z")
    del statement["effectivePeriod"]
    medication = read_record(statement).medications[0]
    assert (medication.start, medication.end) == (datetime(2026, 3, 1, tzinfo=UTC), None)


def test_reads_a_request_from_authored_on_with_no_end() -> None:
    medication = read_record(a_medication_request(id="rq-1")).medications[0]
    assert medication.id == "MedicationRequest/rq-1"
    assert (medication.start, medication.end) == (datetime(2026, 1, 1, 10, tzinfo=UTC), None)


def test_reads_a_request_over_its_dispense_validity_period() -> None:
    validity = {"validityPeriod": {"start": "2026-02-01", "end": "2026-05-01"}}
    request = a_medication_request(dispenseRequest=validity)
    medication = read_record(request).medications[0]
    assert medication.start == datetime(2026, 2, 1, tzinfo=UTC)
    assert medication.end is not None
    assert medication.end.date() == date(2026, 5, 1)


def test_reads_natalizumab_prescriptions_like_any_other_medicine() -> None:
    medication = read_record(a_medication_statement("354770")).medications[0]
    assert medication.codes[0].code == "354770"


def test_resolves_a_medication_reference_to_the_medication_in_the_bundle() -> None:
    drug = {"resourceType": "Medication", "id": "aza", "code": concept(ATC, "L04AX01")}
    statement = a_medication_statement(medicationReference={"reference": "Medication/aza"})
    del statement["medicationCodeableConcept"]
    assert read_record(drug, statement).medications[0].codes == (Coding(ATC, "L04AX01"),)


def test_resolves_a_reference_to_a_contained_medication() -> None:
    drug = {"resourceType": "Medication", "id": "m", "code": concept(RXNORM, "6851")}
    statement = a_medication_statement(contained=[drug], medicationReference={"reference": "#m"})
    del statement["medicationCodeableConcept"]
    assert read_record(statement).medications[0].codes[0].code == "6851"


def test_refuses_a_medicine_that_cannot_be_identified() -> None:
    statement = a_medication_statement(id="m-2", medicationReference={"reference": "Medication/x"})
    del statement["medicationCodeableConcept"]
    message = refusal(statement)
    assert message == (
        "MedicationStatement/m-2: medicationReference.reference 'Medication/x' "
        "is not a Medication in the record"
    )


def test_refuses_a_medication_statement_without_status() -> None:
    statement = a_medication_statement(id="m-3")
    del statement["status"]
    assert refusal(statement) == "MedicationStatement/m-3: status is missing"


# -- infusions --------------------------------------------------------------------


def test_reads_a_completed_natalizumab_infusion_with_its_period() -> None:
    infusion = read_record(an_infusion(id="i-1")).completed_infusions(AT)[0]
    assert infusion.id == "MedicationAdministration/i-1"
    assert infusion.at == datetime(2026, 10, 27, 9, tzinfo=UTC)
    assert infusion.end == datetime(2026, 10, 27, 10, tzinfo=UTC)


def test_reads_an_infusion_coded_with_the_current_atc_code() -> None:
    assert read_record(an_infusion(code="L04AG03", system=ATC)).completed_infusions(AT)


def test_an_infusion_that_was_not_done_is_not_counted() -> None:
    assert read_record(an_infusion(status="not-done")).completed_infusions(AT) == []


def test_ignores_administrations_of_other_medicines() -> None:
    assert read_record(an_infusion(code="6851", at="garbage")).completed_infusions(AT) == []


def test_refuses_an_infusion_without_a_date() -> None:
    infusion = an_infusion(id="i-2")
    del infusion["effectivePeriod"]
    message = refusal(infusion)
    assert message.startswith("MedicationAdministration/i-2: effectiveDateTime is missing")


# -- overrides --------------------------------------------------------------------


def test_reads_a_final_detected_issue_as_an_override() -> None:
    override = read_record(an_override("population.pregnancy", id="o-1")).overrides[0]
    assert (override.id, override.rule, override.author) == (
        "DetectedIssue/o-1", "population.pregnancy", "Dr A. Neuro",
    )  # fmt: skip
    assert override.at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert override.reason == "Benefit outweighs risk after discussion"


def test_names_the_override_author_by_reference_when_there_is_no_display() -> None:
    override = an_override(author={"reference": "Practitioner/dr-2"})
    assert read_record(override).overrides[0].author == "Practitioner/dr-2"


def test_takes_the_override_reason_from_the_coded_action_when_there_is_no_text() -> None:
    override = an_override(reason=None)
    override["mitigation"] = [{"action": concept(LOCAL, "benefit", "Benefit outweighs risk")}]
    assert read_record(override).overrides[0].reason == "Benefit outweighs risk"


def test_ignores_detected_issues_that_are_not_final() -> None:
    assert read_record(an_override(status="preliminary", at="garbage")).overrides == ()


def test_ignores_detected_issues_not_naming_a_rule() -> None:
    issue = an_override()
    issue["code"] = concept(SNOMED, "123")
    assert read_record(issue).overrides == ()


def test_refuses_an_override_without_author_time_or_reason() -> None:
    assert refusal(an_override(id="o-2", author={})).startswith("DetectedIssue/o-2: author is")
    assert "identifiedDateTime is missing" in refusal(an_override(at=None))
    assert "mitigation[0].action.text is missing" in refusal(an_override(reason=None))
