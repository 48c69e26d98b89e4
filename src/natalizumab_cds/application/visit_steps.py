"""One infusion-day step as one transaction, and what clearing a patient involves.

``StepRunner.run`` reads the visit, applies the domain step at the clinic
clock's "now", writes what the step adds to the patient's record through the
import path (``RecordWriter``: versions, history, summary rebuilt), and saves
the visit with its version check, then commits. A refusal, an invalid input or
a conflict raises before the commit, so nothing of the step is kept.

Each step is taken on the visit as the clinician saw it: the version sent
with the request, else the one read as the request arrives. When two
clinicians start the same visit at once, the second one's write finds the
visit at a newer version and gets ``VisitConflict``; it never applies its step
to a visit that changed under it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.ports import Database, UnitOfWork
from natalizumab_cds.application.recording import RecordWriter, with_retries
from natalizumab_cds.application.records import (
    ClinicianDecision,
    DecisionKind,
    IncomingRecord,
    IncomingResource,
)
from natalizumab_cds.application.visit_view import VisitView, view_of
from natalizumab_cds.application.visits import UnknownVisit, VisitConflict
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.findings import Decision, Effect, Finding
from natalizumab_cds.domain.infusion_events import Acknowledgement, stamp
from natalizumab_cds.domain.infusion_rules import ADMINISTRATION_REQUIRES_CLEARANCE
from natalizumab_cds.domain.infusion_visit import Visit


class AssessmentRefused(WorkflowRefused):
    """A clearance or start refused on the assessment; ``findings`` are those behind it."""

    def __init__(self, refusal: WorkflowRefused, assessment: Assessment) -> None:
        super().__init__(refusal.rule, refusal.reason, refusal.field)
        self.decision = assessment.decision
        self.findings = tuple(
            f for f in assessment.findings if f.effect.rank >= Effect.CAUTION.rank
        )


@dataclass(slots=True)
class StepScope:
    """What a step sees inside its transaction: the visit, the moment, the record."""

    uow: UnitOfWork
    context: ClinicContext
    visit: Visit
    at: datetime
    extra: list[IncomingResource] = field(default_factory=list)
    _writer: RecordWriter | None = None
    _assessment: Assessment | None = None

    @property
    def writer(self) -> RecordWriter:
        """The patient's record, locked for this transaction on first use."""
        if self._writer is None:
            self._writer = RecordWriter(self.uow, self.context)
            self._writer.load([IncomingRecord(self.visit.patient, ())])
        return self._writer

    def assessment(self) -> Assessment:
        """The patient's assessment at this step's moment, from the stored record."""
        if self._assessment is None:
            record = self.writer.record(self.visit.patient)
            self._assessment = self.context.assess(self.context.timeline(record), self.at)
        return self._assessment

    def moment(self, at: datetime | None, what: str = "at") -> datetime:
        """``at`` when the step is documented after the fact (never in the future), else now.

        ``what`` names the field in a refusal (``diluted_at``: the bag's dilution)."""
        if at is None:
            return self.at
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput(f"{what}: {at.isoformat()} has no time zone")
        if at > self.at:
            raise InvalidInput(f"{what}: {stamp(at)} is in the future (now is {stamp(self.at)})")
        return at


Step = Callable[[StepScope], Visit]
Writes = Callable[[Visit], Sequence[IncomingResource | None]]


def _nothing(_: Visit) -> Sequence[IncomingResource | None]:
    return ()


class StepRunner:
    def __init__(self, database: Database, context: ClinicContext) -> None:
        self._database = database
        self._context = context

    def run(
        self, visit_id: str, expected: int | None, step: Step, writes: Writes = _nothing
    ) -> VisitView:
        """Apply ``step`` to the stored visit and keep the result, all or nothing.

        Without ``expected`` the step is taken on the visit as it stood when the
        request came in: a visit changed between then and the write is a conflict.
        """
        if expected is None:
            expected = self._version_now(visit_id)

        def transaction() -> VisitView:
            with self._database.writing() as uow:
                stored = uow.visits.get(visit_id)
                if stored is None:
                    raise UnknownVisit(visit_id)
                if stored.version != expected:
                    raise VisitConflict(visit_id, expected, stored.version)
                scope = StepScope(uow, self._context, stored.visit, self._context.now())
                after = step(scope)
                added = [*scope.extra, *(r for r in writes(after) if r is not None)]
                if added:
                    scope.writer.apply([IncomingRecord(after.patient, tuple(added))])
                    scope.writer.finish()
                saved = uow.visits.save(after, stored.version, scope.at)
                return view_of(saved, scope.at, self._context.protocol)

        return with_retries(transaction)

    def _version_now(self, visit_id: str) -> int:
        with self._database.reading() as uow:
            stored = uow.visits.get(visit_id)
        if stored is None:
            raise UnknownVisit(visit_id)
        return stored.version


def checked(scope: StepScope, step: Callable[[Decision], Visit]) -> Visit:
    """Run a step that rests on the assessment; a refusal names the findings behind it."""
    assessment = scope.assessment()
    try:
        return step(assessment.decision)
    except WorkflowRefused as refusal:
        if refusal.rule != ADMINISTRATION_REQUIRES_CLEARANCE.id:
            raise
        raise AssessmentRefused(refusal, assessment) from None


def acknowledgement(scope: StepScope, by: str, acknowledge: bool) -> Acknowledgement | None:
    """The acknowledgement of a ``caution`` decision a clearance carries, if there is one.

    Either the clinician clearing the patient acknowledges now (each caution is
    then kept in the record as an acknowledgement, like one made through the
    decisions use case), or every caution was already acknowledged today.
    """
    assessment = scope.assessment()
    if assessment.decision is not Decision.CAUTION:
        return None
    cautions = [f for f in assessment.findings if f.effect is Effect.CAUTION]
    earlier = _acknowledged_today(scope, cautions)
    if acknowledge:
        for finding in cautions:
            if finding.rule not in earlier:
                scope.extra.append(_acknowledging(scope, finding, by))
        return Acknowledgement(by=by, at=scope.at)
    if cautions and all(f.rule in earlier for f in cautions):
        last = max(earlier.values(), key=lambda d: d.at)
        return Acknowledgement(by=last.author, at=last.at)
    return None


def _acknowledged_today(scope: StepScope, cautions: list[Finding]) -> dict[str, ClinicianDecision]:
    tz = scope.context.tz
    today = scope.at.astimezone(tz).date()
    rules = {f.rule for f in cautions}
    record = scope.writer.record(scope.visit.patient)
    return {
        d.rule: d
        for d in scope.context.decisions(scope.visit.patient, record)
        if d.kind is DecisionKind.ACKNOWLEDGE
        and d.rule in rules
        and d.at.astimezone(tz).date() == today
        and d.at <= scope.at
    }


def _acknowledging(scope: StepScope, finding: Finding, by: str) -> IncomingResource:
    decision = ClinicianDecision(
        id=f"decision-{uuid4().hex}",
        patient_id=scope.visit.patient,
        kind=DecisionKind.ACKNOWLEDGE,
        rule=finding.rule,
        author=by,
        at=scope.at,
        reason=f"acknowledged when clearing visit {scope.visit.id}",
    )
    return scope.context.format.decision_resource(decision)
