"""The ``visits`` table: one row per infusion visit, its steps as JSON, a version.

It shares ``tables.metadata`` with the clinic's tables; the Alembic revision
``infusion_visits`` creates exactly this. ``state`` is derived from the steps
(``Visit.state``) and kept only so the clinic can find visits under way in SQL;
``version`` goes up by one with every step (optimistic concurrency). Each step
column holds the step's JSON (``visit_rows.py``) or NULL until it is taken.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from natalizumab_cds.persistence.tables import UtcDateTime, metadata
from natalizumab_cds.persistence.visit_rows import STEP_COLUMNS

#: A step not taken is SQL NULL (not JSON ``null``), so SQL can ask which steps were taken.
StepJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

visits = Table(
    "visits",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("state", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    *(Column(name, StepJson, nullable=True) for name in STEP_COLUMNS),
    Index(None, "patient_id", "opened_at"),
    Index(None, "state"),
)
