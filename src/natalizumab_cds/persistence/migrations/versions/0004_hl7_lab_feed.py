"""HL7 v2 lab feed: the message log (accepted MSH-10s) and the dead letters.

Revision ID: hl7_lab_feed
Revises: infusion_visits
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hl7_lab_feed"
down_revision: str | None = "infusion_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hl7_messages",
        sa.Column("sender", sa.String(500), nullable=False),
        sa.Column("control_id", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "control_id", name=op.f("pk_hl7_messages")),
    )
    op.create_index(op.f("ix_hl7_messages_accepted_at"), "hl7_messages", ["accepted_at"])
    op.create_table(
        "hl7_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(500), nullable=False),
        sa.Column("control_id", sa.String(200), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_dead_letters")),
    )
    op.create_index(
        op.f("ix_hl7_dead_letters_status_received_at"),
        "hl7_dead_letters",
        ["status", "received_at"],
    )
    op.create_index(op.f("ix_hl7_dead_letters_raw_sha256"), "hl7_dead_letters", ["raw_sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hl7_dead_letters_raw_sha256"), table_name="hl7_dead_letters")
    op.drop_index(op.f("ix_hl7_dead_letters_status_received_at"), table_name="hl7_dead_letters")
    op.drop_table("hl7_dead_letters")
    op.drop_index(op.f("ix_hl7_messages_accepted_at"), table_name="hl7_messages")
    op.drop_table("hl7_messages")
