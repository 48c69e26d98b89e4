"""Clinic service: raw resources with history, patients, summaries and items due.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _patient_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["patient_id"],
        ["patients.id"],
        name=op.f(f"fk_{table}_patient_id_patients"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("mrn", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index(op.f("ix_patients_mrn"), "patients", ["mrn"])
    op.create_index(op.f("ix_patients_name_key"), "patients", ["name_key"])

    op.create_table(
        "resources",
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _moment("last_updated"),
        _moment("occurred_at", nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", JSON, nullable=False),
        _patient_fk("resources"),
        sa.PrimaryKeyConstraint("resource_type", "resource_id", name=op.f("pk_resources")),
    )
    op.create_index(
        op.f("ix_resources_patient_id_occurred_at"), "resources", ["patient_id", "occurred_at"]
    )
    op.create_index(op.f("ix_resources_resource_id"), "resources", ["resource_id"])

    op.create_table(
        "resource_history",
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        _moment("last_updated"),
        _moment("occurred_at", nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", JSON, nullable=False),
        _moment("replaced_at"),
        _patient_fk("resource_history"),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", "version", name=op.f("pk_resource_history")
        ),
    )
    op.create_index(op.f("ix_resource_history_patient_id"), "resource_history", ["patient_id"])

    op.create_table(
        "patient_summaries",
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        _moment("assessed_at"),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("protocol_version", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("attention", sa.Text(), nullable=False),
        sa.Column("acknowledged", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        _patient_fk("patient_summaries"),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_summaries")),
    )
    op.create_index(op.f("ix_patient_summaries_decision"), "patient_summaries", ["decision"])
    op.create_index(op.f("ix_patient_summaries_assessed_on"), "patient_summaries", ["assessed_on"])

    op.create_table(
        "monitoring_dues",
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("item", sa.String(16), nullable=False),
        sa.Column("last_done", sa.Date(), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        _patient_fk("monitoring_dues"),
        sa.PrimaryKeyConstraint("patient_id", "item", name=op.f("pk_monitoring_dues")),
    )
    op.create_index(op.f("ix_monitoring_dues_item_due"), "monitoring_dues", ["item", "due"])
    op.create_index(op.f("ix_monitoring_dues_due"), "monitoring_dues", ["due"])


def downgrade() -> None:
    for table in (
        "monitoring_dues",
        "patient_summaries",
        "resource_history",
        "resources",
        "patients",
    ):
        op.drop_table(table)
