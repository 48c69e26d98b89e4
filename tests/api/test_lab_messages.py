"""``/api/lab-messages``: a clinician finds, retries and discards what the lab feed kept.

Over HTTP on SQLite and PostgreSQL. The messages are synthetic
(tests/interop/hl7v2/messages.py): a liver panel sent under an MRN nobody has
yet, then the patient registered, then the message retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.bootstrap import security_for
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.security_tables import audit_events
from tests.interop.cds_hooks.servers import LiveApp
from tests.interop.hl7v2.messages import a_patient_resource, an_obx, an_oru

ADMIN = operator("test-operator")
ROLES = (Role.NURSE, Role.PHYSICIAN, Role.PHARMACIST)
NEWCOMER = "MRN0000777"  # registered in natalizumab-cds only after the lab sent results


@dataclass
class Clients:
    by_role: dict[Role, httpx.Client]

    def __getitem__(self, role: Role) -> httpx.Client:
        return self.by_role[role]


@pytest.fixture
def clients(clinic: Clinic) -> Iterator[Clients]:
    security = security_for(clinic, passwords=Passwords(TEST_COST))
    tokens = {}
    for role in ROLES:
        name = f"letters-{role.value}"
        security.accounts.add(ADMIN, name, role, "a long synthetic passphrase")
        tokens[role] = security.accounts.create_token(ADMIN, name, "tests").secret
    with LiveApp(create_app(clinic, security=security)) as server:
        by_role = {
            role: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {t}"})
            for role, t in tokens.items()
        }
        yield Clients(by_role)
        for client in by_role.values():
            client.close()


def _sent_for_nobody(client: httpx.Client, control_id: str) -> int:
    """The lab posts a liver result of 150 U/L under an MRN nobody has: kept, AE."""
    message = an_oru(control_id, mrn=NEWCOMER, results=[an_obx(1, value="150")])
    assert "MSA|AE|" in client.post("/hl7", content=message).text
    (letter,) = [x for x in client.get("/api/lab-messages").json() if x["control_id"] == control_id]
    return int(letter["id"])


def _audited(clinic: Clinic, entity: str) -> list[tuple[str, str, str]]:
    assert isinstance(clinic.database, SqlDatabase)
    query = (
        select(audit_events.c.actor, audit_events.c.action, audit_events.c.detail)
        .where(audit_events.c.entity == entity)
        .order_by(audit_events.c.sequence)
    )
    with clinic.database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_a_result_for_an_unknown_mrn_is_found_retried_and_lands_in_the_record(
    clients: Clients, clinic: Clinic
) -> None:
    nurse = clients[Role.NURSE]
    letter = _sent_for_nobody(nurse, "SYN-LETTER-1")

    shown = nurse.get(f"/api/lab-messages/{letter}").json()
    assert shown["code"] == "AE"
    assert NEWCOMER in shown["reason"]
    assert shown["mrn"] == NEWCOMER  # whom it is about, without reading the segments
    assert [(t["code"], t["system"], t["analyte"]) for t in shown["tests"]] == [
        ("1742-6", "LN", "alt")
    ]
    assert any(s.startswith("OBX|1|NM|1742-6") for s in shown["segments"])

    too_early = nurse.post(f"/api/lab-messages/{letter}/retry").json()
    assert (too_early["code"], too_early["resolved"]) == ("AE", False)
    assert nurse.get(f"/api/lab-messages/{letter}").json()["attempts"] == 2

    clinic.importer.one(a_patient_resource("p77", NEWCOMER))
    retried = clients[Role.PHYSICIAN].post(f"/api/lab-messages/{letter}/retry").json()
    assert (retried["code"], retried["resolved"]) == ("AA", True)
    assert clinic.patients.assessment("p77").finding("liver.elevated") is not None
    assert nurse.get("/api/lab-messages").json() == []  # nothing open any more
    closed = nurse.get("/api/lab-messages", params={"status": "resolved"}).json()
    assert [x["id"] for x in closed] == [letter]

    again = nurse.post(f"/api/lab-messages/{letter}/retry")
    assert again.status_code == 409
    assert "already resolved" in again.json()["detail"]
    actors = {actor for actor, _, _ in _audited(clinic, f"DeadLetter/{letter}")}
    assert actors == {"letters-nurse", "letters-physician"}


def test_a_letter_is_discarded_only_with_a_reason_and_stays_on_file(
    clients: Clients, clinic: Clinic
) -> None:
    nurse = clients[Role.NURSE]
    letter = _sent_for_nobody(nurse, "SYN-LETTER-2")

    blank = nurse.post(f"/api/lab-messages/{letter}/discard", json={"reason": "   "})
    assert blank.status_code == 422
    assert nurse.get(f"/api/lab-messages/{letter}").json()["status"] == "open"

    reason = "test message from the laboratory's new analyser"
    closed = nurse.post(f"/api/lab-messages/{letter}/discard", json={"reason": reason})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["resolution"]) == ("discarded", reason)
    assert (
        nurse.post(f"/api/lab-messages/{letter}/discard", json={"reason": "x"}).status_code == 409
    )
    everything = nurse.get("/api/lab-messages", params={"status": "all"}).json()
    assert [x["id"] for x in everything] == [letter]
    assert ("letters-nurse", "resolve-lab-messages", f"discarded: {reason}") in _audited(
        clinic, f"DeadLetter/{letter}"
    )


def test_only_physicians_and_nurses_see_the_kept_messages(clients: Clients) -> None:
    letter = _sent_for_nobody(clients[Role.NURSE], "SYN-LETTER-3")
    pharmacist = clients[Role.PHARMACIST]
    assert pharmacist.get("/api/lab-messages").status_code == 403
    assert pharmacist.get(f"/api/lab-messages/{letter}").status_code == 403
    assert pharmacist.post(f"/api/lab-messages/{letter}/retry").status_code == 403
    nurse = clients[Role.NURSE]
    assert nurse.get("/api/lab-messages/999999").status_code == 404
    assert nurse.post("/api/lab-messages/999999/retry").status_code == 404
    assert nurse.get("/api/lab-messages", params={"status": "lost"}).status_code == 422
