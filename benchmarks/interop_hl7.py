"""HL7 v2 feed throughput: parse + store + ACK over MLLP on loopback, beside a bare parse.

Run: .venv/bin/python benchmarks/interop_hl7.py [--messages 3000] [--connections 8]

A clinic on a new SQLite file gets ``--patients`` synthetic patients; then
``--messages`` synthetic ORU^R01 messages (a liver and blood-count panel of 6
results each, spread over the patients) go to the MLLP listener over
``--connections`` concurrent loopback connections, each waiting for its ACK
before sending the next message (MLLP original mode). Every ACK is checked to
be AA. In the same run the same messages go through the bare parser
(``read_oru``: python-hl7 plus our checks and FHIR mapping, no database).
Figures go to stdout and to BENCHMARKS.md under "HL7 v2 feed" (other sections
are left alone). All data is synthetic.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks_file import replace_section

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.bootstrap import clinic_service, hl7_endpoint
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from natalizumab_cds.interop.hl7v2 import MllpLimits, MllpServer, read_oru
from natalizumab_cds.interop.hl7v2.mllp import END_BLOCK, MessageHandler, frame

ROOT = Path(__file__).parent.parent
WHERE_THE_TIME_GOES = [
    "Where the time goes (cProfile, same messages): python-hl7's `parse` is about two",
    "thirds of the bare parse (it builds a container per field, repetition and",
    "component, ~170 per message). The store path is the clinic's record writer, the",
    "same one a FHIR import uses: per message it loads the patient's whole record,",
    "reads it through the FHIR reader to check it still reads cleanly, reassesses it",
    "and rebuilds the worklist summary and the audit entry, all inside the write",
    "transaction (SQLite: one writer at a time), so it grows with the record and does",
    "not overlap across connections. The MLLP listener is not the limit.",
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


class _EchoAck:
    """A handler that answers AA at once: what the MLLP listener alone can carry."""

    def handle(self, raw: bytes) -> bytes:
        control_id = raw.split(b"\r", 1)[0].split(b"|")[9]
        return b"MSH|^~\\&|NTZ||||20261124||ACK^R01^ACK|1|P|2.5.1\rMSA|AA|" + control_id + b"\r"

    def oversized(self, prefix: bytes, limit: int) -> bytes:
        raise AssertionError("no oversized frames in the benchmark")


@contextmanager
def listening(handler: MessageHandler, workers: int) -> Iterator[int]:
    """An MLLP listener on a loopback port, in its own event-loop thread."""
    server = MllpServer(handler, MllpLimits(), workers=workers)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result()
    try:
        yield server.port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


def over_mllp(messages: list[bytes], connections: int, port: int, name: str) -> Figures:
    """Send every message over ``connections`` sockets, one ACK at a time per socket."""
    import socket

    shares = [messages[i::connections] for i in range(connections)]
    barrier = threading.Barrier(connections + 1)

    def one_connection(share: list[bytes]) -> int:
        accepted = 0
        with socket.create_connection(("127.0.0.1", port)) as sock:
            barrier.wait()
            pending = b""
            for raw in share:
                sock.sendall(frame(raw))
                while END_BLOCK not in pending:
                    pending += sock.recv(65536)
                ack, pending = pending.split(END_BLOCK, 1)
                accepted += b"MSA|AA|" in ack
        return accepted

    with ThreadPoolExecutor(connections) as pool:
        futures = [pool.submit(one_connection, share) for share in shares]
        barrier.wait()
        started = time.perf_counter()
        accepted = sum(f.result() for f in futures)
        seconds = time.perf_counter() - started
    if accepted != len(messages):
        raise SystemExit(f"only {accepted} of {len(messages)} messages were accepted (AA)")
    return Figures(f"{name}, MLLP, {connections} connections", len(messages), seconds)


def clinic_with_patients(folder: Path, patients: int) -> Clinic:
    clinic = clinic_service(f"sqlite:///{folder / 'bench.sqlite3'}", upgrade=True)
    bundles = ((f"p{i}", synthesize_patient(i, SEED, NOW, years=0.5)) for i in range(patients))
    clinic.importer.many(bundles)
    return clinic


def run(args: argparse.Namespace) -> list[Figures]:
    messages = [message(n, args.patients) for n in range(args.messages)]
    results = [bare_parse(messages)]
    with listening(_EchoAck(), args.workers) as port:
        results.append(over_mllp(messages, args.connections, port, "ACK only (no parse, no store)"))
    with tempfile.TemporaryDirectory() as folder:
        clinic = clinic_with_patients(Path(folder), args.patients)
        try:
            with listening(hl7_endpoint(clinic), args.workers) as port:
                stored = over_mllp(messages, args.connections, port, "parse + store + ACK")
        finally:
            clinic.database.close()
    return [*results, stored]


def report(results: list[Figures], args: argparse.Namespace) -> list[str]:
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    lines = [
        HEADING,
        "",
        f"`benchmarks/interop_hl7.py --messages {args.messages} --connections {args.connections}"
        f" --patients {args.patients} --workers {args.workers}` on {machine}, "
        f"{datetime.now(UTC):%Y-%m-%d}. SQLite (WAL) file; each message is a synthetic "
        "ORU^R01 with 6 results; every ACK checked AA.",
        "",
        "| path | messages | seconds | messages/s |",
        "|---|---|---|---|",
        *(f"| {f.name} | {f.messages} | {f.seconds:.2f} | {f.per_second:,.0f} |" for f in results),
        "",
    ]
    stored = results[-1]
    verdict = "met" if stored.per_second >= GOAL_PER_SECOND else "NOT met"
    lines.append(
        f"Goal ≥ {GOAL_PER_SECOND:,} messages/s through parse + store + ACK: {verdict} "
        f"({stored.per_second:,.0f}/s; the bare parse alone runs at "
        f"{results[0].per_second:,.0f}/s, the MLLP listener alone at "
        f"{results[1].per_second:,.0f}/s)."
    )
    lines += ["", *WHERE_THE_TIME_GOES]
    return [*lines, ""]


def record(lines: list[str]) -> None:
    """Replace (or add) the "HL7 v2 feed" section of BENCHMARKS.md; other sections stay."""
    replace_section(HEADING, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8, help="listener worker threads")
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    results = run(args)
    lines = report(results, args)
    print("\n".join(lines))
    if not args.no_record:
        record(lines)


if __name__ == "__main__":
    main()
