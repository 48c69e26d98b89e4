"""``assess``: every rule, the schedule and the overrides, into one decision.

Same timeline + same protocol + same ``at`` ⇒ the same assessment; nothing dated
after ``at`` is looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import (
    Decision,
    Effect,
    Finding,
    Override,
    Severity,
    worst_first,
)
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.rules.catalogue import OVERRIDABLE, RULES
from natalizumab_cds.domain.rules.rule import Context, Rule
from natalizumab_cds.domain.schedule import (
    Item,
    ScheduleEntry,
    monitoring_schedule,
    overdue_findings,
)
from natalizumab_cds.domain.timeline import Timeline


@dataclass(frozen=True, slots=True)
class Assessment:
    patient: str
    at: datetime
    protocol_name: str
    protocol_version: str
    decision: Decision
    findings: tuple[Finding, ...]
    monitoring: tuple[ScheduleEntry, ...]

    def finding(self, rule: str) -> Finding | None:
        return next((f for f in self.findings if f.rule == rule), None)

    @property
    def rules_fired(self) -> frozenset[str]:
        return frozenset(f.rule for f in self.findings)


def assess(
    timeline: Timeline,
    protocol: Protocol,
    at: datetime,
    tz: tzinfo = UTC,
    rules: Sequence[Rule] = RULES,
) -> Assessment:
    """Evaluate every rule for ``timeline`` at the moment ``at``."""
    if at.tzinfo is None:
        raise InvalidInput(f"assessment moment {at.isoformat()} has no time zone")
    ctx = Context(timeline=timeline, protocol=protocol, at=at, tz=tz)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.evaluate(ctx))
    schedule = monitoring_schedule(timeline, protocol, at, tz)
    findings.extend(overdue_findings(schedule, ctx.today))
    findings = apply_overrides(findings, timeline.overrides_known(at))
    ordered = worst_first(findings)
    worst = max((f.effect for f in ordered), key=lambda e: e.rank, default=Effect.NONE)
    return Assessment(
        patient=timeline.patient.id,
        at=at,
        protocol_name=protocol.name,
        protocol_version=protocol.version,
        decision=Decision.from_effect(worst),
        findings=tuple(ordered),
        monitoring=tuple(schedule),
    )


def apply_overrides(findings: list[Finding], overrides: Iterable[Override]) -> list[Finding]:
    """Lower overridable findings to caution when a clinician's override covers them.

    An override covers a finding when it names the rule and is not older than the
    newest data the finding used: newer data that fires the rule again wins.
    """
    by_rule: dict[str, list[Override]] = {}
    for override in overrides:
        by_rule.setdefault(override.rule, []).append(override)
    result = []
    for finding in findings:
        candidates = [
            o
            for o in by_rule.get(finding.rule, ())
            if finding.rule in OVERRIDABLE and (finding.data_at is None or o.at >= finding.data_at)
        ]
        if not candidates or finding.effect.rank <= Effect.CAUTION.rank:
            result.append(_with_lapsed_override(finding, by_rule.get(finding.rule, ())))
            continue
        latest = max(candidates, key=lambda o: (o.at, o.id))  # a tie never depends on order
        result.append(
            replace(
                finding,
                effect=Effect.CAUTION,
                severity=Severity.WARNING,
                overridden=True,
                override=latest,
                original_effect=finding.effect,
            )
        )
    return result


def _with_lapsed_override(finding: Finding, overrides: Iterable[Override]) -> Finding:
    """Say so when a clinician's override of this rule no longer applies: data newer
    than the override fired the rule again (e.g. "pregnant" recorded since)."""
    older = [o for o in overrides if finding.data_at is not None and o.at < finding.data_at]
    if finding.rule not in OVERRIDABLE or not older:
        return finding
    last = max(older, key=lambda o: (o.at, o.id))
    return replace(
        finding,
        summary=f"{finding.summary}. The override by {last.author} on "
        f"{last.at.date().isoformat()} no longer applies: the data above is newer",
    )


def next_infusion_moment(assessment: Assessment, tz: tzinfo) -> datetime | None:
    """The next infusion's due date at the assessment's time of day, if after its day.

    What the worklist and a chart opened in the EHR ask about a patient between
    infusions: not "may she be infused now?" (no: too soon) but "may she have the
    next one when it is due?" None when it is due that day, overdue, or there is
    no infusion schedule yet.
    """
    local = assessment.at.astimezone(tz)
    for entry in assessment.monitoring:
        if entry.item is Item.INFUSION and entry.due is not None and entry.due > local.date():
            return datetime.combine(entry.due, local.timetz()).astimezone(assessment.at.tzinfo)
    return None


def assess_next_infusion(
    timeline: Timeline, protocol: Protocol, now: Assessment, tz: tzinfo
) -> Assessment:
    """The assessment for the next infusion, given the one made now (``now`` itself
    unless the next infusion is due after ``now``'s day: then on its due date)."""
    moment = next_infusion_moment(now, tz)
    return now if moment is None else assess(timeline, protocol, moment, tz)
