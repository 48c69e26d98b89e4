"""Request logging that never writes patient data.

Access lines name the route's *template* (``/api/patients/{patient_id}``),
never the path as requested nor its query string (a search for a name, an
MRN); request and response bodies are never logged. Uvicorn's own access log
is switched off (``UVICORN_LOG_CONFIG``) because it prints the raw path and
query. The database engine hides statement parameters from its errors
(``hide_parameters``), so a failed write cannot print a patient's name.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("natalizumab_cds.access")

#: ``uvicorn.run(..., log_config=UVICORN_LOG_CONFIG, access_log=False)``
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        # outgoing requests (an EHR's FHIR server) carry patient ids in their URLs
        "httpx": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "natalizumab_cds": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def route_template(scope: Scope) -> str:
    """The matched route's path template; ``(unmatched)`` when no route matched."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "(unmatched)"


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            log.info(
                "%s %s %d %.1f ms",
                scope.get("method", "?"),
                route_template(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )
