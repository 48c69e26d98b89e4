"""``ntz db upgrade`` brings the schema up to date; ``ntz db backup`` copies an SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from natalizumab_cds.bootstrap import backup_database, upgrade_database
from natalizumab_cds.cli.app import app

db_app = typer.Typer(help="The clinic database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (default: NTZ_DATABASE_URL, else sqlite:///var/ntz.sqlite3)",
    ),
]


@db_app.command("upgrade")
def upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply every schema migration not yet applied (safe to run again)."""
    upgrade_database(database_url)
    typer.echo("database schema is up to date")


@db_app.command("backup")
def backup(
    destination: Annotated[Path, typer.Argument(help="the new file to write (never overwritten)")],
    database_url: DatabaseUrl = None,
) -> None:
    """Copy the SQLite database while the service runs: one commit's state, checked.

    PostgreSQL is backed up with pg_dump or base backups instead (docs/operations.md).
    """
    report = backup_database(database_url, destination)
    typer.echo(
        f"backed up to {report.destination} ({report.size_bytes / 1e6:.1f} MB in "
        f"{report.seconds:.1f} s): {report.patients} patients, {report.resources} resources, "
        f"{report.audit_records} audit records, schema {report.schema_revision}; "
        "integrity check ok"
    )
