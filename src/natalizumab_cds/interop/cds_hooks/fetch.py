"""Fetching what the prefetch lacked from the EHR's FHIR server, within a bounded time.

All missing keys are fetched at once and every searchset is followed page by
page; the whole fetch, pages included, must finish within one time budget
(``fhir_fetch_timeout_seconds``). Anything short of complete data (no server,
timeout, an HTTP error, an unreadable answer) is ``DataUnavailable``: the
caller answers 412 rather than assess a partial record.

The access token is only ever sent to the ``fhirServer`` the EHR named, and only
over https (plain http is allowed to a loopback address, for tests and a
co-located EHR); a ``next`` link pointing elsewhere is refused.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import httpx
import orjson

from natalizumab_cds.interop.cds_hooks.errors import DataUnavailable
from natalizumab_cds.interop.cds_hooks.prefetch import Record, add_value

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FHIR_JSON = "application/fhir+json, application/json;q=0.9"


class FhirFetcher:
    def __init__(
        self,
        timeout_seconds: float,
        max_bytes: int = 16_777_216,
        max_pages: int = 200,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        self.max_pages = max_pages

    async def complete(
        self,
        record: Record,
        pending: Mapping[str, str],
        server: str | None,
        access_token: str | None,
    ) -> None:
        """Fetch every pending key into ``record``, or raise ``DataUnavailable``."""
        keys = ", ".join(sorted(pending))
        if not server:
            raise DataUnavailable(
                f"prefetch is missing or incomplete for {keys} and the request names no "
                "fhirServer to fetch it from"
            )
        base = _checked_base(server)
        headers = {"Accept": FHIR_JSON}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        async with httpx.AsyncClient(
            headers=headers, timeout=self.timeout_seconds, verify=_tls_context()
        ) as client:
            try:
                async with asyncio.timeout(self.timeout_seconds), asyncio.TaskGroup() as group:
                    for key, query in pending.items():
                        group.create_task(self._fetch_key(client, base, key, query, record))
            except TimeoutError:
                raise DataUnavailable(
                    f"the FHIR server {base} did not deliver {keys} within "
                    f"{self.timeout_seconds:g} s"
                ) from None
            except ExceptionGroup as group_error:
                raise _first_unavailable(group_error) from None

    async def _fetch_key(
        self, client: httpx.AsyncClient, base: str, key: str, query: str, record: Record
    ) -> None:
        url: str | None = query if _is_absolute(query) else f"{base}/{query}"
        pages = 0
        while url is not None:
            if not url.startswith(base + "/"):
                raise DataUnavailable(
                    f"{key}: the next page {url} is not on the FHIR server {base}"
                )
            pages += 1
            if pages > self.max_pages:
                raise DataUnavailable(f"{key}: more than {self.max_pages} pages of results")
            page = await self._get_json(client, key, url)
            url = add_value(record, key, page, f"{key} from {base}", DataUnavailable)

    async def _get_json(self, client: httpx.AsyncClient, key: str, url: str) -> Mapping[str, Any]:
        try:
            async with client.stream("GET", url) as response:
                if response.status_code != httpx.codes.OK:
                    raise DataUnavailable(
                        f"{key}: the FHIR server answered HTTP {response.status_code} to {url}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self.max_bytes:
                        raise DataUnavailable(
                            f"{key}: the answer to {url} exceeds {self.max_bytes} bytes"
                        )
        except httpx.HTTPError as error:
            raise DataUnavailable(
                f"{key}: the FHIR server could not be reached ({type(error).__name__})"
            ) from None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise DataUnavailable(f"{key}: the answer to {url} is not JSON") from None
        if not isinstance(data, dict):
            raise DataUnavailable(f"{key}: the answer to {url} is not a FHIR resource")
        return data


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """Certificate verification as httpx does it, built once (it costs ~20 ms a time)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _checked_base(server: str) -> str:
    try:
        url = httpx.URL(server)
    except (httpx.InvalidURL, TypeError):
        raise DataUnavailable(f"fhirServer {server!r} is not a URL") from None
    if url.scheme == "https" or (url.scheme == "http" and url.host in LOOPBACK_HOSTS):
        return server.rstrip("/")
    raise DataUnavailable(
        f"fhirServer {server} must use https (the access token is never sent in the clear)"
    )


def _is_absolute(query: str) -> bool:
    return query.startswith(("http://", "https://"))


def _first_unavailable(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first reason the fetch failed; anything unexpected is re-raised as it is."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_unavailable(error)
        return error
    return DataUnavailable("the FHIR fetch failed")
