"""Render time of the clinician web pages, in process, beside a trivial page.

Run: .venv/bin/python benchmarks/pages.py [--patients 5000] [--requests 50]

Two SQLite clinics, both filled through the import use case with synthetic
bundles (all data synthetic):

- the patient page ``/patients/p0`` of a patient with ten years of history
  (``ten_year_patient``: about 130 infusions and 600 results), alone in its clinic;
- the worklist ``/`` of a clinic of ``--patients`` patients (``synthesize``).

Each page is requested ``--requests`` times by a signed-in physician through
the whole app (``create_web_app``: sign-in, audit, security headers) with
Starlette's in-process test client, after two warm-up requests; p50 and p95 are
reported beside the sign-in page (no database, a trivial template). Goal: p95
under 300 ms. Figures go to stdout and to BENCHMARKS.md under "Web pages".
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from benchmarks_file import replace_section
from fastapi.testclient import TestClient

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Action, Role, operator
from natalizumab_cds.bootstrap import as_operator, clinic_service, security_for
from natalizumab_cds.interop.fhir.synthetic import synthesize, ten_year_patient
from natalizumab_cds.web.app import create_web_app

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HEADING = "## Web pages"
PASSWORD = "a long synthetic benchmark passphrase"
GOAL_MS = 300.0


class FixedClock:
    def now(self) -> datetime:
        return NOW


def filled_clinic(folder: Path, name: str, bundles: list[dict[str, object]]) -> Clinic:
    clinic = clinic_service(f"sqlite:///{folder / name}", clock=FixedClock(), upgrade=True)
    importer = as_operator(clinic, Action.IMPORT_RECORDS).importer
    report = importer.many((f"bundle {i}", orjson.dumps(b)) for i, b in enumerate(bundles))
    assert not report.failures, report.failures[:3]
    return clinic


def signed_in_client(clinic: Clinic) -> TestClient:
    security = security_for(clinic, passwords=Passwords(TEST_COST))
    security.accounts.add(operator("benchmark"), "bench-physician", Role.PHYSICIAN, PASSWORD)
    client = TestClient(create_web_app(clinic, security=security), base_url="http://bench.test")
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    data = {"username": "bench-physician", "password": PASSWORD, "csrf_token": token.group(1)}
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def timed(client: TestClient, path: str, requests: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, response bytes) over ``requests`` GETs after two warm-ups."""
    for _ in range(2):
        assert client.get(path).status_code == 200
    times, size = [], 0
    for _ in range(requests):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text[:200]
        size = len(answer.content)
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        history = filled_clinic(Path(folder), "ten-years.sqlite3", [ten_year_patient(3, NOW)])
        clinic = filled_clinic(
            Path(folder), "clinic.sqlite3", list(synthesize(args.patients, 5, NOW))
        )
        print(f"imported in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        rows = []
        with signed_in_client(history) as client:
            rows.append(
                ("sign-in page (trivial)", "/login", *timed(client, "/login", args.requests))
            )
            rows.append(
                (
                    "patient page, 10 years",
                    "/patients/p0",
                    *timed(client, "/patients/p0", args.requests),
                )
            )
        with signed_in_client(clinic) as client:
            label = f"worklist, {args.patients:,} patients"
            rows.append((label, "/", *timed(client, "/", args.requests)))
            rows.append(
                (f"{label}, search", "/?q=MRN00012", *timed(client, "/?q=MRN00012", args.requests))
            )
        history.database.close()
        clinic.database.close()
    report(rows, args)


def report(rows: list[tuple[str, str, float, float, int]], args: argparse.Namespace) -> None:
    lines = [
        HEADING,
        "",
        f"`benchmarks/pages.py` on {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite, {date.today().isoformat()}: {args.requests} requests per page by a signed-in "
        "physician through the whole app in process (sign-in check, audit record, security "
        "headers, template), after two warm-ups. Both clinics were filled through the import "
        f"use case. Goal: p95 under {GOAL_MS:.0f} ms.",
        "",
        "| page | path | p50 | p95 | size | goal |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, path, p50, p95, size in rows:
        verdict = "met" if p95 < GOAL_MS else "missed"
        kib = size / 1024
        lines.append(
            f"| {name} | `{path}` | {p50:.1f} ms | {p95:.1f} ms | {kib:.0f} KiB | {verdict} |"
        )
    section = "\n".join(lines)
    print(section)
    replace_section(HEADING, section)


if __name__ == "__main__":
    main()
