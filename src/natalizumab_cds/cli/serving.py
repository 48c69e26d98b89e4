"""``ntz serve``: the clinician web app and the REST API under uvicorn.

With ``--workers N`` (N > 1), N uvicorn worker processes serve the port, each
building its own app from the settings (``worker_app``) and listening on its own
``SO_REUSEPORT`` socket (``serve_workers``); the parent migrates the database,
creates the demo clinic if asked and runs the nightly refresh of the patient
summaries, once for all workers. Everything the workers must share (the CDS
Hooks token replay cache, sessions, the audit trail) lives in the database.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from natalizumab_cds.api.app import refresh_every_night
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
from natalizumab_cds.cli.processes import run_workers, shared_port_socket
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
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (e.g. one per CPU core)")
    ] = 1,
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
    if workers == 1:
        web_app = create_web_app(clinic, refresh_daily=True, security=security)
        settle_heap()
        uvicorn.run(
            web_app,
            host=bound_host,
            port=bound_port,
            log_config=UVICORN_LOG_CONFIG,
            access_log=False,  # it would print paths and queries (names, MRNs): request_log.py
        )
        return
    if database_url:
        os.environ["NTZ_DATABASE_URL"] = database_url  # the workers read the settings
    nightly = threading.Thread(
        target=asyncio.run, args=(refresh_every_night(clinic),), name="nightly", daemon=True
    )
    settle_heap()  # the nightly refresh reassesses every record, as ntz mllp's parent does
    nightly.start()
    serve_workers(f"{__name__}:worker_app", bound_host, bound_port, workers)


def worker_app() -> FastAPI:
    """One worker process's app (``ntz serve --workers N``), on the configured database.

    The parent has migrated the database and runs the nightly refresh.
    """
    clinic = clinic_service()
    web_app = create_web_app(clinic, refresh_daily=False, security=security_for(clinic))
    settle_heap()
    return web_app


def serve_workers(factory: str, host: str, port: int, workers: int) -> None:
    """Serve ``factory``'s app (``"module:function"``) from ``workers`` uvicorn processes.

    Each worker listens on its own ``SO_REUSEPORT`` socket (``cli/processes.py``
    says why; uvicorn also leaves ``TCP_NODELAY`` off on a shared socket,
    uvicorn issue #3149, delaying kept-alive answers ~40 ms). If a worker stops,
    the others are stopped too and this raises ``SystemExit(1)``, for the service
    manager to restart the service; SIGTERM or SIGINT stop all.
    """
    context = multiprocessing.get_context("spawn")
    run_workers(
        [
            context.Process(target=_worker, args=(factory, host, port), name=f"ntz-worker-{index}")
            for index in range(workers)
        ]
    )


def _worker(factory: str, host: str, port: int) -> None:
    """One worker process: its own listening socket on the shared port, uvicorn on it."""
    config = uvicorn.Config(
        factory,
        factory=True,
        log_config=UVICORN_LOG_CONFIG,
        access_log=False,  # it would print paths and queries (names, MRNs): request_log.py
    )
    uvicorn.Server(config).run(sockets=[shared_port_socket(host, port)])


#: Allocations between young-generation collections (CPython's default: 700).
YOUNG_GENERATION = 20_000


def settle_heap() -> None:
    """Once per long-running process (each web/API worker and the parent that refreshes
    for them, each MLLP listener and its parent), when it is built: keep start-up objects
    out of the garbage collector, and collect young objects less often.

    The hundreds of thousands of objects made at start-up (modules, the protocol,
    routes, models) never become garbage; frozen, the collector stops scanning
    them on every full collection, which otherwise costs every request a share
    of it (and the slowest requests a whole one).

    The young generation is also made larger than one request's garbage: a hook
    call's parsed prefetch alone is some 11,000 dicts and lists, which refcounting
    frees when the call ends. With the default threshold (700) the collector
    examined them dozens of times while they were still in use and moved them to
    the older generations, whose collections then scanned them again: about 7 %
    of a CDS Hooks call's CPU (2.00 → 1.86 ms per call, timed in one process).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, 10, 10)


def show_demo_accounts(accounts: list[DemoAccount]) -> None:
    """Demo mode only: the demo accounts' random passwords, printed once."""
    if not accounts:
        typer.echo("demo accounts exist already (reset one with: ntz user password --username …)")
        return
    typer.echo("demo accounts, one per role (demo mode only; these passwords are not shown again):")
    for account in accounts:
        typer.echo(f"  {account.username:<22} {account.role.value:<14} {account.password}")
