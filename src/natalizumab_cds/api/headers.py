"""Security headers on every response, as one ASGI middleware.

- ``Content-Security-Policy``: everything from this origin only (no CDN), no
  framing, no plugins, forms post back here only. A page that needs an inline
  script (the OpenAPI page's start-up call) sets its own policy naming that
  script's hash: ``with_inline_scripts``.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``, ``Permissions-Policy`` switching off
  devices the clinic never needs, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Cache-Control: no-store`` on everything but the static assets: API answers
  carry patient data, which must not linger in shared or browser caches.
- ``Strict-Transport-Security`` when the request came over HTTPS or the
  service runs in production (behind a TLS-terminating proxy).

A header a route set itself is kept.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:"
)
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), interest-cohort=()"
)
STATIC_PREFIX = "/static/"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _fixed() -> list[tuple[str, str]]:
    return [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("permissions-policy", PERMISSIONS),
        ("cross-origin-opener-policy", "same-origin"),
    ]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, always_hsts: bool = False) -> None:
        self.app = app
        self.always_hsts = always_hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.always_hsts or scope.get("scheme") == "https"
        static = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _fixed():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("cache-control", "no-store")
                if hsts:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_inline_scripts(page: HTMLResponse) -> HTMLResponse:
    """Allow exactly the page's own inline scripts (by SHA-256), nothing else inline."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(bytes(page.body).decode())
    )
    page.headers["content-security-policy"] = (
        f"{CSP}; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'"
    )
    return page


def with_security_headers(response: Response, *, hsts: bool = False) -> Response:
    """``response`` with the headers ``SecurityHeaders`` adds, for an answer sent outside it.

    Starlette sends the answer to an unexpected failure (500) from outside every
    middleware; its handler calls this.
    """
    for name, value in _fixed():
        response.headers.setdefault(name, value)
    response.headers.setdefault("cache-control", "no-store")
    if hsts:
        response.headers.setdefault("strict-transport-security", HSTS)
    return response
