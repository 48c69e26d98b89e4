"""The clinic REST API, on SQLite and PostgreSQL: what an EHR integrator or a client sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

import natalizumab_cds
from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.application.report import assessment_to_dict
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import clinic_service, security_for
from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.interop.fhir.reader import read_bundle
from tests.clinic_db import NOW, FakeClock, a_patient, resources_of
from tests.interop.cds_hooks.servers import LiveApp

PROBLEM = "application/problem+json"


def physician_token(security: Security) -> str:
    """An API token of a physician account (may read, import, acknowledge, override)."""
    admin = operator()
    security.accounts.add(admin, "dr-synthwell", Role.PHYSICIAN, "a long synthetic passphrase")
    return security.accounts.create_token(admin, "dr-synthwell", "clinic API tests").secret


@pytest.fixture
def api(clinic: Clinic) -> Iterator[httpx.Client]:
    """The API served by uvicorn on a loopback port, called by a physician's system."""
    security = security_for(
        clinic, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
    )
    headers = {"Authorization": f"Bearer {physician_token(security)}"}
    app = create_app(clinic, security=security)
    with LiveApp(app) as server, httpx.Client(base_url=server.url, headers=headers) as client:
        yield client


@pytest.fixture
def stocked(api: httpx.Client) -> httpx.Client:
    for index, scenario in enumerate(
        ["routine-proceed", "pregnant", "platelets-low", "liver-elevated"]
    ):
        response = api.post("/fhir", content=orjson.dumps(a_patient(index, scenario)))
        assert response.status_code == 200, response.text
    return api


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def test_health_names_the_version_the_live_protocol_and_the_database(api: httpx.Client) -> None:
    body = api.get("/health").json()

    protocol = packaged_protocol()
    assert body == {
        "status": "ok",
        "version": natalizumab_cds.__version__,
        "protocol": {"name": protocol.name, "version": protocol.version},
        "database": {"reachable": True},
    }


def test_health_says_so_when_the_database_cannot_be_reached() -> None:
    unreachable = clinic_service(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", clock=FakeClock()
    )
    with LiveApp(create_app(unreachable)) as server:
        response = httpx.get(f"{server.url}/health")
    assert response.status_code == 503
    assert response.json()["database"] == {"reachable": False}


def test_importing_a_bundle_reports_what_was_stored(api: httpx.Client) -> None:
    bundle = a_patient(1)

    first = api.post(
        "/fhir", content=orjson.dumps(bundle), headers={"content-type": "application/fhir+json"}
    )
    second = api.post("/fhir", content=orjson.dumps(bundle))

    assert first.json() == {
        "patients": 1,
        "created": len(bundle["entry"]),
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
    }
    assert second.json()["unchanged"] == len(bundle["entry"])


def test_an_invalid_bundle_is_refused_whole_naming_resource_and_field(api: httpx.Client) -> None:
    bundle = a_patient(1)
    lab = next(r for r in resources_of(bundle, "Observation") if "valueQuantity" in r)
    lab["valueQuantity"]["value"] = "high"

    body = _problem(api.post("/fhir", content=orjson.dumps(bundle)), 422)

    assert f"Observation/{lab['id']}" in body["detail"]
    assert "valueQuantity.value" in body["detail"]
    assert api.get("/api/patients").json()["total"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{not json",
        b"[1, 2]",
        b'{"resourceType": 3}',
        b'{"resourceType": "Patient", "id": "' + b"x" * 65 + b'"}',
        b'{"resourceType": "Patient", "id": "p1", "name": [{"family": "Nul\\u0000"}]}',
        b'{"resourceType": "Observation", "id": "o1", "subject": {"reference": "Group/g1"}}',
    ],
)
def test_malformed_fhir_input_is_a_problem_never_a_server_error(
    api: httpx.Client, payload: bytes
) -> None:
    _problem(api.post("/fhir", content=payload), 422)


def test_patients_are_found_by_name_or_mrn_page_by_page(stocked: httpx.Client) -> None:
    by_mrn = stocked.get("/api/patients", params={"q": "MRN0000002"}).json()
    name = by_mrn["items"][0]["name"]
    by_name = stocked.get("/api/patients", params={"q": name.split()[0].lower()}).json()
    paged = stocked.get("/api/patients", params={"size": 3, "page": 2}).json()

    assert [p["id"] for p in by_mrn["items"]] == ["p2"]
    assert by_mrn["items"][0]["decision"] == "caution"
    assert "p2" in {p["id"] for p in by_name["items"]}
    assert (paged["total"], len(paged["items"]), paged["page"]) == (4, 1, 2)


def test_the_timeline_lists_stored_resources_newest_first_filtered_by_type(
    stocked: httpx.Client,
) -> None:
    body = stocked.get(
        "/api/patients/p0/timeline", params={"type": "MedicationAdministration"}
    ).json()

    moments = [item["occurred_at"] for item in body["items"]]
    assert moments == sorted(moments, reverse=True)
    assert {item["resource_type"] for item in body["items"]} == {"MedicationAdministration"}
    assert body["items"][0]["content"]["resourceType"] == "MedicationAdministration"


def test_the_assessment_is_exactly_the_documented_json_at_any_moment(stocked: httpx.Client) -> None:
    at = "2026-11-20T09:00:00+00:00"
    expected = assessment_to_dict(
        assess(
            read_bundle(a_patient(3, "liver-elevated"), packaged_protocol()),
            packaged_protocol(),
            NOW.replace(day=20),
        )
    )

    body = stocked.get("/api/patients/p3/assessment", params={"at": at}).json()

    assert body == expected
    assert list(body) == ["patient", "at", "protocol", "decision", "findings", "monitoring"]


def test_the_assessment_defaults_to_now_and_takes_an_at_without_offset_as_utc(
    stocked: httpx.Client,
) -> None:
    now = stocked.get("/api/patients/p0/assessment").json()
    naive = stocked.get("/api/patients/p0/assessment", params={"at": "2026-11-24T09:00:00"}).json()

    assert now["at"] == NOW.isoformat() == naive["at"]


def test_an_unreadable_at_is_refused_naming_the_field(stocked: httpx.Client) -> None:
    body = _problem(stocked.get("/api/patients/p0/assessment", params={"at": "next tuesday"}), 422)

    assert body["errors"][0]["field"] == "at"
    assert "at" in body["detail"]


def test_an_unknown_patient_is_a_404_problem(stocked: httpx.Client) -> None:
    body = _problem(stocked.get("/api/patients/p999/assessment"), 404)
    assert "p999" in body["detail"]
    _problem(stocked.get("/api/patients/p999"), 404)
    _problem(stocked.get("/api/patients/p999/decisions"), 404)


def test_the_schedule_lists_every_monitoring_item(stocked: httpx.Client) -> None:
    body = stocked.get("/api/patients/p0/schedule").json()

    assert body["patient"] == "Patient/p0"
    assert [e["item"] for e in body["monitoring"]] == [
        "liver",
        "blood",
        "thyroid",
        "antibody",
        "mri",
        "edss",
        "infusion",
    ]


def test_an_override_is_recorded_listed_and_taken_up_by_the_next_assessment(
    stocked: httpx.Client,
) -> None:
    decision = {
        "kind": "override",
        "rule": "population.pregnancy",
        "reason": "benefit-risk reviewed",
    }

    created = stocked.post("/api/patients/p1/decisions", json=decision)

    assert created.status_code == 201, created.text
    listed = stocked.get("/api/patients/p1/decisions").json()
    assert [(d["kind"], d["rule"], d["author"], d["reason"]) for d in listed] == [
        ("override", "population.pregnancy", "dr-synthwell", "benefit-risk reviewed")
    ]
    assessment = stocked.get("/api/patients/p1/assessment").json()
    assert assessment["decision"] == "caution"
    finding = next(f for f in assessment["findings"] if f["rule"] == "population.pregnancy")
    assert finding["overridden"] is True
    timeline = stocked.get("/api/patients/p1/timeline", params={"type": "DetectedIssue"}).json()
    issue = timeline["items"][0]["content"]
    assert issue["status"] == "final"
    assert issue["code"]["coding"][0] == {
        "system": "urn:natalizumab-cds:rule",
        "code": "population.pregnancy",
    }
    assert issue["mitigation"][0]["action"]["text"] == "benefit-risk reviewed"


def test_overriding_a_rule_that_is_not_overridable_is_refused_with_the_reason(
    stocked: httpx.Client,
) -> None:
    decision = {
        "kind": "override",
        "rule": "liver.elevated",
        "reason": "why not",
    }

    body = _problem(stocked.post("/api/patients/p3/decisions", json=decision), 422)

    assert "liver.elevated" in body["detail"]
    assert "not overridable" in body["detail"]


def test_a_caution_is_acknowledged_and_a_hold_is_not(stocked: httpx.Client) -> None:
    caution = {"kind": "acknowledge", "rule": "blood.platelets-low"}
    hold = {"kind": "acknowledge", "rule": "liver.elevated"}

    assert stocked.post("/api/patients/p2/decisions", json=caution).status_code == 201
    _problem(stocked.post("/api/patients/p3/decisions", json=hold), 409)
    rows = stocked.get("/api/worklist", params={"q": "MRN0000002", "kind": "infusion"}).json()[
        "items"
    ]
    assert rows[0]["acknowledged"] == ["blood.platelets-low"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "kind": "override",
                "rule": "population.pregnancy",
                "author": "Dr. Else",
                "reason": "x",
            },
            "author",
        ),
        ({"kind": "pause", "rule": "population.pregnancy"}, "kind"),
        ({"kind": "override", "rule": 3}, "rule"),
    ],
)
def test_a_decision_with_a_missing_or_wrong_field_names_it(
    stocked: httpx.Client, body: dict[str, Any], field: str
) -> None:
    problem = _problem(stocked.post("/api/patients/p1/decisions", json=body), 422)

    assert field in [e["field"] for e in problem["errors"]]


def test_a_decision_that_is_not_json_is_refused_naming_the_body(stocked: httpx.Client) -> None:
    response = stocked.post(
        "/api/patients/p1/decisions",
        content=b"{kind: override",
        headers={"content-type": "application/json"},
    )

    problem = _problem(response, 422)
    assert problem["errors"][0]["in"] == "body"


def test_the_worklist_lists_infusions_holds_and_filters_by_decision(stocked: httpx.Client) -> None:
    everything = stocked.get("/api/worklist", params={"size": 500}).json()
    holds = stocked.get("/api/worklist", params={"decision": "hold", "kind": "decision"}).json()

    assert {row["kind"] for row in everything["items"]} >= {"infusion", "decision"}
    assert {row["patient"] for row in holds["items"]} == {"p1", "p3"}
    assert all(row["decision"] == "hold" for row in holds["items"])


def test_the_worklist_sorts_worst_decision_first_and_pages(stocked: httpx.Client) -> None:
    worst = stocked.get("/api/worklist", params={"sort": "decision,name", "size": 2}).json()
    mildest = stocked.get("/api/worklist", params={"sort": "-decision", "size": 2}).json()

    assert worst["total"] >= len(worst["items"]) == 2
    assert worst["items"][0]["decision"] == "hold"
    assert mildest["items"][0]["decision"] == "proceed"


def test_a_worklist_filter_outside_the_catalogue_names_the_parameter(stocked: httpx.Client) -> None:
    decision = _problem(stocked.get("/api/worklist", params={"decision": "paused"}), 422)
    sort = _problem(stocked.get("/api/worklist", params={"sort": "age"}), 422)
    days = _problem(stocked.get("/api/worklist", params={"days": "a week"}), 422)

    assert decision["errors"][0]["field"] == "decision"
    assert "sort" in sort["detail"]
    assert days["errors"][0]["field"] == "days"


def test_an_unknown_address_is_a_problem_document(api: httpx.Client) -> None:
    _problem(api.get("/api/nowhere"), 404)


def test_the_api_docs_load_swagger_ui_from_the_service_not_a_cdn(api: httpx.Client) -> None:
    page = api.get("/docs")

    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    assert all(asset.startswith("/static/vendor/swagger-ui/") for asset in assets)
    for asset in assets:
        assert api.get(asset).status_code == 200
    assert "cdn" not in page.text.lower()
    assert api.get("/openapi.json").json()["paths"]["/api/worklist"]
