"""Safety report: each treated patient's latest serum natalizumab level on treatment.

Revision ID: serum_levels
Revises: summary_behind
Create Date: 2026-11-25

A NULL level means "no level on treatment" once the row is rebuilt, so the rows
summarised before this revision are marked not yet summarised for safety
(``treated`` NULL, as before revision ``safety_report``): ``outdated`` picks them
up at the next refresh (``ntz serve`` start, the nightly refresh, ``ntz
refresh``) and the report leaves them out until then, rather than counting them
as patients without a level.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "serum_levels"
down_revision: str | None = "summary_behind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (see summary_behind): no batch copy of the table.
    op.add_column("patient_summaries", sa.Column("serum_level", sa.Float(), nullable=True))
    op.execute("UPDATE patient_summaries SET treated = NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE patient_summaries DROP COLUMN serum_level")  # SQLite 3.35+
