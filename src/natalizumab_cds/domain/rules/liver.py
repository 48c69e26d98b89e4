"""Liver function: a baseline before the first infusion, and a stop at 3 x ULN."""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire, number
from natalizumab_cds.domain.timeline import Analyte, quantity_text

_QUOTE = (
    "Liver function: Test ALT/AST at baseline and every 3 months; if the abnormal value "
    "is ≥ 3 times the upper limit of normal (ULN), drug use should be suspended."
)
BASELINE_MISSING = RuleSpec(
    id="liver.baseline-missing",
    title="No baseline ALT/AST before the first infusion",
    citation=Citation("Protocol text", "Liver function", "ALT/AST at baseline", _QUOTE),
)
ELEVATED = RuleSpec(
    id="liver.elevated",
    title="ALT or AST at or above 3 x ULN",
    citation=Citation("Protocol text", "Liver function", "suspend if ≥ 3 × ULN", _QUOTE),
)
_DEFAULT_ULN = {Analyte.ALT: "default_uln_alt", Analyte.AST: "default_uln_ast"}


def baseline_missing(ctx: Context) -> list[Finding]:
    if ctx.timeline.completed_infusions(ctx.at):
        return []
    window = ctx.protocol.interval("liver_baseline_window")
    since = window.before(ctx.today)
    missing = [
        analyte.name
        for analyte in (Analyte.ALT, Analyte.AST)
        if not any(ctx.day_of(r.at) >= since for r in ctx.timeline.results(analyte, ctx.at))
    ]
    if not missing:
        return []
    return fire(
        BASELINE_MISSING,
        Effect.HOLD,
        f"First infusion: no {' or '.join(missing)} result from {since} to {ctx.today} "
        f"({window} baseline window)",
        evidence=[ctx.timeline.patient.id],
        suggestions=[f"Order {' and '.join(missing)} before the first infusion"],
    )


def elevated(ctx: Context) -> list[Finding]:
    multiple = ctx.protocol.number("liver_uln_multiple")
    findings: list[Finding] = []
    for analyte in (Analyte.ALT, Analyte.AST):
        latest = ctx.timeline.latest_result(analyte, ctx.at)
        if latest is None:
            continue
        default = latest.high is None
        uln = ctx.protocol.number(_DEFAULT_ULN[analyte]) if default else latest.high
        assert uln is not None
        # A hair of tolerance so that exactly 3 x ULN written in decimals still counts.
        if latest.value < multiple * uln - 1e-9:
            continue
        source = "protocol default ULN" if default else "ULN"
        findings += fire(
            ELEVATED,
            Effect.HOLD,
            f"{analyte.name} {quantity_text(number(latest.value), latest.unit)} on "
            f"{ctx.day_of(latest.at)} is {number(round(latest.value / uln, 1))} × {source} "
            f"({quantity_text(number(uln), latest.unit)})",
            evidence=[latest.id],
            data_at=latest.at,
            suggestions=[f"Repeat {analyte.name}; hold until below {number(multiple)} × ULN"],
        )
    return _merge(findings)


def _merge(findings: list[Finding]) -> list[Finding]:
    """ALT and AST both high make one finding that names both."""
    if len(findings) < 2:
        return findings
    first, second = findings
    return fire(
        ELEVATED,
        Effect.HOLD,
        f"{first.summary}; {second.summary}",
        evidence=first.evidence + second.evidence,
        data_at=max(d for d in (first.data_at, second.data_at) if d is not None),
        suggestions=first.suggestions + second.suggestions,
    )
