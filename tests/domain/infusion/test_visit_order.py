"""Steps in the wrong order are refused; a refused step changes nothing; ids are the catalogue's."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.infusion import (
    Visit,
    VisitEvent,
    VisitState,
    apply,
    cancel,
    prepare,
    record_screening,
)
from natalizumab_cds.domain.infusion_events import Cancellation, Discharge
from natalizumab_cds.domain.infusion_rules import WORKFLOW_RULES
from natalizumab_cds.domain.preparation import Storage, StorageMove
from tests.domain.infusion.builders import (
    DOCTOR,
    END,
    NURSE,
    OPENED,
    START,
    a_clearance,
    a_preparation,
    a_prepared_visit,
    a_reaction,
    a_screening,
    a_start,
    a_visit,
    an_end,
    an_infusing_visit,
    an_observing_visit,
    minutes,
    protocol,
)

CATALOGUE_IDS = {
    "preparation.dose",
    "preparation.diluent",
    "preparation.expired",
    "preparation.frozen-or-shaken",
    "administration.too-fast",
    "administration.requires-clearance",
    "observation.incomplete",
    "reaction.hypersensitivity",
}


def test_a_whole_visit_runs_through_apply_from_screening_to_discharge() -> None:
    steps: list[VisitEvent] = [
        a_screening(),
        a_preparation(),
        a_clearance(),
        StorageMove(OPENED + minutes(20), Storage.REFRIGERATOR),
        StorageMove(OPENED + minutes(25), Storage.ROOM_TEMPERATURE),
        a_start(),
        an_end(),
        Discharge(END + minutes(60), NURSE),
    ]
    visit = a_visit()
    states = []
    for step in steps:
        visit = apply(visit, step, protocol())
        states.append(visit.state)
    assert states == [
        VisitState.SCREENING,
        VisitState.SCREENING,
        VisitState.PREPARED,
        VisitState.PREPARED,
        VisitState.PREPARED,
        VisitState.INFUSING,
        VisitState.OBSERVING,
        VisitState.DISCHARGED,
    ]
    assert visit.preparation is not None
    assert len(visit.preparation.storage) == 3


def test_a_refused_step_leaves_the_visit_as_it_was() -> None:
    visit = a_prepared_visit()
    snapshot = repr(visit)
    with pytest.raises(WorkflowRefused):
        apply(visit, a_start(rate_ml_per_hour=400.0), protocol())
    assert repr(visit) == snapshot
    assert visit.state is VisitState.PREPARED


def test_a_visit_cannot_be_changed_in_place() -> None:
    visit = a_visit()
    with pytest.raises(FrozenInstanceError):
        visit.screening = a_screening()  # type: ignore[misc]


def test_administration_straight_after_screening_is_refused_for_want_of_clearance() -> None:
    screened = record_screening(a_visit(), a_screening(), protocol())
    with pytest.raises(WorkflowRefused) as refused:
        apply(screened, a_start(), protocol())
    assert refused.value.rule == "administration.requires-clearance"


def test_a_new_preparation_during_the_infusion_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        prepare(an_infusing_visit(), a_preparation(), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_screening_again_once_the_infusion_runs_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        record_screening(an_infusing_visit(), a_screening(START + minutes(5)), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_step_dated_before_the_last_one_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        record_screening(a_visit(), a_screening(OPENED - minutes(1)), protocol())
    assert refused.value.rule == "workflow.out-of-order"
    assert "before the last recorded step" in refused.value.reason


def test_a_visit_is_cancelled_before_the_infusion_and_then_takes_no_more_steps() -> None:
    cancelled = cancel(
        a_prepared_visit(), Cancellation(START, DOCTOR, "hold: ALT 4 x ULN"), protocol()
    )
    assert cancelled.state is VisitState.CANCELLED
    with pytest.raises(WorkflowRefused) as refused:
        apply(cancelled, a_start(START + minutes(1)), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_running_infusion_cannot_be_cancelled() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        cancel(an_infusing_visit(), Cancellation(START + minutes(5), DOCTOR, "line"), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_visit_rebuilt_from_inconsistent_steps_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs its start"):
        Visit("Encounter/v", "Patient/p", OPENED, end=an_end())
    with pytest.raises(InvalidInput, match="needs the screening"):
        Visit("Encounter/v", "Patient/p", OPENED, clearance=a_clearance())


def test_a_visit_rebuilt_from_its_steps_has_the_same_state() -> None:
    visit = an_observing_visit()
    rebuilt = Visit(
        visit.id,
        visit.patient,
        visit.opened_at,
        screening=visit.screening,
        clearance=visit.clearance,
        preparation=visit.preparation,
        start=visit.start,
        end=visit.end,
    )
    assert rebuilt == visit
    assert rebuilt.state is VisitState.OBSERVING


def test_a_naive_opening_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        Visit("Encounter/v", "Patient/p", datetime(2026, 11, 24, 8, 0))


def test_every_catalogue_workflow_rule_has_a_spec_with_a_citation() -> None:
    assert set(WORKFLOW_RULES) >= CATALOGUE_IDS
    assert set(WORKFLOW_RULES) - CATALOGUE_IDS == {
        "preparation.double-check",
        "workflow.out-of-order",
    }
    for spec in WORKFLOW_RULES.values():
        assert spec.citation.basis


def test_apply_records_a_reaction_and_a_cancellation_like_their_own_steps() -> None:
    stopped = apply(an_infusing_visit(), a_reaction(START + minutes(10)), protocol())
    assert stopped.state is VisitState.STOPPED_FOR_REACTION
    called_off = apply(a_visit(), Cancellation(OPENED, DOCTOR, "patient unwell"), protocol())
    assert called_off.state is VisitState.CANCELLED


def test_nothing_is_administered_before_the_start() -> None:
    assert a_prepared_visit().administration_status is None


def test_a_visit_rebuilt_as_both_started_and_cancelled_is_refused() -> None:
    visit = an_infusing_visit()
    with pytest.raises(InvalidInput, match="cannot be cancelled"):
        Visit(
            visit.id,
            visit.patient,
            visit.opened_at,
            screening=visit.screening,
            clearance=visit.clearance,
            preparation=visit.preparation,
            start=visit.start,
            cancellation=Cancellation(START, DOCTOR, "too late"),
        )
