"""The printable patient summary: a real PDF with the decision, for readers of the record only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.bootstrap import security_for
from natalizumab_cds.interop.pdf.patient_summary import render_summary_pdf
from tests.clinic_db import a_patient
from tests.interop.cds_hooks.servers import LiveApp

ROLES = (Role.PHYSICIAN, Role.READ_ONLY, Role.ADMINISTRATOR)


@pytest.fixture
def held(clinic: Clinic) -> Clinic:
    clinic.importer.one(a_patient(1, scenario="liver-elevated"))
    return clinic


@pytest.fixture
def clients(held: Clinic) -> Iterator[dict[Role, httpx.Client]]:
    security = security_for(
        held, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
    )
    tokens = {}
    for role in ROLES:
        name = f"pdf-{role.value}"
        security.accounts.add(operator(), name, role, "a long synthetic passphrase")
        tokens[role] = security.accounts.create_token(operator(), name, "pdf tests").secret
    with LiveApp(create_app(held, security=security)) as server:
        made = {
            role: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {t}"})
            for role, t in tokens.items()
        }
        yield made
        for client in made.values():
            client.close()


def test_the_summary_is_a_pdf_naming_the_decision(clients: dict[Role, httpx.Client]) -> None:
    answer = clients[Role.PHYSICIAN].get("/api/patients/p1/summary.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert b"Decision: HOLD" in answer.content  # the document's Subject
    assert clients[Role.READ_ONLY].get("/api/patients/p1/summary.pdf").status_code == 200


def test_roles_that_do_not_read_records_are_refused(clients: dict[Role, httpx.Client]) -> None:
    answer = clients[Role.ADMINISTRATOR].get("/api/patients/p1/summary.pdf")
    assert answer.status_code == 403
    assert answer.json()["action"] == "read-patient-record"


def test_an_unknown_patient_is_a_404(clients: dict[Role, httpx.Client]) -> None:
    assert clients[Role.PHYSICIAN].get("/api/patients/nobody/summary.pdf").status_code == 404


def test_the_page_text_holds_decision_findings_basis_and_protocol(held: Clinic) -> None:
    document = held.summaries.document("p1")
    # uncompressed, with the core font: the page's text is plain in the file
    pdf = render_summary_pdf(document, fonts=None, compress=False)
    assert pdf.startswith(b"%PDF")
    for text in (b"Decision: HOLD", b"liver.elevated", b"basis:", b"Monitoring schedule"):
        assert text in pdf
    assert f"version {document.assessment.protocol_version}".encode() in pdf
    assert b"Generated 2026-11-24 09:00" in pdf
