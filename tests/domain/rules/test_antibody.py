"""Anti-natalizumab antibodies: a first positive, persistence, and a low drug level.

Synthetic records only. The reference record has one negative antibody result
on 2026-10-15 (``day(40)``); tests that need a different history replace it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.timeline import StatusObservation
from tests.domain.builders import (
    a_drug_level,
    a_timeline,
    a_well_monitored_record,
    an_antibody,
    assess_at,
    day,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

UNCONFIRMED = "antibody.positive-unconfirmed"
PERSISTENT = "antibody.persistent"
LOW_LEVEL = "antibody.low-drug-level"


def assessed_with_antibodies(*results: StatusObservation) -> Assessment:
    """The reference record with exactly these antibody results (its own negative removed)."""
    record: dict[str, list[Any]] = {**a_well_monitored_record(), "statuses": list(results)}
    return assess_at(a_timeline(**record))


# -- antibody.positive-unconfirmed -------------------------------------------------------


def test_a_positive_after_a_negative_cautions_and_suggests_a_retest_42_days_later() -> None:
    negative = an_antibody("negative", day(40))
    positive = an_antibody("positive", day(2))
    result = assessed_with_antibodies(negative, positive)
    finding = the_finding(result, UNCONFIRMED)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.summary == (
        "Anti-natalizumab antibodies positive on 2026-11-22, not yet confirmed persistent"
    )
    assert finding.evidence == (positive.id,)
    assert finding.data_at == positive.at
    assert finding.suggestions == ("Retest antibodies on or after 2027-01-03",)
    assert_not_fired(result, PERSISTENT)


def test_a_first_ever_positive_is_unconfirmed() -> None:
    positive = an_antibody("positive", day(5))
    finding = the_finding(assessed_with_antibodies(positive), UNCONFIRMED)
    assert finding.summary.startswith("Anti-natalizumab antibodies positive on 2026-11-19")
    assert finding.suggestions == ("Retest antibodies on or after 2026-12-31",)


def test_a_negative_after_a_positive_clears_the_unconfirmed_caution() -> None:
    result = assessed_with_antibodies(
        an_antibody("positive", day(30)), an_antibody("negative", day(3))
    )
    assert_not_fired(result, UNCONFIRMED)
    assert_not_fired(result, PERSISTENT)
    assert result.decision is Decision.PROCEED


def test_only_negative_results_raise_nothing() -> None:
    result = assessed_with_antibodies(
        an_antibody("negative", day(200)), an_antibody("negative", day(30))
    )
    assert not {UNCONFIRMED, PERSISTENT} & result.rules_fired
    assert result.decision is Decision.PROCEED


def test_an_entered_in_error_latest_positive_is_ignored() -> None:
    result = assessed_with_antibodies(
        an_antibody("negative", day(40)),
        an_antibody("positive", day(2), status="entered-in-error"),
    )
    assert_not_fired(result, UNCONFIRMED)
    assert result.decision is Decision.PROCEED


def test_a_positive_dated_after_the_assessment_is_ignored() -> None:
    result = assessed_with(statuses=[an_antibody("positive", day(-1))])
    assert_not_fired(result, UNCONFIRMED)
    assert result.decision is Decision.PROCEED


def test_no_antibody_result_at_all_is_not_a_negative_but_an_overdue_test() -> None:
    result = assessed_with_antibodies()
    assert not {UNCONFIRMED, PERSISTENT} & result.rules_fired
    overdue = the_finding(result, "monitoring.antibody-overdue")
    assert "never done" in overdue.summary


# -- antibody.persistent ------------------------------------------------------------------


def test_two_positives_exactly_42_days_apart_are_persistent_and_discontinue() -> None:
    first = an_antibody("positive", day(44))
    second = an_antibody("positive", day(2))
    result = assessed_with_antibodies(first, second)
    finding = the_finding(result, PERSISTENT)
    assert result.decision is Decision.DISCONTINUE
    assert finding.effect is Effect.DISCONTINUE
    assert finding.severity is Severity.CRITICAL
    assert finding.summary == (
        "Anti-natalizumab antibodies positive on 2026-10-11 and 2026-11-22 "
        "(42 days apart, no negative between): persistent"
    )
    assert finding.evidence == (first.id, second.id)
    assert finding.data_at == second.at
    assert_not_fired(result, UNCONFIRMED)
    assert result.findings[0].rule == PERSISTENT


def test_two_positives_41_days_apart_are_only_unconfirmed() -> None:
    first = an_antibody("positive", day(43))
    second = an_antibody("positive", day(2))
    result = assessed_with_antibodies(first, second)
    assert_not_fired(result, PERSISTENT)
    finding = the_finding(result, UNCONFIRMED)
    assert finding.evidence == (second.id,)
    assert finding.suggestions == ("Retest antibodies on or after 2027-01-03",)
    assert result.decision is Decision.CAUTION


def test_a_negative_between_two_positives_breaks_persistence() -> None:
    result = assessed_with_antibodies(
        an_antibody("positive", day(100)),
        an_antibody("negative", day(60)),
        an_antibody("positive", day(2)),
    )
    assert_not_fired(result, PERSISTENT)
    assert the_finding(result, UNCONFIRMED).effect is Effect.CAUTION


def test_persistence_stays_even_when_a_later_result_is_negative() -> None:
    first = an_antibody("positive", day(120))
    second = an_antibody("positive", day(60))
    result = assessed_with_antibodies(first, second, an_antibody("negative", day(5)))
    finding = the_finding(result, PERSISTENT)
    assert finding.evidence == (first.id, second.id)
    assert result.decision is Decision.DISCONTINUE
    assert_not_fired(result, UNCONFIRMED)


def test_a_run_of_positives_is_persistent_once_its_first_and_last_are_42_days_apart() -> None:
    first = an_antibody("positive", day(70))
    middle = an_antibody("positive", day(50))
    last = an_antibody("positive", day(20))
    finding = the_finding(assessed_with_antibodies(first, middle, last), PERSISTENT)
    assert finding.evidence == (first.id, last.id)
    assert "(50 days apart, no negative between)" in finding.summary


def test_an_entered_in_error_positive_does_not_count_towards_persistence() -> None:
    voided = an_antibody("positive", day(100), status="entered-in-error")
    latest = an_antibody("positive", day(2))
    result = assessed_with_antibodies(voided, latest)
    assert_not_fired(result, PERSISTENT)
    assert the_finding(result, UNCONFIRMED).evidence == (latest.id,)


def test_an_entered_in_error_negative_does_not_break_persistence() -> None:
    first = an_antibody("positive", day(100))
    second = an_antibody("positive", day(2))
    result = assessed_with_antibodies(
        first, an_antibody("negative", day(50), status="entered-in-error"), second
    )
    assert the_finding(result, PERSISTENT).evidence == (first.id, second.id)


def test_a_confirming_positive_dated_after_the_assessment_is_ignored() -> None:
    result = assessed_with_antibodies(
        an_antibody("positive", day(30)), an_antibody("positive", day(-20))
    )
    assert_not_fired(result, PERSISTENT)
    assert the_finding(result, UNCONFIRMED).effect is Effect.CAUTION


def test_positives_41_calendar_days_apart_are_not_persistent_however_late_the_second() -> None:
    first = an_antibody("positive", datetime(2026, 10, 13, 0, 30, tzinfo=UTC))
    second = an_antibody("positive", datetime(2026, 11, 23, 23, 30, tzinfo=UTC))  # 41 d 23 h
    result = assessed_with_antibodies(first, second)
    assert_not_fired(result, PERSISTENT)
    assert UNCONFIRMED in result.rules_fired


def test_a_retest_on_the_suggested_date_confirms_persistence_whatever_the_time_of_day() -> None:
    first = an_antibody("positive", day(42) + timedelta(hours=3))  # 2026-10-13 12:00 UTC
    suggested = the_finding(assessed_with_antibodies(first), UNCONFIRMED).suggestions
    assert suggested == ("Retest antibodies on or after 2026-11-24",)
    retest = an_antibody("positive", day(0) - timedelta(hours=1))  # 2026-11-24 08:00 UTC
    result = assessed_with_antibodies(first, retest)
    assert the_finding(result, PERSISTENT).effect is Effect.DISCONTINUE


# -- antibody.low-drug-level --------------------------------------------------------------


def test_a_serum_natalizumab_level_just_below_1_ug_per_ml_cautions() -> None:
    level = a_drug_level(0.99, day(2))
    result = assessed_with(results=[level])
    finding = the_finding(result, LOW_LEVEL)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.summary == "Serum natalizumab 0.99 µg/mL on 2026-11-22 is below 1 µg/mL"
    assert finding.evidence == (level.id,)
    assert finding.suggestions == ("Test for anti-natalizumab antibodies",)


def test_a_serum_natalizumab_level_of_exactly_1_ug_per_ml_does_not_caution() -> None:
    result = assessed_with(results=[a_drug_level(1.0, day(2))])
    assert_not_fired(result, LOW_LEVEL)
    assert result.decision is Decision.PROCEED


def test_a_therapeutic_serum_natalizumab_level_does_not_caution() -> None:
    assert_not_fired(assessed_with(results=[a_drug_level(17.0, day(2))]), LOW_LEVEL)


def test_a_newer_therapeutic_level_supersedes_an_older_low_one() -> None:
    result = assessed_with(results=[a_drug_level(0.4, day(90)), a_drug_level(15.0, day(5))])
    assert_not_fired(result, LOW_LEVEL)


def test_the_latest_low_level_is_named_when_it_follows_a_therapeutic_one() -> None:
    low = a_drug_level(0.5, day(5))
    finding = the_finding(assessed_with(results=[a_drug_level(15.0, day(90)), low]), LOW_LEVEL)
    assert finding.evidence == (low.id,)
    assert "0.5 µg/mL on 2026-11-19" in finding.summary


def test_an_old_low_level_still_cautions_while_it_is_the_latest() -> None:
    finding = the_finding(assessed_with(results=[a_drug_level(0.3, day(500))]), LOW_LEVEL)
    assert "on 2025-07-12" in finding.summary


def test_an_entered_in_error_low_level_is_ignored() -> None:
    voided = a_drug_level(0.2, day(2), status="entered-in-error")
    result = assessed_with(results=[voided])
    assert_not_fired(result, LOW_LEVEL)
    assert result.decision is Decision.PROCEED


def test_a_low_level_dated_after_the_assessment_is_ignored() -> None:
    assert_not_fired(assessed_with(results=[a_drug_level(0.2, day(-2))]), LOW_LEVEL)


def test_a_drug_level_reported_as_below_1_is_low_and_shown_as_reported() -> None:
    bounded = a_drug_level(0.5, day(2), comparator="<")
    finding = the_finding(assessed_with(results=[bounded]), LOW_LEVEL)
    assert finding.summary == "Serum natalizumab <0.5 µg/mL on 2026-11-22 is below 1 µg/mL"


def test_a_drug_level_reported_above_a_value_under_1_is_not_called_below_1() -> None:
    bounded = a_drug_level(0.5, day(2), comparator=">")
    finding = assessed_with(results=[bounded]).finding(LOW_LEVEL)
    assert finding is None or "is below 1" not in finding.summary


def test_no_drug_level_measured_raises_nothing() -> None:
    assert_not_fired(assessed_with(), LOW_LEVEL)
