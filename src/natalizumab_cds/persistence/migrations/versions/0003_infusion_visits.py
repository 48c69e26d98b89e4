"""Infusion visits: one row per visit, its steps as JSON, a version for concurrency.

Revision ID: infusion_visits
Revises: people_and_trust
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "infusion_visits"
down_revision: str | None = "people_and_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
STEPS = (
    "screening",
    "clearance",
    "preparation",
    "infusion_start",
    "infusion_end",
    "reaction",
    "discharge",
    "cancellation",
)


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, STEP_JSON, nullable=True) for name in STEPS),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_visits_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(op.f("ix_visits_patient_id_opened_at"), "visits", ["patient_id", "opened_at"])
    op.create_index(op.f("ix_visits_state"), "visits", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_visits_state"), table_name="visits")
    op.drop_index(op.f("ix_visits_patient_id_opened_at"), table_name="visits")
    op.drop_table("visits")
