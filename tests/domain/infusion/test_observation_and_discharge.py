"""Observation for 60 minutes after the infusion ends, then discharge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.infusion import (
    VisitState,
    discharge,
    observation_ends_at,
    observation_remaining,
)
from natalizumab_cds.domain.infusion_events import Discharge
from tests.domain.infusion.builders import (
    END,
    NURSE,
    START,
    a_prepared_visit,
    an_infusing_visit,
    an_observing_visit,
    minutes,
    protocol,
)

SECOND = timedelta(seconds=1)


def leaving(at: object) -> Discharge:
    return Discharge(at=at, discharged_by=NURSE)  # type: ignore[arg-type]


def test_discharge_exactly_60_minutes_after_the_end_is_allowed() -> None:
    visit = discharge(an_observing_visit(), leaving(END + minutes(60)), protocol())
    assert visit.state is VisitState.DISCHARGED
    assert visit.administration_status == "completed"


def test_discharge_59_minutes_after_the_end_is_refused_with_the_minutes_left() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        discharge(an_observing_visit(), leaving(END + minutes(59)), protocol())
    assert refused.value.rule == "observation.incomplete"
    assert refused.value.reason.startswith("1 minute of observation remain")
    assert refused.value.field == "discharge.at"


def test_discharge_a_second_early_is_refused_and_rounds_up_to_a_minute() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        discharge(an_observing_visit(), leaving(END + minutes(60) - SECOND), protocol())
    assert refused.value.rule == "observation.incomplete"
    assert "1 minute of" in refused.value.reason
    # the end of observation to the minute, in UTC, said so (no seconds, no offset)
    assert refused.value.reason.endswith(f"(until {END + minutes(60):%Y-%m-%d %H:%M} UTC)")


def test_discharge_right_after_the_end_says_the_whole_hour_remains() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        discharge(an_observing_visit(), leaving(END), protocol())
    assert refused.value.reason.startswith("60 minutes of observation remain")


def test_discharge_while_the_infusion_runs_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        discharge(an_infusing_visit(), leaving(START + minutes(90)), protocol())
    assert refused.value.rule == "observation.incomplete"
    assert "still running" in refused.value.reason


def test_discharge_before_any_infusion_is_refused() -> None:
    with pytest.raises(WorkflowRefused) as refused:
        discharge(a_prepared_visit(), leaving(START), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_a_second_discharge_is_refused() -> None:
    gone = discharge(an_observing_visit(), leaving(END + minutes(60)), protocol())
    with pytest.raises(WorkflowRefused) as refused:
        discharge(gone, leaving(END + minutes(61)), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_the_screen_shows_the_observation_time_left() -> None:
    visit = an_observing_visit()
    assert observation_ends_at(visit, protocol()) == END + minutes(60)
    assert observation_remaining(visit, END + minutes(45), protocol()) == minutes(15)
    assert observation_remaining(visit, END + minutes(60), protocol()) == timedelta(0)
    assert observation_remaining(visit, END + minutes(75), protocol()) == timedelta(0)


def test_there_is_no_observation_time_until_the_infusion_ends() -> None:
    assert observation_remaining(an_infusing_visit(), START, protocol()) is None
    assert observation_ends_at(an_infusing_visit(), protocol()) is None
