"""A synchronous HTTP client for an ASGI app in this process: no server, no port.

httpx's ``ASGITransport`` driven through an anyio blocking portal, so tests stay
plain functions. Cookies persist between calls like a browser's.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any, Self

import anyio.from_thread
import httpx
from starlette.types import ASGIApp


class InProcessClient:
    def __init__(
        self,
        app: ASGIApp,
        *,
        base_url: str = "http://clinic.test",
        headers: dict[str, str] | None = None,
        client_address: str = "127.0.0.1",
    ) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    @property
    def headers(self) -> httpx.Headers:
        return self._client.headers

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
