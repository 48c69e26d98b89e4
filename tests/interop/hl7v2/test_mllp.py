"""The MLLP listener over a real TCP socket on loopback (an ephemeral port).

The lab feed behind it runs on in-memory fakes; messages are the fixtures and
synthetic messages of tests/interop/hl7v2/messages.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import hl7
import pytest

from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.interop.hl7v2 import Hl7Endpoint, MllpLimits, MllpServer, OruReader, frame
from tests.application.lab_feed_fakes import FakeLabDatabase
from tests.interop.hl7v2.messages import SYNTHETIC_MRN, an_obx, an_oru, fixture

LIMITS = MllpLimits(max_message_bytes=8192, read_timeout=0.5, idle_timeout=5.0)


@dataclass
class Listener:
    port: int
    database: FakeLabDatabase

    def connect(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.settimeout(5)
        return connection


@pytest.fixture
def listener() -> Iterator[Listener]:
    database = FakeLabDatabase()
    database.register(SYNTHETIC_MRN, "Patient/p1")
    database.register("9817566735", "Patient/nist-1")
    feed = LabFeed(OruReader(ZoneInfo("Europe/Berlin")), database)
    server = MllpServer(Hl7Endpoint(feed), LIMITS, max_batch=4)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(5)
    yield Listener(server.port, database)
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


_PENDING: dict[int, bytes] = {}


def _read_frame(connection: socket.socket) -> bytes:
    """The next ACK frame's message; bytes read beyond it wait for the next call."""
    data = _PENDING.pop(connection.fileno(), b"")
    while b"\x1c\x0d" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    message, rest = data.split(b"\x1c\x0d", 1)
    if rest:
        _PENDING[connection.fileno()] = rest
    assert message.startswith(b"\x0b")
    return message[1:]


def _exchange(listener: Listener, message: bytes) -> hl7.Message:
    with listener.connect() as connection:
        connection.sendall(frame(message))
        return _ack(_read_frame(connection))


def _ack(raw: bytes) -> hl7.Message:
    text = raw.decode()
    assert text.endswith("\r")
    return hl7.parse(text)


def _msa(ack: hl7.Message) -> tuple[str, str]:
    msa = ack.segment("MSA")
    return str(msa(1)), str(msa(2))


def test_a_message_is_acknowledged_aa_after_its_results_are_stored(listener: Listener) -> None:
    ack = _exchange(listener, fixture("synthetic_monitoring_panel.hl7"))

    assert _msa(ack) == ("AA", "SYN-PANEL-0001")
    assert str(ack.segment("MSH")(9)) == "ACK^R01^ACK"
    assert str(ack.segment("MSH")(5)) == "SYNTH-LIS"
    assert len(listener.database.state.records["Patient/p1"]) == 8
    assert listener.database.commits >= 1


def test_the_published_nist_sample_is_acknowledged_aa_naming_what_was_not_stored(
    listener: Listener,
) -> None:
    ack = _exchange(listener, fixture("nist_elr_251_case1.hl7"))

    assert _msa(ack) == ("AA", "NIST-100929110701660")
    assert "LOINC 10368-9 is not one of the profile's tests" in str(ack.segment("MSA")(3))


def test_a_repeated_message_is_acknowledged_aa_with_one_effect(listener: Listener) -> None:
    with listener.connect() as connection:
        for _ in range(3):
            connection.sendall(frame(an_oru("SYN-AGAIN")))
            assert _msa(_ack(_read_frame(connection))) == ("AA", "SYN-AGAIN")

    assert listener.database.state.store_calls == 1
    assert len(listener.database.state.accepted) == 1


def test_an_unknown_mrn_is_answered_ae_and_kept_as_a_dead_letter(listener: Listener) -> None:
    ack = _exchange(listener, an_oru("SYN-NOBODY", mrn="MRN7777777"))

    assert _msa(ack) == ("AE", "SYN-NOBODY")
    assert str(ack.segment("ERR")(3)).startswith("204^")
    (letter,) = listener.database.state.letters.values()
    assert letter.control_id == "SYN-NOBODY"


def test_every_result_that_cannot_be_applied_is_named_in_the_ack_and_the_dead_letter(
    listener: Listener,
) -> None:
    message = an_oru(
        "SYN-TWO-BAD",
        results=[
            an_obx(1, units="furlongs"),
            an_obx(2, code="1920-8"),  # a good AST between them
            an_obx(3, code="751-8", value="lots", units="10*9/L^^UCUM", reference=""),
        ],
    )
    ack = _exchange(listener, message)

    assert _msa(ack) == ("AE", "SYN-TWO-BAD")
    text = str(ack.segment("MSA")(3))
    assert text.startswith("2 results cannot be applied: OBX 1: 1742-6 unit 'furlongs'")
    assert "OBX 3: value 'lots' is not a number" in text
    errors = [segment for segment in ack if str(segment(0)) == "ERR"]
    assert [str(e(2)) for e in errors] == ["OBX^1^6", "OBX^3^5"]
    assert [str(e(3)).split("^")[0] for e in errors] == ["103", "102"]
    (letter,) = listener.database.state.letters.values()
    assert "OBX 1: 1742-6 unit 'furlongs'" in letter.reason
    assert "OBX 3: value 'lots' is not a number" in letter.reason
    assert listener.database.state.store_calls == 0  # nothing of the message is applied


@pytest.mark.parametrize(
    ("message", "control_id"),
    [
        pytest.param(an_oru("SYN-CUT")[:150], "SYN-CUT", id="truncated"),
        pytest.param(
            an_oru("SYN-ENC").replace(b"^~\\&", b"^~\\#", 1), "SYN-ENC", id="wrong encoding"
        ),
        pytest.param(b"PID|1||MRN0000001\rOBR|1\r", "", id="missing MSH"),
        pytest.param(fixture("ghh_lab_adapted_adt_a01.hl7"), "CNTRL-3456", id="ADT not ORU"),
    ],
)
def test_unreadable_messages_are_answered_ar_and_kept(
    listener: Listener, message: bytes, control_id: str
) -> None:
    ack = _exchange(listener, message)

    assert _msa(ack) == ("AR", control_id)
    (letter,) = listener.database.state.letters.values()
    assert letter.raw == message


def test_an_oversized_frame_is_answered_ar_and_the_connection_closed(listener: Listener) -> None:
    huge = an_oru("SYN-HUGE") + b"NTE|1||" + b"x" * (LIMITS.max_message_bytes * 2) + b"\r"

    with listener.connect() as connection:
        connection.sendall(frame(huge))
        ack = _ack(_read_frame(connection))
        assert connection.recv(1) == b""  # closed by the listener

    assert _msa(ack) == ("AR", "SYN-HUGE")
    assert "larger than 8192 bytes" in str(ack.segment("MSA")(3))
    (letter,) = listener.database.state.letters.values()
    assert len(letter.raw) <= LIMITS.max_message_bytes


def test_a_half_frame_then_silence_times_out_while_others_are_served(listener: Listener) -> None:
    with listener.connect() as stalled:
        stalled.sendall(b"\x0b" + an_oru("SYN-HALF")[:80])
        started = time.monotonic()

        assert _msa(_exchange(listener, an_oru("SYN-OTHER"))) == ("AA", "SYN-OTHER")
        assert stalled.recv(1) == b""  # the listener gave up on the half frame
        assert time.monotonic() - started < LIMITS.read_timeout + 3

    assert ("SYNTH-LIS|SYNTH-LAB", "SYN-HALF") not in listener.database.state.accepted
    assert listener.database.state.letters == {}


def test_many_connections_are_served_at_once(listener: Listener) -> None:
    def one_lab(number: int) -> list[tuple[str, str]]:
        with listener.connect() as connection:
            answers = []
            for sequence in range(5):
                connection.sendall(frame(an_oru(f"SYN-{number}-{sequence}")))
                answers.append(_msa(_ack(_read_frame(connection))))
            return answers

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one_lab, range(20)))

    for number, answers in enumerate(results):
        assert answers == [("AA", f"SYN-{number}-{sequence}") for sequence in range(5)]
    assert len(listener.database.state.accepted) == 100


def test_messages_on_one_connection_are_answered_in_order(listener: Listener) -> None:
    messages = [an_oru(f"SYN-ORDER-{n}", results=[an_obx(1, value=str(n))]) for n in range(5)]

    with listener.connect() as connection:
        connection.sendall(b"".join(frame(message) for message in messages))
        answers = [_msa(_ack(_read_frame(connection))) for _ in messages]

    assert answers == [("AA", f"SYN-ORDER-{n}") for n in range(5)]


def test_bytes_between_frames_are_skipped(listener: Listener) -> None:
    with listener.connect() as connection:
        connection.sendall(
            b"\r\n" + frame(an_oru("SYN-GAP-1")) + b"\n" + frame(an_oru("SYN-GAP-2"))
        )
        answers = [_msa(_ack(_read_frame(connection))) for _ in range(2)]

    assert answers == [("AA", "SYN-GAP-1"), ("AA", "SYN-GAP-2")]


def test_a_frame_restarted_by_the_sender_is_read_from_the_last_start_block(
    listener: Listener,
) -> None:
    abandoned = b"\x0b" + an_oru("SYN-ABANDONED")[:40]

    with listener.connect() as connection:
        connection.sendall(abandoned + frame(an_oru("SYN-RESENT")))
        assert _msa(_ack(_read_frame(connection))) == ("AA", "SYN-RESENT")


def test_messages_arriving_together_on_many_connections_share_one_commit(
    listener: Listener,
) -> None:
    """While one batch is being committed the next gathers; every sender gets its own ACK."""
    database = listener.database
    database.commits = 0
    hold = threading.Lock()
    hold.acquire()
    original = database.writing

    def held_writing():  # type: ignore[no-untyped-def]
        with hold:  # the first transaction waits until every message has arrived
            pass
        return original()

    database.writing = held_writing  # type: ignore[method-assign]

    def send(number: int) -> tuple[str, str]:
        with listener.connect() as connection:
            connection.sendall(frame(an_oru(f"SYN-TOGETHER-{number}")))
            return _msa(_ack(_read_frame(connection)))

    with ThreadPoolExecutor(5) as pool:
        answers = [pool.submit(send, n) for n in range(5)]
        time.sleep(0.3)  # all five frames are read; the first batch waits on the lock
        hold.release()
        results = sorted(answer.result(5) for answer in answers)

    assert results == [("AA", f"SYN-TOGETHER-{n}") for n in range(5)]
    assert len(database.state.accepted) == 5
    assert database.commits < 5  # at most 4 per batch, the rest gathered behind the first


def test_a_sender_that_stops_sending_after_its_message_still_gets_the_ack(
    listener: Listener,
) -> None:
    with listener.connect() as connection:
        connection.sendall(frame(an_oru("SYN-HALF-CLOSE")))
        connection.shutdown(socket.SHUT_WR)  # the lab system is done sending

        assert _msa(_ack(_read_frame(connection))) == ("AA", "SYN-HALF-CLOSE")
        assert connection.recv(1) == b""  # then the listener closes too


class _StuckTransport(asyncio.Transport):
    """A transport whose peer reads nothing: its write buffer only grows."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.reading = True
        self.aborted = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("198.51.100.7", 4321) if name == "peername" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:  # type: ignore[override]
        self.written += bytes(data)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        pass


def test_a_peer_that_never_reads_its_acks_is_read_no_more_then_dropped() -> None:
    """The transport tells the listener its buffer is full (``pause_writing``): the
    listener stops reading that peer and drops it after ``write_timeout``."""
    database = FakeLabDatabase()
    database.register(SYNTHETIC_MRN, "Patient/p1")
    limits = MllpLimits(max_message_bytes=8192, write_timeout=0.2)
    server = MllpServer(Hl7Endpoint(LabFeed(OruReader(ZoneInfo("UTC")), database)), limits)

    async def scenario() -> None:
        await server.start("127.0.0.1", 0)
        transport = _StuckTransport()
        peer = server.protocol()
        peer.connection_made(transport)
        peer.data_received(frame(an_oru("SYN-DEAF")))
        await asyncio.sleep(0.2)  # answered into the buffer
        assert b"MSA|AA|SYN-DEAF" in transport.written
        peer.pause_writing()  # the buffer is over its high-water mark
        assert not transport.reading
        await asyncio.sleep(0.1)
        assert not transport.aborted
        await asyncio.sleep(0.3)
        assert transport.aborted
        await server.close()

    asyncio.run(scenario())
