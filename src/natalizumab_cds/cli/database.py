"""``ntz db upgrade``: bring the clinic database's schema up to date."""

from __future__ import annotations

from typing import Annotated

import typer

from natalizumab_cds.bootstrap import upgrade_database
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
