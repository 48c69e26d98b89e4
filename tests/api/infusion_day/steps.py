"""An infusion day through the API, step by step (synthetic patient ``p1``, clinic at 09:00 UTC)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from natalizumab_cds.application.clinic import Clinic
from tests.api.infusion_day.conftest import PASSWORD, Team
from tests.clinic_db import NOW, FakeClock, a_patient
from tests.infusion_day_builders import minutes

PROBLEM = "application/problem+json"
NO_CONCERNS = {
    "neurological_symptoms": False,
    "active_infection": False,
    "pregnant": False,
    "breastfeeding": False,
    "new_medicines": False,
}


def a_bag(**fields: Any) -> dict[str, Any]:
    return {
        "vial_lot": "LOT-SYN-001",
        "vial_expiry": "2027-06-30",
        "dose_mg": 300,
        "diluent": "0.9% sodium chloride",
        "volume_ml": 100,
        "diluted_at": NOW.isoformat(),
        "checked_by": "nurse.bo",
        "checker_password": PASSWORD,
    } | fields


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


def refused(response: httpx.Response, rule: str, status: int = 422) -> dict[str, Any]:
    """The problem document of a refused step, which must name ``rule``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == "urn:natalizumab-cds:problem:workflow-refused"
    assert body["status"] == status
    assert body["rule"] == rule
    assert body["detail"] == f"{rule}: {body['reason']}"
    return body


def a_patient_on_file(team: Team, index: int = 1, scenario: str = "routine-proceed") -> str:
    response = team.physician.post("/fhir", content=orjson.dumps(a_patient(index, scenario)))
    assert response.status_code == 200, response.text
    return f"p{index}"


def open_visit(team: Team, patient: str = "p1") -> str:
    return str(ok(team.nurse.post(f"/api/patients/{patient}/visits"), 201)["id"])


def screened_and_cleared(team: Team, clock: FakeClock, patient: str = "p1") -> str:
    visit = open_visit(team, patient)
    clock.moment += minutes(5)
    ok(team.nurse.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS))
    ok(team.physician.post(f"/api/visits/{visit}/clearance", json={}))
    return visit


def prepared(team: Team, clock: FakeClock, **bag: Any) -> str:
    """Opened, screened and cleared by 09:05, bag recorded at 09:10 (diluted 09:00)."""
    visit = screened_and_cleared(team, clock)
    clock.moment += minutes(5)
    ok(team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag(**bag)))
    return visit


def infusing(team: Team, clock: FakeClock) -> str:
    """Prepared, then started at 09:20 at 100 mL/h."""
    visit = prepared(team, clock)
    clock.moment += minutes(10)
    ok(team.nurse.post(f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100}))
    return visit


def observing(team: Team, clock: FakeClock) -> str:
    """Infused for exactly 60 minutes (09:20 to 10:20)."""
    visit = infusing(team, clock)
    clock.moment += minutes(60)
    ok(team.nurse.post(f"/api/visits/{visit}/end"))
    return visit


def unchanged(clinic: Clinic, team: Team, visit: str) -> tuple[Any, ...]:
    """What a refused step must leave as it was: the visit and the patient's record."""
    shown = team.reader.get(f"/api/visits/{visit}").json()
    record = team.reader.get("/api/patients/p1").json()
    stored = clinic.patients.timeline("p1", (), 1, 500)
    return (
        shown["version"],
        shown["steps"],
        record["record_version"],
        sorted((r.ref, r.version) for r in stored.items),
    )
