"""A refused or invalid step leaves the visit and the patient's record exactly as they were."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.visits import ReactionReport, UnknownVisit
from natalizumab_cds.domain.errors import InvalidInput, NtzError, WorkflowRefused
from natalizumab_cds.domain.infusion_events import ReactionSeverity, Symptom
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import (
    NURSE,
    a_bag,
    a_patient_on_file,
    an_infusing_visit,
    hours,
    minutes,
    no_concerns,
)


def _snapshot(clinic: Clinic, visit: str) -> tuple[object, ...]:
    view = clinic.infusion_day.show(visit)
    entry, summary = clinic.patients.patient(view.visit.patient)
    stored = clinic.patients.timeline(view.visit.patient, (), 1, 500)
    versions = sorted((r.ref, r.version, r.content_hash) for r in stored.items)
    return view.visit, view.version, entry.version, summary, stored.total, versions


def _refused(
    clinic: Clinic, visit: str, step: Callable[[], object], error: type[NtzError]
) -> NtzError:
    before = _snapshot(clinic, visit)
    with pytest.raises(error) as raised:
        step()
    assert _snapshot(clinic, visit) == before
    return raised.value


def test_an_infusion_ended_after_59_minutes_is_refused_and_nothing_changes(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = an_infusing_visit(clinic, clock).visit.id
    clock.moment += minutes(59)

    refusal = _refused(
        clinic, visit, lambda: clinic.infusion_day.end(visit, NURSE), WorkflowRefused
    )

    assert isinstance(refusal, WorkflowRefused)
    assert refusal.rule == "administration.too-fast"


def test_screening_answers_once_the_infusion_runs_are_refused_and_not_stored(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = an_infusing_visit(clinic, clock).visit.id

    refusal = _refused(
        clinic,
        visit,
        lambda: clinic.infusion_day.screen(visit, NURSE, no_concerns(active_infection=True)),
        WorkflowRefused,
    )

    assert isinstance(refusal, WorkflowRefused)
    assert refusal.rule == "workflow.out-of-order"


def test_a_reaction_with_no_treatment_is_invalid_and_no_allergy_is_recorded(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    visit = an_infusing_visit(clinic, clock).visit.id
    report = ReactionReport(frozenset({Symptom.DYSPNEA}), ReactionSeverity.MODERATE, " ")

    _refused(clinic, visit, lambda: clinic.infusion_day.react(visit, NURSE, report), InvalidInput)


def test_a_step_dated_in_the_future_is_invalid(clinic: Clinic, clock: FakeClock) -> None:
    a_patient_on_file(clinic)
    visit = an_infusing_visit(clinic, clock).visit.id

    error = _refused(
        clinic,
        visit,
        lambda: clinic.infusion_day.end(visit, NURSE, at=clock.moment + hours(1)),
        InvalidInput,
    )

    assert "in the future" in str(error)


def test_a_bag_checked_by_the_person_who_made_it_is_refused(clinic: Clinic) -> None:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id

    refusal = _refused(
        clinic,
        visit,
        lambda: clinic.infusion_day.prepare(visit, a_bag(checked_by="PHARM.BEN ")),
        WorkflowRefused,
    )

    assert isinstance(refusal, WorkflowRefused)
    assert refusal.rule == "preparation.double-check"


def test_a_second_visit_is_not_opened_while_one_is_under_way(clinic: Clinic) -> None:
    a_patient_on_file(clinic)
    first = clinic.infusion_day.open("p1").visit.id

    with pytest.raises(WorkflowRefused, match=f"visit {first} of this patient is still screening"):
        clinic.infusion_day.open("p1")
    clinic.infusion_day.cancel(first, NURSE, "patient unwell, rebooked")
    assert clinic.infusion_day.open("p1").visit.id != first
    assert len(clinic.infusion_day.of_patient("p1")) == 2


def test_an_unknown_visit_is_reported_as_such(clinic: Clinic) -> None:
    with pytest.raises(UnknownVisit):
        clinic.infusion_day.end("visit-000000000000", NURSE)
