"""Assessing a stored record, and turning the assessment into the worklist's summary.

Everything the use cases need to assess is gathered in ``ClinicContext`` (the
record format, the protocol, the clinic's time zone and the clock), built once
in bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from natalizumab_cds.application.ports import Clock, RecordFormat
from natalizumab_cds.application.records import (
    ClinicianDecision,
    DecisionKind,
    ItemDue,
    StoredResource,
    Summary,
)
from natalizumab_cds.domain.assessment import Assessment, assess, assess_next_infusion
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Effect
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.safety import safety_facts
from natalizumab_cds.domain.timeline import Timeline

#: The resource type that records clinicians' decisions (overrides, acknowledgements).
DECISION_RESOURCE = "DetectedIssue"


@dataclass(frozen=True, slots=True)
class ClinicContext:
    format: RecordFormat
    protocol: Protocol
    tz: tzinfo
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def timeline(self, resources: Iterable[StoredResource]) -> Timeline:
        return self.format.timeline(r.content for r in resources)

    def assess(self, timeline: Timeline, at: datetime) -> Assessment:
        return assess(timeline, self.protocol, at, self.tz)

    def assess_next_infusion(self, timeline: Timeline, now: Assessment) -> Assessment:
        """The assessment for the patient's next infusion, given the one made now.

        When the next infusion is due after today, the record is assessed on its
        due date (at this time of day): "may she have it then, on what we know
        today?". Otherwise (due today, overdue, no infusion yet) it is ``now``.
        """
        return assess_next_infusion(timeline, self.protocol, now, self.tz)

    def decisions(
        self, patient_id: str, resources: Iterable[StoredResource]
    ) -> list[ClinicianDecision]:
        """The clinicians' decisions kept in a record, oldest first."""
        found = []
        for resource in resources:
            if resource.resource_type == DECISION_RESOURCE:
                decision = self.format.decision_of(patient_id, resource.content)
                if decision is not None:
                    found.append(decision)
        return sorted(found, key=lambda d: (d.at, d.id))

    def summarise(
        self,
        patient_id: str,
        record_version: int,
        resources: Sequence[StoredResource],
        timeline: Timeline | None = None,
    ) -> Summary:
        """The summary row of a record: its decision for the next infusion.

        The decision and the findings that need attention are those of the
        patient's next infusion (``assess_next_infusion``): a patient infused
        ten days ago is not "on hold" because it is too soon today. The monitoring
        dues, the safety facts and the day it was assessed are as of now.
        A stored record that can no longer be read (say, after a protocol change)
        still gets a row, with no decision and the reason, so it shows on the
        worklist instead of vanishing from it.
        """
        at = self.now()
        try:
            if timeline is None:
                timeline = self.timeline(resources)
            now = self.assess(timeline, at)
            assessment = self.assess_next_infusion(timeline, now)
        except InvalidInput as error:
            return Summary(
                patient_id,
                record_version,
                at,
                at.astimezone(self.tz).date(),
                self.protocol.version,
                decision=None,
                problem=str(error),
            )
        summary = summary_of(
            patient_id,
            record_version,
            assessment,
            self.decisions(patient_id, resources),
            self.tz,
            today=at.astimezone(self.tz).date(),
        )
        return replace(
            summary,
            assessed_at=at,
            dues=tuple(ItemDue(e.item.value, e.last, e.due) for e in now.monitoring),
            safety=safety_facts(timeline, self.protocol, at, self.tz),
        )


def summary_of(
    patient_id: str,
    record_version: int,
    assessment: Assessment,
    decisions: Iterable[ClinicianDecision],
    tz: tzinfo,
    today: date | None = None,
) -> Summary:
    """Decision, findings that need attention, and every item's due date.

    ``today`` (default: the assessment's day) is the day the row is made: a
    caution counts as acknowledged when it was acknowledged that day.
    """
    today = today or assessment.at.astimezone(tz).date()
    attention = tuple(f.rule for f in assessment.findings if f.effect.rank >= Effect.CAUTION.rank)
    cautions = {f.rule for f in assessment.findings if f.effect is Effect.CAUTION}
    acknowledged = sorted(
        {
            d.rule
            for d in decisions
            if d.kind is DecisionKind.ACKNOWLEDGE
            and d.rule in cautions
            and d.at.astimezone(tz).date() == today
        }
    )
    return Summary(
        patient_id=patient_id,
        record_version=record_version,
        assessed_at=assessment.at,
        assessed_on=today,
        protocol_version=assessment.protocol_version,
        decision=assessment.decision.value,
        attention=attention,
        acknowledged=tuple(acknowledged),
        dues=tuple(ItemDue(e.item.value, e.last, e.due) for e in assessment.monitoring),
    )
