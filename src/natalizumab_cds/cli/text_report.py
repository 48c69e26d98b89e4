"""``--format text``: decision first, then findings, then the schedule."""

from __future__ import annotations

import textwrap

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Finding

_COLOR = {
    Decision.PROCEED: "\x1b[1;32m",
    Decision.CAUTION: "\x1b[1;33m",
    Decision.HOLD: "\x1b[1;31m",
    Decision.DISCONTINUE: "\x1b[1;37;41m",
}
_MEANING = {
    Decision.PROCEED: "the infusion may go ahead",
    Decision.CAUTION: "proceed only after a clinician acknowledges the findings below",
    Decision.HOLD: "do not infuse today; resolve the findings below",
    Decision.DISCONTINUE: "stop natalizumab; do not re-treat",
}


def render_text(assessment: Assessment, *, color: bool = False) -> str:
    decision = assessment.decision
    word = decision.value.upper()
    banner = f"{_COLOR[decision]}{word}\x1b[0m" if color else word
    lines = [
        f"DECISION: {banner} - {_MEANING[decision]}",
        f"Patient {assessment.patient} at {assessment.at.isoformat()}",
        f"Protocol {assessment.protocol_name} {assessment.protocol_version}",
        "",
        f"Findings ({len(assessment.findings)}):" if assessment.findings else "Findings: none",
    ]
    for finding in assessment.findings:
        mark = " [overridden]" if finding.overridden else ""
        lines.append(f"  [{_badge(finding):<11}] {finding.rule}{mark}")
        lines += _wrapped(finding.summary, "      ")
        lines += _wrapped(f"Basis: {finding.basis}", "      ")
        if finding.override is not None:
            lines += _wrapped(
                f"Override by {finding.override.author} on {finding.override.at.date()}: "
                f"{finding.override.reason}",
                "      ",
            )
        for suggestion in finding.suggestions:
            lines += _wrapped(f"Suggest: {suggestion}", "      ")
        if finding.evidence:
            lines += _wrapped("Data: " + ", ".join(finding.evidence), "      ")
    lines += ["", "Monitoring schedule:", f"  {'item':<10} {'last done':<12} {'due':<12} status"]
    for entry in assessment.monitoring:
        last = entry.last.isoformat() if entry.last else "never"
        lines.append(
            f"  {entry.item.value:<10} {last:<12} {entry.due.isoformat():<12} {entry.status.value}"
        )
    return "\n".join(lines) + "\n"


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=96, initial_indent=indent, subsequent_indent=indent)


def _badge(finding: Finding) -> str:
    """The effect, or for an effect-none finding its severity (INFO, WARNING), as on the web."""
    if finding.effect is Effect.NONE:
        return finding.severity.value.upper()
    return finding.effect.value.upper()
