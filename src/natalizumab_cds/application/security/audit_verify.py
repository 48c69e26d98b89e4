"""Checking the audit chain end to end, and reading it (the administrator's actions).

``verify`` walks every record in sequence order and stops at the first broken
link, which it names by sequence number:

- a gap in the sequence numbers: a record was deleted (or one inserted out of turn);
- a record whose ``previous_hash`` is not its predecessor's hash: something was
  inserted, deleted or reordered before it;
- a record whose own hash does not match its fields: it was edited;
- a chain that ends before the head says it does: records were cut off the end.

It reads the rows as a stream (constant memory; a million rows in seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from natalizumab_cds.application.ports import Clock
from natalizumab_cds.application.security.audit import (
    GENESIS,
    AuditEntry,
    AuditRecord,
    Operation,
    Outcome,
    record_hash,
)
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.security.ports import AuditQuery, SecurityDatabase
from natalizumab_cds.domain.errors import InvalidInput, NtzError

log = logging.getLogger(__name__)

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class BrokenLink:
    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"sequence {self.sequence}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    last_sequence: int
    last_hash: str
    broken: BrokenLink | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify(rows: Iterable[Sequence[Any]], head: tuple[int, str]) -> Verification:
    """Check rows (``ROW_FIELDS`` order, by sequence) against each other and the head."""
    expected, previous, checked = 1, GENESIS, 0
    for row in rows:
        sequence = row[0]
        broken = None
        if sequence != expected:
            broken = BrokenLink(
                expected,
                f"record {expected} is missing (the next record is {sequence}): "
                "a record was deleted or inserted out of turn",
            )
        elif row[12] != previous:
            broken = BrokenLink(
                sequence,
                f"record {sequence} does not link to record {sequence - 1}: "
                "a record was inserted, deleted or reordered before it",
            )
        elif record_hash(row) != row[13]:
            broken = BrokenLink(
                sequence, f"record {sequence} does not match its hash: it was edited"
            )
        if broken is not None:
            return Verification(checked, expected - 1, previous, broken)
        previous = row[13]
        expected += 1
        checked += 1
    last = expected - 1
    if head != (last, previous):
        return Verification(
            checked,
            last,
            previous,
            BrokenLink(
                last + 1,
                f"the chain ends at record {last} but its head says {head[0]}: "
                "records were cut off the end or the head was altered",
            ),
        )
    return Verification(checked, last, previous)


class AuditTrailQueries:
    """Reading and verifying the trail; each use is itself recorded."""

    def __init__(self, database: SecurityDatabase, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def verify(self, actor: Principal) -> Verification:
        actor.require(Action.VERIFY_AUDIT)
        with self._database.reading() as uow:
            result = verify(uow.audit_log.rows(), uow.audit_log.head())
        outcome = Outcome.SUCCESS if result.intact else Outcome.SERIOUS_FAILURE
        detail = f"{result.checked} records checked" + (
            f"; broken at {result.broken}" if result.broken else "; intact"
        )
        try:
            self._record(actor, Action.VERIFY_AUDIT, Operation.EXECUTE, outcome, detail)
        except NtzError:
            if result.intact:
                raise
            # A chain cut short behind its head (or longer than it) cannot take new
            # records; the finding matters more than recording that it was made.
            log.warning("audit chain broken; the verification itself could not be recorded")
        return result

    def records(self, actor: Principal, query: AuditQuery) -> list[AuditRecord]:
        actor.require(Action.READ_AUDIT)
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInput(f"limit: must be from 1 to {MAX_PAGE}, got {query.limit}")
        with self._database.reading() as uow:
            found = uow.audit_log.records(query)
        detail = f"{len(found)} records" + (
            f" of Patient/{query.patient_id}" if query.patient_id else ""
        )
        self._record(actor, Action.READ_AUDIT, Operation.READ, Outcome.SUCCESS, detail)
        return found

    def export(self, actor: Principal, query: AuditQuery) -> Iterator[AuditRecord]:
        """Every record the query selects, page by page, in sequence order (one audit entry)."""
        actor.require(Action.READ_AUDIT)
        after, count = query.after_sequence, 0
        while True:
            page = replace(query, after_sequence=after, limit=MAX_PAGE)
            with self._database.reading() as uow:
                found = uow.audit_log.records(page)
            yield from found
            count += len(found)
            if len(found) < MAX_PAGE:
                break
            after = found[-1].sequence
        detail = f"exported {count} records" + (
            f" of Patient/{query.patient_id}" if query.patient_id else ""
        )
        self._record(actor, Action.READ_AUDIT, Operation.READ, Outcome.SUCCESS, detail)

    def _record(
        self, actor: Principal, action: Action, operation: Operation, outcome: Outcome, detail: str
    ) -> None:
        entry = AuditEntry(
            action.value,
            operation,
            actor.username,
            actor.role.value,
            entity="AuditTrail",
            outcome=outcome,
            detail=detail,
        )
        with self._database.writing() as uow:
            uow.audit.append([entry], self._clock.now())
