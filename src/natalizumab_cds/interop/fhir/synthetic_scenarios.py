"""The clinical situations the synthetic generator can produce.

Each ``Scenario`` says which rule ids of CLINICAL_RULES.md it is made to fire at
the anchor (monitoring items that naturally fall due aside), the decision it
should lead to, and how its history is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from natalizumab_cds.domain.protocol import add_months
from natalizumab_cds.interop.fhir import synthetic_edits as edits
from natalizumab_cds.interop.fhir.synthetic_plan import (
    BLOOD,
    LIVER,
    THYROID,
    Plan,
    build_history,
    infusion_count,
)

Build = Callable[[Plan, float], None]


def routine(*changes: edits.Edit, last_gap_days: int = 28) -> Build:
    """A routine course (last dose ``last_gap_days`` before the anchor), then ``changes``."""

    def build(plan: Plan, years: float) -> None:
        build_history(plan, infusion_count(years), last_gap_days)
        for change in changes:
            change(plan)

    return build


def _restart(plan: Plan, years: float) -> None:
    """Two doses ever, the last four calendar months before the anchor."""
    gap = (plan.today - add_months(plan.today, -4)).days
    build_history(plan, 2, gap)
    edits.restart_labs(plan)


def _new_patient(plan: Plan, years: float) -> None:
    edits.new_patient_workup(plan)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    rules: tuple[str, ...]
    decision: str
    description: str
    build: Build = field(default_factory=routine)
    min_years: float = 0.5
    max_years: float = 8.0
    ages: tuple[int, int] = (25, 60)
    female: bool | None = None


_ALL = (
    Scenario("routine-proceed", (), "proceed", "Well monitored, all results in range"),
    Scenario(
        "pediatric",
        ("population.pediatric",),
        "hold",
        "Aged 16",
        max_years=2.0,
        ages=(16, 16),
    ),
    Scenario("elderly", ("population.elderly",), "caution", "Aged 70", ages=(70, 70)),
    Scenario(
        "pregnant",
        ("population.pregnancy",),
        "hold",
        "Latest pregnancy status: pregnant",
        routine(edits.pregnant),
        ages=(25, 42),
        female=True,
    ),
    Scenario(
        "breastfeeding",
        ("population.lactation",),
        "hold",
        "Latest status: breastfeeding",
        routine(edits.breastfeeding),
        ages=(25, 42),
        female=True,
    ),
    Scenario(
        "prior-reaction",
        ("hypersensitivity.prior-reaction",),
        "discontinue",
        "Confirmed urticaria after the last natalizumab infusion",
        routine(edits.prior_reaction),
    ),
    Scenario(
        "concurrent-immunosuppressant",
        ("immunosuppression.concurrent",),
        "hold",
        "Takes azathioprine (active MedicationStatement)",
        routine(edits.concurrent_immunosuppressant),
    ),
    Scenario(
        "active-infection",
        ("infection.active",),
        "hold",
        "Pneumonia since 5 days",
        routine(edits.active_infection),
    ),
    Scenario(
        "opportunistic-infection",
        ("infection.opportunistic",),
        "discontinue",
        "Resolved PML on an earlier therapy",
        routine(edits.opportunistic_infection),
    ),
    Scenario(
        "pml-symptoms-screening",
        ("pml.suspected",),
        "hold",
        "Today's screening: new neurological symptoms",
        routine(edits.pml_screening),
    ),
    Scenario(
        "new-patient-no-baseline",
        ("liver.baseline-missing",),
        "hold",
        "No infusion yet and no baseline ALT/AST",
        _new_patient,
    ),
    Scenario(
        "liver-elevated",
        ("liver.elevated",),
        "hold",
        "Latest ALT 150 U/L (ULN 40)",
        routine(edits.set_latest("alt", 150), edits.set_latest("ast", 96)),
    ),
    Scenario(
        "neutrophils-abnormal",
        ("blood.neutrophils-abnormal",),
        "caution",
        "Latest neutrophils 0.9 × 10^9/L",
        routine(edits.set_latest("neutrophils", 0.9)),
    ),
    Scenario(
        "lymphocytes-raised",
        ("blood.lymphocytes-monocytes-raised",),
        "proceed",
        "Latest lymphocytes 5.2 × 10^9/L",
        routine(edits.set_latest("lymphocytes", 5.2)),
    ),
    Scenario(
        "platelets-low",
        ("blood.platelets-low",),
        "caution",
        "Latest platelets 90 × 10^9/L",
        routine(edits.set_latest("platelets", 90)),
    ),
    Scenario(
        "thyroid-abnormal",
        ("thyroid.abnormal",),
        "caution",
        "Latest TSH 8.5 mIU/L",
        routine(edits.set_latest("tsh", 8.5), edits.set_latest("free-t4", 0.85)),
    ),
    Scenario(
        "antibody-positive",
        ("antibody.positive-unconfirmed",),
        "caution",
        "Latest anti-natalizumab antibodies positive, the previous negative",
        routine(edits.antibody_positive),
        min_years=1.0,
    ),
    Scenario(
        "antibody-persistent",
        ("antibody.persistent",),
        "discontinue",
        "Two positive antibody results 12 weeks apart; serum level below 1 µg/mL since",
        routine(edits.antibody_persistent),
        min_years=1.0,
    ),
    Scenario(
        "low-drug-level",
        ("antibody.low-drug-level",),
        "caution",
        "Latest serum natalizumab 0.6 µg/mL",
        routine(edits.low_drug_level),
        min_years=1.0,
    ),
    Scenario(
        "too-soon",
        ("dosing.too-soon",),
        "hold",
        "Last infusion 14 days ago",
        routine(last_gap_days=14),
    ),
    Scenario(
        "restart-after-gap",
        ("dosing.restart-after-gap", "monitoring.infusion-overdue"),
        "caution",
        "Two infusions ever, the last four months ago",
        _restart,
    ),
    Scenario(
        "mri-activity",
        ("mri.activity",),
        "proceed",
        "MRI two months ago: 2 gadolinium-enhancing lesions",
        routine(edits.mri_activity),
    ),
    Scenario(
        "edss-worsening",
        ("edss.worsening",),
        "proceed",
        "EDSS 3.0 at baseline, then 4.0 and 4.5 six months apart",
        routine(edits.edss_worsening),
        min_years=1.5,
    ),
    Scenario(
        "recent-relapse",
        ("relapse.recent",),
        "proceed",
        "Relapse three months ago",
        routine(edits.recent_relapse),
    ),
    Scenario(
        "neda3",
        ("activity.neda3",),
        "proceed",
        "No relapse, clean MRI and stable EDSS in the last 12 months",
        min_years=1.0,
    ),
    Scenario(
        "overdue-monitoring",
        ("monitoring.liver-overdue", "monitoring.thyroid-overdue"),
        "proceed",
        "Last ALT/AST five months ago, last TSH/free T4 nine months ago",
        routine(edits.retake(LIVER, 5), edits.retake(THYROID, 9)),
        min_years=1.5,
    ),
    Scenario(
        "pediatric-overridden",
        ("population.pediatric",),
        "caution",
        "Aged 16, with a documented override",
        routine(edits.pediatric_override),
        max_years=2.0,
        ages=(16, 16),
    ),
    Scenario(
        "overdue-blood",
        ("monitoring.blood-overdue",),
        "proceed",
        "Last CBC four months ago",
        routine(edits.retake(BLOOD, 4)),
        min_years=1.0,
    ),
    Scenario(
        "overdue-antibody",
        ("monitoring.antibody-overdue",),
        "proceed",
        "Last antibody test four months ago",
        routine(edits.antibody_overdue),
        min_years=1.0,
    ),
    Scenario(
        "overdue-mri",
        ("monitoring.mri-overdue",),
        "proceed",
        "Last MRI fourteen months ago",
        routine(edits.mri_overdue),
        min_years=2.0,
    ),
    Scenario(
        "overdue-edss",
        ("monitoring.edss-overdue",),
        "proceed",
        "Last EDSS eight months ago",
        routine(edits.edss_overdue),
        min_years=1.5,
    ),
    Scenario(
        "overdue-infusion",
        ("monitoring.infusion-overdue",),
        "proceed",
        "Last infusion six weeks ago",
        routine(last_gap_days=42),
    ),
)

SCENARIO_TABLE: dict[str, Scenario] = {scenario.name: scenario for scenario in _ALL}
