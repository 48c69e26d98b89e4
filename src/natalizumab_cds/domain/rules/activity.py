"""Disease activity on treatment: MRI, confirmed EDSS worsening, relapses, NEDA-3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec, Severity
from natalizumab_cds.domain.rules.rule import Context, fire, number
from natalizumab_cds.domain.timeline import Analyte, MriRead, Result, StatusKind

MRI_ACTIVITY = RuleSpec(
    id="mri.activity",
    title="MRI shows disease activity",
    citation=Citation(
        "Protocol text",
        "MRI assessment",
        "annual MRI of T1 gadolinium-enhancing and T2 lesions to evaluate disease activity",
        "MRI assessment: Monitor T1 gadolinium-enhancing lesions and T2 hyperintense lesions "
        "annually to evaluate disease activity.",
    ),
)
EDSS_WORSENING = RuleSpec(
    id="edss.worsening",
    title="Confirmed disability worsening (EDSS)",
    citation=Citation(
        "Protocol text",
        "Neurological function",
        "regular EDSS; worsening confirmed over 12 weeks (standard trial definition)",
        "Neurological function: Conduct regular EDSS (Expanded Disability Status Scale) "
        "scoring and combine it with the frequency of relapses.",
    ),
)
RELAPSE_RECENT = RuleSpec(
    id="relapse.recent",
    title="Relapse in the last 12 months",
    citation=Citation(
        "Protocol text",
        "Neurological function",
        "combine EDSS with the frequency of relapses",
        "Neurological function: Conduct regular EDSS (Expanded Disability Status Scale) "
        "scoring and combine it with the frequency of relapses.",
    ),
)
NEDA3 = RuleSpec(
    id="activity.neda3",
    title="No evidence of disease activity (NEDA-3)",
    citation=Citation(
        "Protocol text",
        "Imaging and Clinical Symptom Tracking",
        "combined view: no relapse, no MRI activity, no confirmed EDSS worsening in 12 months",
        "MRI assessment ... Neurological function: Conduct regular EDSS scoring and combine "
        "it with the frequency of relapses.",
    ),
)


def _window_start(ctx: Context) -> date:
    return ctx.protocol.interval("activity_window").before(ctx.today)


def _recent_mris(ctx: Context) -> list[MriRead]:
    since = _window_start(ctx)
    return [m for m in ctx.timeline.mris(ctx.at) if ctx.day_of(m.at) >= since]


def mri_activity(ctx: Context) -> list[Finding]:
    recent = _recent_mris(ctx)
    if not recent or not recent[-1].shows_activity:
        return []
    latest = recent[-1]
    suggestions = []
    tested_since = ctx.protocol.interval("antibody_test_window").before(ctx.today)
    antibodies = ctx.timeline.statuses(StatusKind.ANTIBODY, ctx.at)
    if not any(ctx.day_of(a.at) >= tested_since for a in antibodies):
        suggestions.append("Test for anti-natalizumab antibodies (none in the last 12 weeks)")
    return fire(
        MRI_ACTIVITY,
        Effect.NONE,
        f"MRI on {ctx.day_of(latest.at)}: {latest.gd_enhancing} gadolinium-enhancing and "
        f"{latest.new_or_enlarging_t2} new or enlarging T2 lesion(s)",
        evidence=[latest.id],
        data_at=latest.at,
        quiet=Severity.WARNING,
        suggestions=suggestions,
    )


@dataclass(frozen=True, slots=True)
class Worsening:
    baseline: Result
    threshold: float
    first: Result
    confirmed: Result


def confirmed_worsening(ctx: Context) -> Worsening | None:
    """The latest confirmation: two assessments ≥ the gap apart, both and all between at or
    above the threshold. The latest, so that a new worsening after an old one is seen."""
    scores = ctx.timeline.results(Analyte.EDSS, ctx.at)
    infusions = ctx.timeline.completed_infusions(ctx.at)
    if not scores or not infusions:
        return None
    baseline_index = _baseline_index(scores, infusions[0].at)
    baseline = scores[baseline_index]
    cutoff = ctx.protocol.number("edss_baseline_cutoff")
    step = ctx.protocol.number(
        "edss_step_low_baseline" if baseline.value <= cutoff else "edss_step_high_baseline"
    )
    threshold = baseline.value + step
    gap = ctx.protocol.interval("edss_confirmation_gap")
    run_start: Result | None = None
    found: Worsening | None = None
    for score in scores[baseline_index + 1 :]:
        if score.value < threshold:
            run_start = None
            continue
        if run_start is None:
            run_start = score
        elif ctx.day_of(score.at) >= gap.after(ctx.day_of(run_start.at)):
            found = Worsening(baseline, threshold, run_start, score)
    return found


def _baseline_index(scores: Sequence[Result], first_infusion: datetime) -> int:
    """The last EDSS on or before the first infusion, else the first one after it."""
    before = [i for i, s in enumerate(scores) if s.at <= first_infusion]
    return before[-1] if before else 0


def edss_worsening(ctx: Context) -> list[Finding]:
    found = confirmed_worsening(ctx)
    if found is None:
        return []
    return fire(
        EDSS_WORSENING,
        Effect.NONE,
        f"EDSS {number(found.first.value)} on {ctx.day_of(found.first.at)} confirmed by "
        f"{number(found.confirmed.value)} on {ctx.day_of(found.confirmed.at)} "
        f"(baseline {number(found.baseline.value)} on {ctx.day_of(found.baseline.at)}; "
        f"worsening at ≥ {number(found.threshold)})",
        evidence=[found.baseline.id, found.first.id, found.confirmed.id],
        data_at=found.confirmed.at,
        quiet=Severity.WARNING,
    )


def relapse_recent(ctx: Context) -> list[Finding]:
    since = _window_start(ctx)
    relapses = ctx.timeline.relapses(ctx.at)
    recent = [r for r in relapses if ctx.day_of(r.at) >= since]
    if not recent:
        return []
    return fire(
        RELAPSE_RECENT,
        Effect.NONE,
        f"{len(recent)} relapse(s) since {since}, the last on {ctx.day_of(recent[-1].at)}; "
        + _annualized_rate(ctx, [ctx.day_of(r.at) for r in relapses]),
        evidence=[r.id for r in recent],
        data_at=recent[-1].at,
        quiet=Severity.WARNING,
    )


def _annualized_rate(ctx: Context, onsets: list[date]) -> str:
    infusions = ctx.timeline.completed_infusions(ctx.at)
    if not infusions:
        return "not on treatment: no annualized rate on treatment"
    start = ctx.day_of(infusions[0].at)
    years = (ctx.today - start).days / 365.25
    on_treatment = sum(1 for onset in onsets if onset >= start)
    if years <= 0:
        return "treatment started today: no annualized rate yet"
    return (
        f"annualized relapse rate on treatment {on_treatment / years:.2f} "
        f"({on_treatment} in {years:.1f} years)"
    )


def neda3(ctx: Context) -> list[Finding]:
    since = _window_start(ctx)
    if any(ctx.day_of(r.at) >= since for r in ctx.timeline.relapses(ctx.at)):
        return []
    mris = _recent_mris(ctx)
    if not mris or any(m.shows_activity for m in mris):
        return []
    worsening = confirmed_worsening(ctx)
    if worsening is not None and ctx.day_of(worsening.confirmed.at) >= since:
        return []
    return fire(
        NEDA3,
        Effect.NONE,
        f"No evidence of disease activity since {since}: no relapse, "
        f"{len(mris)} MRI{'' if len(mris) == 1 else 's'} without activity, "
        "no confirmed EDSS worsening",
        evidence=[m.id for m in mris],
        data_at=mris[-1].at,
    )
