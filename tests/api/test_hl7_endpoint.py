"""``POST /hl7`` over HTTP on SQLite and PostgreSQL: one message in, its ACK out.

Patients and messages are synthetic (tests/clinic_db.py, tests/interop/hl7v2/messages.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import hl7
import httpx
import pytest
from fastapi import FastAPI

from natalizumab_cds.api.app import create_app
from natalizumab_cds.api.hl7 import hl7_endpoint
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.bootstrap import lab_feed, security_for
from natalizumab_cds.interop.hl7v2 import Hl7Endpoint
from tests.clinic_db import a_patient
from tests.interop.cds_hooks.servers import LiveApp
from tests.interop.hl7v2.messages import an_oru, fixture

ADMIN = operator("test-operator")


@dataclass
class Lab:
    client: httpx.Client
    app: FastAPI
    tokens: dict[Role, str]


@pytest.fixture
def lab(clinic: Clinic) -> Iterator[Lab]:
    clinic.importer.one(a_patient(1))
    security = security_for(clinic, passwords=Passwords(TEST_COST))
    tokens = {}
    for role in (Role.NURSE, Role.PHARMACIST):
        security.accounts.add(ADMIN, f"lab-{role.value}", role, "a long synthetic passphrase")
        tokens[role] = security.accounts.create_token(ADMIN, f"lab-{role.value}", "lab").secret
    app = create_app(clinic, security=security)
    headers = {"Authorization": f"Bearer {tokens[Role.NURSE]}"}
    with LiveApp(app) as server, httpx.Client(base_url=server.url, headers=headers) as client:
        yield Lab(client, app, tokens)


def _msa(response: httpx.Response) -> tuple[str, str]:
    assert response.headers["content-type"].startswith("text/plain")
    msa = hl7.parse(response.text).segment("MSA")
    return str(msa(1)), str(msa(2))


def test_a_posted_lab_message_is_stored_and_answered_aa(lab: Lab, clinic: Clinic) -> None:
    response = lab.client.post("/hl7", content=fixture("synthetic_monitoring_panel.hl7"))

    assert response.status_code == 200
    assert _msa(response) == ("AA", "SYN-PANEL-0001")
    page = clinic.patients.timeline("p1", ["Observation"], 1, 500)
    assert sum(r.resource_id.startswith("hl7-") for r in page.items) == 8


def test_a_repeated_post_is_answered_aa_again(lab: Lab) -> None:
    first = lab.client.post("/hl7", content=an_oru("SYN-HTTP-AGAIN"))
    second = lab.client.post("/hl7", content=an_oru("SYN-HTTP-AGAIN"))

    assert _msa(first) == _msa(second) == ("AA", "SYN-HTTP-AGAIN")
    assert "already accepted" in second.text


def test_an_unknown_patient_is_answered_200_with_ae(lab: Lab) -> None:
    response = lab.client.post("/hl7", content=an_oru("SYN-HTTP-AE", mrn="MRN0000099"))

    assert response.status_code == 200
    assert _msa(response) == ("AE", "SYN-HTTP-AE")


def test_a_message_we_do_not_take_is_answered_400_with_ar(lab: Lab) -> None:
    response = lab.client.post("/hl7", content=fixture("ghh_lab_adapted_adt_a01.hl7"))

    assert response.status_code == 400
    assert _msa(response) == ("AR", "CNTRL-3456")


def test_an_oversized_body_is_answered_400_with_ar_and_kept(lab: Lab, clinic: Clinic) -> None:
    feed = lab_feed(clinic)
    lab.app.dependency_overrides[hl7_endpoint] = lambda: Hl7Endpoint(feed, max_message_bytes=512)
    big = an_oru("SYN-HTTP-BIG") + b"NTE|1||" + b"x" * 4096 + b"\r"

    response = lab.client.post("/hl7", content=big)

    assert response.status_code == 400
    assert _msa(response) == ("AR", "SYN-HTTP-BIG")
    (letter,) = feed.dead_letters()
    assert letter.raw == big[:512]


def test_posting_lab_results_needs_a_token_allowed_to_record_them(lab: Lab) -> None:
    anonymous = httpx.post(lab.client.base_url.join("/hl7"), content=an_oru())
    pharmacist = lab.client.post(
        "/hl7",
        content=an_oru(),
        headers={"Authorization": f"Bearer {lab.tokens[Role.PHARMACIST]}"},
    )

    assert anonymous.status_code == 401
    assert pharmacist.status_code == 403
