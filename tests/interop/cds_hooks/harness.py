"""The CDS Hooks service as an EHR meets it: uvicorn on loopback, JWKS served on loopback.

``running_cds(keys)`` starts the EHR's JWK Set endpoint and the service (with
in-memory ports, the assessment clock fixed at ``ANCHOR``) and yields a ``Cds``
that sends signed calls the way an EHR does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from natalizumab_cds.api.cds_hooks import FEEDBACK_PATH, SERVICE_PATH, cds_hooks_service, router
from natalizumab_cds.bootstrap import active_protocol
from natalizumab_cds.interop.cds_hooks.fetch import FhirFetcher
from natalizumab_cds.interop.cds_hooks.keys import KeySets
from natalizumab_cds.interop.cds_hooks.service import CdsHooksService
from natalizumab_cds.interop.cds_hooks.tokens import TokenVerifier
from tests.interop.cds_hooks.fakes import MemoryFeedbackLog, MemoryReplayCache
from tests.interop.cds_hooks.hooks import ANCHOR
from tests.interop.cds_hooks.servers import JsonServer, LiveApp
from tests.interop.cds_hooks.signing import ISSUER, EhrKeys

_NOT_GIVEN: Any = object()


def a_service(
    jwks_url: str,
    *,
    replay: Any = None,
    feedback: Any = None,
    fetch_timeout: float = 2.0,
    audience: str = "",
    max_body_bytes: int = 16_777_216,
) -> CdsHooksService:
    key_sets = KeySets({ISSUER: jwks_url}, timeout_seconds=2.0, min_refresh_seconds=0.0)
    verifier = TokenVerifier(key_sets, replay if replay is not None else MemoryReplayCache())
    return CdsHooksService(
        active_protocol(),
        UTC,
        verifier,
        FhirFetcher(fetch_timeout),
        feedback if feedback is not None else MemoryFeedbackLog(),
        clock=lambda: ANCHOR,
        audience=audience,
        max_body_bytes=max_body_bytes,
    )


def an_app(service: CdsHooksService) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[cds_hooks_service] = lambda: service
    return app


@dataclass
class Cds:
    url: str
    keys: EhrKeys
    service: CdsHooksService
    feedback_log: MemoryFeedbackLog
    client: httpx.Client

    @property
    def service_url(self) -> str:
        return self.url + SERVICE_PATH

    def token(self, **options: Any) -> str:
        return self.keys.token(self.service_url, **options)

    def call(self, body: Any, token: str | None = _NOT_GIVEN, **headers: str) -> httpx.Response:
        return self._post(self.service_url, body, token, headers)

    def send_feedback(self, body: Any, token: str | None = _NOT_GIVEN) -> httpx.Response:
        if token is _NOT_GIVEN:
            token = self.keys.token(self.url + FEEDBACK_PATH)
        return self._post(self.url + FEEDBACK_PATH, body, token, {})

    def _post(
        self, url: str, body: Any, token: str | None, headers: dict[str, str]
    ) -> httpx.Response:
        if token is _NOT_GIVEN:
            token = self.token()
        if token is not None:
            headers = {**headers, "Authorization": f"Bearer {token}"}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(
            url, content=content, headers={"Content-Type": "application/json", **headers}
        )


@contextmanager
def jwks_endpoint(keys: EhrKeys) -> Iterator[JsonServer]:
    """The EHR's JWK Set, read from ``keys`` at each request (so rotation shows)."""
    with JsonServer(lambda path, query, headers: (200, keys.jwks())) as server:
        yield server


@contextmanager
def running_cds(keys: EhrKeys, **options: Any) -> Iterator[Cds]:
    feedback = MemoryFeedbackLog()
    with jwks_endpoint(keys) as jwks:
        service = a_service(jwks.url, feedback=feedback, **options)
        with LiveApp(an_app(service)) as live, httpx.Client(timeout=30) as client:
            yield Cds(live.url, keys, service, feedback, client)


def now() -> datetime:
    return datetime.now(UTC)
