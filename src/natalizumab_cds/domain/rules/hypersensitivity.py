"""A hypersensitivity reaction to natalizumab ends treatment for good."""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire, newest

PRIOR_REACTION = RuleSpec(
    id="hypersensitivity.prior-reaction",
    title="Prior hypersensitivity reaction to natalizumab",
    citation=Citation(
        "Protocol text",
        "Allergic reactions",
        "severe systemic reactions require immediate discontinuation "
        "(label: never re-treat after a hypersensitivity reaction)",
        "Allergic reactions: Approximately 1.3% of patients experience severe systemic "
        "reactions, most of which occur within 2 hours of infusion. Symptoms include "
        "urticaria, hypotension, dyspnea, etc. Immediate drug discontinuation and "
        "emergency treatment are required.",
    ),
)


def prior_reaction(ctx: Context) -> list[Finding]:
    natalizumab = ctx.protocol.value_set("natalizumab")
    reactions = [
        a for a in ctx.timeline.allergies_known(ctx.at) if natalizumab.first_match(a.codes)
    ]
    if not reactions:
        return []
    described = "; ".join(
        (f"on {ctx.day_of(a.at)}" if a.at else "date not recorded")
        + (f" ({a.reaction})" if a.reaction else "")
        for a in reactions
    )
    return fire(
        PRIOR_REACTION,
        Effect.DISCONTINUE,
        f"Hypersensitivity to natalizumab recorded {described}: do not re-treat",
        evidence=[a.id for a in reactions],
        data_at=newest(*(a.at for a in reactions)),
    )
