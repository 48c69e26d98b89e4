"""Auditing every read of a patient's record and every change, through the unit of work.

``AuditedDatabase`` wraps the clinic's ``Database`` for one principal taking
one action (a request, a command). The use cases run unchanged; their unit of
work is watched:

- a change to a patient's record (resources added or replaced, the record's
  version raised) becomes one audit entry per patient, with the resources'
  versions and content hashes before and after. It is appended in the *same*
  transaction, just before commit: a change that fails leaves no audit entry,
  and an audit entry that cannot be written undoes the change.
- a read of a patient's record (entry, timeline, resources, history) becomes
  one entry per patient per transaction, appended right after the read
  transaction and before the use case returns, so no data leaves unrecorded.
- a patient search or a worklist page becomes one entry without a patient.
- what a use case notes itself (``note``: e.g. a dead lab message shown,
  retried or discarded, which is no patient's record yet) becomes one entry
  each, appended with the transaction's other entries.

The resources' content is not copied into the trail: every version is kept in
``resources`` / ``resource_history`` and the trail pins it by SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from natalizumab_cds.application.ports import Clock, Database, UnitOfWork
from natalizumab_cds.application.security.audit import AuditEntry, Operation
from natalizumab_cds.application.security.audit_watch import (
    WatchedRecords,
    WatchedSummaries,
    WatchedVisits,
)
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.security.ports import AuditTrail


class _Watched:
    """The unit of work the use case sees: the same transaction, watched."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._records = WatchedRecords(uow.records)
        self._summaries = WatchedSummaries(uow.summaries)
        self._visits = WatchedVisits(uow.visits, self._records)
        self.notes: list[tuple[Operation, str, str]] = []

    def note(self, operation: Operation, entity: str, detail: str) -> None:
        """Have the audit trail record this, in this transaction."""
        self.notes.append((operation, entity, detail))

    @property
    def records(self) -> WatchedRecords:
        return self._records

    @property
    def summaries(self) -> WatchedSummaries:
        return self._summaries

    @property
    def visits(self) -> WatchedVisits:
        return self._visits

    @property
    def audit(self) -> AuditTrail:
        return self._uow.audit


@runtime_checkable
class Noting(Protocol):
    """A unit of work that can take a use case's own audit notes (``_Watched``)."""

    def note(self, operation: Operation, entity: str, detail: str) -> None: ...


class AuditedDatabase:
    def __init__(
        self,
        inner: Database,
        actor: Principal,
        action: Action | Callable[[], Action],
        clock: Clock,
    ) -> None:
        """``action`` may be given late (a callable asked at each transaction): an
        entry point that learns it only after building the clinic still audits
        under the right word, and one that never names it fails instead of
        going unaudited."""
        self._inner = inner
        self._actor = actor
        self._action = action
        self._clock = clock

    @property
    def actor(self) -> Principal:
        return self._actor

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        self._action_word()  # no action named: fail before any work
        with self._inner.writing() as uow:
            watched = _Watched(uow)
            yield watched
            entries = self._changes(watched.records)
            entries += [
                self._entry(operation, None, entity=entity, detail=detail)
                for operation, entity, detail in watched.notes
            ]
            if entries:
                uow.audit.append(entries, self._clock.now())

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        self._action_word()  # no action named: fail before any work
        watched: _Watched | None = None
        try:
            with self._inner.reading() as uow:
                watched = _Watched(uow)
                yield watched
        finally:
            entries = self._reads(watched) if watched is not None else []
            if entries:
                with self._inner.writing() as uow:
                    uow.audit.append(entries, self._clock.now())

    def reachable(self) -> bool:
        return self._inner.reachable()

    def close(self) -> None:
        """The wrapped database belongs to the process, not to this request."""

    def _action_word(self) -> str:
        action = self._action if isinstance(self._action, Action) else self._action()
        return action.value

    def _entry(self, operation: Operation, patient_id: str | None, **fields: Any) -> AuditEntry:
        entity = f"Patient/{patient_id}" if patient_id else fields.pop("entity", "")
        return AuditEntry(
            action=self._action_word(),
            operation=operation,
            actor=self._actor.username,
            role=self._actor.role.value,
            patient_id=patient_id,
            entity=entity,
            **fields,
        )

    def _reads(self, watched: _Watched) -> list[AuditEntry]:
        records, summaries = watched.records, watched.summaries
        entries = [self._entry(Operation.READ, pid) for pid in sorted(records.read)]
        entries += [
            self._entry(Operation.READ, None, entity="Patient", detail=f"search: {n} listed")
            for n in records.searches
        ]
        if summaries.worklists:
            entries.append(
                self._entry(
                    Operation.READ, None, entity="Worklist", detail=_lists(summaries.worklists)
                )
            )
        entries += [
            self._entry(Operation.READ, None, entity="SafetyReport", detail=f"safety report: {n}")
            for n in summaries.safety_reports
        ]
        return entries

    def _changes(self, records: WatchedRecords) -> list[AuditEntry]:
        entries = []
        for patient_id, change in sorted(records.changes.items()):
            operation = Operation.CREATE if change.created else Operation.UPDATE
            entries.append(
                self._entry(
                    operation,
                    patient_id,
                    before=None if change.created else change.before(),
                    after=change.after(),
                )
            )
        return entries


def _lists(rows: list[int]) -> str:
    """What one transaction's worklist reads showed: one entry, however many lists."""
    if len(rows) == 1:
        return f"worklist: {rows[0]} rows"
    counts = ", ".join(str(n) for n in rows)
    return f"worklist: {sum(rows)} rows in {len(rows)} lists ({counts})"
