"""A consistent copy of the embedded SQLite clinic database, taken while it is in use.

SQLite's online backup API (``sqlite3.Connection.backup``) copies every page
inside one read transaction: in WAL mode writers go on meanwhile, and the copy
is the database as of one commit, never half of one. Copying the file with
``cp`` while the service runs can give a torn copy, and misses what is still in
the ``-wal`` file.

The copy is written beside the destination under a temporary name, checked
(``PRAGMA integrity_check``), switched to a self-contained rollback journal (one
file, no ``-wal`` beside it), flushed to disk and only then renamed to the
destination: a crash or a failed check leaves no file that looks like a backup.
An existing destination is refused, never overwritten.

PostgreSQL is backed up with its own tools (``pg_dump``, or the server's base
backups and WAL archiving); docs/operations.md says how.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from natalizumab_cds.domain.errors import NtzError
from natalizumab_cds.persistence.engine import normalized_url


class BackupRefused(NtzError):
    """A backup that cannot be taken as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    destination: Path
    size_bytes: int
    seconds: float
    schema_revision: str
    patients: int
    resources: int
    audit_records: int


def _source_path(url: str | URL) -> Path:
    parsed = normalized_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(
            f"the database is {parsed.get_backend_name()}, not SQLite: back it up with its "
            "own tools (pg_dump -Fc, or base backups with WAL archiving); see docs/operations.md"
        )
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(f"there is no database file to back up in {parsed!s}")
    path = Path(database).expanduser()
    if not path.is_file():
        raise BackupRefused(f"there is no database at {path}: check --database-url")
    return path


def _destination(destination: Path, source: Path) -> Path:
    destination = destination.expanduser()
    if destination.exists():
        raise BackupRefused(f"{destination} already exists: a backup never overwrites a file")
    if not destination.parent.is_dir():
        raise BackupRefused(f"the folder {destination.parent} does not exist")
    if destination.resolve() == source.resolve():
        raise BackupRefused("the backup must go to another file than the database itself")
    return destination


def _count(connection: sqlite3.Connection, table: str) -> int:
    (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def _revision(connection: sqlite3.Connection) -> str | None:
    named = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    if connection.execute(named).fetchone() is None:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup_sqlite(url: str | URL, destination: Path) -> BackupReport:
    """Copy the SQLite database at ``url`` to ``destination`` (a new file), checked."""
    started = time.perf_counter()
    source_path = _source_path(url)
    destination = _destination(destination, source_path)
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        # mode=rw: the source must exist; sqlite3 would otherwise create an empty one
        with closing(sqlite3.connect(f"{source_path.as_uri()}?mode=rw", uri=True)) as source:
            source.execute("PRAGMA busy_timeout = 30000")
            with closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # every page in one read transaction: one commit's state
                (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
                if verdict != "ok":
                    raise BackupRefused(f"the copy failed SQLite's integrity check: {verdict}")
                revision = _revision(copy)
                if revision is None:
                    raise BackupRefused(
                        f"{source_path} has no schema revision: is it a clinic database? "
                        "(ntz db upgrade makes one)"
                    )
                report = (
                    revision,
                    _count(copy, "patients"),
                    _count(copy, "resources"),
                    _count(copy, "audit_events"),
                )
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        _fsync(partial)
        os.replace(partial, destination)
        _fsync(destination.parent)
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"the backup of {source_path} failed: {error}") from error
    finally:
        for end in ("", "-journal", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                Path(f"{partial}{end}").unlink()
    return BackupReport(
        destination=destination,
        size_bytes=destination.stat().st_size,
        seconds=time.perf_counter() - started,
        schema_revision=report[0],
        patients=report[1],
        resources=report[2],
        audit_records=report[3],
    )
