"""The assessment: every rule and the schedule into one decision, with overrides.

Synthetic records only, assessed at 2026-11-24 09:00 UTC (``AT``).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.timeline import Analyte, StatusKind
from tests.domain.builders import (
    AT,
    a_patient,
    a_ranged,
    a_status,
    a_timeline,
    a_well_monitored_record,
    an_alt,
    an_antibody,
    an_mri,
    an_override,
    assess_at,
    day,
    protocol,
    with_facts,
)
from tests.domain.rules.expectations import the_finding

PEDIATRIC = "population.pediatric"
PREGNANCY = "population.pregnancy"
A_SIXTEEN_YEAR_OLD = a_patient(born=date(2010, 6, 1))


def test_the_assessment_names_the_patient_the_moment_and_the_protocol() -> None:
    result = assess_at(a_timeline(**a_well_monitored_record()))
    assert result.patient == "Patient/p1"
    assert result.at == AT
    assert result.protocol_name == protocol().name
    assert result.protocol_version == protocol().version


def test_an_assessment_moment_without_a_time_zone_is_refused() -> None:
    naive = datetime(2026, 11, 24, 9, 0)
    with pytest.raises(InvalidInput, match="no time zone"):
        assess_at(a_timeline(**a_well_monitored_record()), naive)


def test_findings_are_listed_worst_effect_first() -> None:
    record = with_facts(
        a_well_monitored_record(),
        statuses=[an_antibody("positive", day(150)), an_antibody("positive", day(60))],
        results=[an_alt(150, day(2)), a_ranged(Analyte.NEUTROPHILS, 0.9, day(2))],
        mris=[an_mri(day(20), gd=2)],
    )
    result = assess_at(a_timeline(**record))
    assert [(f.rule, f.effect) for f in result.findings] == [
        ("antibody.persistent", Effect.DISCONTINUE),
        ("liver.elevated", Effect.HOLD),
        ("blood.neutrophils-abnormal", Effect.CAUTION),
        ("mri.activity", Effect.NONE),
    ]


def test_among_effect_none_findings_warnings_come_before_info() -> None:
    record = {**a_well_monitored_record(), "statuses": []}  # antibody overdue: a warning
    result = assess_at(
        a_timeline(**with_facts(record, results=[a_ranged(Analyte.MONOCYTES, 2.0, day(1))]))
    )
    assert [(f.rule, f.severity) for f in result.findings] == [
        ("monitoring.antibody-overdue", Severity.WARNING),
        ("activity.neda3", Severity.INFO),
        ("blood.lymphocytes-monocytes-raised", Severity.INFO),
    ]
    assert result.decision is Decision.PROCEED


@pytest.mark.parametrize(
    ("facts", "decision"),
    [
        ({}, Decision.PROCEED),
        ({"results": [a_ranged(Analyte.PLATELETS, 90, day(1))]}, Decision.CAUTION),
        ({"results": [an_alt(200, day(1))]}, Decision.HOLD),
        (
            {"statuses": [an_antibody("positive", day(150)), an_antibody("positive", day(60))]},
            Decision.DISCONTINUE,
        ),
    ],
    ids=["proceed", "caution", "hold", "discontinue"],
)
def test_the_decision_is_the_worst_effect_among_the_findings(
    facts: dict[str, list[object]], decision: Decision
) -> None:
    result = assess_at(a_timeline(**with_facts(a_well_monitored_record(), **facts)))
    assert result.decision is decision
    assert Decision.from_effect(result.findings[0].effect) is decision


def test_effect_none_findings_alone_proceed() -> None:
    record = with_facts(a_well_monitored_record(), mris=[an_mri(day(3), gd=1)])
    result = assess_at(a_timeline(**record))
    assert result.findings
    assert all(f.effect is Effect.NONE for f in result.findings)
    assert result.decision is Decision.PROCEED


# -- overrides ------------------------------------------------------------------------------


def test_an_override_lowers_an_overridable_hold_to_caution_and_stays_visible() -> None:
    override = an_override(PEDIATRIC, day(1))
    timeline = a_timeline(A_SIXTEEN_YEAR_OLD, **a_well_monitored_record(), overrides=[override])
    result = assess_at(timeline)
    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.overridden is True
    assert finding.override == override
    assert finding.original_effect is Effect.HOLD
    assert result.findings[0] is finding


def test_without_an_override_the_same_patient_is_held() -> None:
    result = assess_at(a_timeline(A_SIXTEEN_YEAR_OLD, **a_well_monitored_record()))
    finding = the_finding(result, PEDIATRIC)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert finding.overridden is False
    assert finding.override is None
    assert finding.original_effect is None


def test_an_override_of_a_rule_that_is_not_overridable_is_ignored() -> None:
    record = with_facts(
        a_well_monitored_record(),
        results=[an_alt(150, day(3))],
        overrides=[an_override("liver.elevated", day(1))],
    )
    result = assess_at(a_timeline(**record))
    finding = the_finding(result, "liver.elevated")
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.overridden is False
    assert finding.override is None


def test_an_override_covers_only_the_rule_it_names() -> None:
    record = with_facts(
        a_well_monitored_record(),
        statuses=[a_status(StatusKind.PREGNANCY, "pregnant", day(10))],
        overrides=[an_override(PEDIATRIC, day(1))],
    )
    result = assess_at(a_timeline(A_SIXTEEN_YEAR_OLD, **record))
    assert the_finding(result, PEDIATRIC).overridden is True
    assert the_finding(result, PREGNANCY).effect is Effect.HOLD
    assert result.decision is Decision.HOLD


def test_an_override_recorded_after_the_assessment_moment_does_not_apply_yet() -> None:
    timeline = a_timeline(
        A_SIXTEEN_YEAR_OLD, **a_well_monitored_record(), overrides=[an_override(PEDIATRIC, day(-1))]
    )
    assert assess_at(timeline).decision is Decision.HOLD
    assert assess_at(timeline, day(-2)).decision is Decision.CAUTION


def test_an_override_applies_at_the_moment_it_is_recorded() -> None:
    timeline = a_timeline(
        A_SIXTEEN_YEAR_OLD, **a_well_monitored_record(), overrides=[an_override(PEDIATRIC, AT)]
    )
    assert assess_at(timeline).decision is Decision.CAUTION


def test_an_override_older_than_the_data_that_fires_the_rule_does_not_silence_it() -> None:
    record = with_facts(
        a_well_monitored_record(),
        statuses=[a_status(StatusKind.PREGNANCY, "pregnant", day(5))],
        overrides=[an_override(PREGNANCY, day(20))],
    )
    result = assess_at(a_timeline(**record))
    assert the_finding(result, PREGNANCY).overridden is False
    assert result.decision is Decision.HOLD


def test_a_newer_pregnancy_status_fires_the_rule_again_after_an_override() -> None:
    pregnant = a_status(StatusKind.PREGNANCY, "pregnant", day(30))
    override = an_override(PREGNANCY, day(20))
    overridden = a_timeline(
        **with_facts(a_well_monitored_record(), statuses=[pregnant], overrides=[override])
    )
    assert assess_at(overridden).decision is Decision.CAUTION
    again = a_status(StatusKind.PREGNANCY, "pregnant", day(2))
    renewed = a_timeline(
        **with_facts(a_well_monitored_record(), statuses=[pregnant, again], overrides=[override])
    )
    finding = the_finding(assess_at(renewed), PREGNANCY)
    assert finding.effect is Effect.HOLD
    assert finding.overridden is False
    assert finding.summary.endswith(
        f". The override by {override.author} on {override.at.date().isoformat()} "
        "no longer applies: the data above is newer"
    )


def test_an_applied_override_is_not_called_lapsed() -> None:
    pregnant = a_status(StatusKind.PREGNANCY, "pregnant", day(30))
    record = with_facts(
        a_well_monitored_record(), statuses=[pregnant], overrides=[an_override(PREGNANCY, day(20))]
    )
    assert (
        "no longer applies" not in the_finding(assess_at(a_timeline(**record)), PREGNANCY).summary
    )


def test_the_newest_of_several_overrides_is_the_one_shown() -> None:
    older = an_override(PEDIATRIC, day(30), reason="first review")
    newer = an_override(PEDIATRIC, day(2), reason="re-reviewed")
    timeline = a_timeline(A_SIXTEEN_YEAR_OLD, **a_well_monitored_record(), overrides=[newer, older])
    assert the_finding(assess_at(timeline), PEDIATRIC).override == newer


def test_the_order_facts_arrive_in_does_not_change_the_assessment() -> None:
    positive = an_antibody("positive", day(5))
    negative = an_antibody("negative", day(5))
    record = a_well_monitored_record()
    one_way = assess_at(a_timeline(**{**record, "statuses": [positive, negative]}))
    other_way = assess_at(a_timeline(**{**record, "statuses": [negative, positive]}))
    assert (one_way.decision, one_way.findings, one_way.monitoring) == (
        other_way.decision,
        other_way.findings,
        other_way.monitoring,
    )
