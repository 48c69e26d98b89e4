"""An assessment rendered as CDS Hooks cards: one per finding that matters, and a summary.

Card ids are UUID v5 of (patient, rule, the clinic day of ``at``): the same
record asked about twice on one day gives the same ids, so the EHR can
de-duplicate and feedback can be matched to the rule. ``overrideReasons`` are
offered only on the rules the catalogue marks overridable; the override itself
is the DetectedIssue the EHR records (INTERFACES.md §1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, tzinfo

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect, Finding, Severity
from natalizumab_cds.domain.protocol import RULE_SYSTEM, Protocol
from natalizumab_cds.domain.rule_specs import rule_title
from natalizumab_cds.domain.rules.catalogue import OVERRIDABLE
from natalizumab_cds.domain.schedule import DueStatus
from natalizumab_cds.interop.cds_hooks.orders import order_suggestions
from natalizumab_cds.interop.cds_hooks.wire import SUMMARY_MAX, Card, Coding, Indicator, Source

CARD_NAMESPACE = uuid.UUID("6f1c7f52-3d1e-5a8e-9f0b-6e61747a6364")
DECISION_SYSTEM = "urn:natalizumab-cds:infusion-decision"
OVERRIDE_REASON_SYSTEM = "urn:natalizumab-cds:override-reason"
OVERRIDE_REASONS = (
    Coding(
        system=OVERRIDE_REASON_SYSTEM,
        code="benefit-risk-evaluated",
        display="Benefit-risk evaluated and documented by the treating neurologist",
    ),
    Coding(
        system=OVERRIDE_REASON_SYSTEM,
        code="informed-consent",
        display="Patient (or guardian) informed of the risk and consents",
    ),
    Coding(
        system=OVERRIDE_REASON_SYSTEM,
        code="specialist-decision",
        display="Decided with the MS specialist team",
    ),
)
_DECISION_WORDS = {
    Decision.PROCEED: "proceed: no finding stands in the way of the infusion",
    Decision.CAUTION: "caution: proceed only after a clinician acknowledges the findings",
    Decision.HOLD: "hold: do not infuse today",
    Decision.DISCONTINUE: "discontinue: stop natalizumab, do not re-treat",
}
_DECISION_INDICATOR = {
    Decision.PROCEED: Indicator.INFO,
    Decision.CAUTION: Indicator.WARNING,
    Decision.HOLD: Indicator.CRITICAL,
    Decision.DISCONTINUE: Indicator.CRITICAL,
}


def card_uuid(patient: str, rule: str, day: date) -> str:
    return str(uuid.uuid5(CARD_NAMESPACE, f"{patient}|{rule}|{day.isoformat()}"))


def render_cards(
    assessment: Assessment, protocol: Protocol, tz: tzinfo, *, show_warnings: bool
) -> list[Card]:
    """The summary card first, then a card per finding with effect ≥ caution.

    ``show_warnings`` adds effect-none warnings (overdue monitoring, disease
    activity) as info cards, for a chart view rather than a signing moment.
    """
    day = assessment.at.astimezone(tz).date()
    cards = [summary_card(assessment, day)]
    for finding in assessment.findings:
        if finding.effect.rank >= Effect.CAUTION.rank:
            cards.append(finding_card(assessment, finding, day, protocol, tz))
        elif show_warnings and finding.severity is Severity.WARNING:
            cards.append(finding_card(assessment, finding, day, protocol, tz, Indicator.INFO))
    return cards


def finding_card(
    assessment: Assessment,
    finding: Finding,
    day: date,
    protocol: Protocol,
    tz: tzinfo,
    indicator: Indicator | None = None,
) -> Card:
    identity = card_uuid(assessment.patient, finding.rule, day)
    suggestions = order_suggestions(finding, identity, assessment.patient, protocol, tz)
    offer_override = finding.rule in OVERRIDABLE and not finding.overridden
    return Card(
        uuid=identity,
        summary=shorten(card_summary(finding)),
        detail=finding_detail(finding),
        indicator=indicator or Indicator(finding.severity.value),
        source=Source(
            label=f"{protocol_label(assessment)} — {finding.basis}",
            topic=Coding(system=RULE_SYSTEM, code=finding.rule, display=rule_title(finding.rule)),
        ),
        suggestions=suggestions or None,
        selection_behavior="any" if suggestions else None,
        override_reasons=list(OVERRIDE_REASONS) if offer_override else None,
    )


def summary_card(assessment: Assessment, day: date) -> Card:
    decision = assessment.decision
    acting = [f for f in assessment.findings if f.effect.rank >= Effect.CAUTION.rank]
    count = f" ({_plural(len(acting), 'finding')})" if acting else ""
    overdue = sum(1 for e in assessment.monitoring if e.status is DueStatus.OVERDUE)
    late = f"; {_plural(overdue, 'monitoring item')} overdue" if overdue else ""
    return Card(
        uuid=card_uuid(assessment.patient, "decision", day),
        summary=shorten(f"Natalizumab {_DECISION_WORDS[decision]}{count}{late}"),
        detail=summary_detail(assessment),
        indicator=_DECISION_INDICATOR[decision],
        source=Source(
            label=protocol_label(assessment),
            topic=Coding(
                system=DECISION_SYSTEM, code=decision.value, display=f"Decision: {decision}"
            ),
        ),
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def protocol_label(assessment: Assessment) -> str:
    return f"{assessment.protocol_name} {assessment.protocol_version}"


def card_summary(finding: Finding) -> str:
    title = rule_title(finding.rule)
    if finding.summary.startswith(title):
        return finding.summary
    return f"{title}: {finding.summary}"


def shorten(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def finding_detail(finding: Finding) -> str:
    parts = [finding.summary, f"**Basis:** {finding.basis}", f"**Rule:** `{finding.rule}`"]
    if finding.override is not None:
        lowered = finding.original_effect.value if finding.original_effect else "hold"
        parts.append(
            f"**Overridden** by {finding.override.author} on "
            f"{finding.override.at.date().isoformat()} ({lowered} lowered to caution): "
            f"{finding.override.reason}"
        )
    if finding.evidence:
        parts.append("**Evidence:** " + ", ".join(finding.evidence))
    parts.extend(f"**Suggested:** {text}" for text in finding.suggestions)
    return "\n\n".join(parts)


def summary_detail(assessment: Assessment) -> str:
    lines = [
        f"**Decision:** {assessment.decision.value}, assessed at {assessment.at.isoformat()} "
        f"under {protocol_label(assessment)}.",
        "",
        *_finding_lines(assessment.findings),
        "",
        "**Monitoring**",
        "",
        "| item | last | due | status |",
        "|---|---|---|---|",
    ]
    for entry in assessment.monitoring:
        status = entry.status.value if entry.status is DueStatus.OK else f"**{entry.status.value}**"
        last = entry.last.isoformat() if entry.last else "never"
        lines.append(f"| {entry.item.value} | {last} | {entry.due.isoformat()} | {status} |")
    return "\n".join(lines)


def _finding_lines(findings: Iterable[Finding]) -> list[str]:
    lines = [f"- `{f.rule}` ({f.effect.value}): {f.summary}" for f in findings]
    return ["**Findings**", "", *lines] if lines else ["No rule fired."]
