"""``ntz assess`` as a clinician or a script runs it: real process, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from natalizumab_cds.cli.text_report import render_text
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from natalizumab_cds.library import assess_bundle

LOINC = "http://loinc.org"


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _lab(ident: str, code: str, value: float, when: str, high: float = 40.0) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": "U/L",
            "system": "http://unitsofmeasure.org",
            "code": "U/L",
        },
        "referenceRange": [{"high": {"value": high, "unit": "U/L"}}],
    }


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-05-01"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }


@pytest.fixture
def held_patient(tmp_path: Path) -> Path:
    path = tmp_path / "held.json"
    bundle = _bundle(
        _lab("alt-1", "1742-6", 150, "2026-11-01T08:00:00+00:00"),
        _lab("ast-1", "1920-8", 30, "2026-11-01T08:00:00+00:00"),
    )
    path.write_text(json.dumps(bundle))
    return path


def test_prints_one_json_object_with_the_documented_keys_and_a_hold(held_patient: Path) -> None:
    done = _run("assess", str(held_patient), "--at", "2026-11-24T09:00:00Z")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == ["patient", "at", "protocol", "decision", "findings", "monitoring"]
    assert result["patient"] == "Patient/p1"
    assert result["at"] == "2026-11-24T09:00:00+00:00"
    assert result["protocol"]["name"] == "natalizumab-institutional"
    assert result["decision"] == "hold"
    liver = next(f for f in result["findings"] if f["rule"] == "liver.elevated")
    assert liver["summary"] == "ALT 150 U/L on 2026-11-01 is 3.8 × ULN (40 U/L)"
    assert liver["evidence"] == ["Observation/alt-1"]
    assert liver["severity"] == "critical"
    assert {m["item"] for m in result["monitoring"]} == {
        "liver",
        "blood",
        "thyroid",
        "antibody",
        "mri",
        "edss",
        "infusion",
    }


def test_an_at_without_offset_is_read_as_utc(held_patient: Path) -> None:
    done = _run("assess", str(held_patient), "--at", "2026-11-24T09:00:00")
    assert json.loads(done.stdout)["at"] == "2026-11-24T09:00:00+00:00"


def test_text_format_puts_the_decision_first_then_findings_then_schedule(
    held_patient: Path,
) -> None:
    done = _run("assess", str(held_patient), "--at", "2026-11-24T09:00:00Z", "--format", "text")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("DECISION: HOLD")
    text = done.stdout
    assert text.index("liver.elevated") < text.index("Monitoring schedule:")


def test_reads_the_bundle_from_standard_input(held_patient: Path) -> None:
    done = _run("assess", "-", "--at", "2026-11-24T09:00:00Z", stdin=held_patient.read_bytes())
    assert json.loads(done.stdout)["decision"] == "hold"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"{not json", "Bundle"),
        (b'{"resourceType": "Patient", "id": "p1"}', "Bundle"),
        (
            json.dumps(_bundle(_lab("alt-9", "1742-6", 150, "2026-02-30T08:00:00+00:00"))).encode(),
            "Observation/alt-9",
        ),
        (
            json.dumps(
                _bundle(
                    {
                        **_lab("alt-8", "1742-6", 0, "2026-11-01T08:00:00+00:00"),
                        "valueQuantity": {"value": "high", "unit": "U/L"},
                    }
                )
            ).encode(),
            "Observation/alt-8",
        ),
        (
            json.dumps(
                _bundle(
                    {
                        **_lab("alt-7", "1742-6", 0, "2026-11-01T08:00:00+00:00"),
                        "valueQuantity": {"value": 50, "unit": "mg", "code": "mg"},
                    }
                )
            ).encode(),
            "Observation/alt-7",
        ),
    ],
    ids=["not-json", "not-a-bundle", "impossible-date", "wrong-value-type", "unknown-unit"],
)
def test_invalid_input_exits_2_with_a_message_naming_the_resource(
    tmp_path: Path, content: bytes, named: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    done = _run("assess", str(path), "--at", "2026-11-24T09:00:00Z")
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_missing_file_and_a_bad_at_exit_2_without_traceback(held_patient: Path) -> None:
    missing = _run("assess", "/nonexistent/bundle.json")
    bad_at = _run("assess", str(held_patient), "--at", "yesterday")
    assert (missing.returncode, bad_at.returncode) == (2, 2)
    assert "cannot be read" in missing.stderr
    assert "--at" in bad_at.stderr
    assert "Traceback" not in missing.stderr + bad_at.stderr


def test_synth_writes_the_same_bundles_for_the_same_seed(tmp_path: Path) -> None:
    for out in ("a", "b"):
        done = _run(
            "synth",
            "--patients",
            "3",
            "--seed",
            "7",
            "--out",
            str(tmp_path / out),
            "--anchor",
            "2026-11-24T09:00:00Z",
        )
        assert done.returncode == 0, done.stderr
    first = sorted((tmp_path / "a").iterdir())
    assert len(first) == 3
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
    assessed = _run("assess", str(first[0]), "--at", "2026-11-24T09:00:00Z")
    assert assessed.returncode == 0, assessed.stderr


def test_text_format_badges_an_effect_none_warning_as_a_warning() -> None:
    """MRI activity does not stop the infusion but is a warning: never printed as NONE."""
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    assessment = assess_bundle(synthesize_patient(3, 1, at, "mri-activity"), at)
    lines = render_text(assessment).splitlines()
    assert "  [WARNING    ] mri.activity" in lines
    assert not any(line.startswith("  [NONE") for line in lines)
