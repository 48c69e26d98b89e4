"""Clinicians' decisions on findings: acknowledging a caution, overriding a rule.

A decision is kept in the patient's own record as a resource (a FHIR
DetectedIssue), so the next assessment reads an override through the same
reader as everything else, and exports carry it. It is checked against the
assessment at the moment it is made, inside the same transaction that writes it.
"""

from __future__ import annotations

from uuid import uuid4

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import DecisionRefused, NotOverridable, UnknownPatient
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.recording import RecordWriter, with_retries
from natalizumab_cds.application.records import ClinicianDecision, DecisionKind, IncomingRecord
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Effect
from natalizumab_cds.domain.rules.catalogue import OVERRIDABLE, SPECS
from natalizumab_cds.domain.schedule import OVERDUE_SPECS

KNOWN_RULES = frozenset(SPECS) | frozenset(spec.id for spec in OVERDUE_SPECS.values())


class ClinicianDecisions:
    def __init__(self, database: Database, context: ClinicContext) -> None:
        self._database = database
        self._context = context

    def record(
        self, patient_id: str, kind: DecisionKind, rule: str, author: str, reason: str = ""
    ) -> ClinicianDecision:
        """Check the decision against the current findings and keep it in the record."""
        author, reason = author.strip(), reason.strip()
        if not author:
            raise InvalidInput("author: is required (who takes the decision)")
        if rule not in KNOWN_RULES:
            raise InvalidInput(f"rule: {rule!r} is not a rule of the catalogue")
        if kind is DecisionKind.OVERRIDE:
            if rule not in OVERRIDABLE:
                raise NotOverridable(rule)
            if not reason:
                raise InvalidInput("reason: is required for an override (why it is safe)")

        def transaction() -> ClinicianDecision:
            with self._database.writing() as uow:
                writer = RecordWriter(uow, self._context)
                writer.load([IncomingRecord(patient_id, ())])
                record = writer.record(patient_id)
                if not record:
                    raise UnknownPatient(patient_id)
                at = self._context.now()
                assessment = self._context.assess(self._context.timeline(record), at)
                _check(assessment, kind, rule)
                decision = ClinicianDecision(
                    id=f"decision-{uuid4().hex}",
                    patient_id=patient_id,
                    kind=kind,
                    rule=rule,
                    author=author,
                    at=at,
                    reason=reason,
                )
                resource = self._context.format.decision_resource(decision)
                writer.apply([IncomingRecord(patient_id, (resource,))])
                writer.finish()
                return decision

        return with_retries(transaction)

    def listed(self, patient_id: str) -> list[ClinicianDecision]:
        """Every decision in the patient's record, newest first."""
        with self._database.reading() as uow:
            if uow.records.patient(patient_id) is None:
                raise UnknownPatient(patient_id)
            record = uow.records.resources([patient_id]).get(patient_id, [])
        return self._context.decisions(patient_id, record)[::-1]


def _check(assessment: Assessment, kind: DecisionKind, rule: str) -> None:
    finding = assessment.finding(rule)
    patient = assessment.patient
    if finding is None:
        raise DecisionRefused(
            f"{rule} does not fire for {patient} now: there is nothing to {kind.value}"
        )
    if kind is DecisionKind.ACKNOWLEDGE and finding.effect is not Effect.CAUTION:
        raise DecisionRefused(
            f"{rule} is a {finding.effect.value} finding for {patient}, not a caution: "
            "only cautions are acknowledged"
            + ("; an overridable rule takes an override" if rule in OVERRIDABLE else "")
        )
