"""Bring the clinic database's schema up to date (``ntz db upgrade``, ``ntz serve``).

Several app processes may start at once against one PostgreSQL: the upgrade
runs under a transaction-level advisory lock, so one migrates and the others
find the work done. On SQLite the write transaction serialises them.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text

from natalizumab_cds import persistence
from natalizumab_cds.persistence.engine import WRITE, is_sqlite
from natalizumab_cds.persistence.tables import metadata

MIGRATIONS = Path(__file__).parent / "migrations"
#: Any constant shared by every process of this service.
ADVISORY_LOCK = 0x6E747A  # "ntz"


def full_metadata() -> MetaData:
    """The shared metadata with every table of every persistence module registered.

    Table modules add themselves to ``tables.metadata`` when imported; importing
    them all here means migrations and the schema test never miss one.
    """
    for module in pkgutil.iter_modules(persistence.__path__):
        if not module.ispkg:
            importlib.import_module(f"{persistence.__name__}.{module.name}")
    return metadata


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if not is_sqlite(engine):
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
                )
            command.upgrade(alembic_config(connection), revision)


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
        head = ScriptDirectory.from_config(alembic_config(connection)).get_heads()
    return set(current) == set(head)
