"""Disease activity: MRI, confirmed EDSS worsening, recent relapses and NEDA-3.

Synthetic records only. In the reference record the first infusion was on
2024-11-26 (``day(728)``), the baseline EDSS 2.0 on 2024-10-25, the only MRI
(quiet) on 2026-05-08 and the last antibody test on 2026-10-15. Assessed at
2026-11-24, so the 12-month window starts on 2025-11-24.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.timeline import Analyte
from tests.domain.builders import (
    a_relapse,
    a_timeline,
    a_well_monitored_record,
    an_antibody,
    an_edss,
    an_mri,
    assess_at,
    day,
    on,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

MRI = "mri.activity"
EDSS = "edss.worsening"
RELAPSE = "relapse.recent"
NEDA3 = "activity.neda3"
ANTIBODY_SUGGESTION = "Test for anti-natalizumab antibodies (none in the last 12 weeks)"
WINDOW_START = date(2025, 11, 24)


def _d(moment: datetime) -> str:
    return moment.date().isoformat()


def assessed_with_record(**replaced: list[Any]) -> Assessment:
    """The reference record with whole kinds of facts replaced (e.g. ``mris=[...]``)."""
    return assess_at(a_timeline(**{**a_well_monitored_record(), **replaced}))


def assessed_with_edss(*scores: Any) -> Assessment:
    """The reference record with exactly these EDSS scores (its own two removed)."""
    record = a_well_monitored_record()
    kept = [r for r in record["results"] if r.analyte is not Analyte.EDSS]
    return assess_at(a_timeline(**{**record, "results": [*kept, *scores]}))


# -- mri.activity -----------------------------------------------------------------------


def test_an_mri_with_a_gadolinium_enhancing_lesion_is_a_warning_that_does_not_hold() -> None:
    mri = an_mri(day(60), gd=1)
    result = assessed_with(mris=[mri])
    finding = the_finding(result, MRI)
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.WARNING
    assert finding.summary == (
        "MRI on 2026-09-25: 1 gadolinium-enhancing and 0 new or enlarging T2 lesion(s)"
    )
    assert finding.evidence == (mri.id,)
    assert finding.data_at == mri.at
    assert finding.suggestions == ()  # antibodies were tested on 2026-10-15
    assert_not_fired(result, NEDA3)


def test_an_mri_with_a_new_t2_lesion_is_activity() -> None:
    mri = an_mri(day(60), t2=2)
    finding = the_finding(assessed_with(mris=[mri]), MRI)
    assert "0 gadolinium-enhancing and 2 new or enlarging T2 lesion(s)" in finding.summary


def test_an_mri_without_enhancing_or_new_lesions_is_not_activity() -> None:
    result = assessed_with(mris=[an_mri(day(60))])
    assert_not_fired(result, MRI)
    assert the_finding(result, NEDA3).effect is Effect.NONE


def test_only_the_latest_mri_in_the_window_decides_mri_activity() -> None:
    result = assessed_with_record(mris=[an_mri(day(300), gd=3), an_mri(day(60))])
    assert_not_fired(result, MRI)
    assert_not_fired(result, NEDA3)  # the earlier active MRI is still activity in the year


def test_an_active_mri_older_than_12_months_does_not_count_and_the_mri_is_overdue() -> None:
    result = assessed_with_record(mris=[an_mri(on(date(2025, 11, 23)), gd=4)])
    assert_not_fired(result, MRI)
    assert_not_fired(result, NEDA3)
    assert the_finding(result, "monitoring.mri-overdue").effect is Effect.NONE


def test_an_active_mri_exactly_12_months_ago_still_counts() -> None:
    mri = an_mri(on(WINDOW_START), gd=1)
    finding = the_finding(assessed_with_record(mris=[mri]), MRI)
    assert finding.summary.startswith("MRI on 2025-11-24:")


def test_suggests_antibody_testing_when_none_in_the_last_12_weeks() -> None:
    result = assessed_with_record(
        mris=[an_mri(day(60), gd=1)], statuses=[an_antibody("negative", day(85))]
    )
    assert the_finding(result, MRI).suggestions == (ANTIBODY_SUGGESTION,)


def test_an_antibody_test_exactly_12_weeks_ago_means_no_antibody_suggestion() -> None:
    result = assessed_with_record(
        mris=[an_mri(day(60), gd=1)], statuses=[an_antibody("negative", day(84))]
    )
    assert the_finding(result, MRI).suggestions == ()


def test_an_entered_in_error_antibody_test_does_not_stop_the_antibody_suggestion() -> None:
    result = assessed_with_record(
        mris=[an_mri(day(60), gd=1)],
        statuses=[an_antibody("negative", day(10), status="entered-in-error")],
    )
    assert the_finding(result, MRI).suggestions == (ANTIBODY_SUGGESTION,)


def test_an_entered_in_error_active_mri_is_ignored() -> None:
    result = assessed_with(mris=[an_mri(day(20), gd=5, status="entered-in-error")])
    assert_not_fired(result, MRI)
    assert NEDA3 in result.rules_fired


def test_an_active_mri_dated_after_the_assessment_is_ignored() -> None:
    assert_not_fired(assessed_with(mris=[an_mri(day(-1), gd=5)]), MRI)


def test_no_mri_at_all_raises_no_activity_and_no_neda3_but_an_overdue_mri() -> None:
    result = assessed_with_record(mris=[])
    assert_not_fired(result, MRI)
    assert_not_fired(result, NEDA3)
    assert "never done" in the_finding(result, "monitoring.mri-overdue").summary


# -- edss.worsening -----------------------------------------------------------------------


def test_a_one_point_rise_from_a_low_baseline_confirmed_12_weeks_later_is_worsening() -> None:
    baseline = an_edss(2.0, day(760))
    first = an_edss(3.0, day(300))
    confirmed = an_edss(3.0, day(216))  # exactly 84 days = 12 weeks later
    result = assessed_with_edss(baseline, first, confirmed)
    finding = the_finding(result, EDSS)
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.WARNING
    assert finding.summary == (
        f"EDSS 3 on {_d(first.at)} confirmed by 3 on {_d(confirmed.at)} "
        f"(baseline 2 on {_d(baseline.at)}; worsening at ≥ 3)"
    )
    assert finding.evidence == (baseline.id, first.id, confirmed.id)
    assert finding.data_at == confirmed.at


def test_a_confirmation_one_day_short_of_12_weeks_is_not_worsening() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)), an_edss(3.0, day(300)), an_edss(3.0, day(217))
    )
    assert_not_fired(result, EDSS)


def test_a_rise_smaller_than_one_point_from_a_low_baseline_is_not_worsening() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)), an_edss(2.5, day(300)), an_edss(2.5, day(100))
    )
    assert_not_fired(result, EDSS)


def test_a_baseline_of_exactly_5_5_still_needs_a_full_point() -> None:
    half = assessed_with_edss(
        an_edss(5.5, day(760)), an_edss(6.0, day(300)), an_edss(6.0, day(100))
    )
    assert_not_fired(half, EDSS)
    full = assessed_with_edss(
        an_edss(5.5, day(760)), an_edss(6.5, day(300)), an_edss(6.5, day(100))
    )
    assert "worsening at ≥ 6.5" in the_finding(full, EDSS).summary


def test_a_baseline_above_5_5_needs_only_half_a_point() -> None:
    result = assessed_with_edss(
        an_edss(6.0, day(760)), an_edss(6.5, day(300)), an_edss(6.5, day(100))
    )
    finding = the_finding(result, EDSS)
    assert "(baseline 6 on 2024-10-25; worsening at ≥ 6.5)" in finding.summary


def test_a_lower_score_between_two_raised_scores_breaks_the_confirmation() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)),
        an_edss(3.0, day(300)),
        an_edss(2.5, day(250)),
        an_edss(3.0, day(200)),
    )
    assert_not_fired(result, EDSS)


def test_after_a_broken_run_a_new_run_of_12_weeks_confirms_worsening() -> None:
    baseline = an_edss(2.0, day(760))
    restart = an_edss(3.5, day(200))
    confirmed = an_edss(3.0, day(116))
    result = assessed_with_edss(
        baseline, an_edss(3.0, day(300)), an_edss(2.5, day(250)), restart, confirmed
    )
    assert the_finding(result, EDSS).evidence == (baseline.id, restart.id, confirmed.id)


def test_the_baseline_is_the_last_edss_on_or_before_the_first_infusion() -> None:
    # 1.0 long before, then 3.0 just before the first infusion on 2024-11-26: baseline 3.0.
    result = assessed_with_edss(
        an_edss(1.0, day(900)),
        an_edss(3.0, day(740)),
        an_edss(3.5, day(300)),
        an_edss(3.5, day(100)),
    )
    assert_not_fired(result, EDSS)


def test_without_an_edss_before_treatment_the_baseline_is_the_first_one_after_it() -> None:
    baseline = an_edss(2.0, day(700))
    result = assessed_with_edss(baseline, an_edss(3.0, day(300)), an_edss(3.0, day(200)))
    finding = the_finding(result, EDSS)
    assert finding.evidence[0] == baseline.id
    assert f"baseline 2 on {_d(baseline.at)}" in finding.summary


def test_an_edss_on_the_first_infusion_day_before_it_started_is_the_baseline() -> None:
    # First infusion 2024-11-26 09:00; an EDSS at 08:00 that day is on or before it.
    baseline = an_edss(4.0, on(date(2024, 11, 26)))
    result = assessed_with_edss(
        an_edss(1.0, day(800)), baseline, an_edss(4.5, day(300)), an_edss(4.5, day(100))
    )
    assert_not_fired(result, EDSS)


def test_an_entered_in_error_confirming_score_does_not_confirm_worsening() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)),
        an_edss(3.0, day(300)),
        an_edss(3.0, day(100), status="entered-in-error"),
    )
    assert_not_fired(result, EDSS)


def test_an_entered_in_error_lower_score_does_not_break_the_confirmation() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)),
        an_edss(3.0, day(300)),
        an_edss(1.0, day(250), status="entered-in-error"),
        an_edss(3.0, day(200)),
    )
    assert EDSS in result.rules_fired


def test_a_confirming_score_dated_after_the_assessment_is_ignored() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)), an_edss(3.0, day(50)), an_edss(3.0, day(-40))
    )
    assert_not_fired(result, EDSS)


def test_a_single_raised_score_is_not_confirmed_worsening() -> None:
    assert_not_fired(assessed_with_edss(an_edss(2.0, day(760)), an_edss(4.0, day(30))), EDSS)


def test_no_edss_at_all_is_not_worsening_but_an_overdue_edss() -> None:
    result = assessed_with_edss()
    assert_not_fired(result, EDSS)
    assert "never done" in the_finding(result, "monitoring.edss-overdue").summary


# -- relapse.recent -----------------------------------------------------------------------


def test_a_relapse_in_the_last_12_months_is_a_warning_with_the_annualized_rate() -> None:
    relapse = a_relapse(day(100))
    result = assessed_with(relapses=[relapse])
    finding = the_finding(result, RELAPSE)
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.WARNING
    # 1 relapse in 728 days (2.0 years) since the first infusion on 2024-11-26.
    assert finding.summary == (
        "1 relapse(s) since 2025-11-24, the last on 2026-08-16; "
        "annualized relapse rate on treatment 0.50 (1 in 2.0 years)"
    )
    assert finding.evidence == (relapse.id,)
    assert_not_fired(result, NEDA3)


def test_a_relapse_exactly_12_months_ago_is_recent() -> None:
    relapse = a_relapse(on(WINDOW_START))
    assert the_finding(assessed_with(relapses=[relapse]), RELAPSE).evidence == (relapse.id,)


def test_a_relapse_12_months_and_a_day_ago_is_not_recent() -> None:
    result = assessed_with(relapses=[a_relapse(on(date(2025, 11, 23)))])
    assert_not_fired(result, RELAPSE)
    assert NEDA3 in result.rules_fired


def test_the_annualized_rate_counts_only_relapses_since_the_first_infusion() -> None:
    before_treatment = a_relapse(day(800))
    on_treatment_old = a_relapse(day(500))
    recent = a_relapse(day(100))
    finding = the_finding(
        assessed_with(relapses=[before_treatment, on_treatment_old, recent]), RELAPSE
    )
    assert finding.summary.startswith("1 relapse(s) since 2025-11-24")
    assert finding.summary.endswith("annualized relapse rate on treatment 1.00 (2 in 2.0 years)")
    assert finding.evidence == (recent.id,)


def test_a_patient_not_yet_on_treatment_gets_no_annualized_rate() -> None:
    result = assessed_with_record(infusions=[], relapses=[a_relapse(day(100))])
    finding = the_finding(result, RELAPSE)
    assert finding.summary.endswith("not on treatment: no annualized rate on treatment")


def test_an_entered_in_error_relapse_is_ignored() -> None:
    result = assessed_with(relapses=[a_relapse(day(30), status="entered-in-error")])
    assert_not_fired(result, RELAPSE)
    assert NEDA3 in result.rules_fired


def test_a_relapse_dated_after_the_assessment_is_ignored() -> None:
    assert_not_fired(assessed_with(relapses=[a_relapse(day(-2))]), RELAPSE)


# -- activity.neda3 -------------------------------------------------------------------------


def test_no_relapse_quiet_mri_and_no_worsening_in_12_months_is_neda3() -> None:
    record = a_well_monitored_record()
    result = assess_at(a_timeline(**record))
    finding = the_finding(result, NEDA3)
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.INFO
    assert finding.summary == (
        "No evidence of disease activity since 2025-11-24: no relapse, "
        "1 MRI without activity, no confirmed EDSS worsening"
    )
    assert finding.evidence == (record["mris"][0].id,)


def test_neda3_needs_at_least_one_mri_in_the_window() -> None:
    result = assessed_with_record(mris=[an_mri(day(400))])
    assert_not_fired(result, NEDA3)


def test_an_mri_on_the_first_day_of_the_window_is_enough_for_neda3() -> None:
    mri = an_mri(on(WINDOW_START))
    assert the_finding(assessed_with_record(mris=[mri]), NEDA3).evidence == (mri.id,)


def test_a_relapse_in_the_window_is_not_neda3() -> None:
    assert_not_fired(assessed_with(relapses=[a_relapse(day(200))]), NEDA3)


def test_any_active_mri_in_the_window_is_not_neda3() -> None:
    assert_not_fired(assessed_with(mris=[an_mri(day(300), t2=1)]), NEDA3)


def test_confirmed_worsening_in_the_window_is_not_neda3() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)), an_edss(3.0, day(300)), an_edss(3.0, day(200))
    )
    assert EDSS in result.rules_fired
    assert_not_fired(result, NEDA3)


def test_worsening_confirmed_before_the_window_does_not_prevent_neda3() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)),
        an_edss(3.0, day(700)),
        an_edss(3.0, day(600)),
        an_edss(2.0, day(300)),
    )
    assert EDSS in result.rules_fired
    assert NEDA3 in result.rules_fired


def test_a_new_confirmed_worsening_in_the_window_after_an_old_one_is_not_neda3() -> None:
    result = assessed_with_edss(
        an_edss(2.0, day(760)),
        an_edss(3.0, day(700)),
        an_edss(3.0, day(600)),  # confirmed before the window
        an_edss(2.0, day(500)),  # improved: the run is broken
        an_edss(3.5, day(250)),
        an_edss(3.5, day(100)),  # confirmed again, inside the window
    )
    assert_not_fired(result, NEDA3)


def test_an_entered_in_error_relapse_does_not_prevent_neda3() -> None:
    result = assessed_with(relapses=[a_relapse(day(50), status="cancelled")])
    assert NEDA3 in result.rules_fired


def test_an_old_relapse_before_the_window_does_not_prevent_neda3() -> None:
    assert NEDA3 in assessed_with(relapses=[a_relapse(day(400))]).rules_fired


def test_a_confirmation_12_calendar_weeks_later_counts_whatever_the_time_of_day() -> None:
    first = an_edss(3.0, on(date(2026, 6, 1), hour=15))
    confirmed = an_edss(3.0, on(date(2026, 8, 24), hour=8))  # 84 days later on the calendar
    result = assessed_with_edss(an_edss(2.0, day(760)), first, confirmed)
    assert the_finding(result, EDSS).evidence[1:] == (first.id, confirmed.id)
