"""The REST API application: ``create_app(clinic)``.

Routers are included through one ``api_router`` whose ``dependencies`` require
a signed-in user or an API token; each route names its action (api/access.py).
Every response carries the security headers (api/headers.py). The OpenAPI page at
``/docs`` loads Swagger UI from files shipped in the package, never from a CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import natalizumab_cds
from natalizumab_cds.api import (
    accounts,
    audit,
    cds_hooks,
    export,
    fhir,
    hl7,
    infusion_day,
    lab_messages,
    login,
    patients,
    safety_report,
    summary_pdf,
    worklist,
)
from natalizumab_cds.api.access import current_principal, install_access_handlers
from natalizumab_cds.api.headers import SecurityHeaders, with_inline_scripts
from natalizumab_cds.api.problems import install_problem_handlers
from natalizumab_cds.api.request_log import RequestLog
from natalizumab_cds.api.schemas import DatabaseOut, HealthOut, ProtocolOut
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.config import Environment, get_settings

SWAGGER_UI = Path(natalizumab_cds.__file__).parent / "web" / "static" / "vendor" / "swagger-ui"
SWAGGER_URL = "/static/vendor/swagger-ui"
log = logging.getLogger(__name__)

#: Dependencies every API route runs: the caller must be signed in or hold a token.
#: Each route also names its action with ``require(Action.…)`` (api/access.py).
ROUTE_DEPENDENCIES: list[object] = [Depends(current_principal)]


def create_app(
    clinic: Clinic | None = None, *, refresh_daily: bool = False, security: Security | None = None
) -> FastAPI:
    """The API over ``clinic`` (default: the configured one, migrated on start).

    ``refresh_daily`` reassesses every patient after midnight (clinic time), so
    the worklist's decisions are those of the new day.
    """
    if clinic is None:
        from natalizumab_cds.bootstrap import clinic_service

        clinic = clinic_service(upgrade=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(refresh_every_night(app.state.clinic)) if refresh_daily else None
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(
        title="natalizumab-cds clinic service",
        version=natalizumab_cds.__version__,
        description="Pre-infusion assessment, monitoring schedule and the clinic worklist.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.clinic = clinic
    if security is None:
        from natalizumab_cds.bootstrap import security_for

        security = security_for(clinic)
    app.state.security = security
    install_problem_handlers(app)
    install_access_handlers(app)
    production = get_settings().environment is Environment.PRODUCTION
    app.add_middleware(SecurityHeaders, always_hsts=production)
    app.add_middleware(RequestLog)
    app.include_router(login.router)
    app.include_router(cds_hooks.router)  # the EHR's signed JWT, not a user's sign-in
    app.mount(SWAGGER_URL, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    app.add_api_route("/docs", _docs, include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/health", _health, tags=["operations"], response_model=HealthOut)
    api_router = APIRouter(dependencies=ROUTE_DEPENDENCIES)  # type: ignore[arg-type]
    routers = (patients, worklist, fhir, export, infusion_day, accounts, audit)
    for module in (*routers, safety_report, summary_pdf):
        api_router.include_router(module.router)
    api_router.include_router(hl7.router)  # lab systems: HL7 v2 ORU^R01, answered with ACKs
    api_router.include_router(lab_messages.router)  # what they sent that was not applied
    app.include_router(api_router)
    return app


def _docs() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="natalizumab-cds API",
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
    )
    return with_inline_scripts(page)


async def _health(request: Request) -> JSONResponse:
    """Version, active protocol and whether the database answers (503 if it does not)."""
    clinic: Clinic = request.app.state.clinic  # no patient data: open to load balancers
    health = await run_in_threadpool(clinic.health)
    body = HealthOut(
        status="ok" if health.database_reachable else "degraded",
        version=natalizumab_cds.__version__,
        protocol=ProtocolOut(name=health.protocol_name, version=health.protocol_version),
        database=DatabaseOut(reachable=health.database_reachable),
    )
    return JSONResponse(body.model_dump(), status_code=200 if health.database_reachable else 503)


async def refresh_every_night(clinic: Clinic) -> None:
    """Reassess every patient now, then after each midnight (clinic time), forever."""
    while True:
        try:
            refreshed = await run_in_threadpool(clinic.worklist.refresh)
            log.info("refreshed %d patient summaries", refreshed)
        except Exception:
            log.exception("refreshing the patient summaries failed; retrying in an hour")
            await asyncio.sleep(3600)
            continue
        now = clinic.context.now().astimezone(clinic.context.tz)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        await asyncio.sleep((midnight - now).total_seconds() + 60)
