"""Audit trail speed: appends per second, and verifying a million records.

Run: .venv/bin/python benchmarks/audit.py [--events 100000] [--verify-events 1000000]
     [--engines sqlite,postgresql] [--no-record]

For each engine, on a fresh migrated database:

- **batched appends**: the use-case path (``SqlAuditTrail.append`` in a write
  transaction: lock the chain head, hash, insert, move the head) with 1,000
  entries per transaction, as a bulk import records them;
- **one entry per transaction**: the same path with a commit per entry, as a
  single patient read or change records it (the worst case);
- **verify**: ``ntz audit verify``'s code path (``SqlAuditLog.rows`` streamed with
  a server-side cursor into ``verify``) over ``--verify-events`` records. Those
  records are chained with the real ``chain`` function but inserted directly in
  bulk (``executemany`` of 20,000 rows), not one use case at a time.

Figures go to stdout and to BENCHMARKS.md under "Audit trail" (other sections
are left alone). PostgreSQL: NTZ_TEST_PG_URL or postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from benchmarks_file import replace_section
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from natalizumab_cds.application.security.audit import GENESIS, AuditEntry, Operation, chain
from natalizumab_cds.application.security.audit_verify import verify
from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.security_store import SqlSecurityDatabase
from natalizumab_cds.persistence.security_tables import audit_chain_head, audit_events

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Audit trail"
PG_URL = os.environ.get("NTZ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WRITE_GOAL = 10_000  # records per second
VERIFY_GOAL = 10.0  # seconds for a million records
BATCH = 1000
INSERT_CHUNK = 20_000
AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def entry(index: int) -> AuditEntry:
    """A typical record: a clinician reading one patient's record."""
    return AuditEntry(
        action="read-patient-record",
        operation=Operation.READ,
        actor=f"nurse-{index % 40}",
        role="nurse",
        patient_id=f"p{index % 10_000}",
        entity=f"Patient/p{index % 10_000}",
    )


@dataclass(frozen=True, slots=True)
class Figures:
    engine: str
    batched_per_second: float
    single_per_second: float
    single_events: int
    verify_events: int
    insert_seconds: float
    verify_seconds: float
    intact: bool


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(engine_name: str) -> Iterator[str]:
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/audit-bench.sqlite3"
        return
    name = f"ntz_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def appends(database: SqlSecurityDatabase, events: int, per_transaction: int) -> float:
    """Records per second through ``append``, ``per_transaction`` at a time."""

    def run() -> None:
        for start in range(0, events, per_transaction):
            batch = [entry(i) for i in range(start, min(events, start + per_transaction))]
            with database.writing() as uow:
                uow.audit.append(batch, AT)

    return events / timed(run)


def bulk_chain(database: SqlDatabase, events: int) -> float:
    """Chain ``events`` records with the real hashing and insert them directly; seconds."""

    def run() -> None:
        sequence, last = 0, GENESIS
        with database.engine.begin() as connection:
            names = [c.name for c in audit_events.columns]
            while sequence < events:
                size = min(INSERT_CHUNK, events - sequence)
                records = chain([entry(sequence + i) for i in range(size)], sequence, last, AT)
                rows = [dict(zip(names, r.fields(), strict=True)) for r in records]
                connection.execute(insert(audit_events), rows)
                sequence, last = records[-1].sequence, records[-1].hash
            connection.execute(
                update(audit_chain_head)
                .where(audit_chain_head.c.id == 1)
                .values(sequence=sequence, hash=last)
            )

    return timed(run)


def measure(engine_name: str, events: int, single: int, verify_events: int) -> Figures:
    with fresh_database(engine_name) as url:
        engine = database_engine(url)
        migrate.upgrade(engine)
        database = SqlDatabase(engine)
        trail = SqlSecurityDatabase(database)
        batched = appends(trail, events, BATCH)
        one_by_one = appends(trail, single, 1)
        engine.dispose()
    with fresh_database(engine_name) as url:
        engine = database_engine(url)
        migrate.upgrade(engine)
        database = SqlDatabase(engine)
        inserted = bulk_chain(database, verify_events)
        trail = SqlSecurityDatabase(database)
        outcome = []

        def check() -> None:
            with trail.reading() as uow:
                outcome.append(verify(uow.audit_log.rows(), uow.audit_log.head()))

        seconds = timed(check)
        engine.dispose()
    result = outcome[0]
    return Figures(
        engine_name,
        batched,
        one_by_one,
        single,
        result.checked,
        inserted,
        seconds,
        result.intact and result.checked == verify_events,
    )


def report(figures: list[Figures], args: argparse.Namespace) -> list[str]:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        HEADING,
        "",
        f"`benchmarks/audit.py` on {machine}, {datetime.now(UTC).date()}. Appends go through "
        "`SqlAuditTrail.append` (lock the chain head, SHA-256, insert, move the head) in a "
        f"write transaction: {args.events:,} records {BATCH:,} per transaction, then "
        "one record per transaction. Verify streams every record (server-side cursor) "
        "through `verify`; its records were chained with the real hashing but **inserted "
        "directly in bulk**, not through the use cases.",
        "",
        "| engine | batched appends/s | one per transaction/s | verified | insert (bulk) "
        "| verify | intact |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.engine} | {f.batched_per_second:,.0f} | {f.single_per_second:,.0f} "
            f"(of {f.single_events:,}) | {f.verify_events:,} | {f.insert_seconds:.1f} s "
            f"| {f.verify_seconds:.2f} s | {'yes' if f.intact else 'NO'} |"
        )
    lines.append("")
    for f in figures:
        writes = "met" if f.batched_per_second >= WRITE_GOAL else "NOT met"
        per_million = f.verify_seconds * 1_000_000 / max(f.verify_events, 1)
        checks = "met" if per_million <= VERIFY_GOAL else "NOT met"
        lines.append(
            f"- {f.engine}: ≥ {WRITE_GOAL:,} appends/s (batched) {writes}; verify a million "
            f"≤ {VERIFY_GOAL:.0f} s {checks} ({per_million:.1f} s per million). One record "
            f"per transaction is bound by the commit, not the chain: "
            f"{f.single_per_second:,.0f}/s."
        )
    return [*lines, ""]


def record(lines: list[str]) -> None:
    """Replace (or add) the "Audit trail" section of BENCHMARKS.md; other sections stay."""
    replace_section(HEADING, "\n".join(lines))


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(_libpq(PG_URL), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single-events", type=int, default=2_000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e != "postgresql" or postgres_reachable()]
    figures = []
    for engine_name in engines:
        print(f"{engine_name}: measuring…", flush=True)
        figures.append(measure(engine_name, args.events, args.single_events, args.verify_events))
    lines = report(figures, args)
    print("\n".join(lines))
    if not args.no_record:
        record(lines)


if __name__ == "__main__":
    main()
