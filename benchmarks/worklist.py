"""Clinic worklist and FHIR import speed, on SQLite and PostgreSQL, beside bare SQL.

Run: .venv/bin/python benchmarks/worklist.py [--sizes 1000,10000,100000] [--import-patients 200]

Worklist: for each clinic size, the summary rows (patients, patient_summaries,
monitoring_dues) are INSERTED DIRECTLY with a seeded generator (assessing
100,000 records first would take minutes and measures the import, not the
worklist). Then the full worklist (every row, through the use case, mapped to
values) is timed beside a bare SQL read of the same rows (one driver-level
SELECT ... UNION ALL, fetchall, no sorting, no mapping). Goals: >= 10,000
patients/s per core and within 3x the bare read.

Import: synthetic FHIR bundles (as bytes, like files) through the import use
case - parse, split by patient, hash, read the timeline, assess, write - beside
a bare bulk insert of the same resource rows. Goal: >= 5,000 resources/s.

PostgreSQL runs when NTZ_TEST_PG_URL (default postgres@127.0.0.1:5432) answers.
Figures go to stdout and to BENCHMARKS.md under "Worklist and import".
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from benchmarks_file import replace_section
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.domain.schedule import Item
from natalizumab_cds.interop.fhir.ingest import split_record
from natalizumab_cds.interop.fhir.synthetic import synthesize
from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.tables import (
    monitoring_dues,
    patient_summaries,
    patients,
    resources,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PG_URL = os.environ.get("NTZ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HEADING = "## Worklist and import"
DECISIONS = (("proceed", 74), ("caution", 9), ("hold", 14), ("discontinue", 3))
INTERVAL_DAYS = {"liver": 91, "blood": 91, "thyroid": 182, "antibody": 84, "mri": 365, "edss": 182}
BATCH = 20_000


class FixedClock:
    def now(self) -> datetime:
        return NOW


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(_libpq(PG_URL), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def fresh_database(engine_name: str, folder: Path) -> Iterator[str]:
    """A new, migrated database; dropped (PostgreSQL) or left in ``folder`` (SQLite)."""
    if engine_name == "sqlite":
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
    else:
        name = f"ntz_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if engine_name != "sqlite":
            with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def summary_rows(count: int, seed: int = 1) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """Patients, summaries and items due for ``count`` synthetic patients, in batches."""
    rng = random.Random(seed)
    words = [word for word, weight in DECISIONS for _ in range(weight)]
    for start in range(0, count, BATCH):
        people, summaries, dues = [], [], []
        for index in range(start, min(count, start + BATCH)):
            pid = f"p{index}"
            name = f"Synthetic Patient {index}"
            people.append(
                {
                    "id": pid,
                    "mrn": f"MRN{index:07d}",
                    "name": name,
                    "name_key": name.casefold(),
                    "birth_date": date(1960 + index % 40, 1 + index % 12, 1 + index % 28),
                    "version": 1,
                }
            )
            decision = rng.choice(words)
            summaries.append(
                {
                    "patient_id": pid,
                    "record_version": 1,
                    "assessed_at": NOW,
                    "assessed_on": TODAY,
                    "protocol_version": "bench",
                    "decision": decision,
                    "attention": "liver.elevated" if decision == "hold" else "",
                    "acknowledged": "",
                    "problem": None,
                }
            )
            for item in Item:
                interval = INTERVAL_DAYS.get(item.value, 28)
                last = TODAY - timedelta(days=rng.randint(0, interval + 20))
                dues.append(
                    {
                        "patient_id": pid,
                        "item": item.value,
                        "last_done": last,
                        "due": last + timedelta(days=interval),
                    }
                )
        yield people, summaries, dues


def load_summaries(url: str, count: int) -> None:
    engine = database_engine(url)
    with engine.begin() as connection:
        for people, summaries, dues in summary_rows(count):
            connection.execute(insert(patients), people)
            connection.execute(insert(patient_summaries), summaries)
            connection.execute(insert(monitoring_dues), dues)
    engine.dispose()


BARE_WORKLIST = """
SELECT d.patient_id, 'infusion' AS kind, d.item, d.due, d.last_done, p.mrn, p.name,
       p.name_key, s.decision, s.attention, s.acknowledged, s.assessed_on
  FROM monitoring_dues d JOIN patients p ON p.id = d.patient_id
  JOIN patient_summaries s ON s.patient_id = d.patient_id
 WHERE d.item = 'infusion' AND d.due <= :window
UNION ALL
SELECT d.patient_id, 'monitoring', d.item, d.due, d.last_done, p.mrn, p.name,
       p.name_key, s.decision, s.attention, s.acknowledged, s.assessed_on
  FROM monitoring_dues d JOIN patients p ON p.id = d.patient_id
  JOIN patient_summaries s ON s.patient_id = d.patient_id
 WHERE d.item <> 'infusion' AND d.due <= :soon
UNION ALL
SELECT s.patient_id, 'decision', NULL, n.due, NULL, p.mrn, p.name,
       p.name_key, s.decision, s.attention, s.acknowledged, s.assessed_on
  FROM patient_summaries s JOIN patients p ON p.id = s.patient_id
  LEFT JOIN monitoring_dues n ON n.patient_id = s.patient_id AND n.item = 'infusion'
 WHERE s.decision IN ('hold', 'discontinue') OR s.decision IS NULL
 ORDER BY 4, 8, 1, 2, 3
"""


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Fastest of ``runs`` runs (least disturbed by other work on the machine), and its count."""
    times, counted = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        counted = work()
        times.append(time.perf_counter() - start)
    return min(times), counted


def time_worklist(url: str, runs: int) -> dict[str, float]:
    clinic = clinic_service(url, clock=FixedClock())
    engine = database_engine(url)
    soon = TODAY + timedelta(days=14)
    window = TODAY + timedelta(days=6)
    params = {"window": window, "soon": soon}
    is_pg = url.startswith("postgresql")
    sql = BARE_WORKLIST.replace(":window", "%(window)s" if is_pg else ":window").replace(
        ":soon", "%(soon)s" if is_pg else ":soon"
    )

    def bare() -> int:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if is_pg:  # the same session settings the worklist query uses
                cursor.execute("SET work_mem = '64MB'")
                cursor.execute("SET jit = off")
            cursor.execute(sql, params)
            return len(cursor.fetchall())
        finally:
            raw.close()

    def full() -> int:
        return len(clinic.worklist.entries(size=0).items)

    def first_page() -> int:
        return len(clinic.worklist.entries(size=50).items)

    bare()  # warm the caches alike
    full()
    bare_s, bare_rows = best_of(runs, bare)
    full_s, rows = best_of(runs, full)
    page_s, _ = best_of(runs, first_page)
    clinic.database.close()
    engine.dispose()
    return {"bare": bare_s, "full": full_s, "page": page_s, "rows": rows, "bare_rows": bare_rows}


def import_blobs(count: int) -> list[bytes]:
    return [orjson.dumps(bundle) for bundle in synthesize(count, 11, NOW)]


def time_import(url: str, blobs: list[bytes]) -> float:
    clinic: Clinic = clinic_service(url, clock=FixedClock())
    start = time.perf_counter()
    report = clinic.importer.many((f"bundle {i}", blob) for i, blob in enumerate(blobs))
    elapsed = time.perf_counter() - start
    clinic.database.close()
    assert not report.failures, report.failures[:3]
    return elapsed


def time_bare_insert(url: str, blobs: list[bytes]) -> float:
    """Insert the same patient and resource rows with executemany, nothing else."""
    rows_people, rows_resources = [], []
    for blob in blobs:
        for record in split_record(blob):
            rows_people.append(
                {
                    "id": record.patient_id,
                    "mrn": None,
                    "name": "",
                    "name_key": "",
                    "birth_date": None,
                    "version": 1,
                }
            )
            for res in record.resources:
                rows_resources.append(
                    {
                        "resource_type": res.resource_type,
                        "resource_id": res.resource_id,
                        "patient_id": record.patient_id,
                        "version": 1,
                        "last_updated": NOW,
                        "occurred_at": res.occurred_at,
                        "content_hash": res.content_hash,
                        "content": res.content,
                    }
                )
    engine = database_engine(url)
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(patients), rows_people)
        for offset in range(0, len(rows_resources), 5000):
            connection.execute(insert(resources), rows_resources[offset : offset + 5000])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def write_section(lines: list[str], path: Path) -> None:
    """Replace (or add) the "Worklist and import" section, leaving the others alone."""
    replace_section(HEADING, "\n".join([HEADING, "", *lines]), path)


WORKLIST_HEADER = (
    "| engine | patients | worklist rows | full worklist | patients/s "
    "| bare SQL read | ratio | first page (50) |"
)
IMPORT_HEADER = (
    "| engine | import use case | resources/s | bare bulk insert | resources/s | ratio |"
)


def worklist_figures(engines: list[str], sizes: list[int], runs: int, folder: Path) -> list[str]:
    lines = [WORKLIST_HEADER, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for engine_name in engines:
        for size in sizes:
            with fresh_database(engine_name, folder) as url:
                load_summaries(url, size)
                t = time_worklist(url, runs)
            row = (
                f"| {engine_name} | {size:,} | {int(t['rows']):,} | {t['full'] * 1000:.0f} ms "
                f"| {size / t['full']:,.0f} | {t['bare'] * 1000:.0f} ms "
                f"| {t['full'] / t['bare']:.2f}x | {t['page'] * 1000:.1f} ms |"
            )
            print(row, flush=True)
            lines.append(row)
    return lines


def import_figures(engines: list[str], patients: int, folder: Path) -> list[str]:
    blobs = import_blobs(patients)
    count = sum(len(r.resources) for blob in blobs for r in split_record(blob))
    lines = [
        f"Import of {patients} synthetic bundles ({count:,} resources), one run each:",
        "",
        IMPORT_HEADER,
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine_name in engines:
        with fresh_database(engine_name, folder) as url:
            full = time_import(url, blobs)
        with fresh_database(engine_name, folder) as url:
            bare = time_bare_insert(url, blobs)
        row = (
            f"| {engine_name} | {full:.2f} s | {count / full:,.0f} | {bare:.2f} s "
            f"| {count / bare:,.0f} | {full / bare:.1f}x |"
        )
        print(row, flush=True)
        lines.append(row)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--import-patients", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "BENCHMARKS.md")
    args = parser.parse_args()
    engines = ["sqlite"] + (["postgresql"] if _pg_reachable() else [])
    lines = [
        f"`benchmarks/worklist.py` on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, {datetime.now(UTC):%Y-%m-%d}; "
        f"engines: {', '.join(engines)}. Worklist: fastest of {args.runs} runs; "
        "the summary rows were inserted directly (not through the import).",
        "",
    ]
    print(lines[0])
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sizes = [int(s) for s in args.sizes.split(",")]
        lines += worklist_figures(engines, sizes, args.runs, folder)
        lines.append("")
        lines += import_figures(engines, args.import_patients, folder)
    write_section(lines, args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
