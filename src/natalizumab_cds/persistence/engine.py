"""Engines for the clinic database: an SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode (readers never wait for the writer), with foreign keys
on and a busy timeout. Write transactions start with ``BEGIN IMMEDIATE``: the
write lock is taken up front, so two writers queue instead of both reading a
patient and one failing (or losing an update) when it tries to write.
PostgreSQL needs nothing special: writers lock the patients' rows they change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

#: Execution option that marks a connection's transaction as a write.
WRITE = "ntz_write"
BUSY_TIMEOUT_SECONDS = 30


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalized_url(url: str | URL) -> URL:
    """``postgres://`` and ``postgresql://`` mean PostgreSQL through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite database (None: another engine, or in memory)."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def database_engine(url: str | URL) -> Engine:
    """An engine for the clinic database at ``url``, configured for this service."""
    parsed = normalized_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        hide_parameters=True,  # errors must not print patients' data into logs
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        hide_parameters=True,
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun in _on_sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit is on disk before it returns, so what the product has answered
    # "recorded" (an HL7 AA, a saved step) survives a power cut too; NORMAL would only
    # survive a crash of the process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
