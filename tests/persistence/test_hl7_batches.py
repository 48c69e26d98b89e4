"""Lab messages received together: one commit, one answer each, summaries never stale.

On SQLite and PostgreSQL. Patients are the synthetic ones of tests/clinic_db.py
(Patient/p<n> has MRN000000<n>); messages are synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.bootstrap import lab_feed
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.hl7_store import SqlLabFeedDatabase
from natalizumab_cds.persistence.hl7_tables import hl7_dead_letters, hl7_messages
from natalizumab_cds.persistence.security_tables import audit_events
from tests.clinic_db import a_patient
from tests.interop.hl7v2.messages import an_obx, an_oru

#: An ALT five times its upper limit, the day before the clinic's "now".
HIGH_ALT = an_obx(1, value="200", time="20261123083000+0000")


def _count(clinic: Clinic, table: object, **where: object) -> int:
    assert isinstance(clinic.database, SqlDatabase)
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with clinic.database.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _version(clinic: Clinic, patient_id: str) -> int:
    entry = clinic.patients.patient(patient_id)[0]
    return entry.version


def _summary_version(clinic: Clinic, patient_id: str) -> int:
    with clinic.database.reading() as uow:
        summary = uow.summaries.summary(patient_id)
    assert summary is not None
    return summary.record_version


def _hl7_results(clinic: Clinic, patient_id: str) -> int:
    page = clinic.patients.timeline(patient_id, ["Observation"], 1, 500)
    return sum(1 for r in page.items if r.resource_id.startswith("hl7-"))


@pytest.fixture
def two_patients(clinic: Clinic) -> Clinic:
    clinic.importer.one(a_patient(1))
    clinic.importer.one(a_patient(2))
    return clinic


@pytest.fixture
def changed() -> list[str]:
    return []


@pytest.fixture
def deferred(two_patients: Clinic, changed: list[str]) -> LabFeed:
    """A feed whose summary refresh only notes the patients (as if it had not run yet)."""

    def note(patient_ids: Sequence[str]) -> None:
        changed.extend(patient_ids)

    return lab_feed(two_patients, on_changed=note)


def test_messages_received_together_are_committed_together_and_each_answered(
    two_patients: Clinic, deferred: LabFeed, changed: list[str]
) -> None:
    clinic = two_patients
    version = _version(clinic, "p1")
    acks = deferred.receive_many(
        [
            an_oru("B-1", "MRN0000001"),
            an_oru("B-2", "MRN0000001", [an_obx(1), an_obx(2, code="1920-8")]),
            an_oru("B-1", "MRN0000001"),  # the same message again, in the same batch
            an_oru("B-3", "MRN0009999"),  # nobody has this MRN
            b"MSH|^~\\&|broken",  # unreadable
            an_oru("B-4", "MRN0000002"),
        ]
    )

    assert [a.code for a in acks] == ["AA", "AA", "AA", "AE", "AR", "AA"]
    assert [a.stored for a in acks] == [1, 2, 0, 0, 0, 1]
    assert acks[2].duplicate
    assert "nothing stored again" in acks[2].text
    assert "no patient with MRN 'MRN0009999'" in acks[3].text
    assert acks[3].dead_letter is not None
    assert acks[4].dead_letter is not None
    assert (_hl7_results(clinic, "p1"), _hl7_results(clinic, "p2")) == (3, 1)
    assert _count(clinic, hl7_messages) == 3
    assert _count(clinic, hl7_dead_letters) == 2
    assert _version(clinic, "p1") == version + 1  # one transaction, one new version
    assert sorted(changed) == ["p1", "p1", "p2"]
    assert _count(clinic, audit_events, patient_id="p1", action="record-lab-results") == 1


def test_an_unstorable_message_costs_only_itself(two_patients: Clinic, deferred: LabFeed) -> None:
    acks = deferred.receive_many(
        [
            an_oru("U-1", "MRN0000001"),
            an_oru("U-2", "MRN0000001", [an_obx(1, units="furlongs")]),
            an_oru("U-3", "MRN0000002"),
        ]
    )

    assert [a.code for a in acks] == ["AA", "AE", "AA"]
    assert (_hl7_results(two_patients, "p1"), _hl7_results(two_patients, "p2")) == (1, 1)
    assert _count(two_patients, hl7_messages) == 2


def test_a_worklist_is_never_answered_from_a_summary_older_than_the_record(
    two_patients: Clinic, deferred: LabFeed
) -> None:
    clinic = two_patients
    assert deferred.receive_lab_message(an_oru("W-1", "MRN0000001", [HIGH_ALT])).code == "AA"
    assert _summary_version(clinic, "p1") < _version(clinic, "p1")  # not rebuilt yet

    rows = clinic.worklist.entries(decisions=["hold"]).items

    held = [row for row in rows if row.patient_id == "p1"]
    assert held
    assert "liver.elevated" in held[0].attention
    assert _summary_version(clinic, "p1") == _version(clinic, "p1")


def test_the_refresh_picks_up_summaries_behind_their_records(
    two_patients: Clinic, deferred: LabFeed
) -> None:
    deferred.receive_lab_message(an_oru("R-1", "MRN0000002", [HIGH_ALT]))

    assert two_patients.worklist.refresh() == 1
    assert _summary_version(two_patients, "p2") == _version(two_patients, "p2")
    assert two_patients.worklist.refresh() == 0


def test_catch_up_rebuilds_only_the_summaries_behind_their_records(
    two_patients: Clinic, deferred: LabFeed
) -> None:
    deferred.receive_lab_message(an_oru("C-1", "MRN0000002", [HIGH_ALT]))

    assert two_patients.worklist.catch_up() == 1
    assert _summary_version(two_patients, "p2") == _version(two_patients, "p2")
    with two_patients.database.reading() as uow:
        summary = uow.summaries.summary("p2")
    assert summary is not None
    assert summary.decision == "hold"
    assert two_patients.worklist.catch_up() == 0


def test_by_default_the_summary_is_rebuilt_before_the_answer(two_patients: Clinic) -> None:
    feed = lab_feed(two_patients)

    feed.receive_lab_message(an_oru("D-1", "MRN0000001", [HIGH_ALT]))

    assert _summary_version(two_patients, "p1") == _version(two_patients, "p1")
    with two_patients.database.reading() as uow:
        summary = uow.summaries.summary("p1")
    assert summary is not None
    assert summary.decision == "hold"


def an_alt_result(identity: str, subject: str) -> dict[str, Any]:
    """An ALT Observation as the HL7 feed stores it (30 U/L on 2026-11-23)."""
    return {
        "resourceType": "Observation",
        "id": identity,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1742-6"}]},
        "effectiveDateTime": "2026-11-23T08:30:00Z",
        "valueQuantity": {
            "value": 30,
            "unit": "U/L",
            "system": "http://unitsofmeasure.org",
            "code": "U/L",
        },
        "subject": {"reference": subject},
    }


def test_results_already_on_file_go_through_the_record_writer(two_patients: Clinic) -> None:
    """Same ids again (say a person replays a message under a new MSH-10 by hand):
    the same content changes nothing, as for a FHIR import."""
    clinic = two_patients
    assert isinstance(clinic.database, SqlDatabase)
    database = SqlLabFeedDatabase(clinic.database, clinic.context)
    observation = an_alt_result("hl7-replayed-1", "Patient/p1")
    with database.writing() as uow:
        assert uow.observations.store_many([("Patient/p1", [observation])]) == [None]
    version = _version(clinic, "p1")

    with database.writing() as uow:
        assert uow.observations.store_many([("Patient/p1", [observation])]) == [None]

    assert _version(clinic, "p1") == version
    assert _hl7_results(clinic, "p1") == 1


def test_results_naming_another_patient_are_refused_whole(two_patients: Clinic) -> None:
    clinic = two_patients
    assert isinstance(clinic.database, SqlDatabase)
    database = SqlLabFeedDatabase(clinic.database, clinic.context)
    stray = an_alt_result("hl7-stray-1", "Patient/p2")
    with database.writing() as uow:
        [problem] = uow.observations.store_many([("Patient/p1", [stray])])

    assert problem is not None
    assert "Patient/p1" in str(problem)
    assert _hl7_results(clinic, "p1") == 0
    assert _hl7_results(clinic, "p2") == 0
