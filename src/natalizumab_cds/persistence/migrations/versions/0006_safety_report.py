"""Safety report: each patient's share of it, kept on the summary row.

Revision ID: safety_report
Revises: cds_hooks
Create Date: 2026-11-24

The columns are NULL in the rows summarised before this revision; the next
refresh (``ntz serve`` start, the nightly refresh, ``ntz refresh``) fills them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "safety_report"
down_revision: str | None = "cds_hooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = (
    "treated",
    "severe_reaction",
    "thyroid_tested",
    "thyroid_abnormal",
    "antibody_tested",
    "antibody_positive",
    "antibody_persistent",
)


def upgrade() -> None:
    with op.batch_alter_table("patient_summaries") as batch:
        for name in FLAGS:
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("exposure_days", sa.Float(), nullable=True))
        batch.add_column(sa.Column("infections", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patient_summaries") as batch:
        for name in ("infections", "exposure_days", *reversed(FLAGS)):
            batch.drop_column(name)
