"""population.*: children, older adults, pregnancy and breastfeeding (synthetic patients)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.timeline import StatusKind, StatusObservation
from tests.domain.builders import (
    AT,
    a_patient,
    a_status,
    a_timeline,
    a_well_monitored_record,
    an_override,
    assess_at,
    day,
    protocol,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

PEDIATRIC = "population.pediatric"
ELDERLY = "population.elderly"
PREGNANCY = "population.pregnancy"
LACTATION = "population.lactation"


def a_pregnancy(value: str, at: datetime, status: str = "final") -> StatusObservation:
    return a_status(StatusKind.PREGNANCY, value, at, status)


def breastfeeding(value: str, at: datetime, status: str = "final") -> StatusObservation:
    return a_status(StatusKind.BREASTFEEDING, value, at, status)


def eighteenth_birthday(born: date) -> date:
    """Someone born on 29 February turns 18 on 1 March in a common year."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 3, 1)


# --- population.pediatric -------------------------------------------------------------


def test_holds_a_seventeen_year_old_and_names_age_and_birth_date() -> None:
    result = assessed_with(a_patient(born=date(2008, 11, 25)))

    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "Age 17" in finding.summary
    assert "2026-11-24" in finding.summary
    assert "2008-11-25" in finding.summary
    assert finding.evidence == ("Patient/p1",)
    assert not finding.overridden


def test_does_not_hold_a_patient_on_their_eighteenth_birthday() -> None:
    result = assessed_with(a_patient(born=date(2008, 11, 24)))

    assert_not_fired(result, PEDIATRIC)
    assert result.decision is Decision.PROCEED


def test_holds_the_day_before_the_eighteenth_birthday() -> None:
    result = assessed_with(a_patient(born=date(2008, 11, 24)), at=AT - timedelta(days=1))

    assert the_finding(result, PEDIATRIC).effect is Effect.HOLD
    assert result.decision is Decision.HOLD


def test_a_child_born_on_29_february_is_still_seventeen_on_28_february() -> None:
    at = datetime(2026, 2, 28, 9, tzinfo=UTC)
    result = assessed_with(a_patient(born=date(2008, 2, 29)), at=at)

    assert "Age 17" in the_finding(result, PEDIATRIC).summary


def test_a_child_born_on_29_february_turns_eighteen_on_1_march() -> None:
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    result = assessed_with(a_patient(born=date(2008, 2, 29)), at=at)

    assert_not_fired(result, PEDIATRIC)


def test_age_is_taken_on_the_clinic_calendar_day_when_a_time_zone_is_configured() -> None:
    # 23:30 UTC on 23 November is already 24 November, the 18th birthday, in Berlin.
    at = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    timeline = a_timeline(a_patient(born=date(2008, 11, 24)), **a_well_monitored_record(at))

    in_utc = assess(timeline, protocol(), at)
    in_berlin = assess(timeline, protocol(), at, tz=ZoneInfo("Europe/Berlin"))

    assert the_finding(in_utc, PEDIATRIC).effect is Effect.HOLD
    assert_not_fired(in_berlin, PEDIATRIC)


def test_a_missing_birth_date_is_a_caution_not_a_silent_pass() -> None:
    result = assessed_with(a_patient(born=None))

    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert "Birth date not recorded" in finding.summary
    assert "18" in finding.summary
    assert "65" in finding.summary
    assert finding.evidence == ("Patient/p1",)
    # The one caution covers both age limits: no separate elderly finding.
    assert_not_fired(result, ELDERLY)


def test_an_override_lowers_the_pediatric_hold_to_caution_and_stays_visible() -> None:
    override = an_override(PEDIATRIC, day(2), reason="Adolescent with highly active MS")
    result = assessed_with(a_patient(born=date(2010, 6, 1)), overrides=[override])

    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.overridden is True
    assert finding.override == override
    assert finding.original_effect is Effect.HOLD
    assert "Age 16" in finding.summary


def test_a_pediatric_override_recorded_after_the_assessed_moment_does_not_apply() -> None:
    override = an_override(PEDIATRIC, AT + timedelta(hours=1))
    result = assessed_with(a_patient(born=date(2010, 6, 1)), overrides=[override])

    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert not finding.overridden


def test_an_override_of_another_rule_does_not_lower_the_pediatric_hold() -> None:
    result = assessed_with(
        a_patient(born=date(2010, 6, 1)), overrides=[an_override(PREGNANCY, day(2))]
    )

    finding = the_finding(result, PEDIATRIC)
    assert finding.effect is Effect.HOLD
    assert not finding.overridden


@settings(max_examples=60, deadline=None)
@given(born=st.dates(min_value=date(1990, 1, 1), max_value=date(2015, 12, 31)))
def test_holds_until_the_eighteenth_birthday_and_not_from_it(born: date) -> None:
    birthday = eighteenth_birthday(born)
    timeline = a_timeline(a_patient(born=born))
    on_birthday = datetime(birthday.year, birthday.month, birthday.day, 9, tzinfo=UTC)

    assert assess_at(timeline, on_birthday).finding(PEDIATRIC) is None
    day_before = assess_at(timeline, on_birthday - timedelta(days=1)).finding(PEDIATRIC)
    assert day_before is not None
    assert day_before.effect is Effect.HOLD


# --- population.elderly -----------------------------------------------------------------


def test_cautions_on_the_sixty_fifth_birthday() -> None:
    result = assessed_with(a_patient(born=date(1961, 11, 24)))

    finding = the_finding(result, ELDERLY)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert "Age 65" in finding.summary
    assert "1961-11-24" in finding.summary
    assert "2026-11-24" in finding.summary
    assert finding.evidence == ("Patient/p1",)


def test_does_not_caution_the_day_before_the_sixty_fifth_birthday() -> None:
    result = assessed_with(a_patient(born=date(1961, 11, 25)))

    assert_not_fired(result, ELDERLY)
    assert result.decision is Decision.PROCEED


def test_cautions_a_very_old_patient_without_holding() -> None:
    result = assessed_with(a_patient(born=date(1936, 1, 1)))

    assert "Age 90" in the_finding(result, ELDERLY).summary
    assert result.decision is Decision.CAUTION


def test_an_adult_under_sixty_five_gets_no_age_finding() -> None:
    result = assessed_with(a_patient(born=date(1980, 5, 1)))

    assert_not_fired(result, ELDERLY)
    assert_not_fired(result, PEDIATRIC)


# --- population.pregnancy ---------------------------------------------------------------


def test_holds_when_the_latest_pregnancy_status_is_pregnant() -> None:
    status = a_pregnancy("pregnant", day(3))
    result = assessed_with(statuses=[status])

    finding = the_finding(result, PREGNANCY)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "pregnant" in finding.summary
    assert "2026-11-21" in finding.summary
    assert finding.evidence == (status.id,)


def test_no_pregnancy_status_recorded_does_not_fire() -> None:
    assert_not_fired(assessed_with(), PREGNANCY)


def test_not_pregnant_does_not_fire() -> None:
    assert_not_fired(assessed_with(statuses=[a_pregnancy("not-pregnant", day(3))]), PREGNANCY)


def test_pregnancy_status_unknown_does_not_fire() -> None:
    assert_not_fired(assessed_with(statuses=[a_pregnancy("unknown", day(3))]), PREGNANCY)


def test_a_newer_not_pregnant_status_supersedes_an_older_pregnant_one() -> None:
    statuses = [a_pregnancy("pregnant", day(300)), a_pregnancy("not-pregnant", day(10))]
    result = assessed_with(statuses=statuses)

    assert_not_fired(result, PREGNANCY)
    assert result.decision is Decision.PROCEED


def test_a_newer_pregnant_status_supersedes_an_older_not_pregnant_one() -> None:
    newer = a_pregnancy("pregnant", day(10))
    result = assessed_with(statuses=[a_pregnancy("not-pregnant", day(100)), newer])

    assert the_finding(result, PREGNANCY).evidence == (newer.id,)


def test_a_pregnant_status_entered_in_error_does_not_fire() -> None:
    result = assessed_with(statuses=[a_pregnancy("pregnant", day(3), status="entered-in-error")])

    assert_not_fired(result, PREGNANCY)


def test_a_not_pregnant_status_entered_in_error_does_not_hide_an_older_pregnancy() -> None:
    statuses = [
        a_pregnancy("pregnant", day(30)),
        a_pregnancy("not-pregnant", day(3), status="entered-in-error"),
    ]

    assert the_finding(assessed_with(statuses=statuses), PREGNANCY).effect is Effect.HOLD


def test_a_pregnancy_status_recorded_after_the_assessed_moment_is_ignored() -> None:
    result = assessed_with(statuses=[a_pregnancy("pregnant", AT + timedelta(hours=2))])

    assert_not_fired(result, PREGNANCY)


def test_a_pregnancy_override_after_the_status_lowers_to_caution_and_stays_visible() -> None:
    override = an_override(PREGNANCY, day(2), reason="Benefit-risk evaluated: highly active MS")
    result = assessed_with(statuses=[a_pregnancy("pregnant", day(3))], overrides=[override])

    finding = the_finding(result, PREGNANCY)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.overridden is True
    assert finding.override == override
    assert finding.original_effect is Effect.HOLD


def test_a_pregnancy_override_made_at_the_moment_of_the_status_applies() -> None:
    moment = day(3)
    result = assessed_with(
        statuses=[a_pregnancy("pregnant", moment)], overrides=[an_override(PREGNANCY, moment)]
    )

    assert the_finding(result, PREGNANCY).overridden is True


def test_a_pregnancy_override_keeps_applying_at_later_assessments_without_new_data() -> None:
    later = AT + timedelta(days=7)
    result = assessed_with(
        at=later,
        statuses=[a_pregnancy("pregnant", day(3))],
        overrides=[an_override(PREGNANCY, day(2))],
    )

    finding = the_finding(result, PREGNANCY)
    assert finding.overridden is True
    assert finding.effect is Effect.CAUTION


def test_a_pregnancy_override_older_than_the_pregnancy_status_does_not_apply() -> None:
    result = assessed_with(
        statuses=[a_pregnancy("pregnant", day(3))], overrides=[an_override(PREGNANCY, day(4))]
    )

    finding = the_finding(result, PREGNANCY)
    assert result.decision is Decision.HOLD
    assert not finding.overridden


def test_a_newer_pregnancy_status_after_the_override_holds_again() -> None:
    newer = a_pregnancy("pregnant", day(1))
    result = assessed_with(
        statuses=[a_pregnancy("pregnant", day(40)), newer],
        overrides=[an_override(PREGNANCY, day(30))],
    )

    finding = the_finding(result, PREGNANCY)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert not finding.overridden
    assert finding.evidence == (newer.id,)


# --- population.lactation ---------------------------------------------------------------


def test_holds_when_the_latest_breastfeeding_status_is_true() -> None:
    status = breastfeeding("true", day(5))
    result = assessed_with(statuses=[status])

    finding = the_finding(result, LACTATION)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "Breastfeeding" in finding.summary
    assert "2026-11-19" in finding.summary
    assert finding.evidence == (status.id,)


def test_no_breastfeeding_status_does_not_fire() -> None:
    assert_not_fired(assessed_with(), LACTATION)


def test_a_newer_breastfeeding_status_false_resolves_the_hold() -> None:
    statuses = [breastfeeding("true", day(60)), breastfeeding("false", day(2))]
    result = assessed_with(statuses=statuses)

    assert_not_fired(result, LACTATION)
    assert result.decision is Decision.PROCEED


def test_a_newer_breastfeeding_status_true_holds_after_an_older_false() -> None:
    newer = breastfeeding("true", day(2))
    result = assessed_with(statuses=[breastfeeding("false", day(60)), newer])

    assert the_finding(result, LACTATION).evidence == (newer.id,)


def test_a_breastfeeding_status_entered_in_error_does_not_fire() -> None:
    result = assessed_with(statuses=[breastfeeding("true", day(2), status="entered-in-error")])

    assert_not_fired(result, LACTATION)


def test_a_false_status_entered_in_error_does_not_resolve_breastfeeding() -> None:
    statuses = [breastfeeding("true", day(20)), breastfeeding("false", day(2), "entered-in-error")]

    assert the_finding(assessed_with(statuses=statuses), LACTATION).effect is Effect.HOLD


def test_a_breastfeeding_status_recorded_after_the_assessed_moment_is_ignored() -> None:
    result = assessed_with(statuses=[breastfeeding("true", AT + timedelta(minutes=5))])

    assert_not_fired(result, LACTATION)


def test_lactation_is_not_overridable() -> None:
    result = assessed_with(
        statuses=[breastfeeding("true", day(5))], overrides=[an_override(LACTATION, day(1))]
    )

    finding = the_finding(result, LACTATION)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert not finding.overridden
