"""The HL7 v2 lab feed's tables: the message log and the dead letters.

``hl7_messages`` holds one row per accepted message, keyed by (sender, MSH-10):
its primary key is what makes a repeated message id a no-op even when two
app processes receive it at the same moment (the second insert loses and its
transaction, results included, is rolled back). ``hl7_dead_letters`` keeps
every message that was not applied, byte for byte, until a person resolves or
discards it; rows are never deleted. The Alembic revision ``hl7_lab_feed``
creates exactly these.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text

from natalizumab_cds.persistence.tables import UtcDateTime, metadata

#: MSH-3 and MSH-4 namespace ids joined by "|" (the reader refuses longer ones).
SENDER_LENGTH = 500
#: MSH-10 is at most 199 characters (HL7 v2.7 ST); the reader refuses longer ones.
CONTROL_ID_LENGTH = 200

hl7_messages = Table(
    "hl7_messages",
    metadata,
    Column("sender", String(SENDER_LENGTH), primary_key=True),
    Column("control_id", String(CONTROL_ID_LENGTH), primary_key=True),
    Column("patient_id", String(64), nullable=False),  # no FK: the log outlives a record
    Column("accepted_at", UtcDateTime, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Index(None, "accepted_at"),
)

hl7_dead_letters = Table(
    "hl7_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("code", String(2), nullable=False),  # AE | AR
    Column("reason", Text, nullable=False),
    Column("sender", String(SENDER_LENGTH), nullable=False),
    Column("control_id", String(CONTROL_ID_LENGTH), nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved | discarded
    Column("resolution", Text, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Index(None, "status", "received_at"),
    Index(None, "raw_sha256"),
)
