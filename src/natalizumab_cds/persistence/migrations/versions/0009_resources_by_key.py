"""Resources are found by their key (type, id) only: the index on the id alone goes.

Revision ID: resources_by_key
Revises: serum_levels
Create Date: 2026-12-07

Every lookup of a stored resource names its type and id, which the primary key's
index serves; ``ix_resources_resource_id`` served only a lookup by id that then
filtered by type. Each new resource cost one more index page written (the lab
feed's ids are hashes, so a page a message: about a tenth of what a result
writes to the WAL).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "resources_by_key"
down_revision: str | None = "serum_levels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resources_resource_id", table_name="resources")


def downgrade() -> None:
    op.create_index("ix_resources_resource_id", "resources", ["resource_id"])
