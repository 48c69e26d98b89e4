"""CDS Hooks: the shared JWT replay cache (jti) and the feedback on cards.

Revision ID: cds_hooks
Revises: hl7_lab_feed
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cds_hooks"
down_revision: str | None = "hl7_lab_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_hooks_token_uses",
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_cds_hooks_token_uses")),
    )
    op.create_index(
        op.f("ix_cds_hooks_token_uses_expires_at"), "cds_hooks_token_uses", ["expires_at"]
    )
    op.create_table(
        "cds_hooks_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("card", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(500), nullable=False),
        sa.Column("accepted_suggestions", sa.Text(), nullable=False),
        sa.Column("override_system", sa.String(500), nullable=True),
        sa.Column("override_code", sa.String(200), nullable=True),
        sa.Column("override_display", sa.Text(), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_hooks_feedback")),
    )
    op.create_index(op.f("ix_cds_hooks_feedback_card"), "cds_hooks_feedback", ["card"])
    op.create_index(
        op.f("ix_cds_hooks_feedback_received_at"), "cds_hooks_feedback", ["received_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cds_hooks_feedback_received_at"), table_name="cds_hooks_feedback")
    op.drop_index(op.f("ix_cds_hooks_feedback_card"), table_name="cds_hooks_feedback")
    op.drop_table("cds_hooks_feedback")
    op.drop_index(op.f("ix_cds_hooks_token_uses_expires_at"), table_name="cds_hooks_token_uses")
    op.drop_table("cds_hooks_token_uses")
