"""What a visit writes into the patient's record, and what the next assessment makes of it."""

from __future__ import annotations

from datetime import timedelta

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.visits import ReactionReport
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion_events import ReactionSeverity, Symptom
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import (
    NURSE,
    a_patient_on_file,
    an_infusing_visit,
    an_observed_visit,
    minutes,
    no_concerns,
    record_of,
)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


def _visit_resources(clinic: Clinic, kind: str, visit_id: str) -> list[dict[str, object]]:
    return [r for r in record_of(clinic, "p1", kind) if str(r["id"]).startswith(visit_id)]


def test_screening_answers_are_stored_as_observations_the_assessment_reads(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id
    clinic.infusion_day.screen(visit, NURSE, no_concerns(neurological_symptoms=True))

    codes = {
        r["code"]["coding"][0]["code"]: r  # type: ignore[index]
        for r in _visit_resources(clinic, "Observation", visit)
    }
    assert set(codes) == {
        "screen-new-neurological-symptoms",
        "screen-active-infection",
        "82810-3",
        "63895-7",
    }
    assert codes["screen-new-neurological-symptoms"]["valueBoolean"] is True
    assessment = clinic.patients.assessment("p1")
    assert assessment.decision is Decision.HOLD
    assert assessment.finding("pml.suspected") is not None


def test_a_completed_infusion_is_a_medication_administration_and_the_next_dose_is_too_soon(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    view = an_observed_visit(clinic, clock)

    [given] = _visit_resources(clinic, "MedicationAdministration", view.visit.id)
    assert given["status"] == "completed"
    assert given["medicationCodeableConcept"]["coding"][0] == {  # type: ignore[index]
        "system": RXNORM,
        "code": "354770",
        "display": "natalizumab",
    }
    assert given["effectivePeriod"] == {
        "start": "2026-11-24T09:20:00+00:00",
        "end": "2026-11-24T10:20:00+00:00",
    }
    dosage = given["dosage"]
    assert dosage["dose"]["value"] == 300  # type: ignore[index]
    assert dosage["rateQuantity"]["value"] == 100  # type: ignore[index]
    assert "100 mL 0.9 % sodium chloride" in dosage["text"]  # type: ignore[index]

    next_week = clinic.patients.assessment("p1", clock.moment + timedelta(days=7))
    assert next_week.decision is Decision.HOLD
    assert next_week.finding("dosing.too-soon") is not None


def test_an_infusion_under_way_is_in_progress_and_does_not_count_as_given(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    view = an_infusing_visit(clinic, clock)

    [running] = _visit_resources(clinic, "MedicationAdministration", view.visit.id)
    assert running["status"] == "in-progress"
    assert "end" not in running["effectivePeriod"]  # type: ignore[operator]
    assert clinic.patients.assessment("p1").finding("dosing.too-soon") is None


def test_a_reaction_stops_the_infusion_and_the_patient_is_then_assessed_discontinue(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = an_infusing_visit(clinic, clock).visit.id
    assert clinic.patients.assessment("p1").decision is Decision.PROCEED
    clock.moment += minutes(15)
    report = ReactionReport(
        symptoms=frozenset({Symptom.URTICARIA, Symptom.HYPOTENSION}),
        severity=ReactionSeverity.SEVERE,
        treatment="infusion stopped; adrenaline 0.5 mg IM; saline bolus",
    )
    view = clinic.infusion_day.react(visit, NURSE, report)

    assert view.visit.administration_status == "stopped"
    [stopped] = _visit_resources(clinic, "MedicationAdministration", visit)
    assert stopped["status"] == "stopped"
    [allergy] = _visit_resources(clinic, "AllergyIntolerance", visit)
    reaction = allergy["reaction"][0]  # type: ignore[index]
    assert reaction["severity"] == "severe"
    assert [m["coding"][0]["code"] for m in reaction["manifestation"]] == [
        "126485001",
        "45007003",
    ]
    assert allergy["criticality"] == "high"

    assessment = clinic.patients.assessment("p1")
    assert assessment.decision is Decision.DISCONTINUE
    assert assessment.finding("hypersensitivity.prior-reaction") is not None


def test_a_reaction_after_a_completed_infusion_keeps_the_dose_as_given(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = an_observed_visit(clinic, clock).visit.id
    clock.moment += minutes(30)
    report = ReactionReport(
        symptoms=frozenset({Symptom.ANAPHYLAXIS}),
        severity=ReactionSeverity.LIFE_THREATENING,
        treatment="adrenaline 0.5 mg IM, repeated after 5 min",
        at=clock.moment - minutes(10),
    )
    clinic.infusion_day.react(visit, NURSE, report)

    [given] = _visit_resources(clinic, "MedicationAdministration", visit)
    assert given["status"] == "completed"
    [allergy] = _visit_resources(clinic, "AllergyIntolerance", visit)
    assert allergy["onsetDateTime"] == "2026-11-24T10:40:00+00:00"
    assert allergy["reaction"][0]["severity"] == "severe"  # type: ignore[index]
    assert clinic.patients.assessment("p1").decision is Decision.DISCONTINUE
