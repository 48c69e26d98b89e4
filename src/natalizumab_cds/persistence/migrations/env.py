"""Alembic environment: always run programmatically with a connection in hand.

``persistence.migrate`` passes the connection in ``config.attributes``; there is
no alembic.ini and no URL here, so migrations run against exactly the database
the service was configured with.
"""

from __future__ import annotations

from alembic import context

from natalizumab_cds.persistence.migrate import full_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=full_metadata(),
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
