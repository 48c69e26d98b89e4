"""CBC and thyroid rules: the latest result judged against its own reference range.

Synthetic records only: the well-monitored reference record (normal CBC on
2026-10-25, normal thyroid panel on 2026-09-25) plus the results under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.rules import ranges
from natalizumab_cds.domain.timeline import Analyte
from tests.domain.builders import (
    AT,
    a_ranged,
    a_timeline,
    a_well_monitored_record,
    assess_at,
    day,
)
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

NEUTROPHILS = "blood.neutrophils-abnormal"
LYMPHOCYTES_MONOCYTES = "blood.lymphocytes-monocytes-raised"
PLATELETS = "blood.platelets-low"
THYROID = "thyroid.abnormal"
CBC = (Analyte.NEUTROPHILS, Analyte.LYMPHOCYTES, Analyte.MONOCYTES, Analyte.PLATELETS)


def _without(record: dict[str, list[Any]], *analytes: Analyte) -> dict[str, list[Any]]:
    """``record`` with every result of ``analytes`` removed."""
    kept = [r for r in record["results"] if r.analyte not in analytes]
    return {**record, "results": kept}


# -- blood.neutrophils-abnormal ---------------------------------------------------------


def test_cautions_when_the_latest_neutrophil_count_is_below_range() -> None:
    low = a_ranged(Analyte.NEUTROPHILS, 0.9, day(2))
    result = assessed_with(results=[low])
    finding = the_finding(result, NEUTROPHILS)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.summary == "Neutrophils 0.9 ×10⁹/L on 2026-11-22 is below range (range 1.5–7)"
    assert finding.evidence == (low.id,)
    assert finding.data_at == low.at
    assert finding.suggestions == ("Look for an infection",)
    assert "Complete blood count" in finding.basis


def test_cautions_when_the_latest_neutrophil_count_is_above_range() -> None:
    high = a_ranged(Analyte.NEUTROPHILS, 12.4, day(2))
    result = assessed_with(results=[high])
    finding = the_finding(result, NEUTROPHILS)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.summary == "Neutrophils 12.4 ×10⁹/L on 2026-11-22 is above range (range 1.5–7)"
    assert finding.evidence == (high.id,)


@pytest.mark.parametrize("value", [1.5, 7.0], ids=["at-the-low-bound", "at-the-high-bound"])
def test_a_neutrophil_count_exactly_at_a_bound_is_in_range(value: float) -> None:
    result = assessed_with(results=[a_ranged(Analyte.NEUTROPHILS, value, day(2))])
    assert_not_fired(result, NEUTROPHILS)
    assert result.decision is Decision.PROCEED


@pytest.mark.parametrize("value", [1.49, 7.01], ids=["just-below", "just-above"])
def test_a_neutrophil_count_just_outside_a_bound_cautions(value: float) -> None:
    result = assessed_with(results=[a_ranged(Analyte.NEUTROPHILS, value, day(2))])
    assert the_finding(result, NEUTROPHILS).effect is Effect.CAUTION


def test_a_neutrophil_count_without_a_reference_range_cannot_be_judged_and_cautions() -> None:
    unranged = a_ranged(Analyte.NEUTROPHILS, 4.0, day(2), low=None, high=None)
    result = assessed_with(results=[unranged])
    finding = the_finding(result, NEUTROPHILS)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.summary == (
        "Neutrophils 4 ×10⁹/L on 2026-11-22 has no reference range: cannot be judged"
    )
    assert finding.evidence == (unranged.id,)
    assert "Record the lab's reference range, or repeat the test" in finding.suggestions


def test_a_count_outside_its_range_asks_for_no_reference_range() -> None:
    result = assessed_with(results=[a_ranged(Analyte.NEUTROPHILS, 0.9, day(2))])
    assert the_finding(result, NEUTROPHILS).suggestions == ("Look for an infection",)


def test_the_range_rules_titles_cover_a_result_that_cannot_be_judged() -> None:
    """The title stands above a "no reference range" summary too: it must not say "outside"."""
    for spec in (ranges.NEUTROPHILS, ranges.PLATELETS, ranges.THYROID):
        assert spec.title.endswith("or cannot be judged"), spec.title


def test_a_newer_normal_neutrophil_count_supersedes_an_older_low_one() -> None:
    old_low = a_ranged(Analyte.NEUTROPHILS, 0.9, day(10))
    newer = a_ranged(Analyte.NEUTROPHILS, 3.0, day(2))
    result = assessed_with(results=[old_low, newer])
    assert_not_fired(result, NEUTROPHILS)
    assert result.decision is Decision.PROCEED


def test_only_the_newest_abnormal_neutrophil_count_is_named() -> None:
    older = a_ranged(Analyte.NEUTROPHILS, 0.5, day(10))
    newer = a_ranged(Analyte.NEUTROPHILS, 1.2, day(2))
    finding = the_finding(assessed_with(results=[older, newer]), NEUTROPHILS)
    assert "Neutrophils 1.2 ×10⁹/L on 2026-11-22" in finding.summary
    assert finding.evidence == (newer.id,)


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_voided_low_neutrophil_count_is_ignored(status: str) -> None:
    voided = a_ranged(Analyte.NEUTROPHILS, 0.4, day(2), status=status)
    result = assessed_with(results=[voided])
    assert_not_fired(result, NEUTROPHILS)
    assert result.decision is Decision.PROCEED


def test_a_low_neutrophil_count_dated_after_the_assessment_is_ignored() -> None:
    result = assessed_with(results=[a_ranged(Analyte.NEUTROPHILS, 0.4, day(-1))])
    assert_not_fired(result, NEUTROPHILS)


def test_an_old_low_neutrophil_count_still_cautions_and_the_blood_count_is_overdue() -> None:
    record = _without(a_well_monitored_record(), *CBC)
    stale = [a_ranged(a, 0.9 if a is Analyte.NEUTROPHILS else None, day(400)) for a in CBC]
    result = assess_at(a_timeline(**{**record, "results": [*record["results"], *stale]}))
    finding = the_finding(result, NEUTROPHILS)
    assert "on 2025-10-20 is below range" in finding.summary
    assert finding.evidence == (stale[0].id,)
    assert the_finding(result, "monitoring.blood-overdue").effect is Effect.NONE
    assert result.decision is Decision.CAUTION


def test_no_neutrophil_count_is_not_reported_as_normal_but_as_an_overdue_blood_count() -> None:
    record = _without(a_well_monitored_record(), *CBC)
    result = assess_at(a_timeline(**record))
    assert_not_fired(result, NEUTROPHILS)
    overdue = the_finding(result, "monitoring.blood-overdue")
    assert "never done" in overdue.summary
    assert not any(
        "neutrophil" in f.summary.lower() and "normal" in f.summary for f in result.findings
    )


# -- blood.lymphocytes-monocytes-raised -------------------------------------------------


def test_raised_lymphocytes_are_an_expected_drug_effect_and_do_not_change_the_decision() -> None:
    raised = a_ranged(Analyte.LYMPHOCYTES, 5.2, day(2))
    result = assessed_with(results=[raised])
    finding = the_finding(result, LYMPHOCYTES_MONOCYTES)
    assert result.decision is Decision.PROCEED
    assert finding.effect is Effect.NONE
    assert finding.severity is Severity.INFO
    assert finding.summary == (
        "Lymphocytes 5.2 ×10⁹/L on 2026-11-22 is above range (range 1–4): "
        "expected drug effect, not a reason to hold"
    )
    assert finding.evidence == (raised.id,)


def test_raised_monocytes_are_noted_as_an_expected_drug_effect() -> None:
    raised = a_ranged(Analyte.MONOCYTES, 1.4, day(2))
    result = assessed_with(results=[raised])
    finding = the_finding(result, LYMPHOCYTES_MONOCYTES)
    assert result.decision is Decision.PROCEED
    assert finding.severity is Severity.INFO
    assert finding.summary.startswith("Monocytes 1.4 ×10⁹/L on 2026-11-22 is above range")
    assert "expected drug effect" in finding.summary
    assert finding.evidence == (raised.id,)


def test_raised_lymphocytes_and_monocytes_make_one_finding_naming_both() -> None:
    lymphocytes = a_ranged(Analyte.LYMPHOCYTES, 5.2, day(2))
    monocytes = a_ranged(Analyte.MONOCYTES, 1.4, day(3))
    finding = the_finding(assessed_with(results=[lymphocytes, monocytes]), LYMPHOCYTES_MONOCYTES)
    assert "Lymphocytes 5.2" in finding.summary
    assert "Monocytes 1.4" in finding.summary
    assert finding.evidence == (lymphocytes.id, monocytes.id)
    assert finding.data_at == lymphocytes.at


@pytest.mark.parametrize(
    ("analyte", "value"),
    [(Analyte.LYMPHOCYTES, 0.6), (Analyte.MONOCYTES, 0.1)],
    ids=["low-lymphocytes", "low-monocytes"],
)
def test_low_lymphocytes_or_monocytes_are_not_this_finding(analyte: Analyte, value: float) -> None:
    result = assessed_with(results=[a_ranged(analyte, value, day(2))])
    assert_not_fired(result, LYMPHOCYTES_MONOCYTES)
    assert result.decision is Decision.PROCEED


@pytest.mark.parametrize(
    ("analyte", "value"),
    [(Analyte.LYMPHOCYTES, 4.0), (Analyte.MONOCYTES, 1.0)],
    ids=["lymphocytes-at-high-bound", "monocytes-at-high-bound"],
)
def test_lymphocytes_or_monocytes_exactly_at_the_upper_bound_are_not_raised(
    analyte: Analyte, value: float
) -> None:
    assert_not_fired(
        assessed_with(results=[a_ranged(analyte, value, day(2))]), LYMPHOCYTES_MONOCYTES
    )


def test_lymphocytes_without_a_range_are_not_called_raised() -> None:
    unranged = a_ranged(Analyte.LYMPHOCYTES, 9.0, day(2), low=None, high=None)
    assert_not_fired(assessed_with(results=[unranged]), LYMPHOCYTES_MONOCYTES)


def test_a_newer_normal_lymphocyte_count_supersedes_an_older_raised_one() -> None:
    old = a_ranged(Analyte.LYMPHOCYTES, 6.0, day(10))
    newer = a_ranged(Analyte.LYMPHOCYTES, 2.0, day(2))
    assert_not_fired(assessed_with(results=[old, newer]), LYMPHOCYTES_MONOCYTES)


def test_an_entered_in_error_raised_lymphocyte_count_is_ignored() -> None:
    voided = a_ranged(Analyte.LYMPHOCYTES, 6.0, day(2), status="entered-in-error")
    assert_not_fired(assessed_with(results=[voided]), LYMPHOCYTES_MONOCYTES)


def test_raised_lymphocytes_alongside_low_neutrophils_leave_the_decision_at_caution() -> None:
    result = assessed_with(
        results=[
            a_ranged(Analyte.LYMPHOCYTES, 6.0, day(2)),
            a_ranged(Analyte.NEUTROPHILS, 0.9, day(2)),
        ]
    )
    assert result.decision is Decision.CAUTION
    assert result.rules_fired >= {NEUTROPHILS, LYMPHOCYTES_MONOCYTES}


# -- blood.platelets-low ------------------------------------------------------------------


def test_cautions_when_the_latest_platelet_count_is_below_range() -> None:
    low = a_ranged(Analyte.PLATELETS, 120, day(2))
    result = assessed_with(results=[low])
    finding = the_finding(result, PLATELETS)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.summary == "Platelets 120 ×10⁹/L on 2026-11-22 is below range (range 150–400)"
    assert finding.evidence == (low.id,)
    assert finding.suggestions == ("Consider thrombocytopenia",)
    assert finding.basis.startswith("US PI, 5.7 Thrombocytopenia")


def test_a_platelet_count_exactly_at_the_lower_bound_is_in_range() -> None:
    result = assessed_with(results=[a_ranged(Analyte.PLATELETS, 150, day(2))])
    assert_not_fired(result, PLATELETS)
    assert result.decision is Decision.PROCEED


def test_a_platelet_count_just_below_the_lower_bound_cautions() -> None:
    result = assessed_with(results=[a_ranged(Analyte.PLATELETS, 149, day(2))])
    assert the_finding(result, PLATELETS).effect is Effect.CAUTION


def test_a_raised_platelet_count_is_not_this_finding() -> None:
    result = assessed_with(results=[a_ranged(Analyte.PLATELETS, 520, day(2))])
    assert_not_fired(result, PLATELETS)
    assert result.decision is Decision.PROCEED


def test_a_platelet_count_without_a_lower_bound_cannot_be_judged_and_cautions() -> None:
    unranged = a_ranged(Analyte.PLATELETS, 250, day(2), low=None, high=None)
    finding = the_finding(assessed_with(results=[unranged]), PLATELETS)
    assert finding.effect is Effect.CAUTION
    assert finding.summary == (
        "Platelets 250 ×10⁹/L on 2026-11-22 has no reference range: cannot be judged"
    )
    assert finding.evidence == (unranged.id,)


def test_a_newer_normal_platelet_count_supersedes_an_older_low_one() -> None:
    old = a_ranged(Analyte.PLATELETS, 90, day(10))
    newer = a_ranged(Analyte.PLATELETS, 210, day(2))
    assert_not_fired(assessed_with(results=[old, newer]), PLATELETS)


def test_an_entered_in_error_low_platelet_count_is_ignored() -> None:
    voided = a_ranged(Analyte.PLATELETS, 40, day(2), status="entered-in-error")
    result = assessed_with(results=[voided])
    assert_not_fired(result, PLATELETS)
    assert result.decision is Decision.PROCEED


def test_a_low_platelet_count_dated_after_the_assessment_is_ignored() -> None:
    assert_not_fired(assessed_with(results=[a_ranged(Analyte.PLATELETS, 40, day(-3))]), PLATELETS)


# -- thyroid.abnormal -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("analyte", "value", "expected"),
    [
        (Analyte.TSH, 0.3, "TSH 0.3 mIU/L on 2026-11-22 is below range (range 0.4–4)"),
        (Analyte.TSH, 6.5, "TSH 6.5 mIU/L on 2026-11-22 is above range (range 0.4–4)"),
        (Analyte.FREE_T4, 0.6, "Free T4 0.6 ng/dL on 2026-11-22 is below range (range 0.8–1.8)"),
        (Analyte.FREE_T4, 2.3, "Free T4 2.3 ng/dL on 2026-11-22 is above range (range 0.8–1.8)"),
    ],
    ids=["tsh-low", "tsh-high", "free-t4-low", "free-t4-high"],
)
def test_cautions_when_the_latest_tsh_or_free_t4_is_outside_its_range(
    analyte: Analyte, value: float, expected: str
) -> None:
    abnormal = a_ranged(analyte, value, day(2))
    result = assessed_with(results=[abnormal])
    finding = the_finding(result, THYROID)
    assert result.decision is Decision.CAUTION
    assert finding.effect is Effect.CAUTION
    assert finding.severity is Severity.WARNING
    assert finding.summary == expected
    assert finding.evidence == (abnormal.id,)
    assert finding.suggestions == ("Assess for thyroiditis",)


def test_an_abnormal_tsh_and_free_t4_make_one_finding_naming_both() -> None:
    tsh = a_ranged(Analyte.TSH, 8.0, day(2))
    free_t4 = a_ranged(Analyte.FREE_T4, 0.5, day(2))
    finding = the_finding(assessed_with(results=[tsh, free_t4]), THYROID)
    assert finding.summary == (
        "TSH 8 mIU/L on 2026-11-22 is above range (range 0.4–4); "
        "Free T4 0.5 ng/dL on 2026-11-22 is below range (range 0.8–1.8)"
    )
    assert finding.evidence == (tsh.id, free_t4.id)


@pytest.mark.parametrize(
    ("analyte", "value"),
    [(Analyte.TSH, 0.4), (Analyte.TSH, 4.0), (Analyte.FREE_T4, 0.8), (Analyte.FREE_T4, 1.8)],
    ids=["tsh-low-bound", "tsh-high-bound", "free-t4-low-bound", "free-t4-high-bound"],
)
def test_a_thyroid_value_exactly_at_a_bound_is_in_range(analyte: Analyte, value: float) -> None:
    result = assessed_with(results=[a_ranged(analyte, value, day(2))])
    assert_not_fired(result, THYROID)
    assert result.decision is Decision.PROCEED


def test_a_tsh_without_a_reference_range_cannot_be_judged_and_cautions() -> None:
    unranged = a_ranged(Analyte.TSH, 2.0, day(2), low=None, high=None)
    finding = the_finding(assessed_with(results=[unranged]), THYROID)
    assert finding.effect is Effect.CAUTION
    assert "TSH 2 mIU/L on 2026-11-22 has no reference range: cannot be judged" in finding.summary


def test_a_newer_normal_tsh_supersedes_an_older_abnormal_one() -> None:
    old = a_ranged(Analyte.TSH, 9.0, day(20))
    newer = a_ranged(Analyte.TSH, 2.0, day(2))
    assert_not_fired(assessed_with(results=[old, newer]), THYROID)


def test_an_entered_in_error_abnormal_free_t4_is_ignored() -> None:
    voided = a_ranged(Analyte.FREE_T4, 3.0, day(2), status="entered-in-error")
    result = assessed_with(results=[voided])
    assert_not_fired(result, THYROID)
    assert result.decision is Decision.PROCEED


def test_an_abnormal_tsh_dated_after_the_assessment_is_ignored() -> None:
    assert_not_fired(assessed_with(results=[a_ranged(Analyte.TSH, 9.0, day(-1))]), THYROID)


def test_an_old_abnormal_tsh_still_cautions_and_the_thyroid_panel_is_overdue() -> None:
    record = _without(a_well_monitored_record(), Analyte.TSH, Analyte.FREE_T4)
    stale = [a_ranged(Analyte.TSH, 7.0, day(300)), a_ranged(Analyte.FREE_T4, None, day(300))]
    result = assess_at(a_timeline(**{**record, "results": [*record["results"], *stale]}), AT)
    finding = the_finding(result, THYROID)
    assert finding.summary == "TSH 7 mIU/L on 2026-01-28 is above range (range 0.4–4)"
    overdue = the_finding(result, "monitoring.thyroid-overdue")
    assert "last done 2026-01-28" in overdue.summary


def test_no_thyroid_results_are_not_reported_as_normal_but_as_an_overdue_panel() -> None:
    record = _without(a_well_monitored_record(), Analyte.TSH, Analyte.FREE_T4)
    result = assess_at(a_timeline(**record))
    assert_not_fired(result, THYROID)
    assert "never done" in the_finding(result, "monitoring.thyroid-overdue").summary


# -- results reported as a bound ("<2.0") -------------------------------------------------


def test_a_neutrophil_count_reported_below_a_value_inside_the_range_is_not_read_as_normal() -> None:
    bounded = a_ranged(Analyte.NEUTROPHILS, 2.0, day(2), comparator="<")
    result = assessed_with(results=[bounded])
    finding = the_finding(result, NEUTROPHILS)
    assert finding.effect is Effect.CAUTION
    assert "<2" in finding.summary
    assert finding.evidence == (bounded.id,)


def test_a_count_reported_as_a_bound_is_shown_with_its_comparator() -> None:
    bounded = a_ranged(Analyte.NEUTROPHILS, 0.5, day(2), comparator="<")
    finding = the_finding(assessed_with(results=[bounded]), NEUTROPHILS)
    assert finding.summary.startswith("Neutrophils <0.5 ×10⁹/L on 2026-11-22 is below range")


def test_a_count_reported_below_the_lower_bound_is_below_range() -> None:
    bounded = a_ranged(Analyte.PLATELETS, 100, day(2), comparator="<")
    assert the_finding(assessed_with(results=[bounded]), PLATELETS).effect is Effect.CAUTION
