"""Shared fixtures for the web app's tests (page routes in process, and the browser).

One synthetic clinic per test session, on a fresh SQLite file, living at
``tests.clinic_db.NOW``: ``CLINIC_SIZE`` patients from ``synthesize`` (seed
``SEED``; the first 32 cover every scenario once, ``scenario_patient`` finds
one) and one account per role, ``USERS[role]``, password ``PASSWORD``, created
through the security use cases. All data is synthetic.

- ``web_app`` — the whole app (``create_web_app``) over that clinic;
- ``signed_in(role)`` — an in-process client already signed in as that role
  (``tests.security.in_process.InProcessClient``); ``page_csrf(client, path)``
  reads a form's CSRF token from a page;
- ``live_server`` — the same app under uvicorn in a thread on a free port: its
  base URL;
- ``browser`` (session) and ``page`` (a fresh 1280×800 context per test) — headless
  Chromium from Debian (``/usr/bin/chromium``) driven by Playwright; skipped with
  a reason when it is missing; ``sign_in_page(page, role)`` signs in through the
  real sign-in form.

Tests that change a patient must use a patient no other test reads (each
scenario has spare patients past index 32, or pick one by ``scenario_patient``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Action, Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import as_operator, clinic_service, security_for
from natalizumab_cds.interop.fhir.synthetic import choose_scenario, synthesize
from natalizumab_cds.web.app import create_web_app
from tests.clinic_db import NOW, FakeClock
from tests.security.browser import sign_in
from tests.security.in_process import InProcessClient
from tests.serving import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CLINIC_SIZE = 40
SEED = 7
PASSWORD = "correct horse battery staple"
USERS: dict[Role, str] = {role: f"web-{role.value}" for role in Role}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
#: The ``signed_in`` fixture's type.
SignedIn = Callable[[Role], InProcessClient]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def scenario_patient(scenario: str, nth: int = 0) -> str:
    """The id of the ``nth`` patient of the web clinic made for ``scenario`` (``p1`` …)."""
    found = [i for i in range(CLINIC_SIZE) if choose_scenario(i, SEED) == scenario]
    return f"p{found[nth]}"


@pytest.fixture(scope="session")
def web_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """The synthetic clinic, on a fresh SQLite file, at ``NOW``."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web-clinic') / 'clinic.sqlite3'}"
    clinic = clinic_service(url, clock=FakeClock(NOW), upgrade=True)
    importer = as_operator(clinic, Action.IMPORT_RECORDS).importer
    bundles = synthesize(CLINIC_SIZE, SEED, NOW)
    importer.many((f"synthetic patient {i}", orjson.dumps(b)) for i, b in enumerate(bundles))
    yield clinic
    clinic.database.close()


@pytest.fixture(scope="session")
def web_security(web_clinic: Clinic) -> Security:
    """People and trust on the web clinic, with one account per role (``USERS``)."""
    security = security_for(web_clinic, passwords=Passwords(TEST_COST))
    admin = operator("web-tests")
    for role, username in USERS.items():
        security.accounts.add(admin, username, role, PASSWORD)
    return security


@pytest.fixture(scope="session")
def web_app(web_clinic: Clinic, web_security: Security) -> FastAPI:
    return create_web_app(web_clinic, security=web_security)


@pytest.fixture
def signed_in(web_app: FastAPI) -> Iterator[Callable[[Role], InProcessClient]]:
    """``signed_in(Role.NURSE)``: an in-process client with that role's session."""
    clients: list[InProcessClient] = []

    def make(role: Role) -> InProcessClient:
        client = InProcessClient(web_app)
        clients.append(client)
        answer = sign_in(client, USERS[role], PASSWORD)
        assert answer.status_code == 303, answer.text
        return client

    yield make
    for client in clients:
        client.close()


def page_csrf(client: InProcessClient, path: str) -> str:
    """The CSRF token the page at ``path`` puts in its forms."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF.search(page.text)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture(scope="session")
def live_server(web_app: FastAPI) -> Iterator[str]:
    """The web app under uvicorn in a thread; its base URL (``http://127.0.0.1:PORT``)."""
    port = free_port()
    config = uvicorn.Config(
        web_app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (never a downloaded one); the tests skip without it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) at 1280×800, with ``base_url`` = the live server."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in_page(page: Any, role: Role, next_: str = "/") -> None:
    """Sign in through the real form as ``USERS[role]``; ends on ``next_``."""
    page.goto(f"/login?next={next_}")
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*" + re.escape(next_.split("?", maxsplit=1)[0]) + r"(\?.*)?$"))
