"""infection.active, infection.opportunistic and pml.suspected (synthetic records)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.protocol import LOCAL, SNOMED
from natalizumab_cds.domain.timeline import StatusKind, StatusObservation
from tests.domain.builders import (
    AT,
    a_condition,
    a_local_condition,
    a_status,
    a_timeline,
    a_well_monitored_record,
    day,
    on,
    protocol,
    with_facts,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

ACTIVE = "infection.active"
OPPORTUNISTIC = "infection.opportunistic"
PML = "pml.suspected"
PNEUMONIA = "233604007"
PML_CODE = "22255007"
EARLY_TODAY = AT - timedelta(hours=2)


def infection_answer(value: str, at: datetime, status: str = "final") -> StatusObservation:
    return a_status(StatusKind.SCREEN_INFECTION, value, at, status)


def neuro_answer(value: str, at: datetime, status: str = "final") -> StatusObservation:
    return a_status(StatusKind.SCREEN_NEURO, value, at, status)


# --- infection.active ---------------------------------------------------------------------


def test_holds_during_an_active_pneumonia_and_names_it_and_its_onset() -> None:
    pneumonia = a_condition(PNEUMONIA, at=on(date(2026, 11, 20)))
    result = assessed_with(conditions=[pneumonia])

    finding = the_finding(result, ACTIVE)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "Pneumonia" in finding.summary
    assert "active" in finding.summary
    assert "2026-11-20" in finding.summary
    assert finding.evidence == (pneumonia.id,)


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse"])
def test_holds_for_every_active_clinical_status(clinical: str) -> None:
    result = assessed_with(conditions=[a_condition(PNEUMONIA, at=day(4), clinical=clinical)])

    finding = the_finding(result, ACTIVE)
    assert finding.effect is Effect.HOLD
    assert clinical in finding.summary


@pytest.mark.parametrize("clinical", ["resolved", "inactive", "remission", None])
def test_an_infection_that_is_not_active_does_not_hold(clinical: str | None) -> None:
    result = assessed_with(conditions=[a_condition(PNEUMONIA, at=day(40), clinical=clinical)])

    assert_not_fired(result, ACTIVE)
    assert result.decision is Decision.PROCEED


def test_an_infection_abated_before_the_assessed_moment_does_not_hold() -> None:
    abated = a_condition("68566005", at=day(20), clinical="active", abatement=day(2))

    assert_not_fired(assessed_with(conditions=[abated]), ACTIVE)


def test_an_infection_abating_only_after_the_assessed_moment_still_holds() -> None:
    condition = a_condition("68566005", at=day(20), abatement=day(-3))

    assert the_finding(assessed_with(conditions=[condition]), ACTIVE).effect is Effect.HOLD


@pytest.mark.parametrize(
    "code", ["40733004", "68566005", "54150009", "6142004", "840539006", "4740000"]
)
def test_holds_for_each_listed_snomed_infection(code: str) -> None:
    result = assessed_with(conditions=[a_condition(code, SNOMED, at=day(3))])

    assert the_finding(result, ACTIVE).effect is Effect.HOLD


def test_holds_for_the_local_active_infection_code() -> None:
    condition = a_local_condition("active-infection", at=day(1))
    result = assessed_with(conditions=[condition])

    finding = the_finding(result, ACTIVE)
    assert finding.evidence == (condition.id,)
    assert result.decision is Decision.HOLD


def test_a_condition_that_is_not_an_infection_does_not_hold() -> None:
    multiple_sclerosis = a_condition("24700007", at=on(date(2015, 3, 1)))

    assert_not_fired(assessed_with(conditions=[multiple_sclerosis]), ACTIVE)


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_mistaken_infection_does_not_hold(verification: str) -> None:
    condition = a_condition(PNEUMONIA, at=day(3), verification=verification)

    assert_not_fired(assessed_with(conditions=[condition]), ACTIVE)


def test_an_infection_recorded_after_the_assessed_moment_does_not_hold() -> None:
    condition = a_condition(PNEUMONIA, at=AT + timedelta(hours=1))

    assert_not_fired(assessed_with(conditions=[condition]), ACTIVE)


def test_holds_when_todays_screening_answer_is_active_infection() -> None:
    answer = infection_answer("true", EARLY_TODAY)
    result = assessed_with(statuses=[answer])

    finding = the_finding(result, ACTIVE)
    assert result.decision is Decision.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "screening" in finding.summary
    assert "2026-11-24" in finding.summary
    assert finding.evidence == (answer.id,)


def test_yesterdays_screening_answer_active_infection_does_not_hold_today() -> None:
    result = assessed_with(statuses=[infection_answer("true", day(1))])

    assert_not_fired(result, ACTIVE)
    assert result.decision is Decision.PROCEED


def test_a_screening_answer_just_before_midnight_belongs_to_yesterday() -> None:
    result = assessed_with(
        statuses=[infection_answer("true", datetime(2026, 11, 23, 23, 59, tzinfo=UTC))]
    )

    assert_not_fired(result, ACTIVE)


def test_a_screening_answer_no_infection_today_does_not_hold() -> None:
    assert_not_fired(assessed_with(statuses=[infection_answer("false", EARLY_TODAY)]), ACTIVE)


def test_a_later_answer_no_today_replaces_an_earlier_yes_today() -> None:
    answers = [
        infection_answer("true", AT - timedelta(hours=3)),
        infection_answer("false", EARLY_TODAY),
    ]

    assert_not_fired(assessed_with(statuses=answers), ACTIVE)


def test_a_screening_answer_entered_in_error_does_not_hold() -> None:
    answer = infection_answer("true", EARLY_TODAY, status="entered-in-error")

    assert_not_fired(assessed_with(statuses=[answer]), ACTIVE)


def test_a_screening_answer_given_after_the_assessed_moment_is_ignored() -> None:
    answer = infection_answer("true", AT + timedelta(minutes=30))

    assert_not_fired(assessed_with(statuses=[answer]), ACTIVE)


def test_an_active_infection_and_a_yes_answer_make_one_finding_citing_both() -> None:
    condition = a_condition("6142004", at=day(2))
    answer = infection_answer("true", EARLY_TODAY)
    result = assessed_with(conditions=[condition], statuses=[answer])

    finding = the_finding(result, ACTIVE)
    assert finding.evidence == (condition.id, answer.id)
    assert "Influenza" in finding.summary
    assert "screening" in finding.summary
    assert [f.rule for f in result.findings].count(ACTIVE) == 1


# --- infection.opportunistic --------------------------------------------------------------


def test_discontinues_after_pml_and_names_it_and_its_date() -> None:
    pml = a_condition(PML_CODE, at=on(date(2025, 2, 3)))
    result = assessed_with(conditions=[pml])

    finding = the_finding(result, OPPORTUNISTIC)
    assert result.decision is Decision.DISCONTINUE
    assert finding.effect is Effect.DISCONTINUE
    assert finding.severity is Severity.CRITICAL
    assert "Progressive multifocal leukoencephalopathy" in finding.summary
    assert "2025-02-03" in finding.summary
    assert finding.evidence == (pml.id,)


@pytest.mark.parametrize(
    "clinical", ["active", "recurrence", "resolved", "inactive", "remission", None]
)
def test_pml_discontinues_whatever_its_clinical_status(clinical: str | None) -> None:
    pml = a_condition(PML_CODE, at=on(date(2019, 7, 1)), clinical=clinical)
    result = assessed_with(conditions=[pml])

    assert the_finding(result, OPPORTUNISTIC).effect is Effect.DISCONTINUE
    assert result.decision is Decision.DISCONTINUE


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("herpes-encephalitis", "Herpes encephalitis"),
        ("herpes-meningitis", "Herpes meningitis"),
        ("acute-retinal-necrosis", "Acute retinal necrosis"),
    ],
)
def test_discontinues_after_each_listed_opportunistic_infection(code: str, name: str) -> None:
    result = assessed_with(conditions=[a_condition(code, LOCAL, at=day(400), clinical="resolved")])

    finding = the_finding(result, OPPORTUNISTIC)
    assert finding.effect is Effect.DISCONTINUE
    assert name in finding.summary


@pytest.mark.parametrize("verification", ["unconfirmed", "provisional", "confirmed", None])
def test_an_opportunistic_infection_not_refuted_counts(verification: str | None) -> None:
    pml = a_condition(PML_CODE, at=day(10), verification=verification)

    assert the_finding(assessed_with(conditions=[pml]), OPPORTUNISTIC).effect is Effect.DISCONTINUE


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_mistaken_opportunistic_infection_does_not_count(verification: str) -> None:
    pml = a_condition(PML_CODE, at=day(10), verification=verification)
    result = assessed_with(conditions=[pml])

    assert_not_fired(result, OPPORTUNISTIC)
    assert result.decision is Decision.PROCEED


def test_an_opportunistic_infection_recorded_after_the_assessed_moment_does_not_count() -> None:
    pml = a_condition(PML_CODE, at=AT + timedelta(days=1))

    assert_not_fired(assessed_with(conditions=[pml]), OPPORTUNISTIC)


def test_an_undated_opportunistic_infection_counts() -> None:
    pml = a_condition(PML_CODE, at=None, clinical="resolved")

    assert the_finding(assessed_with(conditions=[pml]), OPPORTUNISTIC).evidence == (pml.id,)


def test_an_ordinary_resolved_infection_is_not_opportunistic() -> None:
    pneumonia = a_condition(PNEUMONIA, at=day(300), clinical="resolved")

    assert_not_fired(assessed_with(conditions=[pneumonia]), OPPORTUNISTIC)


def test_no_condition_recorded_fires_no_infection_rule() -> None:
    result = assessed_with()

    assert_not_fired(result, OPPORTUNISTIC)
    assert_not_fired(result, ACTIVE)
    assert_not_fired(result, PML)


# --- pml.suspected ------------------------------------------------------------------------


def test_holds_when_todays_screening_reports_new_neurological_symptoms() -> None:
    answer = neuro_answer("true", EARLY_TODAY)
    result = assessed_with(statuses=[answer])

    finding = the_finding(result, PML)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "2026-11-24" in finding.summary
    assert "PML" in finding.summary
    assert finding.evidence == (answer.id,)


def test_yesterdays_neurological_symptoms_answer_does_not_hold_today() -> None:
    result = assessed_with(statuses=[neuro_answer("true", day(1))])

    assert_not_fired(result, PML)
    assert result.decision is Decision.PROCEED


def test_a_screening_answer_of_no_new_symptoms_does_not_hold() -> None:
    assert_not_fired(assessed_with(statuses=[neuro_answer("false", EARLY_TODAY)]), PML)


def test_a_later_no_today_replaces_an_earlier_yes_for_neurological_symptoms() -> None:
    answers = [neuro_answer("true", AT - timedelta(hours=4)), neuro_answer("false", EARLY_TODAY)]

    assert_not_fired(assessed_with(statuses=answers), PML)


def test_a_neurological_symptoms_answer_entered_in_error_does_not_hold() -> None:
    answer = neuro_answer("true", EARLY_TODAY, status="entered-in-error")

    assert_not_fired(assessed_with(statuses=[answer]), PML)


def test_a_neurological_symptoms_answer_after_the_assessed_moment_is_ignored() -> None:
    assert_not_fired(assessed_with(statuses=[neuro_answer("true", AT + timedelta(hours=1))]), PML)


def test_todays_answer_follows_the_clinic_calendar_day_when_a_time_zone_is_configured() -> None:
    # 23:30 UTC on 23 November is 00:30 on 24 November in Berlin: the visit day.
    answer = neuro_answer("true", datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    timeline = a_timeline(None, **with_facts(a_well_monitored_record(), statuses=[answer]))

    in_utc = assess(timeline, protocol(), AT)
    in_berlin = assess(timeline, protocol(), AT, tz=ZoneInfo("Europe/Berlin"))

    assert_not_fired(in_utc, PML)
    assert the_finding(in_berlin, PML).evidence == (answer.id,)
