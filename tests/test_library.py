"""natalizumab-cds as a Python library: what a developer's own code gets from it.

Synthetic patients only. The JSON is compared with what ``ntz assess`` prints
for the same bundle in a real process, so the library and the CLI cannot drift.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from natalizumab_cds.library import (
    Decision,
    InvalidInput,
    assess_bundle,
    assess_next_infusion,
    synthesize_patient,
    to_json,
)

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_a_bundle_is_assessed_with_its_decision_findings_and_schedule() -> None:
    bundle = synthesize_patient(3, 11, AT, "liver-elevated")

    assessment = assess_bundle(bundle, at=AT, tz=UTC)

    assert assessment.decision is Decision.HOLD
    liver = next(f for f in assessment.findings if f.rule == "liver.elevated")
    assert liver.evidence  # the results it rests on
    assert liver.basis
    assert {e.item.value for e in assessment.monitoring} >= {"liver", "blood", "infusion"}
    assert assess_bundle(orjson.dumps(bundle), at=AT, tz=UTC) == assessment  # bytes work alike


def test_the_json_is_what_ntz_assess_prints(tmp_path: Path) -> None:
    bundle = synthesize_patient(4, 11, AT, "pregnant")
    path = tmp_path / "patient.json"
    path.write_bytes(orjson.dumps(bundle))
    printed = subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", "assess", str(path), "--at", AT.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"NTZ_TZ": "UTC", "NTZ_SETTINGS_FILE": "/nonexistent", "PATH": ""},
    )

    assert to_json(assess_bundle(bundle, at=AT, tz=UTC)) == json.loads(printed.stdout)


def test_a_moment_without_a_time_zone_is_refused_not_guessed() -> None:
    bundle = synthesize_patient(5, 11, AT)
    with pytest.raises(InvalidInput, match="at: 2026-11-24T09:00:00 has no time zone"):
        assess_bundle(bundle, at=AT.replace(tzinfo=None))


def test_invalid_input_names_the_resource_and_field() -> None:
    bundle = synthesize_patient(6, 11, AT)
    lab = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and "valueQuantity" in e["resource"]
    )
    lab["valueQuantity"]["value"] = "high"
    with pytest.raises(InvalidInput, match=f"Observation/{lab['id']}: valueQuantity.value"):
        assess_bundle(bundle, at=AT)


def test_between_infusions_the_next_one_is_assessed_on_its_due_date() -> None:
    # a routine patient whose next infusion is due in 18 days: infused 10 days ago
    bundle = synthesize_patient(7, 11, AT + timedelta(days=18), "routine-proceed")

    now = assess_bundle(bundle, at=AT, tz=UTC)
    ahead = assess_next_infusion(bundle, at=AT, tz=UTC)

    assert now.decision is Decision.HOLD  # too soon for an infusion today
    assert ahead.decision is Decision.PROCEED
    assert ahead.at == AT + timedelta(days=18)
