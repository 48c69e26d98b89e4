"""The audit trail in SQL: appending to the hash chain, streaming it, paging it.

``append`` locks the chain head's row (``SELECT … FOR UPDATE`` on PostgreSQL;
on SQLite every write transaction already holds the database's write lock,
taken by ``BEGIN IMMEDIATE``), links the new records after it, inserts them in
one ``executemany`` and moves the head. The head update is also guarded by the
sequence read, so a writer that somehow raced would fail instead of forking
the chain. Appends are therefore serialised, in commit order, on both engines.

``rows`` streams the whole chain with a server-side cursor in batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    String,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.security.audit import AuditEntry, AuditRecord, chain
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.persistence.bulk import BulkInsert
from natalizumab_cds.persistence.security_tables import HEAD_ROW, audit_chain_head, audit_events

STREAM_BATCH = 20_000
_a = audit_events.c
#: Stored columns in ``ROW_FIELDS`` order.
COLUMNS = (
    _a.sequence,
    _a.recorded,
    _a.actor,
    _a.role,
    _a.action,
    _a.operation,
    _a.patient_id,
    _a.entity,
    _a.outcome,
    _a.detail,
    _a.state_before,
    _a.state_after,
    _a.previous_hash,
    _a.hash,
)
_NAMES = tuple(column.name for column in COLUMNS)
_INSERT_RECORDS = BulkInsert(audit_events, _NAMES)
_h = audit_chain_head.c
_LOCK_HEAD = select(_h.sequence, _h.hash).where(_h.id == 1).with_for_update()
_MOVE_HEAD = (
    update(audit_chain_head)
    .where(_h.id == 1, _h.sequence == bindparam("seen"))
    .values(sequence=bindparam("sequence"), hash=bindparam("hash"))
)


def _recorded_text(connection: Connection) -> ColumnElement[str]:
    """``recorded`` as ``audit.instant`` writes it: ``2026-11-24T09:00:00.000000Z``."""
    if connection.dialect.name == "postgresql":
        utc = func.timezone("UTC", _a.recorded)
        return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    # SQLite keeps what SQLAlchemy wrote: "2026-11-24 09:00:00.000000" (always UTC, always µs)
    return func.replace(cast(_a.recorded, String), " ", "T").concat("Z")


def _record(row: Sequence[Any]) -> AuditRecord:
    return AuditRecord(*row)


def _insert_once(connection: Connection) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` on either engine."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(audit_chain_head).on_conflict_do_nothing()
    return sqlite.insert(audit_chain_head).on_conflict_do_nothing()


class SqlAuditTrail:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def append(self, entries: Sequence[AuditEntry], at: datetime) -> list[AuditRecord]:
        if not entries:
            return []
        found = self._db.execute(_LOCK_HEAD).one_or_none()
        if found is None:  # the head's row was deleted (or never made): make it once
            self._db.execute(_insert_once(self._db).values(**HEAD_ROW))
            found = self._db.execute(_LOCK_HEAD).one()
        sequence, last_hash = found.sequence, found.hash
        records = chain(entries, sequence, last_hash, at)
        _INSERT_RECORDS(self._db, [r.fields() for r in records])
        moved = self._db.execute(
            _MOVE_HEAD,
            {"seen": sequence, "sequence": records[-1].sequence, "hash": records[-1].hash},
        )
        if moved.rowcount != 1:
            raise ConcurrentUpdate("another writer appended to the audit trail first")
        return records


class SqlAuditLog:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def head(self) -> tuple[int, str]:
        head = audit_chain_head.c
        found = self._db.execute(select(head.sequence, head.hash).where(head.id == 1)).one_or_none()
        return (HEAD_ROW["sequence"], HEAD_ROW["hash"]) if found is None else tuple(found)

    def rows(self) -> Iterator[Sequence[Any]]:
        """Every record as a plain tuple, by sequence, in batches from a server-side cursor.

        Read through the driver's own cursor (a named one on PostgreSQL), with
        ``recorded`` formatted by the database as the hashed text: building a
        million result rows and timestamps in Python would cost more than the
        hashing itself.
        """
        columns = (_a.sequence, _recorded_text(self._db), *COLUMNS[2:])
        query = select(*columns).order_by(_a.sequence)
        sql = str(query.compile(dialect=self._db.dialect, compile_kwargs={"literal_binds": True}))
        raw = self._db.connection.dbapi_connection
        assert raw is not None
        postgres = self._db.dialect.name == "postgresql"
        cursor = raw.cursor(name="audit_chain") if postgres else raw.cursor()
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(STREAM_BATCH):
                yield from batch
        finally:
            cursor.close()

    def records(self, query: AuditQuery) -> list[AuditRecord]:
        statement = select(*COLUMNS).where(_a.sequence > query.after_sequence)
        if query.patient_id is not None:
            statement = statement.where(_a.patient_id == query.patient_id)
        if query.since is not None:
            statement = statement.where(_a.recorded >= query.since)
        if query.until is not None:
            statement = statement.where(_a.recorded < query.until)
        if query.actor is not None:
            statement = statement.where(_a.actor == query.actor)
        if query.before_sequence is not None:
            statement = statement.where(_a.sequence < query.before_sequence)
        order = _a.sequence.desc() if query.newest_first else _a.sequence
        statement = statement.order_by(order).limit(query.limit)
        return [_record(row) for row in self._db.execute(statement)]
