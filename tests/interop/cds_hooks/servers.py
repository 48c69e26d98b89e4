"""Real HTTP servers on loopback for the CDS Hooks tests (ephemeral ports, one thread each).

- ``JsonServer``: answers GETs from a function (path, query, headers) → (status,
  body), optionally after a delay; it plays the EHR's JWK Set endpoint and its
  FHIR server, and counts what it was asked.
- ``FhirRecordServer``: a FHIR server holding one synthetic patient's record:
  ``Patient/{id}`` and ``{Type}?patient=...`` searchsets, paged when asked.
- ``LiveApp``: an ASGI app served by uvicorn, as the EHR reaches the service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import orjson
import uvicorn

Answer = tuple[int, Any]
Route = Callable[[str, dict[str, list[str]], Mapping[str, str]], Answer]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the service fetches every key at once
    daemon_threads = True
    block_on_close = False


class JsonServer:
    def __init__(self, route: Route, delay_seconds: float = 0.0) -> None:
        self.route = route
        self.delay_seconds = delay_seconds
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((parts.path, query, headers))
                if server.delay_seconds:
                    time.sleep(server.delay_seconds)
                status, body = server.route(parts.path, query, headers)
                data = body if isinstance(body, bytes) else orjson.dumps(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts are what some tests are about)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class FhirRecordServer(JsonServer):
    """The EHR's FHIR server at ``{url}/fhir`` holding ``resources`` of one patient."""

    def __init__(
        self,
        resources: list[dict[str, Any]],
        access_token: str | None = None,
        page_size: int = 1000,
        delay_seconds: float = 0.0,
        fail_with: int | None = None,
    ) -> None:
        self.resources = resources
        self.access_token = access_token
        self.page_size = page_size
        self.fail_with = fail_with
        super().__init__(self._answer, delay_seconds)

    @property
    def base(self) -> str:
        return f"{self.url}/fhir"

    def _answer(self, path: str, query: dict[str, list[str]], headers: Mapping[str, str]) -> Answer:
        if self.fail_with is not None:
            return self.fail_with, {"resourceType": "OperationOutcome", "issue": []}
        if self.access_token and headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, {"resourceType": "OperationOutcome", "issue": []}
        parts = path.removeprefix("/fhir/").split("/")
        if len(parts) == 2:
            found = [r for r in self.resources if [r["resourceType"], r["id"]] == parts]
            return (200, found[0]) if found else (404, {"resourceType": "OperationOutcome"})
        kind = parts[0]
        matches = [r for r in self.resources if r["resourceType"] == kind]
        if "_include" in query:
            matches += [r for r in self.resources if r["resourceType"] == "Medication"]
        offset = int(query.get("_offset", ["0"])[0])
        page = matches[offset : offset + self.page_size]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in page],
        }
        if offset + self.page_size < len(matches):
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "_offset")
            next_url = f"{self.base}/{kind}?{rest}&_offset={offset + self.page_size}"
            bundle["link"] = [{"relation": "next", "url": next_url}]
        return 200, bundle


class LiveApp:
    """An ASGI app served by uvicorn on an ephemeral loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        socket = self._server.servers[0].sockets[0]
        host, port = socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LiveApp:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
