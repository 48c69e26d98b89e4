"""Infections: suspend while active; discontinue after an opportunistic one; PML signs."""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire, newest
from natalizumab_cds.domain.timeline import StatusKind, StatusObservation

ACTIVE = RuleSpec(
    id="infection.active",
    title="Active infection",
    citation=Citation(
        "Protocol text",
        "Infection management",
        "suspend administration during an active infection",
        "Infection management: ... If an active infection occurs, drug administration "
        "should be suspended.",
    ),
)
OPPORTUNISTIC = RuleSpec(
    id="infection.opportunistic",
    title="Opportunistic infection (PML, herpes encephalitis/meningitis, ARN)",
    citation=Citation(
        "US PI",
        "Boxed warning, 5.1-5.3",
        "discontinue after PML, herpes encephalitis or meningitis, or acute retinal necrosis",
        "TYSABRI increases the risk of PML ... Discontinue TYSABRI in the event of herpes "
        "encephalitis or meningitis, or acute retinal necrosis.",
    ),
)
PML_SUSPECTED = RuleSpec(
    id="pml.suspected",
    title="New or worsening neurological symptoms",
    citation=Citation(
        "US PI",
        "Boxed warning",
        "withhold at the first sign or symptom suggestive of PML",
        "Withhold TYSABRI immediately at the first sign or symptom suggestive of PML.",
    ),
)


def screening_answer(ctx: Context, kind: StatusKind) -> StatusObservation | None:
    """Today's latest answer to a visit screening question (answers count on ``at``'s day)."""
    latest = ctx.timeline.latest_status(kind, ctx.at)
    if latest is None or ctx.day_of(latest.at) != ctx.today:
        return None
    return latest


def active(ctx: Context) -> list[Finding]:
    infections = ctx.protocol.value_set("active_infections")
    conditions = [
        c
        for c in ctx.timeline.conditions_known(ctx.at)
        if c.is_active(ctx.at) and infections.first_match(c.codes)
    ]
    reasons = [
        f"{c.name or infections.first_match(c.codes).display} ({c.clinical_status}"  # type: ignore[union-attr]
        + (f", since {ctx.day_of(c.at)}" if c.at else "")
        + ")"
        for c in conditions
    ]
    evidence = [c.id for c in conditions]
    answer = screening_answer(ctx, StatusKind.SCREEN_INFECTION)
    if answer is not None and answer.value == "true":
        reasons.append(f"screening answer 'active infection' = yes on {ctx.today}")
        evidence.append(answer.id)
    if not reasons:
        return []
    return fire(
        ACTIVE,
        Effect.HOLD,
        "Active infection: " + "; ".join(reasons),
        evidence=evidence,
        data_at=newest(*(c.at for c in conditions), answer.at if answer else None),
    )


def opportunistic(ctx: Context) -> list[Finding]:
    listed = ctx.protocol.value_set("opportunistic_infections")
    found = [
        (c, entry)
        for c in ctx.timeline.conditions_known(ctx.at)
        if (entry := listed.first_match(c.codes)) is not None
    ]
    if not found:
        return []
    described = "; ".join(
        f"{c.name or entry.display}" + (f" recorded {ctx.day_of(c.at)}" if c.at else "")
        for c, entry in found
    )
    return fire(
        OPPORTUNISTIC,
        Effect.DISCONTINUE,
        f"Opportunistic infection: {described}",
        evidence=[c.id for c, _ in found],
        data_at=newest(*(c.at for c, _ in found)),
    )


def pml_suspected(ctx: Context) -> list[Finding]:
    answer = screening_answer(ctx, StatusKind.SCREEN_NEURO)
    if answer is None or answer.value != "true":
        return []
    return fire(
        PML_SUSPECTED,
        Effect.HOLD,
        f"Screening on {ctx.today}: new or worsening neurological symptoms; "
        "withhold and evaluate for PML",
        evidence=[answer.id],
        data_at=answer.at,
    )
