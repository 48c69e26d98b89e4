"""Errors on a page's address are HTML pages; the API's stay problem documents.

A person in a browser must never see ``{"detail": ...}``: the address left in
the bar after a refused form, a search too long, an unknown address, a method
the page does not take, a failure. Machine addresses (``/api``, ``/fhir``,
``/hl7``, CDS Hooks, ``/health``) answer as before. No patient data is changed.
"""

from __future__ import annotations

import re

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.web.app import create_web_app
from natalizumab_cds.web.error_pages import for_machines
from tests.security.in_process import InProcessClient
from tests.web.conftest import SignedIn, page_csrf

PROBLEM = "application/problem+json"
_PARAMETER = re.compile(r"{[^}]+}")


def _html(answer: object) -> str:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"].startswith("default-src 'self'")
    text: str = answer.text  # type: ignore[attr-defined]
    assert '"detail"' not in text
    assert "<script>" not in text
    assert "style=" not in text
    return text


def _post_only_page_routes(app: FastAPI) -> list[str]:
    posted, read = set(), set()
    for route in iter_route_contexts(app.routes):
        path = route.path_format or route.path or ""
        if for_machines(path) or not route.methods:
            continue
        (posted if "POST" in route.methods else read).add(path)
        if "GET" in route.methods:
            read.add(path)
    return sorted(posted - read)


@pytest.mark.parametrize(
    ("form_address", "page"),
    [
        ("/visits/v-none/preparation", "/visits/v-none"),
        ("/visits/v-none/screening", "/visits/v-none"),
        ("/patients/p0/override", "/patients/p0"),
        ("/patients/p0/results/mri", "/patients/p0"),
        ("/infusion-day/visits", "/infusion-day"),
        ("/lab-messages/7/retry", "/lab-messages"),
        ("/accounts/tokens/3/revoke", "/accounts"),
        ("/accounts/web-nurse/active", "/accounts"),
    ],
)
def test_opening_a_forms_address_again_goes_back_to_the_page_the_form_is_on(
    signed_in: SignedIn, form_address: str, page: str
) -> None:
    answer = signed_in(Role.NURSE).get(form_address)
    assert answer.status_code == 303
    assert answer.headers["location"] == page


def test_every_form_address_of_the_web_app_sends_a_get_to_a_page(
    signed_in: SignedIn, web_app: FastAPI
) -> None:
    physician = signed_in(Role.PHYSICIAN)
    addresses = _post_only_page_routes(web_app)
    assert "/visits/{visit_id}/preparation" in addresses
    assert "/logout" in addresses
    wrong = []
    for template in addresses:
        path = _PARAMETER.sub("p0", template)
        answer = physician.get(path)
        target = answer.headers.get("location", "")
        if answer.status_code != 303 or target == path:
            wrong.append(f"{template}: {answer.status_code} {target}")
            continue
        page = physician.get(target)  # the page itself (or its own 403/404 page)
        if page.status_code == 405 or not page.headers["content-type"].startswith("text/html"):
            wrong.append(f"{template} -> {target}: {page.status_code}")
    assert wrong == []


def test_a_search_longer_than_the_worklist_takes_is_a_page_naming_the_search(
    signed_in: SignedIn,
) -> None:
    answer = signed_in(Role.NURSE).get("/?q=" + "x" * 201)
    assert answer.status_code == 422
    text = _html(answer)
    assert "The search (name or MRN), “q” in the address, is longer than 200 characters." in text
    assert '<a href="/">Open the page without these values</a>' in text
    assert "web-nurse" in text  # the header, signed in


def test_a_form_value_the_route_refuses_is_named_in_words(signed_in: SignedIn) -> None:
    nurse = signed_in(Role.NURSE)
    token = page_csrf(nurse, "/")
    answer = nurse.post("/lab-messages/abc/discard", data={"csrf_token": token, "reason": "x"})
    assert answer.status_code == 422
    text = _html(answer)
    assert "The dead letter&#39;s number, “letter_id” in the address, is not a whole number" in text
    assert '<a href="/lab-messages">Back to the page</a>' in text


def test_an_unknown_address_is_a_not_found_page_with_a_way_back(
    signed_in: SignedIn, web_app: FastAPI
) -> None:
    answer = signed_in(Role.NURSE).get("/no/such/page")
    assert answer.status_code == 404
    text = _html(answer)
    assert "<h1>Page not found</h1>" in text
    assert '<a href="/">Back to the worklist</a>' in text
    with InProcessClient(web_app) as stranger:  # type: ignore[arg-type]
        signed_out = stranger.get("/no/such/page")
    assert signed_out.status_code == 404
    assert '<a href="/">Go to the start page</a>' in _html(signed_out)


def test_a_method_a_page_does_not_take_is_a_page_with_the_allowed_ones(
    signed_in: SignedIn,
) -> None:
    answer = signed_in(Role.NURSE).request("PUT", "/patients/p0")
    assert answer.status_code == 405
    assert "GET" in answer.headers["allow"]
    assert '<a href="/patients/p0">Back to the page</a>' in _html(answer)


def test_signing_out_without_a_session_goes_to_sign_in(web_app: FastAPI) -> None:
    with InProcessClient(web_app) as stranger:  # type: ignore[arg-type]
        answer = stranger.post("/logout")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/nowhere", 404),
        ("GET", "/api/visits/v-none/preparation", 405),
        ("GET", "/api/worklist?q=" + "x" * 201, 422),
        ("GET", "/hl7", 405),
        ("GET", "/fhir", 405),
    ],
)
def test_machine_addresses_keep_their_problem_documents(
    signed_in: SignedIn, method: str, path: str, status: int
) -> None:
    answer = signed_in(Role.NURSE).request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["status"] == status


def test_every_address_in_the_api_description_is_a_machine_address(web_app: FastAPI) -> None:
    paths = list(web_app.openapi()["paths"])
    assert "/api/worklist" in paths
    assert [path for path in paths if not for_machines(path)] == []
    assert not any(for_machines(p) for p in ("/", "/login", "/patients/p0", "/lab-messages"))


@pytest.fixture
def failing_app(web_clinic: Clinic, web_security: Security) -> FastAPI:
    app = create_web_app(web_clinic, security=web_security)

    def fails() -> None:
        raise RuntimeError("internals: /srv/clinic/secret.py line 12")

    def conflicts() -> None:
        raise ConcurrentUpdate("record p0 changed since it was read")

    for path in ("/broken", "/api/broken"):
        app.add_api_route(path, fails)
    app.add_api_route("/conflict", conflicts)
    return app


def _get_despite_failures(app: FastAPI, *paths: str) -> list[httpx.Response]:
    """GET each path; a failure the app answers with a 500 is not raised here."""

    async def fetch() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://clinic.test") as c:
            return [await c.get(path) for path in paths]

    # a portal's own thread: the browser tests may leave an event loop in this one
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(fetch)


def test_a_failure_on_a_page_is_a_500_page_that_shows_no_internals(failing_app: FastAPI) -> None:
    page, api, conflict = _get_despite_failures(failing_app, "/broken", "/api/broken", "/conflict")
    assert page.status_code == 500
    text = _html(page)
    assert "<h1>Something went wrong</h1>" in text
    assert "internals" not in text
    assert "Traceback" not in text
    assert page.headers["cache-control"] == "no-store"
    assert api.status_code == 500
    assert api.headers["content-type"] == PROBLEM
    assert api.json()["detail"] == "the request could not be completed"
    assert api.headers["content-security-policy"].startswith("default-src 'self'")
    assert conflict.status_code == 409
    assert "Record changed by another user; try again" in _html(conflict)
