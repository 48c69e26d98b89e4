"""Clearing and starting rest on the assessment at that very moment."""

from __future__ import annotations

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.records import DecisionKind
from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion_visit import VisitState
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import (
    DOCTOR,
    NURSE,
    a_bag,
    a_patient_on_file,
    a_prepared_visit,
    a_pump,
    minutes,
    no_concerns,
    record_of,
)
from tests.interop.fhir.builders import an_alt


def _screened(clinic: Clinic, patient: str, **answers: bool) -> str:
    visit = clinic.infusion_day.open(patient).visit.id
    clinic.infusion_day.screen(visit, NURSE, no_concerns(**answers))
    return visit


def test_a_patient_on_hold_is_not_cleared_and_the_refusal_names_the_finding(
    clinic: Clinic,
) -> None:
    a_patient_on_file(clinic, scenario="liver-elevated")
    visit = _screened(clinic, "p1")
    before = clinic.infusion_day.show(visit)

    with pytest.raises(AssessmentRefused) as refused:
        clinic.infusion_day.clear(visit, DOCTOR)

    assert refused.value.rule == "administration.requires-clearance"
    assert refused.value.decision is Decision.HOLD
    assert [f.rule for f in refused.value.findings] == ["liver.elevated"]
    assert refused.value.reason == "the assessment at clearance says hold: do not infuse today"
    after = clinic.infusion_day.show(visit)
    assert (after.version, after.state) == (before.version, VisitState.SCREENING)


def test_a_yes_to_active_infection_at_screening_holds_the_clearance(clinic: Clinic) -> None:
    a_patient_on_file(clinic)
    visit = _screened(clinic, "p1", active_infection=True)

    with pytest.raises(AssessmentRefused) as refused:
        clinic.infusion_day.clear(visit, DOCTOR)

    assert [f.rule for f in refused.value.findings] == ["infection.active"]


def test_a_caution_is_cleared_only_when_a_clinician_acknowledges_it(clinic: Clinic) -> None:
    a_patient_on_file(clinic, scenario="elderly")
    visit = _screened(clinic, "p1")

    with pytest.raises(AssessmentRefused, match="must acknowledge"):
        clinic.infusion_day.clear(visit, DOCTOR)
    cleared = clinic.infusion_day.clear(visit, DOCTOR, acknowledge=True)

    clearance = cleared.visit.clearance
    assert clearance is not None
    assert clearance.decision is Decision.CAUTION
    assert clearance.acknowledgement is not None
    assert clearance.acknowledgement.by == DOCTOR
    [acknowledged] = clinic.decisions.listed("p1")
    assert (acknowledged.kind, acknowledged.rule) == (
        DecisionKind.ACKNOWLEDGE,
        "population.elderly",
    )
    _, summary = clinic.patients.patient("p1")
    assert summary is not None
    assert summary.acknowledged == ("population.elderly",)


def test_a_caution_acknowledged_earlier_today_clears_without_asking_again(
    clinic: Clinic,
) -> None:
    a_patient_on_file(clinic, scenario="elderly")
    clinic.decisions.record("p1", DecisionKind.ACKNOWLEDGE, "population.elderly", "dr.eve")
    visit = _screened(clinic, "p1")

    cleared = clinic.infusion_day.clear(visit, DOCTOR)

    assert cleared.state is VisitState.CLEARED
    assert cleared.visit.clearance is not None
    ack = cleared.visit.clearance.acknowledgement
    assert ack is not None
    assert ack.by == "dr.eve"
    assert len(clinic.decisions.listed("p1")) == 1


def test_a_result_arriving_after_clearance_stops_the_start(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = a_prepared_visit(clinic, clock).visit.id
    clock.moment += minutes(2)
    clinic.importer.one(an_alt(200, high=40, id="alt-today", at=clock.moment.isoformat()))
    clock.moment += minutes(8)

    with pytest.raises(AssessmentRefused) as refused:
        clinic.infusion_day.start(visit, NURSE, a_pump())

    assert refused.value.decision is Decision.HOLD
    assert "liver.elevated" in [f.rule for f in refused.value.findings]
    assert clinic.infusion_day.show(visit).state is VisitState.PREPARED
    given = record_of(clinic, "p1", "MedicationAdministration")
    assert not [r for r in given if str(r["id"]).startswith(visit)]


def test_the_bag_can_be_prepared_before_the_patient_is_cleared(clinic: Clinic) -> None:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id

    prepared = clinic.infusion_day.prepare(visit, a_bag())
    assert prepared.state is VisitState.SCREENING
    clinic.infusion_day.screen(visit, NURSE, no_concerns())
    assert clinic.infusion_day.clear(visit, DOCTOR).state is VisitState.PREPARED
