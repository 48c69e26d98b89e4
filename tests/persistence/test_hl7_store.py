"""The lab feed over the clinic database, on SQLite and PostgreSQL.

Patients are the synthetic ones of tests/clinic_db.py (Patient/p1 has MRN0000001);
messages are synthetic (tests/interop/hl7v2/messages.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import AcceptedMessage, AckCode, ErrorCode
from natalizumab_cds.application.records import StoredResource
from natalizumab_cds.bootstrap import clinic_service, lab_feed
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.hl7v2 import OruReader
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.hl7_store import SqlLabFeedDatabase
from natalizumab_cds.persistence.hl7_tables import hl7_dead_letters, hl7_messages
from natalizumab_cds.persistence.security_tables import audit_events
from tests.clinic_db import a_patient
from tests.interop.hl7v2.messages import an_obx, an_oru, fixture

AFTER = datetime(2026, 11, 2, tzinfo=UTC)


def _observations(clinic: Clinic, patient_id: str = "p1") -> dict[str, int]:
    page = clinic.patients.timeline(patient_id, ["Observation"], 1, 500)
    return {r.resource_id: r.version for r in page.items if r.resource_id.startswith("hl7-")}


def _record(clinic: Clinic, patient_id: str) -> list[StoredResource]:
    """Every current resource of the patient, as the clinic stores them."""
    assert isinstance(clinic.database, SqlDatabase)
    with clinic.database.reading() as uow:
        return uow.records.resources([patient_id])[patient_id]


def _count(clinic: Clinic, table: object) -> int:
    assert isinstance(clinic.database, SqlDatabase)
    with clinic.database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@pytest.fixture
def feed(clinic: Clinic) -> LabFeed:
    clinic.importer.one(a_patient(1))
    return lab_feed(clinic)


def test_accepted_results_are_in_the_patients_record_and_assessment(
    clinic: Clinic, feed: LabFeed
) -> None:
    ack = feed.receive_lab_message(fixture("synthetic_monitoring_panel.hl7"))

    assert (ack.code, ack.stored) == (AckCode.ACCEPT, 8)
    assert len(_observations(clinic)) == 8
    timeline = clinic.context.timeline(_record(clinic, "p1"))
    alt = timeline.latest_result(Analyte.ALT, AFTER)
    assert alt is not None
    assert alt.id.startswith("Observation/hl7-")
    assert (alt.value, alt.high) == (35, 40)
    assert _count(clinic, hl7_messages) == 1


def test_a_repeated_message_id_changes_nothing(clinic: Clinic, feed: LabFeed) -> None:
    feed.receive_lab_message(an_oru("SYN-REPEAT"))
    before = _observations(clinic)

    again = feed.receive_lab_message(an_oru("SYN-REPEAT", results=[an_obx(1, value="99")]))

    assert again.code is AckCode.ACCEPT
    assert again.duplicate
    assert _observations(clinic) == before
    assert _count(clinic, hl7_messages) == 1


def test_an_unknown_patient_is_kept_and_stored_once_retried_after_registration(
    clinic: Clinic, feed: LabFeed
) -> None:
    raw = an_oru("SYN-LATE", mrn="MRN0000002")

    first = feed.receive_lab_message(raw)
    second = feed.receive_lab_message(raw)

    assert first.code is AckCode.ERROR
    assert first.dead_letter == second.dead_letter
    (letter,) = feed.dead_letters()
    assert letter.raw == raw
    assert letter.attempts == 2
    clinic.importer.one(a_patient(2))
    assert letter.id is not None
    retried = feed.retry_dead_letter(letter.id)
    assert retried.code is AckCode.ACCEPT
    assert len(_observations(clinic, "p2")) == 1
    assert feed.dead_letters() == []
    assert _count(clinic, hl7_dead_letters) == 1


def test_a_rejected_message_is_kept_byte_for_byte(clinic: Clinic, feed: LabFeed) -> None:
    raw = b"MSH|^~\\&|LAB|X|||2026||ADT^A01|C1|P|2.5.1\r\xff\x00"

    ack = feed.receive_lab_message(raw)

    assert ack.code is AckCode.REJECT
    (letter,) = feed.dead_letters()
    assert letter.raw == raw


class _LogThatFails:
    def accepted(self, sender: str, control_id: str) -> None:
        return None

    def accepted_many(self, keys: object) -> dict[object, object]:
        return {}

    def record_accepted_many(self, entries: Sequence[AcceptedMessage]) -> None:
        raise RuntimeError("the message log cannot be written")


class _FailingAfterStoring(SqlLabFeedDatabase):
    """Results are stored, then writing the message id fails in the same transaction."""

    @contextmanager
    def writing(self) -> Iterator[Any]:
        with super().writing() as uow:
            yield SimpleNamespace(
                patients=uow.patients,
                observations=uow.observations,
                messages=_LogThatFails(),
                dead_letters=uow.dead_letters,
            )


def test_results_are_rolled_back_when_the_message_id_cannot_be_recorded(
    clinic: Clinic, feed: LabFeed
) -> None:
    assert isinstance(clinic.database, SqlDatabase)
    database = _FailingAfterStoring(clinic.database, clinic.context)
    failing = LabFeed(OruReader(clinic.context.tz), database, clinic.context.now)

    ack = failing.receive_lab_message(an_oru("SYN-ATOMIC"))

    assert ack.code is AckCode.ERROR
    assert ack.error is not None
    assert ack.error.code is ErrorCode.INTERNAL_ERROR
    assert ack.control_id == "SYN-ATOMIC"
    assert _observations(clinic) == {}
    assert _count(clinic, hl7_messages) == 0
    assert len(feed.dead_letters()) == 1


def test_two_processes_receiving_the_same_message_at_once_store_it_once(
    clinic: Clinic, feed: LabFeed, database_url: str
) -> None:
    other = clinic_service(database_url, clock=clinic.context.clock)
    feeds = [feed, lab_feed(other)]
    raw = an_oru("SYN-RACE", results=[an_obx(1), an_obx(2, code="1920-8")])
    start = threading.Barrier(len(feeds) * 4)
    acks = []

    def send(target: LabFeed) -> None:
        start.wait()
        acks.append(target.receive_lab_message(raw))

    threads = [threading.Thread(target=send, args=(f,)) for f in feeds * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.database.close()

    assert [a.code for a in acks] == [AckCode.ACCEPT] * 8
    assert sum(not a.duplicate for a in acks) == 1
    assert _count(clinic, hl7_messages) == 1
    assert set(_observations(clinic).values()) == {1}


def test_lab_results_are_audited_under_the_mllp_listener(clinic: Clinic, feed: LabFeed) -> None:
    feed.receive_lab_message(an_oru("SYN-AUDIT"))

    assert isinstance(clinic.database, SqlDatabase)
    query = select(audit_events.c.actor, audit_events.c.action).where(
        audit_events.c.patient_id == "p1", audit_events.c.action == "record-lab-results"
    )
    with clinic.database.engine.connect() as connection:
        entries = connection.execute(query).all()
    assert [tuple(entry) for entry in entries] == [("hl7-mllp-listener", "record-lab-results")]
