"""``GET /api/patients/{id}/fhir`` on SQLite and PostgreSQL (see tests/clinic_db.py).

The patients are synthetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import security_for
from tests.clinic_db import NOW, FakeClock, a_patient
from tests.fhir_models import validate_r4_and_r4b
from tests.interop.cds_hooks.servers import LiveApp

FHIR_JSON = "application/fhir+json"


def token(security: Security, role: Role) -> str:
    """An API token of a synthetic account with ``role``."""
    name = f"synthetic-{role.value}"
    security.accounts.add(operator(), name, role, "a long synthetic passphrase")
    return security.accounts.create_token(operator(), name, "export API tests").secret


@dataclass(frozen=True)
class Served:
    url: str
    tokens: dict[Role, str]

    def client(self, role: Role = Role.PHYSICIAN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers)


@pytest.fixture
def served(clinic: Clinic) -> Iterator[Served]:
    """The API on a loopback port with two synthetic patients on file."""
    clinic.importer.one(a_patient(0, "liver-elevated"))
    clinic.importer.one(a_patient(1, "pediatric-overridden"))
    security = security_for(
        clinic, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
    )
    tokens = {role: token(security, role) for role in (Role.PHYSICIAN, Role.READ_ONLY)}
    with LiveApp(create_app(clinic, security=security)) as server:
        yield Served(server.url, tokens)


@pytest.fixture
def api(served: Served) -> Iterator[httpx.Client]:
    """Called by a physician's system."""
    with served.client() as client:
        yield client


def parameters(bundle: dict[str, Any]) -> dict[str, Any]:
    [guidance] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "GuidanceResponse"
    ]
    return {p["name"]: p for p in guidance["contained"][0]["parameter"] if p["name"] != "finding"}


def test_exports_the_patients_record_and_assessment_as_fhir_json(api: httpx.Client) -> None:
    response = api.get("/api/patients/p0/fhir", params={"at": "2026-11-24T09:00:00Z"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = response.json()
    validate_r4_and_r4b(bundle)
    assert parameters(bundle)["decision"]["valueCode"] == "hold"


def test_an_override_in_the_record_goes_out_with_the_lowered_decision(api: httpx.Client) -> None:
    bundle = api.get("/api/patients/p1/fhir", params={"at": NOW.isoformat()}).json()
    assert parameters(bundle)["decision"]["valueCode"] == "caution"
    assert any(
        e["resource"]["resourceType"] == "DetectedIssue" and e["resource"]["id"] == "override-1-1"
        for e in bundle["entry"]
    )


def test_the_moment_defaults_to_now_and_an_at_without_offset_is_utc(
    api: httpx.Client, clock: FakeClock
) -> None:
    assert clock.now() == NOW
    default = api.get("/api/patients/p0/fhir").json()
    naive = api.get("/api/patients/p0/fhir", params={"at": "2026-11-24T09:00:00"}).json()
    assert parameters(default)["at"]["valueDateTime"] == NOW.isoformat()
    assert naive == default


def test_importing_an_export_back_changes_neither_the_assessment_nor_the_next_export(
    api: httpx.Client,
) -> None:
    at = {"at": NOW.isoformat()}
    first = api.get("/api/patients/p1/fhir", params=at)
    assessed = api.get("/api/patients/p1/assessment", params=at).json()
    imported = api.post("/fhir", content=first.content, headers={"content-type": FHIR_JSON})
    assert imported.status_code < 300, imported.text
    assert api.get("/api/patients/p1/assessment", params=at).json() == assessed
    assert orjson.loads(api.get("/api/patients/p1/fhir", params=at).content) == first.json()


def test_an_unknown_patient_is_a_404_problem(api: httpx.Client) -> None:
    response = api.get("/api/patients/nobody/fhir")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_an_unreadable_moment_is_a_422_naming_at(api: httpx.Client) -> None:
    response = api.get("/api/patients/p0/fhir", params={"at": "next tuesday"})
    assert response.status_code == 422
    assert "at" in response.text


def test_a_read_only_account_may_not_export(served: Served) -> None:
    with served.client(Role.READ_ONLY) as client:
        response = client.get("/api/patients/p0/fhir")
    assert response.status_code == 403
    assert "export-fhir" in response.text
