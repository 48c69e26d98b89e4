"""Screening answers, and clearance on the assessment's decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion import VisitState, clear, prepare, record_screening
from natalizumab_cds.domain.infusion_events import Acknowledgement, Clearance
from tests.domain.infusion.builders import (
    DOCTOR,
    NURSE,
    OPENED,
    SCREENED,
    a_clearance,
    a_cleared_visit,
    a_preparation,
    a_screened_visit,
    a_screening,
    a_visit,
    minutes,
    protocol,
)


def test_a_new_visit_is_in_screening() -> None:
    assert a_visit().state is VisitState.SCREENING


def test_screening_answers_are_recorded_and_their_concerns_listed() -> None:
    answers = a_screening(
        neurological_symptoms=True, new_medicines=True, new_medicines_detail="methotrexate"
    )
    visit = record_screening(a_visit(), answers, protocol())
    assert visit.screening == answers
    assert visit.state is VisitState.SCREENING
    assert answers.concerns == (
        "new or worsening neurological symptoms",
        "new medicines: methotrexate",
    )


def test_a_screening_with_no_concern_lists_none() -> None:
    assert a_screening().concerns == ()


def test_new_medicines_must_be_named() -> None:
    with pytest.raises(InvalidInput, match="new_medicines_detail"):
        a_screening(new_medicines=True)


def test_a_proceed_decision_clears_the_patient() -> None:
    visit = clear(a_screened_visit(), a_clearance(Decision.PROCEED), protocol())
    assert visit.state is VisitState.CLEARED
    assert visit.clearance == a_clearance(Decision.PROCEED)


def test_an_acknowledged_caution_clears_the_patient() -> None:
    clearance = a_clearance(Decision.CAUTION, acknowledged=True)
    visit = clear(a_screened_visit(), clearance, protocol())
    assert visit.state is VisitState.CLEARED
    assert visit.clearance is not None
    assert visit.clearance.acknowledgement == Acknowledgement(DOCTOR, clearance.at)


def test_a_caution_nobody_acknowledged_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        clear(a_screened_visit(), a_clearance(Decision.CAUTION), protocol())
    assert refused.value.rule == "administration.requires-clearance"
    assert "says caution" in refused.value.reason
    assert "acknowledge" in refused.value.reason


@pytest.mark.parametrize("decision", [Decision.HOLD, Decision.DISCONTINUE])
@pytest.mark.parametrize("acknowledged", [False, True])
def test_a_hold_or_discontinue_decision_never_clears(
    decision: Decision, acknowledged: bool
) -> None:
    with pytest.raises(WorkflowRefused) as refused:
        clear(a_screened_visit(), a_clearance(decision, acknowledged=acknowledged), protocol())
    assert refused.value.rule == "administration.requires-clearance"
    assert f"says {decision.value}" in refused.value.reason


def test_clearance_before_the_screening_answers_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        clear(a_visit(), a_clearance(), protocol())
    assert refused.value.rule == "workflow.out-of-order"
    assert "screening" in refused.value.reason


def test_a_clearance_dated_before_the_screening_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        clear(a_screened_visit(), a_clearance(at=OPENED + minutes(1)), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_new_screening_answers_withdraw_the_clearance() -> None:
    visit = record_screening(
        a_cleared_visit(), a_screening(OPENED + minutes(20), active_infection=True), protocol()
    )
    assert visit.clearance is None
    assert visit.state is VisitState.SCREENING


def test_a_bag_prepared_before_clearance_waits_in_screening_then_is_prepared() -> None:
    early = prepare(a_screened_visit(), a_preparation(), protocol())
    assert early.state is VisitState.SCREENING
    assert clear(early, a_clearance(), protocol()).state is VisitState.PREPARED


def test_the_patient_can_be_cleared_again_before_the_start() -> None:
    prepared = prepare(a_cleared_visit(), a_preparation(), protocol())
    again = a_clearance(Decision.CAUTION, OPENED + minutes(25), acknowledged=True)
    visit = clear(prepared, again, protocol())
    assert visit.clearance == again
    assert visit.state is VisitState.PREPARED


def test_a_naive_clearance_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"clearance\.at"):
        Clearance(datetime(2026, 11, 24, 8, 10), DOCTOR, Decision.PROCEED)


def test_a_blank_clinician_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cleared_by"):
        Clearance(OPENED, " ", Decision.PROCEED)


def test_answering_no_after_a_yes_keeps_the_withdrawal_on_every_later_screening() -> None:
    first = record_screening(
        a_visit(), a_screening(neurological_symptoms=True, pregnant=True), protocol()
    )
    later = replace(a_screening(at=SCREENED + minutes(5)), screened_by=DOCTOR)
    second = record_screening(first, later, protocol())
    third = record_screening(second, a_screening(at=SCREENED + minutes(9)), protocol())

    assert first.screening is not None
    assert second.screening is not None
    assert third.screening is not None
    assert [(w.question, w.answered_by, w.withdrawn_by) for w in second.screening.withdrawn] == [
        ("neurological_symptoms", NURSE, DOCTOR),
        ("pregnant", NURSE, DOCTOR),
    ]
    assert third.screening.withdrawn == second.screening.withdrawn
    assert [label for _, label, yes in first.screening.answers if yes] == [
        "Neurological symptoms",
        "Pregnant",
    ]
