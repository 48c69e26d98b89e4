"""``ntz export`` as a script runs it: real process, real exit codes, synthetic patients."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from tests.fhir_models import validate_r4_and_r4b

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
JSON = dict[str, Any]


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", "export", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )


def _decision(bundle: JSON) -> str:
    [guidance] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "GuidanceResponse"
    ]
    [decision] = [p for p in guidance["contained"][0]["parameter"] if p["name"] == "decision"]
    code: str = decision["valueCode"]
    return code


def _derived(bundle: JSON) -> list[JSON]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if any(t["code"] == "cds-derived" for t in e["resource"].get("meta", {}).get("tag", []))
    ]


@pytest.fixture(scope="module")
def liver_patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "liver.json"
    path.write_bytes(orjson.dumps(synthesize_patient(0, 5, AT, "liver-elevated")))
    return path


def test_exports_a_bundle_file_as_a_valid_fhir_bundle_on_stdout(liver_patient: Path) -> None:
    done = _run("--bundle", str(liver_patient), "--at", "2026-11-24T09:00:00Z")
    assert done.returncode == 0, done.stderr.decode()
    bundle = orjson.loads(done.stdout)
    validate_r4_and_r4b(bundle)
    assert _decision(bundle) == "hold"


def test_writes_the_bundle_to_the_out_file_and_nothing_to_stdout(
    liver_patient: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    done = _run("--bundle", str(liver_patient), "--at", "2026-11-24T09:00", "--output", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    assert _decision(orjson.loads(out.read_bytes())) == "hold"


def test_reads_the_bundle_from_standard_input(liver_patient: Path) -> None:
    done = _run("--bundle", "-", "--at", "2026-11-24T09:00:00Z", stdin=liver_patient.read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert _decision(orjson.loads(done.stdout)) == "hold"


@pytest.mark.parametrize(
    "args",
    [(), ("p0", "--bundle", "x.json")],
    ids=["neither", "both"],
)
def test_needs_exactly_one_of_a_patient_id_and_a_bundle(args: tuple[str, ...]) -> None:
    done = _run(*args)
    assert done.returncode == 2
    assert b"exactly one" in done.stderr
    assert b"Traceback" not in done.stderr


def test_an_invalid_bundle_exits_2_with_one_paragraph_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"resourceType": "Bundle", "type": "collection", "entry": []}')
    done = _run("--bundle", str(path))
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "ntz: Bundle: expected exactly one Patient, found 0"


@pytest.fixture(scope="module")
def clinic_database(tmp_path_factory: pytest.TempPathFactory, liver_patient: Path) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('clinic') / 'ntz.sqlite3'}"
    clinic = clinic_service(url, upgrade=True)
    clinic.importer.one(liver_patient.read_bytes())
    return url


def test_exports_a_patient_from_the_clinic_database_as_the_file_would_give(
    clinic_database: str, liver_patient: Path
) -> None:
    at = "2026-11-24T09:00:00Z"
    done = _run("p0", "--at", at, "--database-url", clinic_database)
    assert done.returncode == 0, done.stderr.decode()
    from_database = orjson.loads(done.stdout)
    validate_r4_and_r4b(from_database)
    from_file = orjson.loads(_run("--bundle", str(liver_patient), "--at", at).stdout)
    assert _derived(from_database) == _derived(from_file)
    assert len(from_database["entry"]) == len(from_file["entry"])


def test_an_unknown_patient_exits_2_naming_it(clinic_database: str) -> None:
    done = _run("nobody", "--database-url", clinic_database)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "ntz: patient 'nobody' is not on file"


def test_an_export_from_the_database_is_in_the_audit_trail(clinic_database: str) -> None:
    exported = _run("p0", "--database-url", clinic_database)
    assert exported.returncode == 0, exported.stderr.decode()
    audit = ("audit", "export", "--format", "ndjson", "--patient", "p0")
    trail = subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", *audit, "--database-url", clinic_database],
        capture_output=True,
        check=True,
        timeout=120,
    )
    events = [orjson.loads(line) for line in trail.stdout.splitlines()]
    actions = [coding["code"] for event in events for coding in event.get("subtype", [])]
    assert "export-fhir" in actions
