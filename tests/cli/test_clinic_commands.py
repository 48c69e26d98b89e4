"""``ntz db upgrade``, ``ntz import``, ``ntz worklist``, ``ntz refresh`` and ``ntz serve --demo``.

Real processes, real exit codes, a real SQLite file; all patients are synthetic.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from tests.serving import free_port, healthy


def _ntz(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def _bundles(folder: Path, scenarios: list[str]) -> None:
    now = datetime.now(UTC)
    for index, scenario in enumerate(scenarios):
        bundle = synthesize_patient(index, 3, now, scenario=scenario, years=1.0)
        (folder / f"patient-{index}.json").write_bytes(orjson.dumps(bundle))


def test_db_upgrade_makes_a_new_database_ready_and_can_run_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/var/clinic.sqlite3"

    first, second = (
        _ntz("db", "upgrade", "--database-url", url),
        _ntz("db", "upgrade", "--database-url", url),
    )

    assert (first.returncode, second.returncode) == (0, 0), first.stderr
    assert "up to date" in second.stdout
    assert (tmp_path / "var" / "clinic.sqlite3").exists()


def test_import_stores_the_bundles_and_names_the_one_it_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    _bundles(folder, ["routine-proceed", "liver-elevated"])
    (folder / "broken.json").write_text(
        '{"resourceType": "Bundle", "type": "collection", "entry": ['
    )
    url = f"sqlite:///{tmp_path}/clinic.sqlite3"

    result = _ntz("import", str(folder), "--database-url", url)

    assert result.returncode == 2
    assert "imported 2 of 3 bundle(s): 2 patient(s)" in result.stdout
    assert "broken.json: left out: body: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_worklist_prints_the_holds_and_refresh_reassesses_nobody_twice(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    _bundles(folder, ["routine-proceed", "liver-elevated", "antibody-persistent"])
    url = f"sqlite:///{tmp_path}/clinic.sqlite3"
    assert _ntz("import", str(folder), "--database-url", url).returncode == 0

    holds = _ntz("worklist", "--decision", "hold", "--kind", "decision", "--database-url", url)
    refreshed = _ntz("refresh", "--database-url", url)

    assert holds.returncode == 0, holds.stderr
    assert "hold" in holds.stdout
    assert "liver.elevated" in holds.stdout
    assert "discontinue" not in holds.stdout
    assert refreshed.stdout.strip() == "refreshed 0 patient summaries"


def test_serve_demo_starts_the_api_on_a_synthetic_clinic_of_300_patients(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.sqlite3"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "natalizumab_cds.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--database-url",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = healthy(f"http://127.0.0.1:{port}", server)
        assert health.json()["database"] == {"reachable": True}
    finally:
        server.terminate()
        server.wait(timeout=30)
    clinic = clinic_service(url)
    try:
        assert clinic.patients.search(None, 1, 1).total == 300
        assert clinic.worklist.entries(kinds=["decision"], size=0).items
    finally:
        clinic.database.close()


def test_db_backup_writes_a_checked_copy_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    _bundles(folder, ["routine-proceed", "liver-elevated"])
    url = f"sqlite:///{tmp_path}/clinic.sqlite3"
    assert _ntz("import", str(folder), "--database-url", url).returncode == 0
    copy = tmp_path / "backups" / "clinic-monday.sqlite3"
    copy.parent.mkdir()

    first = _ntz("db", "backup", str(copy), "--database-url", url)
    again = _ntz("db", "backup", str(copy), "--database-url", url)

    assert first.returncode == 0, first.stderr
    assert "2 patients" in first.stdout
    assert "integrity check ok" in first.stdout
    worklist = _ntz("worklist", "--days", "30", "--database-url", f"sqlite:///{copy}")
    assert worklist.returncode == 0, worklist.stderr
    assert "liver.elevated" in worklist.stdout  # the copy opens as the clinic it was
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr
