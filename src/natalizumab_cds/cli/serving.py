"""``ntz serve``: the clinician web app and the REST API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from natalizumab_cds.api.request_log import UVICORN_LOG_CONFIG
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.application.security.service import DemoAccount, create_demo_accounts
from natalizumab_cds.bootstrap import (
    DEMO_PATIENTS,
    as_operator,
    clinic_service,
    load_demo_clinic,
    operator_principal,
    security_for,
)
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.progress import import_progress
from natalizumab_cds.config import ConfigError, Environment, get_settings
from natalizumab_cds.web.app import create_web_app


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help=f"Create a synthetic clinic of {DEMO_PATIENTS} patients if empty")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Default: NTZ_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: NTZ_PORT")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the database, then serve the web app and the API (OpenAPI page at /docs)."""
    settings = get_settings()
    if demo and settings.environment is Environment.PRODUCTION:
        raise ConfigError("--demo creates accounts with printed passwords: not in production")
    clinic = clinic_service(database_url, upgrade=True)
    security = security_for(clinic)
    if demo:
        with import_progress(DEMO_PATIENTS, "creating the demo clinic") as on_progress:
            operator = as_operator(clinic, Action.IMPORT_RECORDS)
            created = load_demo_clinic(operator, on_progress=on_progress)
        if created is not None:
            typer.echo(f"demo clinic: {created.patients} synthetic patients (all data synthetic)")
        show_demo_accounts(create_demo_accounts(security, operator_principal()))
    bound_host, bound_port = host or settings.host, port or settings.port
    typer.echo(f"serving on http://{bound_host}:{bound_port} (API docs: /docs, sign in: /login)")
    uvicorn.run(
        create_web_app(clinic, refresh_daily=True, security=security),
        host=bound_host,
        port=bound_port,
        log_config=UVICORN_LOG_CONFIG,
        access_log=False,  # it would print paths and queries (names, MRNs): api/request_log.py
    )


def show_demo_accounts(accounts: list[DemoAccount]) -> None:
    """Demo mode only: the demo accounts' random passwords, printed once."""
    if not accounts:
        typer.echo("demo accounts exist already (reset one with: ntz user password --username …)")
        return
    typer.echo("demo accounts, one per role (demo mode only; these passwords are not shown again):")
    for account in accounts:
        typer.echo(f"  {account.username:<22} {account.role.value:<14} {account.password}")
