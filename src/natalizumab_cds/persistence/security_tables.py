"""Tables for people and trust: accounts, sessions, API tokens, sign-in attempts, audit.

They share ``tables.metadata`` (and its naming convention) with the clinic's
tables; the Alembic revision ``0002_people_and_trust`` creates exactly these.

``audit_events`` is append-only by convention and checked by its hash chain;
``audit_chain_head`` holds one row (id 1): the last record's sequence number
and hash. Appenders lock that row, which serialises them on every engine and
lets verification notice records cut off the end. It has no foreign keys:
the trail must outlive the users and patients it names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    insert,
)

from natalizumab_cds.application.security.audit import GENESIS
from natalizumab_cds.persistence.tables import UtcDateTime, metadata

#: 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is 64-bit and auto-increments.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of the cookie's random id
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Index(None, "user_id"),
    Index(None, "last_seen_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Index(None, "user_id"),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index(None, "username", "at"),
    Index(None, "client", "at"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("sequence", BigId, primary_key=True, autoincrement=False),
    Column("recorded", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("operation", String(1), nullable=False),
    Column("patient_id", String(64), nullable=True),
    Column("entity", String(200), nullable=False),
    Column("outcome", String(1), nullable=False),
    Column("detail", Text, nullable=False),
    Column("state_before", Text, nullable=False),  # canonical JSON, "" for none
    Column("state_after", Text, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "patient_id", "sequence"),
    Index(None, "recorded"),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sequence", BigId, nullable=False),
    Column("hash", String(64), nullable=False),
)

#: The head's one row, as the migration and ``create_all`` insert it.
HEAD_ROW: dict[str, Any] = {"id": 1, "sequence": 0, "hash": GENESIS}


@event.listens_for(audit_chain_head, "after_create")
def _insert_head(target: Table, connection: Connection, **_: Any) -> None:
    connection.execute(insert(target).values(**HEAD_ROW))
