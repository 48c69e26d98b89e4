"""CSRF on form posts made with a session, and API tokens for systems."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.accounts import token_hash
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.service import Security
from tests.clinic_db import a_patient
from tests.security.browser import csrf_of, sign_in
from tests.security.conftest import ADMIN, bearer
from tests.security.in_process import InProcessClient

SignUp = Callable[[str, Role], str]
TokenFor = Callable[[Role], str]


def _import(client: InProcessClient, headers: dict[str, str] | None = None) -> int:
    body = orjson.dumps(a_patient(0))
    return client.post("/fhir", content=body, headers=headers or {}).status_code


def test_a_state_changing_request_with_a_session_but_no_csrf_token_is_refused(
    client: InProcessClient, sign_up: SignUp, clinic: Clinic
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    refused = client.post("/fhir", content=orjson.dumps(a_patient(0)))
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("csrf-refused")
    assert clinic.patients.search(None).total == 0


def test_a_wrong_csrf_token_is_refused_and_the_right_one_accepted(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    assert _import(client, {"X-CSRF-Token": "x" * 43}) == 403
    assert _import(client, {"X-CSRF-Token": csrf_of(client)}) == 200


def test_a_form_post_may_carry_the_csrf_token_as_a_field(
    client: InProcessClient, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_in(client, "nurse-ada")
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303


def test_another_sessions_csrf_token_does_not_count(
    app: object, sign_up: SignUp, client: InProcessClient
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    sign_up("nurse-bea", Role.NURSE)
    with InProcessClient(app) as other:  # type: ignore[arg-type]
        sign_in(other, "nurse-bea")
        foreign = csrf_of(other)
    sign_in(client, "nurse-ada")
    assert _import(client, {"X-CSRF-Token": foreign}) == 403


def test_a_bearer_token_needs_no_csrf_token(client: InProcessClient, token_for: TokenFor) -> None:
    assert _import(client, bearer(token_for(Role.NURSE))) == 200


def test_an_unknown_or_malformed_token_is_refused_with_a_challenge(
    client: InProcessClient,
) -> None:
    for header in ("Bearer ntz_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "):
        answer = client.get("/api/worklist", headers={"Authorization": header})
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_at_once(
    client: InProcessClient, token_for: TokenFor, security: Security
) -> None:
    token = token_for(Role.NURSE)
    assert client.get("/api/worklist", headers=bearer(token)).status_code == 200
    (listed,) = security.accounts.tokens(ADMIN)
    security.accounts.revoke_token(ADMIN, listed.id)
    assert client.get("/api/worklist", headers=bearer(token)).status_code == 401


def test_a_disabled_accounts_token_is_refused(
    client: InProcessClient, token_for: TokenFor, security: Security
) -> None:
    token = token_for(Role.NURSE)
    security.accounts.set_active(ADMIN, "sys-nurse", False)
    assert client.get("/api/worklist", headers=bearer(token)).status_code == 401


def test_tokens_are_kept_only_as_hashes_and_shown_once(security: Security, sign_up: SignUp) -> None:
    sign_up("lab-system", Role.NURSE)
    issued = security.accounts.create_token(ADMIN, "lab-system", "lab feed")
    assert issued.secret.startswith("ntz_")
    assert len(issued.secret) > 40
    with security.sign_in._database.reading() as uow:
        assert uow.tokens.by_hash(issued.secret) is None
        assert uow.tokens.by_hash(token_hash(issued.secret)) is not None
    (listed,) = security.accounts.tokens(ADMIN)
    assert issued.secret not in repr(listed)


def test_an_administrator_creates_and_revokes_tokens_through_the_api(
    client: InProcessClient, token_for: TokenFor, sign_up: SignUp
) -> None:
    admin = bearer(token_for(Role.ADMINISTRATOR))
    sign_up("lab-system", Role.NURSE)
    created = client.post(
        "/api/tokens", json={"username": "lab-system", "name": "lab"}, headers=admin
    )
    assert created.status_code == 201, created.text
    secret, token_id = created.json()["token"], created.json()["id"]
    assert client.get("/api/worklist", headers=bearer(secret)).status_code == 200
    listed = client.get("/api/tokens", headers=admin).json()
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/tokens/{token_id}", headers=admin).status_code == 200
    assert client.get("/api/worklist", headers=bearer(secret)).status_code == 401
