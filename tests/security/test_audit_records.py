"""What the audit trail records: who read or changed which patient's record, and how."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.audit import AuditEntry, AuditRecord, Operation
from natalizumab_cds.application.security.permissions import Action, Principal, Role
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.application.security.service import Security, acting
from natalizumab_cds.persistence import audit_store
from tests.clinic_db import NOW, a_patient
from tests.security.conftest import ADMIN, bearer
from tests.security.in_process import InProcessClient

TokenFor = Callable[[Role], str]
NURSE = Principal(7, "nurse-ada", Role.NURSE)
PHYSICIAN = Principal(8, "dr-bea", Role.PHYSICIAN)


def trail(security: Security, **query: Any) -> list[AuditRecord]:
    """The trail, leaving out this test's own reading of it."""
    found = security.audit.records(ADMIN, AuditQuery(limit=1000, **query))
    return [r for r in found if r.actor != ADMIN.username]


def patient_records(security: Security) -> list[AuditRecord]:
    return [r for r in trail(security) if r.patient_id]


def test_importing_a_record_is_audited_as_a_creation_with_what_was_stored(
    clinic: Clinic, security: Security
) -> None:
    acting(clinic, NURSE, Action.IMPORT_RECORDS).importer.one(orjson.dumps(a_patient(0)))
    (created,) = patient_records(security)
    assert (created.actor, created.role, created.action) == ("nurse-ada", "nurse", "import-records")
    assert (created.operation, created.patient_id, created.entity) == ("C", "p0", "Patient/p0")
    after = orjson.loads(created.after)
    assert after["record_version"] == 1
    assert after["resources"]["Patient/p0"]["version"] == 1
    assert len(after["resources"]["Patient/p0"]["sha256"]) == 64
    assert created.before == ""


def test_a_changed_resource_is_audited_with_its_version_before_and_after(
    stocked: Clinic, security: Security
) -> None:
    bundle = a_patient(0)
    bundle["entry"][0]["resource"]["birthDate"] = "1980-02-02"
    acting(stocked, NURSE, Action.IMPORT_RECORDS).importer.one(orjson.dumps(bundle))
    updated = patient_records(security)[-1]
    assert (updated.operation, updated.patient_id) == ("U", "p0")
    before, after = orjson.loads(updated.before), orjson.loads(updated.after)
    assert before["resources"]["Patient/p0"]["version"] == 1
    assert after["resources"]["Patient/p0"]["version"] == 2
    assert before["resources"]["Patient/p0"]["sha256"] != after["resources"]["Patient/p0"]["sha256"]
    assert after["record_version"] == before["record_version"] + 1


def test_reading_a_patients_record_is_audited_once_per_request(
    stocked: Clinic, security: Security, token_for: TokenFor, client: InProcessClient
) -> None:
    headers = bearer(token_for(Role.READ_ONLY))
    before = len(trail(security))
    assert client.get("/api/patients/p1/assessment", headers=headers).status_code == 200
    (read,) = trail(security)[before:]
    assert (read.actor, read.role) == ("sys-read-only", "read-only")
    assert (read.action, read.operation, read.patient_id) == ("read-patient-record", "R", "p1")


def test_a_search_and_a_worklist_page_are_audited_without_naming_a_patient(
    stocked: Clinic, security: Security, token_for: TokenFor, client: InProcessClient
) -> None:
    headers = bearer(token_for(Role.NURSE))
    before = len(trail(security))
    client.get("/api/patients", params={"q": "a"}, headers=headers)
    client.get("/api/worklist", headers=headers)
    search, worklist = trail(security)[before:]
    assert (search.action, search.patient_id, search.entity) == (
        "read-patient-record",
        None,
        "Patient",
    )
    assert (worklist.action, worklist.entity) == ("read-worklist", "Worklist")


def test_an_invalid_import_leaves_no_audit_record(
    clinic: Clinic, security: Security, token_for: TokenFor, client: InProcessClient
) -> None:
    headers = bearer(token_for(Role.NURSE))
    before = len(trail(security))
    bad = a_patient(0)
    bad["entry"][1]["resource"]["effectiveDateTime"] = "not a date"
    assert client.post("/fhir", content=orjson.dumps(bad), headers=headers).status_code == 422
    assert trail(security)[before:] == []


def test_a_refused_decision_leaves_no_audit_record(
    stocked: Clinic, security: Security, token_for: TokenFor, client: InProcessClient
) -> None:
    headers = bearer(token_for(Role.PHYSICIAN))
    before = len(trail(security))
    body = {"kind": "override", "rule": "liver.elevated", "reason": "why"}
    answer = client.post("/api/patients/p0/decisions", json=body, headers=headers)
    assert answer.status_code in (409, 422)
    assert trail(security)[before:] == []


def test_a_change_whose_audit_record_cannot_be_written_is_undone(
    clinic: Clinic, security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, entries: object, at: object) -> list[AuditRecord]:
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(audit_store.SqlAuditTrail, "append", broken)
    importer = acting(clinic, NURSE, Action.IMPORT_RECORDS).importer
    with pytest.raises(RuntimeError):
        importer.one(orjson.dumps(a_patient(0)))
    monkeypatch.undo()
    assert clinic.patients.search(None).total == 0


def test_a_read_whose_audit_record_cannot_be_written_returns_no_data(
    stocked: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, entries: object, at: object) -> list[AuditRecord]:
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(audit_store.SqlAuditTrail, "append", broken)
    with pytest.raises(RuntimeError):
        acting(stocked, NURSE, Action.READ_PATIENT).patients.patient("p0")


def test_concurrent_writers_append_one_unbroken_chain(security: Security) -> None:
    """Eight threads (own connections, like eight app processes) append at once."""
    trail_database = security.audit._database
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for index in range(25):
                entry = AuditEntry("read-worklist", Operation.READ, f"w{worker}", "nurse")
                with trail_database.writing() as uow:
                    uow.audit.append([entry] * (1 + index % 3), NOW)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = security.audit.verify(ADMIN)
    assert result.intact, result.broken
    assert result.checked == 8 * sum(1 + i % 3 for i in range(25))


def _two_users_in_turn(security: Security) -> list[int]:
    """Six records, nurse-ada's and dr-bea's in turn, appended directly; their numbers."""
    entries = [
        AuditEntry("read-worklist", Operation.READ, who.username, who.role.value)
        for who in (NURSE, PHYSICIAN) * 3
    ]
    with security.audit._database.writing() as uow:
        return [record.sequence for record in uow.audit.append(entries, NOW)]


def numbers(security: Security, query: AuditQuery) -> list[int]:
    return [record.sequence for record in security.audit.records(ADMIN, query)]


def test_the_trail_reads_in_sequence_order_unless_asked_for_the_newest_first(
    security: Security,
) -> None:
    mine = _two_users_in_turn(security)
    end = mine[-1] + 1  # this test's own readings come after
    assert numbers(security, AuditQuery(before_sequence=end, limit=1000)) == list(range(1, end))
    newest = AuditQuery(before_sequence=end, limit=4, newest_first=True)
    assert numbers(security, newest) == mine[::-1][:4]
    oldest = AuditQuery(before_sequence=end, limit=4)
    assert numbers(security, oldest) == list(range(1, 5))


def test_the_trail_reads_one_users_records_by_exact_username(security: Security) -> None:
    mine = _two_users_in_turn(security)
    hers = security.audit.records(ADMIN, AuditQuery(actor="nurse-ada", limit=1000))
    assert [r.sequence for r in hers] == mine[0::2]
    assert {(r.actor, r.role) for r in hers} == {("nurse-ada", "nurse")}
    for near in ("nurse", "nurse-ad", "NURSE-ADA", "nurse-ada "):
        assert numbers(security, AuditQuery(actor=near, limit=1000)) == []
    his_newest = AuditQuery(actor="dr-bea", limit=2, newest_first=True)
    assert numbers(security, his_newest) == [mine[5], mine[3]]


def test_paging_back_below_a_sequence_gives_every_record_once(security: Security) -> None:
    mine = _two_users_in_turn(security)
    seen: list[int] = []
    before = mine[-1] + 1
    while page := numbers(security, AuditQuery(before_sequence=before, limit=4, newest_first=True)):
        assert max(page) < before
        seen += page
        before = page[-1]
    assert seen == list(range(mine[-1], 0, -1))
    below_his_last = AuditQuery(actor="dr-bea", before_sequence=mine[5], newest_first=True)
    assert numbers(security, below_his_last) == [mine[3], mine[1]]


def test_after_and_before_a_sequence_make_a_window_and_positional_queries_still_work(
    security: Security,
) -> None:
    mine = _two_users_in_turn(security)
    window = AuditQuery(after_sequence=mine[0], before_sequence=mine[3])
    assert numbers(security, window) == [mine[1], mine[2]]
    assert numbers(security, AuditQuery(None, None, None, mine[1], 2)) == [mine[2], mine[3]]
