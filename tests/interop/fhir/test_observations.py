"""Observations read into results, statuses, MRI reads and relapses (synthetic)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from natalizumab_cds.domain.protocol import LOCAL, LOINC
from natalizumab_cds.domain.timeline import Analyte, StatusKind
from tests.interop.fhir.builders import (
    ANTIBODY_NEGATIVE,
    ANTIBODY_POSITIVE,
    AT,
    NOT_PREGNANT,
    PREGNANCY_UNKNOWN,
    PREGNANT,
    a_breastfeeding_status,
    a_lab,
    a_lesion_count,
    a_pregnancy_status,
    a_quantity,
    a_relapse,
    a_screening_answer,
    an_alt,
    an_antibody_result,
    an_edss,
    an_mri,
    an_observation,
    concept,
    read_record,
    refusal,
)

ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
LAB_CODES = [
    (LOINC, "1742-6", Analyte.ALT, "U/L"),
    (LOINC, "1920-8", Analyte.AST, "U/L"),
    (LOINC, "751-8", Analyte.NEUTROPHILS, "10*9/L"),
    (LOINC, "26499-4", Analyte.NEUTROPHILS, "10*9/L"),
    (LOINC, "731-0", Analyte.LYMPHOCYTES, "10*9/L"),
    (LOINC, "26474-7", Analyte.LYMPHOCYTES, "10*9/L"),
    (LOINC, "742-7", Analyte.MONOCYTES, "10*9/L"),
    (LOINC, "26484-6", Analyte.MONOCYTES, "10*9/L"),
    (LOINC, "777-3", Analyte.PLATELETS, "10*9/L"),
    (LOINC, "26515-7", Analyte.PLATELETS, "10*9/L"),
    (LOINC, "3016-3", Analyte.TSH, "m[IU]/L"),
    (LOINC, "3024-7", Analyte.FREE_T4, "ng/dL"),
    (LOINC, "14920-3", Analyte.FREE_T4, "ng/dL"),
    (LOCAL, "natalizumab-concentration", Analyte.NATALIZUMAB, "ug/mL"),
    (LOCAL, "edss", Analyte.EDSS, "1"),
]


@pytest.mark.parametrize(("system", "code", "analyte", "unit"), LAB_CODES)
def test_reads_every_lab_code_of_the_profile_as_its_analyte(
    system: str, code: str, analyte: Analyte, unit: str
) -> None:
    lab = a_lab(code, 2.5, unit, system=system, low=1.0, high=4.0, id="lab-1")
    result = read_record(lab).latest_result(analyte, AT)
    assert result is not None
    assert (result.id, result.value, result.unit, result.low, result.high) == (
        "Observation/lab-1", 2.5, unit, 1.0, 4.0,
    )  # fmt: skip
    assert result.at == datetime(2026, 11, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(("answer", "word"), [
    (PREGNANT, "pregnant"), (NOT_PREGNANT, "not-pregnant"), (PREGNANCY_UNKNOWN, "unknown"),
])  # fmt: skip
def test_reads_pregnancy_status_from_its_snomed_answer(answer: str, word: str) -> None:
    status = read_record(a_pregnancy_status(answer)).latest_status(StatusKind.PREGNANCY, AT)
    assert status is not None
    assert status.value == word


@pytest.mark.parametrize(("answer", "word"), [
    (ANTIBODY_POSITIVE, "positive"), (ANTIBODY_NEGATIVE, "negative"),
])  # fmt: skip
def test_reads_antibody_results_from_their_snomed_answer(answer: str, word: str) -> None:
    status = read_record(an_antibody_result(answer)).latest_status(StatusKind.ANTIBODY, AT)
    assert status is not None
    assert status.value == word


def test_refuses_a_pregnancy_status_with_an_unknown_answer() -> None:
    message = refusal(a_pregnancy_status("12345", id="preg-1"))
    assert message.startswith("Observation/preg-1: valueCodeableConcept has no SNOMED CT code")


@pytest.mark.parametrize(("code", "kind"), [
    ("screen-new-neurological-symptoms", StatusKind.SCREEN_NEURO),
    ("screen-active-infection", StatusKind.SCREEN_INFECTION),
])  # fmt: skip
def test_reads_screening_answers_as_true_or_false(code: str, kind: StatusKind) -> None:
    timeline = read_record(a_screening_answer(code, True))
    status = timeline.latest_status(kind, AT)
    assert status is not None
    assert status.value == "true"


def test_reads_breastfeeding_false() -> None:
    status = read_record(a_breastfeeding_status(False)).latest_status(StatusKind.BREASTFEEDING, AT)
    assert status is not None
    assert status.value == "false"


def test_refuses_a_breastfeeding_status_that_is_not_a_boolean() -> None:
    message = refusal(a_breastfeeding_status("yes", id="bf-1"))
    assert message == "Observation/bf-1: valueBoolean must be true or false, got 'yes'"


def test_refuses_a_lab_value_that_is_not_a_number() -> None:
    message = refusal(an_alt("high", id="alt-1"))
    assert message == "Observation/alt-1: valueQuantity.value must be a number, got 'high'"


def test_refuses_a_lab_value_given_as_a_boolean() -> None:
    assert "valueQuantity.value must be a number, got true" in refusal(an_alt(True))


def test_refuses_a_lab_with_a_value_of_the_wrong_type() -> None:
    lab = an_observation(LOINC, "1742-6", id="alt-2", valueString="42 U/L")
    assert refusal(lab) == "Observation/alt-2: valueQuantity is missing (found valueString)"


def test_refuses_a_lab_whose_quantity_has_no_value() -> None:
    lab = an_observation(LOINC, "1742-6", id="alt-3", valueQuantity={"unit": "U/L"})
    assert refusal(lab) == "Observation/alt-3: valueQuantity.value is missing"


def test_refuses_an_observation_without_any_date() -> None:
    message = refusal(an_alt(30, id="alt-4", at=None))
    assert message.startswith("Observation/alt-4: effectiveDateTime is missing")


def test_dates_an_observation_by_its_period_start_then_by_issued() -> None:
    by_period = an_alt(30, at=None, effectivePeriod={"start": "2026-10-01T08:00:00Z"})
    by_issue = an_alt(31, at=None, issued="2026-10-02T08:00:00Z")
    dates = [r.at.day for r in read_record(by_period, by_issue).results(Analyte.ALT, AT)]
    assert dates == [1, 2]


def test_refuses_an_impossible_observation_date_naming_the_field() -> None:
    message = refusal(an_alt(30, id="alt-5", at="2026-02-30"))
    assert message == "Observation/alt-5: effectiveDateTime '2026-02-30' is not a valid date"


def test_refuses_an_observation_time_without_offset() -> None:
    assert "no time-zone offset" in refusal(an_alt(30, at="2026-11-01T08:00:00"))


def test_refuses_an_unknown_observation_status() -> None:
    message = refusal(an_alt(30, id="alt-6", status="done"))
    assert message == "Observation/alt-6: status 'done' is not an Observation status"


def test_keeps_the_status_of_a_preliminary_result() -> None:
    result = read_record(an_alt(30, status="preliminary")).latest_result(Analyte.ALT, AT)
    assert result is not None
    assert result.status == "preliminary"


def test_an_entered_in_error_result_is_read_but_does_not_count() -> None:
    valid = an_alt(30, id="alt-ok", at="2026-10-01T08:00:00Z")
    mistaken = an_alt(300, id="alt-wrong", at="2026-11-01T08:00:00Z", status="entered-in-error")
    result = read_record(valid, mistaken).latest_result(Analyte.ALT, AT)
    assert result is not None
    assert result.id == "Observation/alt-ok"


@pytest.mark.parametrize("status", ["registered", "cancelled", "entered-in-error"])
def test_a_void_observation_may_come_without_value(status: str) -> None:
    empty = an_observation(LOINC, "1742-6", status=status)
    assert read_record(empty).latest_result(Analyte.ALT, AT) is None


def test_a_void_observation_that_cannot_be_read_is_dropped_not_refused() -> None:
    broken = an_alt("n/a", status="entered-in-error", at="2026-02-30")
    assert read_record(broken).latest_result(Analyte.ALT, AT) is None


@pytest.mark.parametrize("score", [0, 0.5, 6.5, 10])
def test_reads_edss_scores_in_half_steps(score: float) -> None:
    result = read_record(an_edss(score)).latest_result(Analyte.EDSS, AT)
    assert result is not None
    assert result.value == score


@pytest.mark.parametrize("score", [-0.5, 10.5, 3.25])
def test_refuses_edss_scores_off_the_scale(score: float) -> None:
    assert "EDSS must be 0-10 in steps of 0.5" in refusal(an_edss(score))


def test_reads_an_mri_with_its_lesion_counts() -> None:
    mri = read_record(an_mri(gd=1, t2=3, id="mri-1")).mris(AT)[0]
    assert (mri.id, mri.gd_enhancing, mri.new_or_enlarging_t2) == ("Observation/mri-1", 1, 3)
    assert mri.shows_activity


def test_reads_lesion_counts_given_as_whole_quantities() -> None:
    mri = an_mri()
    mri["component"][0] = {
        "code": concept(LOCAL, "gd-enhancing-lesions"),
        "valueQuantity": a_quantity(2.0, "{lesions}"),
    }
    assert read_record(mri).mris(AT)[0].gd_enhancing == 2


@pytest.mark.parametrize("count", [-1, 1.5, "two", True])
def test_refuses_lesion_counts_that_are_not_whole_non_negative_numbers(count: object) -> None:
    message = refusal(an_mri(gd=count, id="mri-2"))
    assert message.startswith("Observation/mri-2: component[0].valueInteger must be a whole number")


def test_refuses_an_mri_missing_a_lesion_count() -> None:
    mri = an_mri(id="mri-3")
    mri["component"] = [a_lesion_count("gd-enhancing-lesions", 0)]
    assert refusal(mri) == "Observation/mri-3: component has no 'new-or-enlarging-t2-lesions' count"


def test_reads_a_relapse_dated_by_its_onset() -> None:
    relapse = read_record(a_relapse(id="r-1", at="2026-06-03")).relapses(AT)[0]
    assert (relapse.id, relapse.at) == ("Observation/r-1", datetime(2026, 6, 3, tzinfo=UTC))


def test_ignores_observations_with_codes_outside_the_profile() -> None:
    glucose = a_lab("2345-7", "not even a number", "mg/dL", at="nonsense")
    timeline = read_record(glucose)
    assert all(timeline.latest_result(analyte, AT) is None for analyte in Analyte)


def test_recognises_the_profile_code_among_several_codings() -> None:
    lab = an_alt(30)
    lab["code"]["coding"].insert(0, {"system": "urn:lab:local", "code": "ALT"})
    assert read_record(lab).latest_result(Analyte.ALT, AT) is not None


def test_refuses_a_code_that_is_not_an_object_naming_the_field() -> None:
    lab = an_alt(30, id="alt-8")
    lab["code"] = "1742-6"
    assert refusal(lab) == "Observation/alt-8: code must be an object, got '1742-6'"


def test_refuses_a_coding_list_that_is_not_a_list() -> None:
    lab = an_alt(30, id="alt-9")
    lab["code"]["coding"] = {"system": LOINC, "code": "1742-6"}
    assert refusal(lab) == "Observation/alt-9: code.coding must be a list, got an object"


def test_a_result_with_a_data_absent_reason_and_no_value_is_no_result() -> None:
    not_done = an_observation(LOINC, "1742-6", dataAbsentReason=concept(ABSENT, "not-performed"))
    assert read_record(not_done).latest_result(Analyte.ALT, AT) is None
