"""Signing in with a password: sessions in the database, throttled failures, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.application.security.signin import session_key
from tests.clinic_db import FakeClock
from tests.security.browser import csrf_of, sign_in
from tests.security.conftest import ADMIN
from tests.security.in_process import InProcessClient

SignUp = Callable[[str, Role], str]


def test_a_correct_password_opens_a_session_held_in_an_http_only_same_site_cookie(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    answer = sign_in(client, "nurse-ada", next_="/api/worklist")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/worklist"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ntz_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    me = client.get("/api/session").json()
    assert (me["username"], me["role"], me["credential"]) == ("nurse-ada", "nurse", "session")
    assert "read-worklist" in me["actions"]
    assert "override-finding" not in me["actions"]


def test_the_session_cookie_holds_a_random_id_that_is_not_stored_as_such(
    client: InProcessClient, sign_up: SignUp, security: Security
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    cookie = client.cookies["ntz_session"]
    assert len(cookie) >= 40

    with security.sign_in._database.reading() as uow:
        assert uow.sessions.get(cookie) is None  # only the SHA-256 is a key
        assert uow.sessions.get(session_key(cookie)) is not None


def test_over_https_the_session_cookie_is_secure(app: FastAPI, sign_up: SignUp) -> None:
    sign_up("nurse-ada", Role.NURSE)
    with InProcessClient(app, base_url="https://clinic.test") as browser:
        answer = sign_in(browser, "nurse-ada")
    assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_user_are_refused_alike(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    wrong = sign_in(client, "nurse-ada", "not the password at all")
    unknown = sign_in(client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "unknown username or wrong password" in wrong.text
    assert "unknown username or wrong password" in unknown.text
    assert "ntz_session" not in client.cookies
    assert client.get("/api/session").status_code == 401


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    client: InProcessClient, sign_up: SignUp, security: Security
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    assert client.get("/api/session").status_code == 200
    security.accounts.set_active(ADMIN, "nurse-ada", False)
    assert client.get("/api/session").status_code == 401
    assert sign_in(client, "nurse-ada").status_code == 401


def test_the_sign_in_form_must_come_back_with_its_own_token(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    forged = client.post(
        "/login",
        data={"username": "nurse-ada", "password": "correct horse battery staple"},
    )
    assert forged.status_code == 403
    assert "ntz_session" not in client.cookies


def test_an_offsite_next_address_is_not_followed(client: InProcessClient, sign_up: SignUp) -> None:
    sign_up("nurse-ada", Role.NURSE)
    answer = sign_in(client, "nurse-ada", next_="//evil.example/steal")
    assert answer.headers["location"] == "/"


def test_five_failures_for_a_username_lock_it_for_fifteen_minutes(
    client: InProcessClient, sign_up: SignUp, clock: FakeClock
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    for _ in range(5):
        assert sign_in(client, "nurse-ada", "guess guess guess").status_code == 401
    throttled = sign_in(client, "nurse-ada")  # even the right password
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers
    clock.moment += timedelta(minutes=14, seconds=59)
    assert sign_in(client, "nurse-ada").status_code == 429
    clock.moment += timedelta(seconds=2)
    assert sign_in(client, "nurse-ada").status_code == 303


def test_a_success_resets_the_count_for_the_username(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    for _ in range(4):
        sign_in(client, "nurse-ada", "guess guess guess")
    assert sign_in(client, "nurse-ada").status_code == 303
    for _ in range(4):
        sign_in(client, "nurse-ada", "guess guess guess")
    assert sign_in(client, "nurse-ada").status_code == 303


def test_twenty_failures_from_one_address_lock_that_address_for_every_username(
    app: FastAPI, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    with InProcessClient(app, client_address="203.0.113.7") as attacker:
        for index in range(20):
            assert sign_in(attacker, f"guess-{index}", "guess guess guess").status_code == 401
        assert sign_in(attacker, "nurse-ada").status_code == 429
    with InProcessClient(app, client_address="198.51.100.2") as colleague:
        assert sign_in(colleague, "nurse-ada").status_code == 303


def test_the_failure_count_is_shared_by_every_app_process(
    clinic: object, app: FastAPI, sign_up: SignUp, security: Security
) -> None:
    """Two app instances on one database (two processes behind a load balancer)."""
    sign_up("nurse-ada", Role.NURSE)
    other = create_app(app.state.clinic, security=security)
    for index in range(5):
        instance = app if index % 2 else other
        with InProcessClient(instance) as browser:
            sign_in(browser, "nurse-ada", "guess guess guess")
    with InProcessClient(app) as browser:
        assert sign_in(browser, "nurse-ada").status_code == 429


def test_a_session_ends_after_thirty_idle_minutes(
    client: InProcessClient, sign_up: SignUp, clock: FakeClock
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    clock.moment += timedelta(minutes=29)
    assert client.get("/api/session").status_code == 200
    clock.moment += timedelta(minutes=30)  # 30 min after the last request: still in
    assert client.get("/api/session").status_code == 200
    clock.moment += timedelta(minutes=30, seconds=1)
    expired = client.get("/api/session")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(
    client: InProcessClient, sign_up: SignUp, clock: FakeClock
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    for _ in range(36):  # a request every 20 minutes for 12 hours
        clock.moment += timedelta(minutes=20)
        assert client.get("/api/session").status_code == 200
    clock.moment += timedelta(seconds=1)
    assert client.get("/api/session").status_code == 401


def test_signing_out_ends_the_session_on_the_server(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    stolen = client.cookies["ntz_session"]
    answer = client.post("/logout", headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 303
    client.cookies.set("ntz_session", stolen)
    assert client.get("/api/session").status_code == 401


def test_a_username_that_cannot_exist_is_refused_like_any_wrong_one(
    client: InProcessClient,
) -> None:
    for username in ("admin\x00", "x" * 150, "Robert'); DROP TABLE users;--"):
        assert sign_in(client, username, "whatever it is").status_code == 401
