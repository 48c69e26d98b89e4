"""Anti-natalizumab antibodies: a first positive, persistence, and low drug levels."""

from __future__ import annotations

from collections.abc import Sequence

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire, number
from natalizumab_cds.domain.timeline import (
    Analyte,
    StatusKind,
    StatusObservation,
    quantity_text,
)

_QUOTE = (
    "Antibody testing: Screen for anti-drug antibodies every 12 weeks; approximately 10% of "
    "patients develop antibodies (6% are persistent). ... Management: Patients with "
    "persistent positive antibodies need to discontinue the drug to avoid the risk of "
    "subsequent infusion reactions."
)
POSITIVE_UNCONFIRMED = RuleSpec(
    id="antibody.positive-unconfirmed",
    title="Antibodies positive, not yet confirmed persistent",
    citation=Citation(
        "Protocol text",
        "Immunogenicity Monitoring",
        "positive antibodies reduce efficacy; retest to confirm persistence (≥ 6 weeks)",
        _QUOTE,
    ),
)
PERSISTENT = RuleSpec(
    id="antibody.persistent",
    title="Persistent anti-natalizumab antibodies",
    citation=Citation(
        "Protocol text",
        "Immunogenicity Monitoring",
        "persistent positive antibodies ⇒ discontinue",
        _QUOTE,
    ),
)
LOW_DRUG_LEVEL = RuleSpec(
    id="antibody.low-drug-level",
    title="Serum natalizumab below 1 µg/mL",
    citation=Citation(
        "Protocol text",
        "Immunogenicity Monitoring, Impact",
        "with antibodies the serum level drops below 1 mcg/mL (vs 17) and efficacy falls",
        "Impact: In patients with positive antibodies, the serum drug concentration drops "
        "sharply (< 1 mcg/mL vs. 17 mcg/mL), and the therapeutic effect is significantly "
        "reduced.",
    ),
)


def persistent_pair(
    ctx: Context, results: Sequence[StatusObservation]
) -> tuple[StatusObservation, StatusObservation] | None:
    """The first two positives at least the gap apart (in calendar days), no negative between.

    Calendar days, so a retest on the suggested date counts whatever the time of day.
    """
    gap = ctx.protocol.interval("antibody_persistence_gap")
    run_start: StatusObservation | None = None
    for result in results:
        if result.value != "positive":
            run_start = None
            continue
        if run_start is None:
            run_start = result
        elif ctx.day_of(result.at) >= gap.after(ctx.day_of(run_start.at)):
            return run_start, result
    return None


def persistent(ctx: Context) -> list[Finding]:
    pair = persistent_pair(ctx, ctx.timeline.statuses(StatusKind.ANTIBODY, ctx.at))
    if pair is None:
        return []
    first, second = pair
    days = (ctx.day_of(second.at) - ctx.day_of(first.at)).days
    return fire(
        PERSISTENT,
        Effect.DISCONTINUE,
        f"Anti-natalizumab antibodies positive on {ctx.day_of(first.at)} and "
        f"{ctx.day_of(second.at)} ({days} days apart, no negative between): persistent",
        evidence=[first.id, second.id],
        data_at=second.at,
    )


def positive_unconfirmed(ctx: Context) -> list[Finding]:
    results = ctx.timeline.statuses(StatusKind.ANTIBODY, ctx.at)
    if not results or results[-1].value != "positive":
        return []
    if persistent_pair(ctx, results) is not None:
        return []
    latest = results[-1]
    retest = ctx.protocol.interval("antibody_persistence_gap").after(ctx.day_of(latest.at))
    return fire(
        POSITIVE_UNCONFIRMED,
        Effect.CAUTION,
        f"Anti-natalizumab antibodies positive on {ctx.day_of(latest.at)}, "
        "not yet confirmed persistent",
        evidence=[latest.id],
        data_at=latest.at,
        suggestions=[f"Retest antibodies on or after {retest}"],
    )


def low_drug_level(ctx: Context) -> list[Finding]:
    latest = ctx.timeline.latest_result(Analyte.NATALIZUMAB, ctx.at)
    threshold = ctx.protocol.number("low_drug_level")
    if latest is None:
        return []
    # "<1 ug/mL" (a bound at the threshold) is below it as surely as 0.6 is; ">0.5" may
    # or may not be, so it is said to be unknown rather than low or normal.
    comparator = latest.comparator
    if comparator in (">", ">="):
        if latest.value >= threshold:
            return []
        verdict = "cannot be judged against"
    elif latest.value < threshold or (comparator in ("<", "<=") and latest.value <= threshold):
        verdict = "is below"
    else:
        return []
    return fire(
        LOW_DRUG_LEVEL,
        Effect.CAUTION,
        f"Serum natalizumab {quantity_text(comparator + number(latest.value), latest.unit)} "
        f"on {ctx.day_of(latest.at)} {verdict} {quantity_text(number(threshold), latest.unit)}",
        evidence=[latest.id],
        data_at=latest.at,
        suggestions=["Test for anti-natalizumab antibodies"],
    )
