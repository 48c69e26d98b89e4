"""dosing.too-soon and dosing.restart-after-gap (synthetic records)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.protocol import add_months
from natalizumab_cds.domain.timeline import Infusion
from tests.domain.builders import (
    AT,
    a_timeline,
    a_well_monitored_record,
    an_infusion,
    assess_at,
    day,
    infusions,
    on,
)
from tests.domain.rules.expectations import assert_not_fired, the_finding

TOO_SOON = "dosing.too-soon"
RESTART = "dosing.restart-after-gap"


def with_infusions(history: list[Infusion], at: datetime = AT) -> Assessment:
    """The reference record assessed at ``at``, its infusion history replaced by ``history``."""
    record: dict[str, list[Any]] = a_well_monitored_record(at)
    record["infusions"] = list(history)
    return assess_at(a_timeline(None, **record), at)


def at_date(when: date) -> datetime:
    return datetime(when.year, when.month, when.day, 9, tzinfo=UTC)


# --- dosing.too-soon ----------------------------------------------------------------------


def test_holds_an_infusion_20_days_after_the_last_one() -> None:
    history = infusions(10, last=day(20))
    result = with_infusions(history)

    finding = the_finding(result, TOO_SOON)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "2026-11-04" in finding.summary
    assert "20 days ago" in finding.summary
    assert "2026-11-25" in finding.summary  # the earliest day it may be given
    assert finding.evidence == (history[-1].id,)


def test_does_not_hold_an_infusion_21_days_after_the_last_one() -> None:
    result = with_infusions(infusions(10, last=day(21)))

    assert_not_fired(result, TOO_SOON)
    assert result.decision is Decision.PROCEED


def test_does_not_hold_at_the_usual_four_week_interval() -> None:
    assert_not_fired(with_infusions(infusions(10, last=day(28))), TOO_SOON)


def test_holds_a_second_infusion_on_the_same_day() -> None:
    result = with_infusions(infusions(10, last=AT - timedelta(hours=3)))

    assert "0 days ago" in the_finding(result, TOO_SOON).summary


def test_days_are_counted_in_calendar_days() -> None:
    # Given late on 3 November: fewer than 21 x 24 hours, but 21 calendar days, before 09:00
    # on 24 November.
    late = datetime(2026, 11, 3, 23, 0, tzinfo=UTC)
    assert_not_fired(with_infusions([an_infusion(late)]), TOO_SOON)


@pytest.mark.parametrize(
    "status", ["in-progress", "stopped", "not-done", "on-hold", "entered-in-error", "unknown"]
)
def test_only_completed_infusions_count_towards_too_soon(status: str) -> None:
    history = [*infusions(10, last=day(28)), an_infusion(day(5), status=status)]

    assert_not_fired(with_infusions(history), TOO_SOON)


def test_the_gap_is_measured_from_the_last_completed_infusion() -> None:
    last_completed = an_infusion(day(10))
    history = [*infusions(10, last=day(38)), last_completed, an_infusion(day(2), "stopped")]
    result = with_infusions(history)

    finding = the_finding(result, TOO_SOON)
    assert finding.evidence == (last_completed.id,)
    assert "10 days ago" in finding.summary


def test_an_infusion_recorded_after_the_assessed_moment_is_ignored() -> None:
    history = [*infusions(10, last=day(28)), an_infusion(AT + timedelta(hours=1))]

    assert_not_fired(with_infusions(history), TOO_SOON)


def test_a_first_ever_infusion_is_never_too_soon() -> None:
    assert_not_fired(with_infusions([]), TOO_SOON)


@settings(max_examples=40, deadline=None)
@given(gap=st.integers(min_value=0, max_value=60))
def test_holds_exactly_when_fewer_than_21_days_have_passed(gap: int) -> None:
    fired = with_infusions(infusions(10, last=day(gap))).finding(TOO_SOON)

    assert (fired is not None) == (gap < 21)


# --- dosing.restart-after-gap -------------------------------------------------------------


def test_cautions_a_restart_three_months_after_a_single_infusion() -> None:
    only = an_infusion(on(date(2026, 8, 24)))
    result = with_infusions([only])

    finding = the_finding(result, RESTART)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert "Only 1 infusion" in finding.summary
    assert "2026-08-24" in finding.summary
    assert finding.evidence == (only.id,)
    assert finding.suggestions


def test_cautions_a_restart_three_months_after_two_infusions() -> None:
    history = [an_infusion(on(date(2026, 7, 27))), an_infusion(on(date(2026, 8, 24)))]
    result = with_infusions(history)

    finding = the_finding(result, RESTART)
    assert "Only 2 infusion" in finding.summary
    assert finding.evidence == (history[0].id, history[1].id)
    assert result.decision is Decision.CAUTION


def test_does_not_caution_the_day_before_three_months_have_passed() -> None:
    result = with_infusions([an_infusion(on(date(2026, 8, 25)))])

    assert_not_fired(result, RESTART)


def test_does_not_caution_a_restart_after_three_infusions() -> None:
    history = infusions(3, last=on(date(2026, 5, 1)))
    result = with_infusions(history)

    assert_not_fired(result, RESTART)


def test_does_not_caution_a_second_infusion_given_on_schedule() -> None:
    assert_not_fired(with_infusions([an_infusion(day(28))]), RESTART)


def test_a_long_gap_after_a_single_infusion_still_cautions() -> None:
    result = with_infusions([an_infusion(on(date(2023, 4, 2)))])

    assert "2023-04-02" in the_finding(result, RESTART).summary


def test_three_months_are_calendar_months_ending_on_the_last_day_of_february() -> None:
    # 30 November + 3 months = 28 February (2027 is a common year).
    history = [an_infusion(on(date(2026, 11, 30)))]

    assert the_finding(with_infusions(history, at_date(date(2027, 2, 28))), RESTART)
    assert_not_fired(with_infusions(history, at_date(date(2027, 2, 27))), RESTART)


def test_only_completed_infusions_are_counted_for_a_restart() -> None:
    completed = [an_infusion(on(date(2026, 6, 1))), an_infusion(on(date(2026, 6, 29)))]
    history = [*completed, an_infusion(on(date(2026, 7, 27)), status="entered-in-error")]
    result = with_infusions(history)

    finding = the_finding(result, RESTART)
    assert "Only 2 infusion" in finding.summary
    assert "2026-06-29" in finding.summary
    assert finding.evidence == tuple(i.id for i in completed)


def test_a_not_completed_infusion_does_not_shorten_the_gap() -> None:
    history = [an_infusion(on(date(2026, 6, 1))), an_infusion(day(14), status="stopped")]

    assert the_finding(with_infusions(history), RESTART).effect is Effect.CAUTION


def test_no_infusion_ever_is_not_a_restart() -> None:
    assert_not_fired(with_infusions([]), RESTART)


@settings(max_examples=40, deadline=None)
@given(last=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)))
def test_cautions_from_three_calendar_months_after_the_last_infusion(last: date) -> None:
    history = [an_infusion(on(last))]
    due = add_months(last, 3)

    assert with_infusions(history, at_date(due)).finding(RESTART) is not None
    assert with_infusions(history, at_date(due - timedelta(days=1))).finding(RESTART) is None
