"""The lab feed's ports in SQL, inside the clinic database's transactions.

``SqlLabFeedDatabase.writing()`` opens one clinic unit of work (one connection,
one transaction; audited when a wrapper is given) and hands the lab feed four
views of it: patients by MRN, the
patients' records (the import's writer, so results are stored exactly as a FHIR
import would store them), the message log and the dead letters. Results and
message id are therefore committed together or not at all.

A second insert of the same (sender, MSH-10) - two processes receiving the same
message at once - violates the log's primary key; the clinic database turns
that into ``ConcurrentUpdate``, the use case runs the transaction again and now
finds the message accepted.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.lab_messages import (
    AcceptedMessage,
    AckCode,
    DeadLetter,
    NewDeadLetter,
)
from natalizumab_cds.application.lab_records import RecordObservations
from natalizumab_cds.application.ports import Database, UnitOfWork
from natalizumab_cds.application.security.audit import Operation
from natalizumab_cds.application.security.audited import Noting
from natalizumab_cds.persistence.bulk import BulkInsert
from natalizumab_cds.persistence.database import SqlDatabase, SqlUnitOfWork
from natalizumab_cds.persistence.hl7_tables import (
    CONTROL_ID_LENGTH,
    SENDER_LENGTH,
    hl7_dead_letters,
    hl7_messages,
)
from natalizumab_cds.persistence.patient_records import chunks
from natalizumab_cds.persistence.tables import patients

_BY_MRNS = (
    select(patients.c.mrn, patients.c.id)
    .where(patients.c.mrn.in_(bindparam("mrns", expanding=True)))
    .order_by(patients.c.mrn, patients.c.id)
)
_ACCEPTED = select(hl7_messages).where(
    hl7_messages.c.sender == bindparam("sender"),
    hl7_messages.c.control_id.in_(bindparam("ids", expanding=True)),
)


class SqlPatientDirectory:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def patients_by_mrns(self, mrns: Collection[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for part in chunks(sorted(mrns)):
            for mrn, patient_id in self._db.execute(_BY_MRNS, {"mrns": part}):
                found.setdefault(mrn, []).append(f"Patient/{patient_id}")
        return found


_LOG_ACCEPTED = BulkInsert(
    hl7_messages, ("sender", "control_id", "patient_id", "accepted_at", "stored", "note")
)


class SqlMessageLog:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def accepted(self, sender: str, control_id: str) -> AcceptedMessage | None:
        row = self._db.execute(
            select(hl7_messages).where(
                hl7_messages.c.sender == sender, hl7_messages.c.control_id == control_id
            )
        ).first()
        return None if row is None else _accepted(row)

    def accepted_many(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], AcceptedMessage]:
        found: dict[tuple[str, str], AcceptedMessage] = {}
        by_sender: dict[str, list[str]] = {}
        for sender, control_id in keys:
            by_sender.setdefault(sender, []).append(control_id)
        for sender, control_ids in sorted(by_sender.items()):
            for part in chunks(sorted(control_ids)):
                for row in self._db.execute(_ACCEPTED, {"sender": sender, "ids": part}):
                    found[(row.sender, row.control_id)] = _accepted(row)
        return found

    def record_accepted_many(self, entries: Sequence[AcceptedMessage]) -> None:
        _LOG_ACCEPTED(
            self._db,
            [(e.sender, e.control_id, e.patient, e.accepted_at, e.stored, e.note) for e in entries],
        )


def _accepted(row: Row[Any]) -> AcceptedMessage:
    return AcceptedMessage(
        row.sender, row.control_id, row.patient_id, row.accepted_at, row.stored, row.note
    )


def _letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        received_at=row.received_at,
        code=AckCode(row.code),
        reason=row.reason,
        raw=bytes(row.raw),
        control_id=row.control_id,
        sender=row.sender,
        attempts=row.attempts,
        status=row.status,
        resolution=row.resolution,
    )


class SqlDeadLetters:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def keep(self, letter: NewDeadLetter) -> int:
        digest = hashlib.sha256(letter.raw).hexdigest()
        same = self._db.execute(
            select(hl7_dead_letters.c.id, hl7_dead_letters.c.raw).where(
                hl7_dead_letters.c.raw_sha256 == digest, hl7_dead_letters.c.status == "open"
            )
        ).first()
        if same is not None and bytes(same.raw) == letter.raw:
            self._attempt(same.id, letter.code, letter.reason, letter.received_at)
            return int(same.id)
        created = self._db.execute(
            insert(hl7_dead_letters)
            .values(
                received_at=letter.received_at,
                last_attempt_at=letter.received_at,
                attempts=1,
                code=str(letter.code),
                reason=letter.reason,
                sender=letter.sender[:SENDER_LENGTH],
                control_id=letter.control_id[:CONTROL_ID_LENGTH],
                raw_sha256=digest,
                raw=letter.raw,
                status="open",
                resolution="",
            )
            .returning(hl7_dead_letters.c.id)
        )
        return int(created.scalar_one())

    def get(self, letter_id: int) -> DeadLetter | None:
        row = self._db.execute(
            select(hl7_dead_letters).where(hl7_dead_letters.c.id == letter_id)
        ).first()
        return None if row is None else _letter(row)

    def listed(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        query = select(hl7_dead_letters).order_by(hl7_dead_letters.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(hl7_dead_letters.c.status == status)
        return [_letter(row) for row in self._db.execute(query)]

    def open_count(self) -> int:
        query = select(func.count()).where(hl7_dead_letters.c.status == "open")
        return int(self._db.execute(query).scalar_one())

    def record_attempt(self, letter_id: int, code: AckCode, reason: str) -> None:
        self._attempt(letter_id, code, reason, None)

    def close(self, letter_id: int, status: str, resolution: str, at: datetime) -> None:
        self._db.execute(
            update(hl7_dead_letters)
            .where(hl7_dead_letters.c.id == letter_id)
            .values(status=status, resolution=resolution, closed_at=at)
        )

    def _attempt(self, letter_id: int, code: AckCode, reason: str, at: datetime | None) -> None:
        values: dict[str, Any] = {
            "attempts": hl7_dead_letters.c.attempts + 1,
            "code": str(code),
            "reason": reason,
        }
        if at is not None:
            values["last_attempt_at"] = at
        self._db.execute(
            update(hl7_dead_letters).where(hl7_dead_letters.c.id == letter_id).values(**values)
        )


class SqlLabFeedUnitOfWork:
    """The lab feed's four stores over one transaction.

    ``records`` is the clinic's unit of work the results go through (audited when
    the database given to ``SqlLabFeedDatabase`` is); ``connection`` is the same
    transaction's connection, for the message log and dead letters.
    """

    def __init__(self, connection: Connection, records: UnitOfWork, context: ClinicContext) -> None:
        self._records = records
        self._patients = SqlPatientDirectory(connection)
        self._observations = RecordObservations(records, context)
        self._messages = SqlMessageLog(connection)
        self._dead_letters = SqlDeadLetters(connection)

    @property
    def patients(self) -> SqlPatientDirectory:
        return self._patients

    @property
    def observations(self) -> RecordObservations:
        return self._observations

    @property
    def messages(self) -> SqlMessageLog:
        return self._messages

    @property
    def dead_letters(self) -> SqlDeadLetters:
        return self._dead_letters

    def note(self, operation: Operation, entity: str, detail: str) -> None:
        """Into the audit trail, when the clinic database is audited (else nowhere)."""
        if isinstance(self._records, Noting):
            self._records.note(operation, entity, detail)


class _Connections:
    """The clinic's SQL database, remembering (per thread) the connection it opened last.

    A wrapper such as the audit's ``AuditedDatabase`` hands out only its own view
    of the unit of work; this lets the lab feed reach the same transaction's
    connection underneath it.
    """

    def __init__(self, database: SqlDatabase) -> None:
        self._database = database
        self._local = threading.local()

    @contextmanager
    def writing(self) -> Iterator[SqlUnitOfWork]:
        with self._database.writing() as uow:
            stack: list[Connection] = self._local.__dict__.setdefault("stack", [])
            stack.append(uow.connection)
            try:
                yield uow
            finally:
                stack.pop()

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        with self._database.reading() as uow:
            yield uow

    def reachable(self) -> bool:
        return self._database.reachable()

    def close(self) -> None:
        """The clinic's database belongs to the clinic; closing it is its business."""

    def current(self) -> Connection:
        stack: list[Connection] = self._local.__dict__.get("stack", [])
        if not stack:
            raise RuntimeError("no write transaction is open in this thread")
        return stack[-1]


class SqlLabFeedDatabase:
    """The ``LabFeedDatabase`` port over the clinic's database.

    ``wrap`` (e.g. ``AuditedDatabase`` for a principal) is put around the
    clinic database the results go through, so lab results are audited like
    any other change to a record.
    """

    def __init__(
        self,
        database: SqlDatabase,
        context: ClinicContext,
        wrap: Callable[[Database], Database] | None = None,
    ) -> None:
        self._connections = _Connections(database)
        self._records: Database = wrap(self._connections) if wrap else self._connections
        self._context = context

    @contextmanager
    def writing(self) -> Iterator[SqlLabFeedUnitOfWork]:
        with self._records.writing() as uow:
            yield SqlLabFeedUnitOfWork(self._connections.current(), uow, self._context)

    @contextmanager
    def reading(self) -> Iterator[SqlLabFeedUnitOfWork]:
        with self._connections.reading() as uow:  # not audited: callers read counts only
            yield SqlLabFeedUnitOfWork(uow.connection, uow, self._context)
