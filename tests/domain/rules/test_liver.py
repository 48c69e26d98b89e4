"""liver.baseline-missing and liver.elevated (synthetic records)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.schedule import DueStatus, Item
from tests.domain.builders import (
    AT,
    a_cbc,
    a_timeline,
    a_well_monitored_record,
    an_alt,
    an_ast,
    an_infusion,
    an_override,
    assess_at,
    day,
    on,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

BASELINE = "liver.baseline-missing"
ELEVATED = "liver.elevated"


def before_first_infusion(**facts: Any) -> Assessment:
    """A new patient (no infusion yet) with a recent CBC and the given facts."""
    facts.setdefault("results", [])
    facts["results"] = [*a_cbc(day(10)), *facts["results"]]
    return assess_at(a_timeline(None, **facts))


def without_liver_tests(**extra: Any) -> dict[str, list[Any]]:
    record = a_well_monitored_record()
    record["results"] = [r for r in record["results"] if r.analyte.value not in ("alt", "ast")]
    for key, values in extra.items():
        record.setdefault(key, []).extend(values)
    return record


# --- liver.baseline-missing ---------------------------------------------------------------


def test_a_first_infusion_with_alt_and_ast_in_the_last_90_days_proceeds() -> None:
    result = before_first_infusion(results=[an_alt(22, day(10)), an_ast(25, day(10))])

    assert_not_fired(result, BASELINE)
    assert result.decision is Decision.PROCEED


def test_holds_a_first_infusion_without_any_alt_or_ast() -> None:
    result = before_first_infusion()

    finding = the_finding(result, BASELINE)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "no ALT or AST" in finding.summary
    assert "2026-08-26" in finding.summary  # first day of the 90-day window
    assert "2026-11-24" in finding.summary
    assert finding.evidence == ("Patient/p1",)
    assert any("ALT and AST" in s for s in finding.suggestions)


def test_alt_and_ast_exactly_90_days_before_count_as_baseline() -> None:
    result = before_first_infusion(results=[an_alt(22, day(90)), an_ast(25, day(90))])

    assert_not_fired(result, BASELINE)


def test_alt_and_ast_early_on_the_90th_day_before_still_count() -> None:
    first_day = on(date(2026, 8, 26), hour=0)
    result = before_first_infusion(results=[an_alt(22, first_day), an_ast(25, first_day)])

    assert_not_fired(result, BASELINE)


def test_alt_and_ast_91_days_before_are_too_old_for_a_baseline() -> None:
    result = before_first_infusion(results=[an_alt(22, day(91)), an_ast(25, day(91))])

    finding = the_finding(result, BASELINE)
    assert "no ALT or AST" in finding.summary
    assert result.decision is Decision.HOLD


def test_holds_a_first_infusion_with_alt_but_no_ast() -> None:
    result = before_first_infusion(results=[an_alt(22, day(10))])

    finding = the_finding(result, BASELINE)
    assert "no AST result" in finding.summary
    assert "ALT" not in finding.summary.replace("no AST", "")
    assert any("AST" in s for s in finding.suggestions)


def test_holds_a_first_infusion_with_ast_but_no_alt() -> None:
    result = before_first_infusion(results=[an_ast(25, day(10))])

    finding = the_finding(result, BASELINE)
    assert "no ALT result" in finding.summary
    assert result.decision is Decision.HOLD


def test_holds_when_only_the_ast_is_older_than_the_window() -> None:
    result = before_first_infusion(results=[an_alt(22, day(5)), an_ast(25, day(91))])

    assert "no AST result" in the_finding(result, BASELINE).summary


def test_alt_and_ast_on_different_days_inside_the_window_are_a_baseline() -> None:
    result = before_first_infusion(results=[an_alt(22, day(80)), an_ast(25, day(3))])

    assert_not_fired(result, BASELINE)


def test_an_ast_entered_in_error_is_not_a_baseline() -> None:
    result = before_first_infusion(
        results=[an_alt(22, day(10)), an_ast(25, day(10), status="entered-in-error")]
    )

    assert "no AST result" in the_finding(result, BASELINE).summary


def test_alt_and_ast_resulted_after_the_assessed_moment_are_not_a_baseline() -> None:
    later = AT + timedelta(hours=1)
    result = before_first_infusion(results=[an_alt(22, later), an_ast(25, later)])

    assert the_finding(result, BASELINE).effect is Effect.HOLD


def test_any_completed_prior_infusion_means_it_is_not_a_first_infusion() -> None:
    result = before_first_infusion(infusions=[an_infusion(day(400))])

    assert_not_fired(result, BASELINE)


@pytest.mark.parametrize(
    "status", ["in-progress", "stopped", "not-done", "on-hold", "entered-in-error", "unknown"]
)
def test_an_infusion_that_was_not_completed_does_not_count_as_prior(status: str) -> None:
    result = before_first_infusion(infusions=[an_infusion(day(30), status=status)])

    assert the_finding(result, BASELINE).effect is Effect.HOLD


def test_an_infusion_recorded_after_the_assessed_moment_does_not_count_as_prior() -> None:
    result = before_first_infusion(infusions=[an_infusion(AT + timedelta(hours=2))])

    assert the_finding(result, BASELINE).effect is Effect.HOLD


def test_a_patient_on_treatment_without_recent_liver_tests_is_overdue_not_on_hold() -> None:
    result = assess_at(a_timeline(None, **without_liver_tests()))

    assert_not_fired(result, BASELINE)
    assert_not_fired(result, ELEVATED)
    liver = next(e for e in result.monitoring if e.item is Item.LIVER)
    assert liver.status is DueStatus.OVERDUE
    assert liver.last is None
    assert "monitoring.liver-overdue" in result.rules_fired


# --- liver.elevated -----------------------------------------------------------------------


def test_holds_when_latest_alt_is_three_times_uln() -> None:
    alt = an_alt(120, on(date(2026, 11, 1)), high=40)
    result = assessed_with(results=[alt])

    finding = the_finding(result, ELEVATED)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert finding.summary == "ALT 120 U/L on 2026-11-01 is 3 × ULN (40 U/L)"
    assert finding.evidence == (alt.id,)
    assert finding.suggestions


def test_does_not_hold_when_latest_alt_is_just_below_three_times_uln() -> None:
    result = assessed_with(results=[an_alt(119.9, day(5), high=40)])

    assert_not_fired(result, ELEVATED)
    assert result.decision is Decision.PROCEED


def test_exactly_three_times_a_decimal_uln_still_holds() -> None:
    # 3 x 30.1 is 90.30000000000001 in binary floating point: 90.3 must still count.
    result = assessed_with(results=[an_alt(90.3, day(5), high=30.1)])

    assert the_finding(result, ELEVATED).effect is Effect.HOLD


def test_the_summary_names_value_date_ratio_and_uln() -> None:
    alt = an_alt(150, on(date(2026, 11, 1)), ident="Observation/alt-1")
    result = assessed_with(results=[alt])

    finding = the_finding(result, ELEVATED)
    assert finding.summary.startswith("ALT 150 U/L on 2026-11-01 is 3.")
    assert finding.summary.endswith("× ULN (40 U/L)")
    assert finding.evidence == ("Observation/alt-1",)


def test_the_summary_reads_exactly_as_the_interface_example() -> None:
    alt = an_alt(150, on(date(2026, 11, 1)), ident="Observation/alt-1")

    finding = the_finding(assessed_with(results=[alt]), ELEVATED)
    assert finding.summary == "ALT 150 U/L on 2026-11-01 is 3.8 × ULN (40 U/L)"


def test_the_uln_is_the_results_own_reference_range_high() -> None:
    result = assessed_with(results=[an_alt(150, on(date(2026, 11, 1)), high=50)])

    assert the_finding(result, ELEVATED).summary == "ALT 150 U/L on 2026-11-01 is 3 × ULN (50 U/L)"


def test_a_result_below_three_times_its_own_uln_does_not_hold_even_above_the_default() -> None:
    # 130 is 3.25 x the protocol default of 40, but only 2.6 x this laboratory's ULN of 50.
    assert_not_fired(assessed_with(results=[an_alt(130, day(5), high=50)]), ELEVATED)


def test_without_a_reference_range_the_protocol_default_uln_is_used_and_said() -> None:
    result = assessed_with(results=[an_alt(120, on(date(2026, 11, 1)), high=None)])

    finding = the_finding(result, ELEVATED)
    assert finding.summary == "ALT 120 U/L on 2026-11-01 is 3 × protocol default ULN (40 U/L)"


def test_without_a_reference_range_just_below_the_default_threshold_does_not_hold() -> None:
    assert_not_fired(assessed_with(results=[an_alt(119, day(5), high=None)]), ELEVATED)


def test_holds_when_latest_ast_alone_is_three_times_uln() -> None:
    ast = an_ast(200, on(date(2026, 11, 10)), high=None)
    result = assessed_with(results=[ast])

    finding = the_finding(result, ELEVATED)
    assert result.decision is Decision.HOLD
    assert finding.summary == "AST 200 U/L on 2026-11-10 is 5 × protocol default ULN (40 U/L)"
    assert finding.evidence == (ast.id,)


def test_alt_and_ast_both_high_make_one_finding_naming_both() -> None:
    alt = an_alt(150, on(date(2026, 11, 1)))
    ast = an_ast(130, on(date(2026, 11, 2)))
    result = assessed_with(results=[alt, ast])

    findings = [f for f in result.findings if f.rule == ELEVATED]
    assert len(findings) == 1
    finding = findings[0]
    assert set(finding.evidence) == {alt.id, ast.id}
    assert "ALT 150 U/L on 2026-11-01" in finding.summary
    assert "AST 130 U/L on 2026-11-02" in finding.summary
    assert finding.effect is Effect.HOLD


def test_a_newer_result_below_the_threshold_resolves_the_hold() -> None:
    result = assessed_with(results=[an_alt(200, day(20)), an_alt(60, day(3))])

    assert_not_fired(result, ELEVATED)
    assert result.decision is Decision.PROCEED


def test_a_newer_high_result_holds_after_an_older_normal_one() -> None:
    newer = an_alt(160, day(3))
    result = assessed_with(results=[newer])  # the reference record's ALT 22 is older

    assert the_finding(result, ELEVATED).evidence == (newer.id,)


def test_a_high_result_without_a_newer_one_keeps_holding_however_old() -> None:
    old_high = an_alt(180, on(date(2026, 2, 1)))
    result = assess_at(a_timeline(None, **without_liver_tests(results=[old_high])))

    finding = the_finding(result, ELEVATED)
    assert "2026-02-01" in finding.summary
    assert result.decision is Decision.HOLD


def test_when_alt_resolves_but_ast_stays_high_only_ast_is_named() -> None:
    ast = an_ast(150, day(20))
    result = assessed_with(results=[an_alt(200, day(20)), ast, an_alt(35, day(3))])

    finding = the_finding(result, ELEVATED)
    assert finding.evidence == (ast.id,)
    assert "ALT" not in finding.summary


def test_a_high_result_entered_in_error_does_not_hold() -> None:
    result = assessed_with(results=[an_alt(400, day(3), status="entered-in-error")])

    assert_not_fired(result, ELEVATED)
    assert result.decision is Decision.PROCEED


def test_a_normal_result_entered_in_error_does_not_resolve_an_older_high_one() -> None:
    high = an_alt(200, day(20))
    result = assessed_with(results=[high, an_alt(30, day(3), status="entered-in-error")])

    assert the_finding(result, ELEVATED).evidence == (high.id,)


def test_a_high_result_after_the_assessed_moment_is_ignored() -> None:
    result = assessed_with(results=[an_alt(400, AT + timedelta(hours=1))])

    assert_not_fired(result, ELEVATED)


def test_no_alt_or_ast_at_all_is_never_reported_as_normal_or_high() -> None:
    result = assess_at(a_timeline(None, **without_liver_tests()))

    assert_not_fired(result, ELEVATED)
    assert all(
        "ALT" not in f.summary for f in result.findings if f.rule != "monitoring.liver-overdue"
    )


def test_an_elevated_liver_hold_cannot_be_overridden() -> None:
    result = assessed_with(
        results=[an_alt(200, day(10))], overrides=[an_override(ELEVATED, day(1))]
    )

    finding = the_finding(result, ELEVATED)
    assert finding.effect is Effect.HOLD
    assert not finding.overridden
    assert result.decision is Decision.HOLD


def test_an_absurd_alt_is_written_in_significant_digits_not_in_309() -> None:
    finding = the_finding(assessed_with(results=[an_alt(1e308, day(5), high=40)]), ELEVATED)

    assert "ALT 1e+308 U/L" in finding.summary
    assert "0" * 12 not in finding.summary
