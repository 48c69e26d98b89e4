"""People and trust: users, web sessions, API tokens, sign-in attempts, audit trail.

Revision ID: people_and_trust
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "people_and_trust"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _moment("created_at"),
        _moment("last_seen_at"),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _user_fk("web_sessions"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_last_seen_at"), "web_sessions", ["last_seen_at"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _moment("created_at"),
        _moment("revoked_at", nullable=True),
        _moment("last_used_at", nullable=True),
        _user_fk("api_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        _moment("at"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(op.f("ix_sign_in_attempts_username_at"), "sign_in_attempts", ["username", "at"])
    op.create_index(op.f("ix_sign_in_attempts_client_at"), "sign_in_attempts", ["client", "at"])
    _audit_tables()


def _audit_tables() -> None:
    op.create_table(
        "audit_events",
        sa.Column("sequence", BIG_ID, autoincrement=False, nullable=False),
        _moment("recorded"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(1), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(1), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("state_before", sa.Text(), nullable=False),
        sa.Column("state_after", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_patient_id_sequence"), "audit_events", ["patient_id", "sequence"]
    )
    op.create_index(op.f("ix_audit_events_recorded"), "audit_events", ["recorded"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", BIG_ID, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "sequence": 0, "hash": GENESIS}])


def downgrade() -> None:
    for table in (
        "audit_chain_head",
        "audit_events",
        "sign_in_attempts",
        "api_tokens",
        "web_sessions",
        "users",
    ):
        op.drop_table(table)
