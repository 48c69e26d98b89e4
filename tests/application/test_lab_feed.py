"""The lab feed use case (INTERFACES.md §4) with in-memory fakes for its ports.

Messages are synthetic unless a test says it uses a published sample.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import AckCode, DeadLetterRefused, ErrorCode
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.reader import read_resources
from natalizumab_cds.interop.hl7v2 import OruReader
from tests.application.lab_feed_fakes import FakeLabDatabase
from tests.interop.hl7v2.messages import (
    SYNTHETIC_MRN,
    a_patient_resource,
    an_obx,
    an_oru,
    fixture,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CLINIC = ZoneInfo("Europe/Berlin")


@pytest.fixture
def database() -> FakeLabDatabase:
    db = FakeLabDatabase()
    db.register(SYNTHETIC_MRN, "Patient/p1")
    return db


@pytest.fixture
def feed(database: FakeLabDatabase) -> LabFeed:
    return LabFeed(OruReader(CLINIC), database, clock=lambda: NOW)


def test_accepts_a_message_and_stores_its_results_in_the_patients_record(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    ack = feed.receive_lab_message(fixture("synthetic_monitoring_panel.hl7"))

    assert ack.code is AckCode.ACCEPT
    assert ack.control_id == "SYN-PANEL-0001"
    assert ack.stored == 8
    record = database.state.records["Patient/p1"]
    assert len(record) == 8
    assert all(obs["subject"] == {"reference": "Patient/p1"} for obs in record.values())
    assert "LOINC 2345-7 is not one of the profile's tests" in ack.text
    assert ("SYNTH-LIS|SYNTH-LAB", "SYN-PANEL-0001") in database.state.accepted


def test_results_from_hl7_read_into_the_same_timeline_as_fhir_input(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    feed.receive_lab_message(fixture("synthetic_monitoring_panel.hl7"))

    stored = list(database.state.records["Patient/p1"].values())
    timeline = read_resources([a_patient_resource(), *stored], packaged_protocol())

    at = datetime(2026, 11, 2, tzinfo=UTC)
    by_analyte = {analyte: timeline.latest_result(analyte, at) for analyte in Analyte}
    alt, ast = by_analyte[Analyte.ALT], by_analyte[Analyte.AST]
    lymphocytes, free_t4 = by_analyte[Analyte.LYMPHOCYTES], by_analyte[Analyte.FREE_T4]
    tsh = by_analyte[Analyte.TSH]
    assert alt is not None
    assert (alt.value, alt.high) == (35, 40)
    assert ast is not None
    assert ast.value == pytest.approx(30)
    assert lymphocytes is not None
    assert lymphocytes.value == pytest.approx(2.1)
    assert free_t4 is not None
    assert free_t4.value == pytest.approx(15.4 / 12.87)
    assert tsh is not None
    assert tsh.at == datetime(2026, 11, 1, 8, 30, tzinfo=CLINIC)


def test_a_repeated_message_id_is_accepted_again_without_a_second_effect(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    first = feed.receive_lab_message(an_oru("SYN-REPEAT"))
    second = feed.receive_lab_message(an_oru("SYN-REPEAT", results=[an_obx(1, value="99")]))

    assert (first.code, second.code) == (AckCode.ACCEPT, AckCode.ACCEPT)
    assert second.duplicate
    assert "nothing stored again" in second.text
    assert database.state.store_calls == 1
    (stored,) = database.state.records["Patient/p1"].values()
    assert stored["valueQuantity"]["value"] == 35


def test_the_same_message_id_from_another_lab_is_a_different_message(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    feed.receive_lab_message(an_oru("1"))
    other = feed.receive_lab_message(an_oru("1", sender="OTHER-LIS|OTHER-LAB"))

    assert other.code is AckCode.ACCEPT
    assert not other.duplicate
    assert len(database.state.records["Patient/p1"]) == 2


def test_an_unknown_mrn_is_answered_ae_and_the_message_kept_as_a_dead_letter(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    raw = an_oru("SYN-UNKNOWN", mrn="MRN9999999")

    ack = feed.receive_lab_message(raw)

    assert ack.code is AckCode.ERROR
    assert ack.error is not None
    assert ack.error.code is ErrorCode.UNKNOWN_KEY
    assert "MRN9999999" in ack.text
    (letter,) = database.state.letters.values()
    assert (letter.raw, letter.code, letter.control_id) == (raw, AckCode.ERROR, "SYN-UNKNOWN")
    assert ack.dead_letter == letter.id
    assert database.state.records == {}
    assert database.state.accepted == {}


def test_an_mrn_shared_by_two_patients_is_answered_ae(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    database.register(SYNTHETIC_MRN, "Patient/p2")

    ack = feed.receive_lab_message(an_oru())

    assert ack.code is AckCode.ERROR
    assert "belongs to 2 patients" in ack.text


def test_an_unreadable_message_is_answered_ar_and_kept_as_a_dead_letter(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    ack = feed.receive_lab_message(b"this is not HL7")

    assert ack.code is AckCode.REJECT
    assert ack.header is None
    (letter,) = database.state.letters.values()
    assert letter.raw == b"this is not HL7"
    assert letter.code is AckCode.REJECT


def test_results_the_record_cannot_take_are_answered_ae_and_nothing_is_stored(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    database.failure = InvalidInput("Observation/x: effectiveDateTime is wrong")

    ack = feed.receive_lab_message(an_oru())

    assert ack.code is AckCode.ERROR
    assert "cannot be added to Patient/p1's record" in ack.text
    assert database.state.accepted == {}
    assert len(database.state.letters) == 1


def test_an_internal_failure_stores_nothing_and_keeps_the_message(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    database.failure = RuntimeError("disk full")

    ack = feed.receive_lab_message(an_oru())

    assert ack.code is AckCode.ERROR
    assert ack.error is not None
    assert ack.error.code is ErrorCode.INTERNAL_ERROR
    assert database.state.records == {}
    assert database.state.accepted == {}
    assert len(database.state.letters) == 1


def test_when_even_the_dead_letter_store_is_down_the_sender_is_asked_to_resend(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    database.broken = True

    ack = feed.receive_lab_message(an_oru())

    assert ack.code is AckCode.ERROR
    assert ack.dead_letter is None
    assert ack.error is not None
    assert ack.error.code is ErrorCode.INTERNAL_ERROR


def test_the_same_rejected_message_sent_twice_is_one_dead_letter_with_two_attempts(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    raw = an_oru("SYN-TWICE", mrn="MRN9999999")

    first = feed.receive_lab_message(raw)
    second = feed.receive_lab_message(raw)

    assert first.dead_letter == second.dead_letter
    (letter,) = database.state.letters.values()
    assert letter.attempts == 2


def test_retrying_a_dead_letter_once_the_patient_is_registered_stores_and_resolves_it(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    ack = feed.receive_lab_message(an_oru("SYN-LATE", mrn="MRN0000002"))
    assert ack.dead_letter is not None
    database.register("MRN0000002", "Patient/p2")

    retried = feed.retry_dead_letter(ack.dead_letter)

    assert retried.code is AckCode.ACCEPT
    assert len(database.state.records["Patient/p2"]) == 1
    assert feed.dead_letters() == []
    letter = feed.dead_letter(ack.dead_letter)
    assert letter is not None
    assert letter.status == "resolved"


def test_a_failed_retry_keeps_the_letter_open_and_counts_the_attempt(feed: LabFeed) -> None:
    ack = feed.receive_lab_message(an_oru("SYN-STILL", mrn="MRN0000003"))
    assert ack.dead_letter is not None

    retried = feed.retry_dead_letter(ack.dead_letter)

    assert retried.code is AckCode.ERROR
    (letter,) = feed.dead_letters()
    assert letter.attempts == 2
    assert letter.status == "open"


def test_discarding_a_dead_letter_needs_a_reason_and_keeps_the_letter(feed: LabFeed) -> None:
    ack = feed.receive_lab_message(b"garbage")
    assert ack.dead_letter is not None

    with pytest.raises(DeadLetterRefused):
        feed.discard_dead_letter(ack.dead_letter, "  ")
    feed.discard_dead_letter(ack.dead_letter, "test message from the lab's vendor")

    assert feed.dead_letters() == []
    (letter,) = feed.dead_letters(status=None)
    assert letter.status == "discarded"
    assert letter.resolution.startswith("test message")
    with pytest.raises(DeadLetterRefused, match="already discarded"):
        feed.retry_dead_letter(ack.dead_letter)


def test_a_dead_letter_that_does_not_exist_is_refused(feed: LabFeed) -> None:
    with pytest.raises(DeadLetterRefused, match="does not exist"):
        feed.retry_dead_letter(41)


def test_a_race_on_the_message_id_ends_as_a_repeated_aa(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    database.race = True

    ack = feed.receive_lab_message(an_oru("SYN-RACE"))

    assert ack.code is AckCode.ACCEPT
    assert ack.duplicate
    assert database.state.records == {}


def test_results_with_status_x_or_d_never_count_in_the_timeline(
    feed: LabFeed, database: FakeLabDatabase
) -> None:
    ack = feed.receive_lab_message(fixture("synthetic_status_x_and_d.hl7"))

    assert ack.stored == 1
    assert "status X (cannot be obtained)" in ack.text
    assert "status D (deleted)" in ack.text
    stored = list(database.state.records["Patient/p1"].values())
    timeline = read_resources([a_patient_resource(), *stored], packaged_protocol())
    at = datetime(2026, 11, 3, tzinfo=UTC)
    alt = timeline.latest_result(Analyte.ALT, at)
    assert alt is not None
    assert (alt.value, alt.status) == (38, "corrected")  # not the X result of 180
    assert timeline.latest_result(Analyte.AST, at) is None  # the D result is not there


def test_a_batch_that_fails_as_a_whole_is_applied_message_by_message(
    database: FakeLabDatabase,
) -> None:
    database.register("MRN0000002", "Patient/p2")
    database.failing_patients.add("Patient/p2")
    changed: list[str] = []
    feed = LabFeed(OruReader(CLINIC), database, clock=lambda: NOW, on_changed=changed.extend)

    acks = feed.receive_many(
        [an_oru("F-1"), an_oru("F-2", mrn="MRN0000002"), an_oru("F-3", results=[an_obx(1)])]
    )

    assert [a.code for a in acks] == ["AA", "AE", "AA"]
    assert acks[1].error is not None
    assert acks[1].error.code is ErrorCode.INTERNAL_ERROR
    assert acks[1].dead_letter is not None
    assert set(database.state.accepted) == {
        ("SYNTH-LIS|SYNTH-LAB", "F-1"),
        ("SYNTH-LIS|SYNTH-LAB", "F-3"),
    }
    assert "Patient/p2" not in database.state.records
    assert changed == ["p1", "p1"]


def test_messages_received_together_share_one_commit(database: FakeLabDatabase) -> None:
    feed = LabFeed(OruReader(CLINIC), database, clock=lambda: NOW)

    acks = feed.receive_many([an_oru(f"C-{n}") for n in range(5)])

    assert [a.code for a in acks] == ["AA"] * 5
    assert database.commits == 1


def test_a_copy_of_an_unstorable_message_in_the_same_batch_is_not_answered_as_accepted(
    database: FakeLabDatabase,
) -> None:
    feed = LabFeed(OruReader(CLINIC), database, clock=lambda: NOW)
    database.failure = InvalidInput("Observation/x: the record would no longer read")

    acks = feed.receive_many([an_oru("COPY-1"), an_oru("COPY-1")])

    assert [a.code for a in acks] == ["AE", "AE"]
    assert not acks[1].duplicate
    assert "the record would no longer read" in acks[1].text
    assert database.state.accepted == {}
