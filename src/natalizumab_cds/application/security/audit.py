"""The audit trail's records and their hash chain.

Every read of a patient's record and every change is one ``AuditEntry``: who
(username and role), what (the permission table's action word and a FHIR
AuditEvent action code C/R/U/D/E), which patient, before/after for changes,
and the outcome. The trail stores it as an ``AuditRecord`` with a sequence
number and two hashes: the previous record's, and its own SHA-256 over a
canonical serialization of every field including the sequence number. Editing,
deleting, inserting or reordering any record therefore breaks a link that
``verify`` (see ``audit_verify``) finds. The genesis record links to
``GENESIS``.

Before/after are kept as canonical JSON text (sorted keys, no spaces), so the
hash is computed over exactly the bytes stored, on every database engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

GENESIS = "0" * 64


class Operation(StrEnum):
    """FHIR AuditEvent.action (value set audit-event-action)."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class Outcome(StrEnum):
    """FHIR AuditEvent.outcome (value set audit-event-outcome)."""

    SUCCESS = "0"
    MINOR_FAILURE = "4"
    SERIOUS_FAILURE = "8"


def canonical_json(value: Mapping[str, Any] | None) -> str:
    """Sorted keys, no insignificant whitespace; ``""`` for nothing."""
    if value is None:
        return ""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, as a use case reports it; the trail adds when and the chain."""

    action: str
    operation: Operation
    actor: str
    role: str
    patient_id: str | None = None
    entity: str = ""  # what was acted on: "Patient/p1", "User/alice", "AuditTrail"
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    outcome: Outcome = Outcome.SUCCESS
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of the chain, exactly as stored."""

    sequence: int
    recorded: datetime
    actor: str
    role: str
    action: str
    operation: str
    patient_id: str | None
    entity: str
    outcome: str
    detail: str
    before: str  # canonical JSON or ""
    after: str
    previous_hash: str
    hash: str

    def fields(self) -> tuple[Any, ...]:
        """The stored fields in ``ROW_FIELDS`` order (what ``verify`` reads)."""
        return (
            self.sequence,
            self.recorded,
            self.actor,
            self.role,
            self.action,
            self.operation,
            self.patient_id,
            self.entity,
            self.outcome,
            self.detail,
            self.before,
            self.after,
            self.previous_hash,
            self.hash,
        )


#: Column order of a stored record, as ``AuditRecord.fields`` and ``verify`` use it.
ROW_FIELDS = tuple(AuditRecord.__dataclass_fields__)


def instant(moment: datetime | str) -> str:
    """The hashed form of a moment: UTC, microseconds, fixed width.

    A string is taken as already in that form (a database that formats the
    column itself while streaming the chain, see ``persistence.audit_store``).
    """
    if isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(row: Sequence[Any]) -> str:
    """SHA-256 over the canonical serialization of a stored row (``ROW_FIELDS`` order).

    A JSON array of every field but the hash itself: positions fix the order,
    JSON escaping keeps field boundaries unambiguous.
    """
    body = orjson.dumps([row[0], instant(row[1]), *row[2:6], row[6] or "", *row[7:13]])
    return hashlib.sha256(body).hexdigest()


def chain(
    entries: Sequence[AuditEntry], after_sequence: int, after_hash: str, at: datetime
) -> list[AuditRecord]:
    """Link entries after the record (``after_sequence``, ``after_hash``), all recorded ``at``."""
    if at.tzinfo is None:
        raise ValueError(f"audit time {at.isoformat()} has no time zone")
    moment = at.astimezone(UTC)
    records = []
    previous = after_hash
    for offset, entry in enumerate(entries, start=1):
        fields = (
            after_sequence + offset,
            moment,
            entry.actor,
            entry.role,
            entry.action,
            entry.operation.value,
            entry.patient_id,
            entry.entity,
            entry.outcome.value,
            entry.detail,
            canonical_json(entry.before),
            canonical_json(entry.after),
            previous,
        )
        previous = record_hash(fields)
        records.append(AuditRecord(*fields, previous))
    return records
