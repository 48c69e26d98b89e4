"""Which patients' summaries are behind their records, found through an index.

Revision ID: summary_behind
Revises: safety_report
Create Date: 2026-11-24

``patients.summarised_version`` is the record version the patient's summary was
built from (0: no summary yet). Lab results raise a record's version and leave
its summary to be rebuilt after the commit; a partial index over
``version > summarised_version`` holds just those patients, so the worklist can
check for them before every answer without scanning the clinic.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "summary_behind"
down_revision: str | None = "safety_report"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEHIND = "version > summarised_version"


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch would drop and recreate
    # ``patients``, and its ON DELETE CASCADE would empty every table that refers to it.
    op.add_column(
        "patients",
        sa.Column("summarised_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE patients SET summarised_version = COALESCE((SELECT s.record_version "
        "FROM patient_summaries s WHERE s.patient_id = patients.id), 0)"
    )
    op.create_index(
        "ix_patients_summary_behind",
        "patients",
        ["id"],
        sqlite_where=sa.text(BEHIND),
        postgresql_where=sa.text(BEHIND),
    )


def downgrade() -> None:
    op.drop_index("ix_patients_summary_behind", table_name="patients")
    op.execute("ALTER TABLE patients DROP COLUMN summarised_version")  # SQLite 3.35+, see above
