"""Every protected route refuses strangers (401) and roles the table refuses (403).

The routes are enumerated from the app itself, so a route added later without
``require(Action…)`` fails here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import ALLOWED, Action, Role
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.web.app import create_web_app
from tests.security.conftest import bearer
from tests.security.in_process import InProcessClient
from tests.security.routes import protected_endpoints

TokenFor = Callable[[Role], str]


def test_there_are_protected_routes_and_the_open_ones_are_the_expected_few(app: FastAPI) -> None:
    endpoints = protected_endpoints(app)
    assert len(endpoints) >= 20
    templates = {e.template for e in endpoints}
    assert {"/api/patients/{patient_id}", "/api/worklist", "/fhir", "/api/users"} <= templates


def test_every_protected_route_answers_a_stranger_with_a_401_problem(
    app: FastAPI, client: InProcessClient
) -> None:
    wrong = []
    for endpoint in protected_endpoints(app):
        answer = client.request(endpoint.method, endpoint.path)
        problem_json = answer.headers.get("content-type") == "application/problem+json"
        challenge = answer.headers.get("www-authenticate", "").startswith("Bearer")
        if answer.status_code != 401 or not problem_json or not challenge:
            wrong.append(f"{endpoint}: {answer.status_code}")
    assert wrong == []


def test_every_protected_route_names_exactly_one_action_or_chooses_it(app: FastAPI) -> None:
    unnamed = {str(e) for e in protected_endpoints(app) if e.action is None and not e.chosen}
    assert unnamed == {"GET /api/session", "POST /logout"}  # signed in is all they need


def test_each_role_reaches_exactly_the_routes_the_table_allows_it(
    app: FastAPI, client: InProcessClient, token_for: TokenFor
) -> None:
    tokens = {role: bearer(token_for(role)) for role in Role}
    wrong = []
    for endpoint in protected_endpoints(app):
        if endpoint.action is None:
            continue
        for role in Role:
            answer = client.request(endpoint.method, endpoint.path, headers=tokens[role])
            if role in ALLOWED[endpoint.action]:
                if answer.status_code in (401, 403):
                    wrong.append(f"{role} refused {endpoint}: {answer.text}")
            elif answer.status_code != 403 or answer.json().get("action") != endpoint.action:
                wrong.append(f"{role} not refused {endpoint}: {answer.status_code}")
    assert wrong == []


@pytest.mark.parametrize(
    ("role", "kind", "refused"),
    [
        (Role.NURSE, "acknowledge", False),
        (Role.NURSE, "override", True),
        (Role.PHYSICIAN, "override", False),
        (Role.PHARMACIST, "acknowledge", True),
        (Role.READ_ONLY, "acknowledge", True),
    ],
)
def test_acknowledging_and_overriding_are_separate_permissions(
    client: InProcessClient, token_for: TokenFor, role: Role, kind: str, refused: bool
) -> None:
    body = {"kind": kind, "rule": "liver.elevated", "reason": "why"}
    answer = client.post("/api/patients/p0/decisions", json=body, headers=bearer(token_for(role)))
    if refused:
        assert answer.status_code == 403
        expected = "override-finding" if kind == "override" else "acknowledge-caution"
        assert answer.json()["action"] == expected
    else:
        assert answer.status_code not in (401, 403)


@pytest.mark.parametrize(
    ("path", "action"), [("/audit", Action.READ_AUDIT), ("/audit/verify", Action.VERIFY_AUDIT)]
)
def test_the_audit_trail_pages_answer_exactly_the_roles_the_table_allows(
    clinic: Clinic, security: Security, token_for: TokenFor, path: str, action: Action
) -> None:
    """Web pages are not API routes (``protected_endpoints`` skips them): these two are here."""
    wrong = []
    with InProcessClient(create_web_app(clinic, security=security)) as web:
        for role in Role:
            answer = web.get(path, headers=bearer(token_for(role)))
            page = answer.headers.get("content-type", "").startswith("text/html")
            if role in ALLOWED[action]:
                if (
                    answer.status_code != 200
                    or not page
                    or "<h1>Audit trail</h1>" not in answer.text
                ):
                    wrong.append(f"{role} refused {path}: {answer.status_code}")
            elif answer.status_code != 403 or not page or action.value not in answer.text:
                wrong.append(f"{role} not refused {path}: {answer.status_code}")
    assert wrong == []
