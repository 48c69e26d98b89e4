"""The clinic database: raw FHIR resources with their history, and what the worklist reads.

``resources`` holds each resource's current version as it arrived (JSON, with
a content hash for idempotent imports); ``resource_history`` the versions it
replaced. ``patients``, ``patient_summaries`` and ``monitoring_dues`` are derived
from the resources and rebuilt whenever a record changes; they are indexed for
what the worklist filters and sorts on. The migrations in ``migrations/``
create exactly these tables on SQLite and PostgreSQL (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

#: Yes/no columns of ``patient_summaries`` named as ``SafetyFacts`` names them.
SAFETY_FLAGS = (
    "treated",
    "severe_reaction",
    "thyroid_tested",
    "thyroid_abnormal",
    "antibody_tested",
    "antibody_positive",
    "antibody_persistent",
)

#: JSONB on PostgreSQL (compact, queryable), JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware (UTC) datetimes out, on both engines.

    SQLite keeps no offset, so everything is stored as UTC and read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        moment: datetime = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _patient_fk() -> ForeignKey:
    return ForeignKey("patients.id", ondelete="CASCADE")


patients = Table(
    "patients",
    metadata,
    Column("id", String(64), primary_key=True),  # the FHIR Patient id
    Column("mrn", Text, nullable=True),  # as the sender wrote it: no length is assumed
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),  # casefolded name, for search
    Column("birth_date", Date, nullable=True),
    Column("version", Integer, nullable=False),
    # the record version the patient's summary was built from (0: none yet); the
    # partial index holds only the patients whose summary is behind their record
    Column("summarised_version", Integer, nullable=False, server_default=text("0")),
    Index(None, "mrn"),
    Index(None, "name_key"),
    Index(
        "ix_patients_summary_behind",
        "id",
        sqlite_where=text("version > summarised_version"),
        postgresql_where=text("version > summarised_version"),
    ),
)

resources = Table(
    "resources",
    metadata,
    Column("resource_type", String(64), primary_key=True),
    Column("resource_id", String(64), primary_key=True),
    Column("patient_id", String(64), _patient_fk(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("content", Json, nullable=False),
    Index(None, "patient_id", "occurred_at"),
)

resource_history = Table(
    "resource_history",
    metadata,
    Column("resource_type", String(64), primary_key=True),
    Column("resource_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("patient_id", String(64), _patient_fk(), nullable=False),
    Column("last_updated", UtcDateTime, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("content", Json, nullable=False),
    Column("replaced_at", UtcDateTime, nullable=False),
    Index(None, "patient_id"),
)

patient_summaries = Table(
    "patient_summaries",
    metadata,
    Column("patient_id", String(64), _patient_fk(), primary_key=True),
    Column("record_version", Integer, nullable=False),
    Column("assessed_at", UtcDateTime, nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("protocol_version", String(64), nullable=False),
    Column("decision", String(16), nullable=True),  # None: the record could not be assessed
    Column("attention", Text, nullable=False),  # rule ids, comma-separated
    Column("acknowledged", Text, nullable=False),  # rule ids, comma-separated
    Column("problem", Text, nullable=True),
    # the patient's share of the safety report (domain/safety.py); NULL in rows
    # summarised before these columns existed, which ``outdated`` then picks up
    *(Column(name, Boolean, nullable=True) for name in SAFETY_FLAGS),
    Column("exposure_days", Float, nullable=True),
    Column("infections", Integer, nullable=True),
    Column("serum_level", Float, nullable=True),  # µg/mL; NULL also when none on treatment
    Index(None, "decision"),
    Index(None, "assessed_on"),
)

monitoring_dues = Table(
    "monitoring_dues",
    metadata,
    Column("patient_id", String(64), _patient_fk(), primary_key=True),
    Column("item", String(16), primary_key=True),  # schedule item; "infusion" = next dose
    Column("last_done", Date, nullable=True),
    Column("due", Date, nullable=False),
    Index(None, "item", "due"),
    Index(None, "due"),
)
