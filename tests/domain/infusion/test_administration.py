"""Starting and ending the infusion: clearance, an intact bag in date, at least 60 minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion import (
    Visit,
    VisitState,
    end_infusion,
    move_preparation,
    prepare,
    start_infusion,
)
from natalizumab_cds.domain.infusion_events import InfusionStart, Method
from natalizumab_cds.domain.preparation import Storage, StorageMove
from tests.domain.infusion.builders import (
    DILUTED,
    NURSE,
    START,
    a_cleared_visit,
    a_preparation,
    a_prepared_visit,
    a_screened_visit,
    a_start,
    an_end,
    an_infusing_visit,
    hours,
    minutes,
    protocol,
)

SECOND = timedelta(seconds=1)


def refused_start(visit: Visit, start: InfusionStart) -> WorkflowRefused:
    with pytest.raises(WorkflowRefused) as refused:
        start_infusion(visit, start, protocol())
    return refused.value


def test_a_cleared_patient_with_a_good_bag_starts_infusing() -> None:
    visit = start_infusion(a_prepared_visit(), a_start(), protocol())
    assert visit.state is VisitState.INFUSING
    assert visit.administration_status == "in-progress"


def test_a_start_before_clearance_is_refused() -> None:
    visit = prepare(a_screened_visit(), a_preparation(), protocol())
    refused = refused_start(visit, a_start())
    assert refused.rule == "administration.requires-clearance"
    assert "not been cleared" in refused.reason


@pytest.mark.parametrize("decision", [Decision.HOLD, Decision.DISCONTINUE])
def test_a_start_is_refused_when_the_assessment_at_the_start_no_longer_allows_it(
    decision: Decision,
) -> None:
    refused = refused_start(a_prepared_visit(), a_start(decision=decision))
    assert refused.rule == "administration.requires-clearance"
    assert f"at the start says {decision.value}" in refused.reason


def test_a_caution_appearing_after_a_proceed_clearance_needs_an_acknowledgement() -> None:
    refused = refused_start(a_prepared_visit(), a_start(decision=Decision.CAUTION))
    assert refused.rule == "administration.requires-clearance"


def test_a_caution_acknowledged_at_clearance_lets_the_infusion_start() -> None:
    visit = a_prepared_visit(decision=Decision.CAUTION, acknowledged=True)
    started = start_infusion(visit, a_start(decision=Decision.CAUTION), protocol())
    assert started.state is VisitState.INFUSING


def test_a_start_without_a_preparation_is_refused() -> None:
    refused = refused_start(a_cleared_visit(), a_start())
    assert refused.rule == "workflow.out-of-order"
    assert "preparation" in refused.reason


@pytest.mark.parametrize("method", [Method.PUSH, Method.BOLUS])
def test_an_iv_push_or_bolus_is_refused(method: Method) -> None:
    refused = refused_start(a_prepared_visit(), a_start(method=method))
    assert refused.rule == "administration.too-fast"
    assert method.value in refused.reason


def test_a_rate_of_100_ml_per_hour_is_allowed_and_faster_is_refused() -> None:
    assert start_infusion(a_prepared_visit(), a_start(rate_ml_per_hour=100.0), protocol())
    refused = refused_start(a_prepared_visit(), a_start(rate_ml_per_hour=100.5))
    assert refused.rule == "administration.too-fast"
    assert "at most 100 mL/h" in refused.reason
    assert refused.field == "infusion_start.rate_ml_per_hour"


def test_a_planned_duration_of_60_minutes_is_allowed_and_59_is_refused() -> None:
    planned: dict[str, Any] = {"rate_ml_per_hour": None}
    allowed = a_start(planned_duration=minutes(60), **planned)
    assert start_infusion(a_prepared_visit(), allowed, protocol()).state is VisitState.INFUSING
    refused = refused_start(a_prepared_visit(), a_start(planned_duration=minutes(59), **planned))
    assert refused.rule == "administration.too-fast"
    assert "59 min" in refused.reason
    assert refused.field == "infusion_start.planned_duration"


def test_both_the_rate_and_the_planned_duration_are_checked() -> None:
    refused = refused_start(
        a_prepared_visit(), a_start(rate_ml_per_hour=60.0, planned_duration=minutes(30))
    )
    assert refused.rule == "administration.too-fast"


def test_a_start_needs_a_rate_or_a_planned_duration() -> None:
    with pytest.raises(InvalidInput, match="rate"):
        a_start(rate_ml_per_hour=None)


@pytest.mark.parametrize("rate", [0.0, -10.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(InvalidInput, match="positive"):
        a_start(rate_ml_per_hour=rate)


@pytest.mark.parametrize(
    ("found", "word"),
    [({"found_frozen": True}, "frozen"), ({"found_shaken": True}, "shaken")],
)
def test_a_bag_found_frozen_or_shaken_at_the_bedside_is_refused(
    found: dict[str, Any], word: str
) -> None:
    refused = refused_start(a_prepared_visit(), a_start(**found))
    assert refused.rule == "preparation.frozen-or-shaken"
    assert word in refused.reason


def test_a_start_exactly_8_hours_after_a_room_temperature_dilution_is_allowed() -> None:
    at = DILUTED + hours(8)
    assert start_infusion(a_prepared_visit(), a_start(at), protocol()).start == a_start(at)


def test_a_start_8_hours_and_1_second_after_a_room_temperature_dilution_is_refused() -> None:
    refused = refused_start(a_prepared_visit(), a_start(DILUTED + hours(8) + SECOND))
    assert refused.rule == "preparation.expired"
    assert "room temperature" in refused.reason


def test_a_refrigerated_bag_starts_exactly_24_hours_after_dilution_but_not_a_second_later() -> None:
    diluted = START - hours(24)
    cold = a_preparation(diluted, moves=((timedelta(0), Storage.REFRIGERATOR),))
    visit = a_prepared_visit(cold)
    assert start_infusion(visit, a_start(START), protocol()).state is VisitState.INFUSING
    refused = refused_start(visit, a_start(START + SECOND))
    assert refused.rule == "preparation.expired"
    assert "after dilution" in refused.reason


def test_storage_moves_after_preparation_count_towards_the_limits() -> None:
    diluted = START - hours(20)
    cold = a_preparation(diluted, moves=((timedelta(0), Storage.REFRIGERATOR),))
    warmed = move_preparation(
        a_prepared_visit(cold),
        StorageMove(diluted + hours(10), Storage.ROOM_TEMPERATURE),
        protocol(),
    )
    refused = refused_start(warmed, a_start(START))
    assert refused.rule == "preparation.expired"
    assert "10 h 0 min at room temperature" in refused.reason


def test_a_storage_move_before_the_last_one_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        move_preparation(a_prepared_visit(), StorageMove(DILUTED, Storage.REFRIGERATOR), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_storage_move_without_a_preparation_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        move_preparation(a_cleared_visit(), StorageMove(START, Storage.REFRIGERATOR), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_start_dated_before_the_bag_was_checked_is_refused() -> None:
    late_bag = a_preparation(START - minutes(2), checked_at=START + minutes(1))
    refused = refused_start(a_prepared_visit(late_bag), a_start(START))
    assert refused.rule == "workflow.out-of-order"


def test_a_second_start_is_refused() -> None:
    refused = refused_start(an_infusing_visit(), a_start(START + minutes(5)))
    assert refused.rule == "workflow.out-of-order"
    assert "infusing" in refused.reason


def test_an_infusion_of_exactly_60_minutes_ends_and_observation_begins() -> None:
    visit = end_infusion(an_infusing_visit(), an_end(START + minutes(60)), protocol())
    assert visit.state is VisitState.OBSERVING
    assert visit.administration_status == "completed"


def test_an_infusion_ended_after_59_minutes_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        end_infusion(an_infusing_visit(), an_end(START + minutes(59)), protocol())
    assert refused.value.rule == "administration.too-fast"
    assert refused.value.reason == "the infusion ran 59 min; it must run at least 60 minutes"
    assert refused.value.field == "infusion_end.at"


def test_an_infusion_ended_a_second_short_of_60_minutes_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        end_infusion(an_infusing_visit(), an_end(START + minutes(60) - SECOND), protocol())
    assert refused.value.rule == "administration.too-fast"


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        end_infusion(an_infusing_visit(), an_end(START - minutes(1)), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_ending_an_infusion_that_never_started_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        end_infusion(a_prepared_visit(), an_end(), protocol())
    assert refused.value.rule == "workflow.out-of-order"
    assert "no running infusion" in refused.value.reason
    assert refused.value.field is None  # the visit's state, not a time typed, is wrong


def test_the_start_records_who_started_it() -> None:
    visit = an_infusing_visit()
    assert visit.start is not None
    assert visit.start.started_by == NURSE


@pytest.mark.parametrize("planned", [timedelta(0), -minutes(60)])
def test_a_planned_duration_must_be_positive(planned: timedelta) -> None:
    with pytest.raises(InvalidInput, match="planned_duration"):
        a_start(planned_duration=planned)
