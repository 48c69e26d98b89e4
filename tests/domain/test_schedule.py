"""The monitoring schedule: last done, next due, and overdue items as findings.

Synthetic records only. Assessed at 2026-11-24 09:00 UTC (``AT``) unless a test
says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.schedule import DueStatus, Item, ScheduleEntry, monitoring_schedule
from natalizumab_cds.domain.timeline import Analyte, Timeline
from tests.domain.builders import (
    AT,
    a_cbc,
    a_thyroid_panel,
    a_timeline,
    a_well_monitored_record,
    an_alt,
    an_antibody,
    an_ast,
    an_edss,
    an_infusion,
    an_mri,
    assess_at,
    day,
    on,
    protocol,
)
from tests.domain.rules.expectations import assert_not_fired, the_finding

FIRST_INFUSION = on(date(2026, 1, 15))


def schedule_of(
    timeline: Timeline, at: datetime = AT, tz: tzinfo = UTC
) -> dict[Item, ScheduleEntry]:
    return {entry.item: entry for entry in monitoring_schedule(timeline, protocol(), at, tz)}


def on_treatment(**facts: list[Any]) -> Timeline:
    """A patient first infused on 2026-01-15 (and again on 2026-11-01) with ``facts``."""
    return a_timeline(
        infusions=[an_infusion(FIRST_INFUSION), an_infusion(on(date(2026, 11, 1)))], **facts
    )


def liver_done_on(when: date, hour: int = 8) -> dict[str, list[Any]]:
    """The reference record with its ALT and AST replaced by a pair on ``when`` (UTC)."""
    record = a_well_monitored_record()
    kept = [r for r in record["results"] if r.analyte not in (Analyte.ALT, Analyte.AST)]
    pair = [an_alt(20, on(when, hour)), an_ast(22, on(when, hour))]
    return {**record, "results": [*kept, *pair]}


# -- one entry per item -------------------------------------------------------------------


def test_the_schedule_has_one_entry_per_item_in_the_catalogue_order() -> None:
    entries = monitoring_schedule(a_timeline(**a_well_monitored_record()), protocol(), AT, UTC)
    assert [e.item for e in entries] == list(Item)
    assert [e.item.value for e in entries] == [
        "liver",
        "blood",
        "thyroid",
        "antibody",
        "mri",
        "edss",
        "infusion",
    ]


def test_a_well_monitored_record_has_every_item_in_date() -> None:
    entries = schedule_of(a_timeline(**a_well_monitored_record()))
    assert entries[Item.LIVER].last == date(2026, 10, 25)
    assert entries[Item.LIVER].due == date(2027, 1, 25)
    assert entries[Item.THYROID].due == date(2027, 3, 25)
    assert entries[Item.ANTIBODY].due == date(2027, 1, 7)  # 2026-10-15 + 12 weeks
    assert entries[Item.MRI].due == date(2027, 5, 8)
    assert entries[Item.INFUSION].last == date(2026, 10, 27)
    assert entries[Item.INFUSION].due == date(2026, 11, 24)  # 4 weeks later: today
    assert entries[Item.INFUSION].status is DueStatus.DUE_SOON
    assert all(e.status is DueStatus.OK for item, e in entries.items() if item is not Item.INFUSION)


# -- what counts as done ------------------------------------------------------------------


def test_an_item_is_done_on_a_day_when_all_its_tests_have_a_result_that_day() -> None:
    alt = an_alt(20, on(date(2026, 10, 1), hour=8))
    ast = an_ast(22, on(date(2026, 10, 1), hour=17))
    entry = schedule_of(on_treatment(results=[alt, ast]))[Item.LIVER]
    assert entry.last == date(2026, 10, 1)
    assert entry.due == date(2027, 1, 1)
    assert entry.evidence == (alt.id, ast.id)


_CLINIC_ZONES = [UTC, ZoneInfo("Pacific/Auckland"), ZoneInfo("America/Los_Angeles")]


@settings(max_examples=200, deadline=None)
@given(
    alt_hours=st.lists(st.integers(0, 24 * 40), max_size=6),
    ast_hours=st.lists(st.integers(0, 24 * 40), max_size=6),
    tz=st.sampled_from(_CLINIC_ZONES),
)
def test_the_liver_tests_are_done_on_the_latest_clinic_day_with_both_results(
    alt_hours: list[int], ast_hours: list[int], tz: tzinfo
) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    alts = [an_alt(20, start + timedelta(hours=h)) for h in alt_hours]
    asts = [an_ast(22, start + timedelta(hours=h)) for h in ast_hours]

    entry = schedule_of(on_treatment(results=[*alts, *asts]), tz=tz)[Item.LIVER]

    def last_per_day(results: list[Any]) -> dict[date, str]:
        ordered = sorted(results, key=lambda r: (r.at, r.id))  # later that day wins
        return {r.at.astimezone(tz).date(): r.id for r in ordered}

    alt_days, ast_days = last_per_day(alts), last_per_day(asts)
    both = alt_days.keys() & ast_days.keys()
    expected = max(both) if both else None
    assert entry.last == expected
    if expected is not None:
        assert entry.evidence == (alt_days[expected], ast_days[expected])


def test_alt_today_and_ast_yesterday_do_not_make_the_liver_tests_done() -> None:
    entry = schedule_of(on_treatment(results=[an_alt(20, day(0)), an_ast(22, day(1))]))[Item.LIVER]
    assert entry.last is None
    assert entry.due == date(2026, 4, 15)  # never done: 3 months after the first infusion
    assert entry.status is DueStatus.OVERDUE
    assert entry.evidence == ()


def test_a_later_lone_alt_does_not_move_the_last_complete_liver_day() -> None:
    results = [an_alt(20, day(60)), an_ast(22, day(60)), an_alt(25, day(2))]
    entry = schedule_of(on_treatment(results=results))[Item.LIVER]
    assert entry.last == day(60).date()


def test_a_blood_count_missing_platelets_is_not_a_done_blood_count() -> None:
    partial = [r for r in a_cbc(day(5)) if r.analyte is not Analyte.PLATELETS]
    entry = schedule_of(on_treatment(results=partial))[Item.BLOOD]
    assert entry.last is None


def test_a_thyroid_panel_needs_both_tsh_and_free_t4() -> None:
    tsh_only = [r for r in a_thyroid_panel(day(5)) if r.analyte is Analyte.TSH]
    assert schedule_of(on_treatment(results=tsh_only))[Item.THYROID].last is None
    both = a_thyroid_panel(day(5))
    entry = schedule_of(on_treatment(results=both))[Item.THYROID]
    assert entry.last == day(5).date()
    assert entry.evidence == tuple(r.id for r in both)


def test_an_entered_in_error_result_does_not_make_an_item_done() -> None:
    results = [
        an_alt(20, day(200)),
        an_ast(22, day(200)),
        an_alt(20, day(10)),
        an_ast(22, day(10), status="entered-in-error"),
    ]
    entry = schedule_of(on_treatment(results=results))[Item.LIVER]
    assert entry.last == day(200).date()


@pytest.mark.parametrize(
    ("item", "facts"),
    [
        (
            Item.ANTIBODY,
            {"statuses": [an_antibody("negative", day(10), status="entered-in-error")]},
        ),
        (Item.MRI, {"mris": [an_mri(day(10), status="entered-in-error")]}),
        (Item.EDSS, {"results": [an_edss(2.0, day(10), status="entered-in-error")]}),
    ],
    ids=["antibody", "mri", "edss"],
)
def test_an_entered_in_error_test_leaves_its_item_never_done(
    item: Item, facts: dict[str, list[Any]]
) -> None:
    assert schedule_of(on_treatment(**facts))[item].last is None


def test_an_entered_in_error_infusion_is_not_the_last_infusion() -> None:
    timeline = a_timeline(
        infusions=[an_infusion(day(40)), an_infusion(day(5), status="entered-in-error")]
    )
    entry = schedule_of(timeline)[Item.INFUSION]
    assert entry.last == day(40).date()
    assert entry.due == date(2026, 11, 12)
    assert entry.status is DueStatus.OVERDUE


def test_results_dated_after_the_assessment_do_not_make_an_item_done() -> None:
    entry = schedule_of(on_treatment(results=[an_alt(20, day(-1)), an_ast(22, day(-1))]))[
        Item.LIVER
    ]
    assert entry.last is None


def test_same_day_is_the_clinic_day_when_a_clinic_time_zone_is_configured() -> None:
    # 23:00 UTC on 20 Nov and 01:00 UTC on 21 Nov are both 21 Nov in Auckland (UTC+13).
    alt = an_alt(20, datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    ast = an_ast(22, datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    timeline = on_treatment(results=[alt, ast])
    assert schedule_of(timeline)[Item.LIVER].last is None
    auckland = schedule_of(timeline, tz=ZoneInfo("Pacific/Auckland"))[Item.LIVER]
    assert auckland.last == date(2026, 11, 21)


# -- when an item is due ------------------------------------------------------------------


def test_a_never_done_item_is_due_one_interval_after_the_first_infusion() -> None:
    entries = schedule_of(on_treatment())
    assert entries[Item.LIVER].due == date(2026, 4, 15)
    assert entries[Item.BLOOD].due == date(2026, 4, 15)
    assert entries[Item.THYROID].due == date(2026, 7, 15)
    assert entries[Item.ANTIBODY].due == date(2026, 4, 9)  # 12 weeks
    assert entries[Item.MRI].due == date(2027, 1, 15)
    assert entries[Item.EDSS].due == date(2026, 7, 15)
    assert entries[Item.INFUSION].due == date(2026, 11, 29)  # 4 weeks after 2026-11-01
    assert all(entries[item].last is None for item in Item if item is not Item.INFUSION)


def test_before_any_infusion_liver_and_blood_are_due_today_and_the_others_one_interval_on() -> None:
    entries = schedule_of(a_timeline())
    assert entries[Item.LIVER].due == date(2026, 11, 24)
    assert entries[Item.BLOOD].due == date(2026, 11, 24)
    assert entries[Item.LIVER].status is DueStatus.DUE_SOON
    assert entries[Item.BLOOD].status is DueStatus.DUE_SOON
    assert entries[Item.THYROID].due == date(2027, 5, 24)
    assert entries[Item.ANTIBODY].due == date(2027, 2, 16)
    assert entries[Item.MRI].due == date(2027, 11, 24)
    assert entries[Item.EDSS].due == date(2027, 5, 24)


def test_before_any_infusion_the_next_infusion_is_due_one_interval_after_the_assessment() -> None:
    assert schedule_of(a_timeline())[Item.INFUSION].due == date(2026, 12, 22)


def test_a_done_item_is_due_one_interval_after_the_day_it_was_done() -> None:
    entries = schedule_of(
        on_treatment(
            results=[*a_thyroid_panel(on(date(2026, 9, 1))), an_edss(2.0, on(date(2026, 6, 2)))],
            statuses=[an_antibody("negative", on(date(2026, 10, 1)))],
            mris=[an_mri(on(date(2026, 2, 3)))],
        )
    )
    assert entries[Item.THYROID].due == date(2027, 3, 1)
    assert entries[Item.EDSS].due == date(2026, 12, 2)
    assert entries[Item.ANTIBODY].due == date(2026, 12, 24)
    assert entries[Item.MRI].due == date(2027, 2, 3)


@pytest.mark.parametrize(
    ("done", "at", "due"),
    [
        (date(2027, 1, 31), date(2027, 2, 10), date(2027, 4, 30)),
        (date(2026, 11, 30), date(2026, 12, 5), date(2027, 2, 28)),
        (date(2027, 11, 30), date(2027, 12, 5), date(2028, 2, 29)),
        (date(2026, 5, 31), date(2026, 6, 5), date(2026, 8, 31)),
    ],
    ids=["31-jan-to-30-apr", "30-nov-to-28-feb", "30-nov-to-29-feb-leap-year", "31-may-to-31-aug"],
)
def test_the_liver_interval_is_three_calendar_months(done: date, at: date, due: date) -> None:
    timeline = on_treatment(results=[an_alt(20, on(done)), an_ast(22, on(done))])
    assert schedule_of(timeline, at=on(at, hour=9))[Item.LIVER].due == due


def test_the_thyroid_interval_of_six_months_ends_on_the_last_day_of_a_short_month() -> None:
    timeline = on_treatment(results=a_thyroid_panel(on(date(2026, 8, 31))))
    assert schedule_of(timeline, at=on(date(2026, 9, 10)))[Item.THYROID].due == date(2027, 2, 28)


# -- status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "due", "status"),
    [
        (date(2026, 8, 23), date(2026, 11, 23), DueStatus.OVERDUE),
        (date(2026, 8, 24), date(2026, 11, 24), DueStatus.DUE_SOON),
        (date(2026, 9, 8), date(2026, 12, 8), DueStatus.DUE_SOON),
        (date(2026, 9, 9), date(2026, 12, 9), DueStatus.OK),
    ],
    ids=["due-yesterday-overdue", "due-today-due-soon", "due-in-14-days-due-soon", "in-15-days-ok"],
)
def test_the_status_follows_the_due_date(done: date, due: date, status: DueStatus) -> None:
    entry = schedule_of(a_timeline(**liver_done_on(done)))[Item.LIVER]
    assert entry.due == due
    assert entry.status is status


def test_an_item_due_today_is_not_overdue_late_in_the_day() -> None:
    timeline = a_timeline(**liver_done_on(date(2026, 8, 24)))
    entry = schedule_of(timeline, at=on(date(2026, 11, 24), hour=23))[Item.LIVER]
    assert entry.due == date(2026, 11, 24)
    assert entry.status is DueStatus.DUE_SOON


# -- overdue findings ---------------------------------------------------------------------


def test_an_overdue_item_is_a_warning_finding_that_does_not_change_the_decision() -> None:
    record = liver_done_on(date(2026, 8, 23))
    alt, ast = record["results"][-2:]
    result = assess_at(a_timeline(**record))
    finding = the_finding(result, "monitoring.liver-overdue")
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.WARNING
    assert finding.summary == (
        "ALT and AST overdue: due 2026-11-23 (1 days ago), last done 2026-08-23"
    )
    assert finding.evidence == (alt.id, ast.id)
    assert finding.suggestions == ("Order ALT and AST",)
    assert finding.basis == "Protocol text, Liver function: ALT/AST every 3 months"


def test_an_item_due_today_or_soon_is_not_a_finding() -> None:
    result = assess_at(a_timeline(**liver_done_on(date(2026, 8, 24))))
    assert_not_fired(result, "monitoring.liver-overdue")
    assert_not_fired(result, "monitoring.infusion-overdue")  # due today


def test_a_never_done_item_is_reported_as_never_done() -> None:
    record = {**a_well_monitored_record(), "mris": []}
    finding = the_finding(assess_at(a_timeline(**record)), "monitoring.mri-overdue")
    # Never done: due 12 months after the first infusion on 2024-11-26.
    assert finding.summary == "brain MRI overdue: due 2025-11-26 (363 days ago), never done"
    assert finding.evidence == ()
    assert finding.suggestions == ("Order brain MRI",)


def test_an_overdue_next_infusion_suggests_scheduling_it() -> None:
    record = a_well_monitored_record(at=day(1))  # last infusion 29 days before AT
    finding = the_finding(assess_at(a_timeline(**record)), "monitoring.infusion-overdue")
    assert finding.summary.startswith("next infusion overdue: due 2026-11-23 (1 days ago)")
    assert finding.suggestions == ("Schedule the next infusion",)


def test_every_overdue_item_and_only_those_are_findings() -> None:
    record = {
        **a_well_monitored_record(),
        "results": [an_edss(2.0, day(760))],
        "statuses": [],
    }
    result = assess_at(a_timeline(**record))
    overdue = {e.item.value for e in result.monitoring if e.status is DueStatus.OVERDUE}
    assert overdue == {"liver", "blood", "thyroid", "antibody", "edss"}
    assert {f.rule for f in result.findings if f.rule.startswith("monitoring.")} == {
        f"monitoring.{item}-overdue" for item in overdue
    }
    assert result.decision is Decision.PROCEED


def test_the_overdue_findings_use_the_clinic_day() -> None:
    # 2026-11-24 09:00 UTC is still 2026-11-23 in Honolulu (UTC-10); the liver pair of
    # 2026-08-23 20:00 UTC (10:00 in Honolulu) is due 2026-11-23: overdue in UTC only.
    timeline = a_timeline(**liver_done_on(date(2026, 8, 23), hour=20))
    in_utc = assess(timeline, protocol(), AT)
    in_honolulu = assess(timeline, protocol(), AT, tz=ZoneInfo("Pacific/Honolulu"))
    assert "monitoring.liver-overdue" in in_utc.rules_fired
    assert "monitoring.liver-overdue" not in in_honolulu.rules_fired
