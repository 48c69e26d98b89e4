"""No other immunosuppressant, antineoplastic or immunomodulator alongside natalizumab."""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire, newest

CONCURRENT = RuleSpec(
    id="immunosuppression.concurrent",
    title="Concurrent immunosuppressant",
    citation=Citation(
        "Protocol text",
        "Concurrent medication",
        "concurrent immunosuppressants prohibited (label REMS: also antineoplastic and "
        "immunomodulating agents)",
        "Concurrent medication: Concurrent use with other immunosuppressants (e.g., "
        "azathioprine) is prohibited, as it may increase the risk of opportunistic infections.",
    ),
)


def concurrent(ctx: Context) -> list[Finding]:
    listed = ctx.protocol.value_set("immunosuppressants")
    excluded = ctx.protocol.value_set("immunosuppressant_exclusions")
    hits = []
    for medication in ctx.timeline.active_medications(ctx.at):
        if excluded.first_match(medication.codes):
            continue
        entry = listed.first_match(medication.codes)
        if entry is not None:
            name = medication.name or entry.display
            since = f" since {ctx.day_of(medication.start)}" if medication.start else ""
            hits.append((medication, f"{name}{since} ({entry.display}, {entry.code})"))
    if not hits:
        return []
    return fire(
        CONCURRENT,
        Effect.HOLD,
        "Active immunosuppressive medicine: " + "; ".join(text for _, text in hits),
        evidence=[m.id for m, _ in hits],
        data_at=newest(*(m.start for m, _ in hits)),
    )
