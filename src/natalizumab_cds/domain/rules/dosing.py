"""Dosing interval: not too soon after the last dose; care on a restart after a gap."""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire

TOO_SOON = RuleSpec(
    id="dosing.too-soon",
    title="Too soon after the last infusion",
    citation=Citation(
        "US PI",
        "2 Dosage and Administration",
        "300 mg every 4 weeks; a minimum gap of 21 days is a local parameter",
        "The recommended dose is 300 mg intravenous infusion over one hour every four weeks.",
    ),
)
RESTART_AFTER_GAP = RuleSpec(
    id="dosing.restart-after-gap",
    title="Restart after a gap following a short first exposure",
    citation=Citation(
        "EU SmPC",
        "4.4 Hypersensitivity",
        "higher hypersensitivity risk on re-exposure after 1-2 infusions and a gap of 3 months",
        "Patients who are re-exposed to Tysabri after an initial short exposure (1 or 2 "
        "infusions) followed by an extended period without treatment (three months or "
        "more) are at higher risk of hypersensitivity reactions.",
    ),
)


def too_soon(ctx: Context) -> list[Finding]:
    given = ctx.timeline.completed_infusions(ctx.at)
    if not given:
        return []
    last = given[-1]
    days = (ctx.today - ctx.day_of(last.at)).days
    minimum = ctx.protocol.interval("min_dosing_gap")
    earliest = minimum.after(ctx.day_of(last.at))
    if ctx.today >= earliest:
        return []
    return fire(
        TOO_SOON,
        Effect.HOLD,
        f"Last infusion on {ctx.day_of(last.at)} was {days} days ago "
        f"(minimum {minimum}; earliest {earliest})",
        evidence=[last.id],
        data_at=last.at,
    )


def restart_after_gap(ctx: Context) -> list[Finding]:
    given = ctx.timeline.completed_infusions(ctx.at)
    most = int(ctx.protocol.number("restart_max_prior_infusions"))
    if not given or len(given) > most:
        return []
    last_day = ctx.day_of(given[-1].at)
    gap = ctx.protocol.interval("restart_gap")
    if ctx.today < gap.after(last_day):
        return []
    return fire(
        RESTART_AFTER_GAP,
        Effect.CAUTION,
        f"Only {len(given)} infusion(s) ever, the last on {last_day}: restart after "
        f"{gap} or more carries a higher risk of hypersensitivity",
        evidence=[i.id for i in given],
        data_at=given[-1].at,
        suggestions=["Observe closely for hypersensitivity during and after the infusion"],
    )
