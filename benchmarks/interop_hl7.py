"""HL7 v2 feed throughput: parse + store + ACK over MLLP on loopback, beside a bare parse.

Run: .venv/bin/python benchmarks/interop_hl7.py [--messages 6000] [--connections 8]
     [--many 64] [--workers 2] [--engine postgresql] [--no-record]

A new clinic database (SQLite, or PostgreSQL with ``--engine postgresql``) gets
``--patients`` synthetic patients. Then the real listener, ``ntz mllp``, runs
in processes of its own, exactly as an operator starts it (group commit, the
audit trail, the summary catch-up in its parent process), and this process
plays the lab system: ``--messages`` synthetic ORU^R01 messages (a liver and
blood-count panel of 6 results each, spread over the patients) over
``--connections`` concurrent loopback connections, each waiting for its ACK
before sending the next (MLLP original mode), from one asyncio event loop.
That is done with one listener process at ``--connections`` and at ``--many``
connections, and with ``--workers`` listener processes at ``--many``. Every ACK
is checked to be AA, and afterwards the results are counted in the database.
The time until every changed patient's worklist summary has been rebuilt is
reported too (the catch-up works after the ACKs). In the same run, measured
the same way: the same messages through the bare reader (``read_oru``:
splitting, checks and FHIR mapping, no database), through the listener's
handler alone (no MLLP), and through an MLLP listener that answers AA without
reading anything. Figures go to stdout and to BENCHMARKS.md under "HL7 v2
feed". All data is synthetic.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import Queue, get_context
from pathlib import Path

from audit import fresh_database
from benchmarks_file import replace_section

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from natalizumab_cds.interop.hl7v2 import MllpLimits, MllpServer, read_oru
from natalizumab_cds.interop.hl7v2.mllp import END_BLOCK, frame

ROOT = Path(__file__).parent.parent
WHERE_THE_TIME_GOES = [
    "Where the time goes: the handler alone (a process of its own, no MLLP, no summaries) is",
    "the ceiling of one listener: about 3.0 million instructions a six-result message",
    "(callgrind, which repeats where timings drift): reading and mapping the message (0.8 M),",
    "checking each result with the FHIR reader and hashing it for storage (0.9 M), storing",
    "it with the version step, the message log and the audit entry (1.3 M), then the",
    "commit's wait for the disk. One listener runs that on one core (one interpreter lock);",
    "the MLLP side adds little (the ACK-only row). A second listener process does not help",
    "on SQLite: one writer at a time, each message writing some 23 KiB of WAL that the commit",
    "puts on disk, and two listeners halve each one's batches. 5,000/s would need about 15",
    "billion instructions a second for the handler alone, two to three of these cores;",
    "docs/hl7.md says more.",
]
HEADING = "## HL7 v2 feed"
GOAL_PER_SECOND = 5000
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SEED = 11

PANEL = [
    ("1742-6", "ALT", "{v}", "U/L", "10-40"),
    ("1920-8", "AST", "{v}", "U/L", "10-40"),
    ("26499-4", "Neutrophils", "4.{d}", "10*9/L", "1.8-7.7"),
    ("26474-7", "Lymphocytes", "2{d}00", "/uL", "1000-4800"),
    ("26484-6", "Monocytes", "0.{d}", "K/uL", "0.2-0.8"),
    ("777-3", "Platelets", "2{d}0", "10*3/uL", "150-400"),
]


def message(number: int, patients: int) -> bytes:
    """A synthetic ORU^R01 for patient MRN{n}, with a panel of six results."""
    mrn = f"MRN{number % patients:07d}"
    day = 1 + number % 28
    when = f"202610{day:02d}0830+0100"
    segments = [
        f"MSH|^~\\&|BENCH-LIS|BENCH-LAB|NTZ-CDS|CLINIC|{when}||ORU^R01^ORU_R01"
        f"|BENCH-{number:08d}|P|2.5.1",
        f"PID|1||{mrn}^^^BENCH^MR||Synthetic^Patient||19800101|F",
        f"OBR|1||L{number}^BENCH-LAB|24325-3^Panel^LN|||{when}",
    ]
    for index, (code, name, value, unit, reference) in enumerate(PANEL, start=1):
        shown = value.format(v=20 + number % 30, d=number % 10)
        segments.append(
            f"OBX|{index}|NM|{code}^{name}^LN||{shown}|{unit}|{reference}|N|||F|||{when}"
        )
    return ("\r".join(segments) + "\r").encode()


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def bare_parse(messages: list[bytes]) -> Figures:
    started = time.perf_counter()
    for raw in messages:
        read_oru(raw, UTC)
    return Figures("bare parse (read_oru)", len(messages), time.perf_counter() - started)


#: Messages the writer takes together when the listener alone is timed (32 connections' worth).
ALONE_BATCH = 32


def _handler_alone(database_url: str, numbers: range, patients: int, seconds: Queue[float]) -> None:
    """In a process of its own: the listener's handler, no MLLP, no summary refresher.

    What one writer can apply per second: reading, checks, rows, audit, commit.
    """
    from natalizumab_cds.bootstrap import hl7_endpoint
    from natalizumab_cds.cli.serving import settle_heap

    clinic = clinic_service(database_url)
    endpoint = hl7_endpoint(clinic, on_changed=lambda _ids: None)
    messages = [message(n, patients) for n in numbers]
    settle_heap()  # as ntz mllp does
    started = time.perf_counter()
    acks = []
    for first in range(0, len(messages), ALONE_BATCH):
        acks += endpoint.handle_many(messages[first : first + ALONE_BATCH])
    seconds.put(time.perf_counter() - started)
    clinic.database.close()
    if sum(b"MSA|AA|" in ack for ack in acks) != len(messages):
        raise SystemExit("the handler did not accept every message")


def handler_alone(args: argparse.Namespace) -> Figures:
    """Parse + store through the handler in a process of its own, on a database of its own."""
    with fresh_database(args.engine) as url:
        clinic_with_patients(url, args.patients).database.close()
        context = get_context("spawn")
        seconds: Queue[float] = context.Queue()
        numbers = range(5 * 10**7, 5 * 10**7 + args.messages)
        process = context.Process(
            target=_handler_alone, args=(url, numbers, args.patients, seconds)
        )
        process.start()
        elapsed = seconds.get(timeout=600)
        process.join()
    name = f"parse + store, handler alone (no MLLP, no summaries), batches of {ALONE_BATCH}"
    return Figures(name, args.messages, elapsed)


class _EchoAck:
    """A handler that answers AA at once: what the MLLP listener alone can carry."""

    def handle_many(self, raws: Sequence[bytes]) -> list[bytes]:
        return [self.handle(raw) for raw in raws]

    def handle(self, raw: bytes) -> bytes:
        control_id = raw.split(b"\r", 1)[0].split(b"|")[9]
        return b"MSH|^~\\&|NTZ||||20261124||ACK^R01^ACK|1|P|2.5.1\rMSA|AA|" + control_id + b"\r"

    def oversized(self, prefix: bytes, limit: int) -> bytes:
        raise AssertionError("no oversized frames in the benchmark")


def _echo_listener(ports: Queue[int]) -> None:
    """In a process of its own: an MLLP listener that answers AA without reading."""

    async def serve() -> None:
        server = MllpServer(_EchoAck(), MllpLimits())
        await server.start("127.0.0.1", 0)
        ports.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextmanager
def echo_listener() -> Iterator[int]:
    context = get_context("spawn")
    ports: Queue[int] = context.Queue()
    process = context.Process(target=_echo_listener, args=(ports,), daemon=True)
    process.start()
    try:
        yield ports.get(timeout=60)
    finally:
        process.terminate()
        process.join()


@contextmanager
def ntz_mllp(database_url: str, workers: int = 1) -> Iterator[int]:
    """``ntz mllp`` on a free loopback port, as an operator runs it."""
    command = [str(Path(sys.executable).with_name("ntz")), "mllp", "--host", "127.0.0.1"]
    command += ["--port", "0", "--database-url", database_url, "--workers", str(workers)]
    env = {**os.environ, "NTZ_SETTINGS_FILE": "/nonexistent"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    if not found:
        process.kill()
        raise SystemExit(f"ntz mllp did not start: {line!r}")
    try:
        yield int(found.group(1))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


class _LabConnection(asyncio.Protocol):
    """One lab system connection: the next message goes out when the last one's ACK is in."""

    def __init__(self, frames: list[bytes], done: asyncio.Future[int]) -> None:
        self.frames = frames
        self.done = done
        self.sent = 0
        self.accepted = 0
        self.pending = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def start(self) -> None:
        assert self.transport is not None
        self.transport.write(self.frames[0])

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.pending += data
        while (end := self.pending.find(END_BLOCK)) >= 0:
            ack, self.pending = self.pending[:end], self.pending[end + len(END_BLOCK) :]
            self.accepted += b"MSA|AA|" in ack
            self.sent += 1
            if self.sent == len(self.frames):
                self.transport.close()
                self.done.set_result(self.accepted)
                return
            self.transport.write(self.frames[self.sent])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed after {self.sent} ACKs ({exc})"))


async def _lab_system(messages: list[bytes], connections: int, port: int) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    shares = [messages[i::connections] for i in range(connections)]
    labs: list[_LabConnection] = []
    for share in shares:
        done: asyncio.Future[int] = loop.create_future()
        _, lab = await loop.create_connection(
            lambda share=share, done=done: _LabConnection([frame(m) for m in share], done),
            "127.0.0.1",
            port,
        )
        labs.append(lab)
    started = time.perf_counter()
    for lab in labs:  # every connection open first, then all start at once
        lab.start()
    accepted = sum(await asyncio.gather(*(lab.done for lab in labs)))
    return accepted, time.perf_counter() - started


def over_mllp(messages: list[bytes], connections: int, port: int, name: str) -> Figures:
    """Send every message over ``connections`` sockets, one ACK at a time per socket.

    The lab system is one asyncio event loop in this process (about 30 µs of CPU
    a message), so that it takes little of the two cores from the listener.
    """
    accepted, seconds = asyncio.run(_lab_system(messages, connections, port))
    if accepted != len(messages):
        raise SystemExit(f"only {accepted} of {len(messages)} messages were accepted (AA)")
    return Figures(f"{name}, MLLP, {connections} connections", len(messages), seconds)


def clinic_with_patients(database_url: str, patients: int) -> Clinic:
    clinic = clinic_service(database_url, upgrade=True)
    bundles = ((f"p{i}", synthesize_patient(i, SEED, NOW, years=0.5)) for i in range(patients))
    clinic.importer.many(bundles)
    return clinic


def _results_stored(clinic: Clinic) -> int:
    with clinic.database.reading() as uow:
        page = uow.records.timeline("p0", ["Observation"], 1, 1)
    return page.total


def _summaries_behind(clinic: Clinic) -> int:
    with clinic.database.reading() as uow:
        return len(uow.summaries.behind_records(100_000))


def run(args: argparse.Namespace) -> tuple[list[Figures], float, str]:
    messages = [message(n, args.patients) for n in range(args.messages)]
    results = [bare_parse(messages)]
    with echo_listener() as port:
        over_mllp(messages[:500], args.many, port, "warm-up")
        results.append(over_mllp(messages, args.many, port, "ACK only (no parse, no store)"))
    results.append(handler_alone(args))
    sent: list[int] = []
    runs = [(1, args.connections), (1, args.many), (args.workers, args.many)]
    with fresh_database(args.engine) as url:
        clinic = clinic_with_patients(url, args.patients)
        try:
            before = _results_stored(clinic)
            caught_up = 0.0
            for run_number, (workers, connections) in enumerate(runs):
                with ntz_mllp(url, workers) as port:
                    numbers = range(10**8 + run_number * 1000, 10**8 + run_number * 1000 + 200)
                    over_mllp([message(n, args.patients) for n in numbers], 8, port, "warm-up")
                    sent += numbers
                    # new control ids each time: a repeat would be answered without storing
                    numbers = range(run_number * 10**7, run_number * 10**7 + args.messages)
                    batch = [message(n, args.patients) for n in numbers]
                    listeners = f"{workers} listener process{'es' if workers > 1 else ''}"
                    name = f"parse + store + ACK, {listeners}"
                    results.append(over_mllp(batch, connections, port, name))
                    sent += numbers
                    started = time.perf_counter()
                    while _summaries_behind(clinic):
                        time.sleep(0.01)
                    caught_up = max(caught_up, time.perf_counter() - started)
            expected = sum(1 for n in sent if n % args.patients == 0) * len(PANEL)
            if _results_stored(clinic) - before != expected:
                raise SystemExit("the results stored for p0 are not the results sent")
        finally:
            clinic.database.close()
    engine = "PostgreSQL" if args.engine == "postgresql" else "SQLite (WAL)"
    return results, caught_up, engine


def report(
    results: list[Figures], caught_up: float, engine: str, args: argparse.Namespace
) -> list[str]:
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    database = f" --engine {args.engine}"
    lines = [
        HEADING,
        "",
        f"`benchmarks/interop_hl7.py --messages {args.messages} --connections {args.connections}"
        f" --many {args.many} --workers {args.workers} --patients {args.patients}{database}` "
        f"on {machine}, "
        f"{os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d}. {engine}; the listener is `ntz mllp` in processes of "
        "its own, the lab system one asyncio loop in this one; each message is a synthetic "
        "ORU^R01 with 6 results; every ACK checked AA and the results counted in the database.",
        "",
        "| path | messages | seconds | messages/s |",
        "|---|---|---|---|",
        *(f"| {f.name} | {f.messages} | {f.seconds:.2f} | {f.per_second:,.0f} |" for f in results),
        "",
    ]
    stored = max(results[3:], key=lambda f: f.per_second)
    verdict = "met" if stored.per_second >= GOAL_PER_SECOND else "NOT met"
    lines.append(
        f"Goal ≥ {GOAL_PER_SECOND:,} messages/s through parse + store + ACK: {verdict} "
        f"(best {stored.per_second:,.0f}/s; the bare reader alone runs at "
        f"{results[0].per_second:,.0f}/s, the MLLP listener alone at "
        f"{results[1].per_second:,.0f}/s, the handler alone, without MLLP or summaries, at "
        f"{results[2].per_second:,.0f}/s). Every changed patient's worklist summary was "
        f"rebuilt at most {caught_up:.2f} s after a run's last ACK."
    )
    lines += ["", *WHERE_THE_TIME_GOES]
    return [*lines, ""]


def record(lines: list[str]) -> None:
    """Replace (or add) the "HL7 v2 feed" section of BENCHMARKS.md; other sections stay."""
    replace_section(HEADING, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--many", type=int, default=64, help="connections of the later runs")
    parser.add_argument("--workers", type=int, default=2, help="listener processes, last run")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    results, caught_up, engine = run(args)
    lines = report(results, caught_up, engine, args)
    print("\n".join(lines))
    if not args.no_record:
        record(lines)


if __name__ == "__main__":
    main()
