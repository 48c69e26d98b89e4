"""The audit trail handed over as FHIR R4 AuditEvents: API route and ``ntz audit export``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.cli import app as ntz
from tests.security.conftest import bearer
from tests.security.in_process import InProcessClient

TokenFor = Callable[[Role], str]


def test_the_audit_route_answers_a_bundle_of_valid_r4_audit_events(
    stocked: Clinic, client: InProcessClient, token_for: TokenFor
) -> None:
    client.get("/api/patients/p1", headers=bearer(token_for(Role.NURSE)))
    answer = client.get("/api/audit/events", headers=bearer(token_for(Role.ADMINISTRATOR)))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/fhir+json"
    bundle = answer.json()
    Bundle.model_validate(bundle)
    events = [entry["resource"] for entry in bundle["entry"]]
    for event in events:
        AuditEvent.model_validate(event)
    read = next(e for e in events if e["action"] == "R" and e["entity"][0]["what"].get("reference"))
    assert read["entity"][0]["what"]["reference"] == "Patient/p1"
    assert read["agent"][0]["who"]["identifier"]["value"] == "sys-nurse"
    assert read["agent"][0]["requestor"] is True
    assert read["subtype"][0]["code"] == "read-patient-record"
    assert read["type"]["code"] == "110110"
    assert read["outcome"] == "0"
    created = next(
        e for e in events if e["action"] == "C" and e["entity"][0]["what"].get("reference")
    )
    assert any(d["type"] == "after" for d in created["entity"][0]["detail"])


def test_the_audit_route_filters_by_patient_and_pages_by_sequence(
    stocked: Clinic, client: InProcessClient, token_for: TokenFor
) -> None:
    admin = bearer(token_for(Role.ADMINISTRATOR))
    first = client.get("/api/audit/events", params={"patient": "p0", "limit": 1}, headers=admin)
    (only,) = first.json()["entry"]
    assert only["resource"]["entity"][0]["what"]["reference"] == "Patient/p0"
    after = only["resource"]["id"]
    rest = client.get("/api/audit/events", params={"after": after}, headers=admin).json()
    assert all(int(e["resource"]["id"]) > int(after) for e in rest["entry"])


def test_only_an_administrator_reads_or_verifies_the_audit_trail(
    client: InProcessClient, token_for: TokenFor
) -> None:
    physician = bearer(token_for(Role.PHYSICIAN))
    for path in ("/api/audit/events", "/api/audit/verify"):
        refused = client.get(path, headers=physician)
        assert refused.status_code == 403
        assert refused.json()["action"] in ("read-audit", "verify-audit")
    verified = client.get("/api/audit/verify", headers=bearer(token_for(Role.ADMINISTRATOR)))
    assert verified.json()["intact"] is True
    assert verified.json()["broken"] is None


def test_the_command_exports_a_valid_bundle_or_ndjson(
    stocked: Clinic, database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    target = tmp_path / "audit.json"
    result = runner.invoke(
        ntz,
        [
            "audit",
            "export",
            "--format",
            "fhir",
            "--output",
            str(target),
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    bundle = orjson.loads(target.read_bytes())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    assert len(bundle["entry"]) >= 2
    lines = runner.invoke(
        ntz,
        [
            "audit",
            "export",
            "--format",
            "ndjson",
            "--patient",
            "p1",
            "--database-url",
            database_url,
        ],
    )
    events = [orjson.loads(line) for line in lines.output.splitlines() if line.strip()]
    assert events
    assert {e["entity"][0]["what"]["reference"] for e in events} == {"Patient/p1"}
