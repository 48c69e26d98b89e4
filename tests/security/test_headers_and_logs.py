"""Security headers on every response, and logs that never hold patient data."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from tests.security.conftest import bearer
from tests.security.in_process import InProcessClient

TokenFor = Callable[[Role], str]
FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path", ["/health", "/api/worklist", "/docs", "/login", "/openapi.json", "/no-such-page"]
)
def test_every_response_carries_the_security_headers(client: InProcessClient, path: str) -> None:
    answer = client.get(path)
    for name, value in FIXED.items():
        assert answer.headers[name] == value
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no CDN, no other origin
    assert "camera=()" in answer.headers["permissions-policy"]
    assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # plain HTTP in tests


def test_patient_data_is_never_cached(
    stocked: Clinic, client: InProcessClient, token_for: TokenFor
) -> None:
    answer = client.get("/api/patients/p0", headers=bearer(token_for(Role.NURSE)))
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"


def test_over_https_strict_transport_security_is_sent(app: FastAPI) -> None:
    with InProcessClient(app, base_url="https://clinic.test") as browser:
        answer = browser.get("/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_the_api_page_allows_only_its_own_inline_script_by_hash(client: InProcessClient) -> None:
    policy = client.get("/docs").headers["content-security-policy"]
    assert "'sha256-" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_static_assets_may_be_cached(client: InProcessClient) -> None:
    answer = client.get("/static/vendor/swagger-ui/swagger-ui.css")
    assert answer.status_code == 200
    assert answer.headers.get("cache-control") != "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_requests_for_a_patient_write_neither_name_nor_mrn_to_the_logs(
    stocked: Clinic,
    client: InProcessClient,
    token_for: TokenFor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry, _ = stocked.patients.patient("p0")
    assert entry.mrn
    assert entry.name
    surname = entry.name.split()[-1]
    headers = bearer(token_for(Role.PHYSICIAN))
    with caplog.at_level(logging.DEBUG):
        for path in (
            f"/api/patients?q={surname}",
            f"/api/patients?q={entry.mrn}",
            "/api/patients/p0",
            "/api/patients/p0/timeline",
            "/api/patients/p0/assessment",
            "/api/patients/p0/fhir",
        ):
            assert client.get(path, headers=headers).status_code == 200
        client.post("/api/patients/p0/decisions", json={"kind": "acknowledge"}, headers=headers)
    logged = "\n".join(
        record.getMessage() + str(record.args) + str(record.exc_info)
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))  # this test's own client
    )
    assert "GET /api/patients/{patient_id} 200" in logged  # route templates are logged
    assert entry.mrn not in logged
    assert surname not in logged
    assert entry.name not in logged
