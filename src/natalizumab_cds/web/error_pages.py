"""Errors on a web page's address answered with the HTML error page, never a JSON problem.

``install_error_pages(app)`` replaces the app's exception handlers (installed by
``api.create_app``) with ones that look at the address first. A machine address
(``MACHINE_PREFIXES``: the REST API, FHIR, HL7, CDS Hooks, health, OpenAPI) is
answered by the handler replaced, so its problem document is unchanged. Any
other address is a page a person opened, answered with ``error.html``, the
status kept and nothing about the internals:

- a GET of an address that only takes a form post (what stays in the address
  bar after a refused form) is redirected (303) to the page the form is on: the
  nearest address above it that a page answers (``/visits/v1/preparation`` →
  ``/visits/v1``, ``/accounts/tokens/3/revoke`` → ``/accounts``);
- a value the route refuses (422) is named in words (the parameter's
  ``title``, else its ``description``, else its name) with what is wrong;
- an unknown address is a 404 page; other HTTP errors keep their status;
- a project or access error keeps the problem's status, title and detail; a
  request that needs a session without one is sent to sign in;
- an unexpected failure (500) says only that; it is logged with its trace.
  Starlette answers it from outside the middleware, so the security headers are
  added here (to the API's problem document too).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from natalizumab_cds.api.access import current_principal
from natalizumab_cds.api.headers import with_security_headers
from natalizumab_cds.config import Environment, get_settings
from natalizumab_cds.domain.errors import NtzError
from natalizumab_cds.web.pages import render

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
log = logging.getLogger(__name__)

#: Addresses answered for other systems: their errors stay problem documents.
MACHINE_PREFIXES = ("/api", "/fhir", "/hl7", "/cds-services", "/health", "/openapi.json")
SAFE = frozenset({"GET", "HEAD"})
#: pydantic error type → what is wrong, in words (``{…}`` from the error's context).
WRONG: dict[str, str] = {
    "missing": "is missing",
    "string_too_long": "is longer than {max_length} characters",
    "string_too_short": "is shorter than {min_length} characters",
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not yes or no",
    "greater_than_equal": "must be {ge} or more",
    "less_than_equal": "must be {le} or less",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
}
WHERE = {
    "query": "in the address",
    "path": "in the address",
    "body": "in the form",
    "header": "in a header",
    "cookie": "in a cookie",
}


def for_machines(path: str) -> bool:
    """Whether ``path`` is an address other systems call (errors stay JSON problems)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in MACHINE_PREFIXES)


def install_error_pages(app: FastAPI) -> None:
    """Answer errors on page addresses with the error page; see the module docstring."""
    replaced = dict(app.exception_handlers)
    for kind, handler in replaced.items():
        if isinstance(kind, type) and kind is not WebSocketRequestValidationError:
            app.add_exception_handler(kind, _page_instead(handler))
    special: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        RequestValidationError: _validation_page,
        HTTPException: _http_page,
    }
    for kind, page in special.items():
        machine = replaced.get(kind)
        if machine is not None:
            app.add_exception_handler(kind, _by_address(machine, page))
    machine_failure = replaced.get(Exception)
    if machine_failure is not None:
        app.add_exception_handler(Exception, _secured(_by_address(machine_failure, _failure_page)))


def _by_address(
    machine: Handler, page: Callable[[Request, Exception], Awaitable[Response]]
) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if for_machines(request.url.path):
            return await _answer(machine, request, error)
        return await page(request, error)

    return handle


async def _answer(handler: Handler, request: Request, error: Exception) -> Response:
    answer = handler(request, error)
    return await answer if inspect.isawaitable(answer) else answer


def _page_instead(handler: Handler) -> Handler:
    """``handler``, whose JSON problem becomes the error page on a page's address."""

    async def handle(request: Request, error: Exception) -> Response:
        answer = await _answer(handler, request, error)
        kind = answer.headers.get("content-type", "")
        if for_machines(request.url.path) or "json" not in kind:
            return answer  # a redirect or a page already (SignInNeeded, PageRefused …)
        if answer.status_code == 401:
            query = f"?{request.url.query}" if request.url.query else ""
            target = request.url.path + query if request.method in SAFE else "/"
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        problem = json.loads(bytes(answer.body))
        kept = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
        title = str(problem.get("title") or HTTPStatus(answer.status_code).phrase)
        return _error_page(request, answer.status_code, title, str(problem.get("detail", "")), kept)

    return handle


def _error_page(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    page = render(
        request, "error.html", {"title": title, "detail": detail, **context}, status=status
    )
    page.headers.update(headers or {})
    return page


async def _validation_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [_in_words(request, dict(item)) for item in error.errors()]
    back = _page_above(request, request.url.path)
    label = "Open the page without these values" if request.method in SAFE else "Back to the page"
    return _error_page(
        request,
        422,
        "Value not accepted",
        "the page could not use what it was given:",
        problems=list(dict.fromkeys(problems)),
        back=(back, label),
    )


def _in_words(request: Request, item: dict[str, Any]) -> str:
    location = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)] or [""]
    where, name = location[0], location[-1]
    label = _parameter_words(request, where, name)
    template = WRONG.get(str(item.get("type", "")))
    context = item.get("ctx") or {}
    try:
        wrong = template.format(**context) if template else str(item.get("msg", "is not valid"))
    except (KeyError, IndexError):
        wrong = str(item.get("msg", "is not valid"))
    place = WHERE.get(where, "in the request")
    if label is None:
        return f"“{name}” {place} {wrong}."
    return f"{label[0].upper()}{label[1:]}, “{name}” {place}, {wrong}."


def _parameter_words(request: Request, where: str, name: str) -> str | None:
    """The parameter's title or description as the route declares it (None: neither)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for field in _fields(dependant, where):
        if name in (field.name, field.alias):
            words = field.field_info.title or field.field_info.description
            return str(words) if words else None
    return None


def _fields(dependant: Any, where: str) -> Iterator[Any]:
    if dependant is None:
        return
    yield from getattr(dependant, f"{where}_params", ())
    for sub in dependant.dependencies:
        yield from _fields(sub, where)


async def _http_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    status, path = error.status_code, request.url.path
    if status == 405 and request.method in SAFE:  # the address of a form, opened again
        return RedirectResponse(_page_above(request, path, itself=False), status_code=303)
    await _know_caller(request)
    headers = dict(error.headers or {})
    if status == 404:
        return _error_page(
            request,
            404,
            "Page not found",
            "there is no page at this address.",
            headers,
            lead="Not found",
        )
    if status == 405:
        back = _page_above(request, path)
        return _error_page(
            request,
            405,
            "Request not taken here",
            f"this address does not take a {request.method} request.",
            headers,
            back=(back, "Back to the page"),
        )
    phrase = HTTPStatus(status).phrase if status in set(HTTPStatus) else "Error"
    detail = str(error.detail) if error.detail != phrase else "the request could not be answered."
    return _error_page(request, status, phrase, detail, headers)


async def _know_caller(request: Request) -> None:
    """Who is signed in, if anyone, so the error page has the header's links (GET only)."""
    if request.method not in SAFE or getattr(request.state, "principal", None) is not None:
        return
    try:
        await current_principal(request, None, None)
    except NtzError:  # nobody signed in: the page links to the start instead
        return


def _page_above(request: Request, path: str, *, itself: bool = True) -> str:
    """The nearest address at or above ``path`` (``itself``: including it) a page answers."""
    parts = path.rstrip("/").split("/")
    candidates = ["/".join(parts[:n]) or "/" for n in range(len(parts), 0, -1)]
    for candidate in candidates if itself else candidates[1:]:
        if not for_machines(candidate) and _page_at(request, candidate):
            return candidate
    return "/"


def _page_at(request: Request, path: str) -> bool:
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    return any(route.matches(dict(scope))[0] is Match.FULL for route in request.app.router.routes)


async def _failure_page(request: Request, error: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    detail = "the request could not be completed; the failure is in the server's log."
    try:
        return _error_page(request, 500, "Something went wrong", detail, lead="Error")
    except Exception:  # the template itself failed: a page that needs nothing
        log.exception("the error page could not be rendered")
        return HTMLResponse(_BARE_500, status_code=500)


def _secured(handler: Handler) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        answer = await _answer(handler, request, error)
        production = get_settings().environment is Environment.PRODUCTION
        return with_security_headers(answer, hsts=production or request.url.scheme == "https")

    return handle


_BARE_500 = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong - natalizumab-cds</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main"><h1>Something went wrong</h1>
<p role="alert">The request could not be completed; the failure is in the server's log.</p>
<p><a href="/">Go to the start page</a></p></main></body></html>"""
