"""``ntz visit …`` as a nurse at the terminal runs it: real processes, real exit codes.

The commands use the real clock, so the patient (synthetic, well monitored) is
dated up to the moment the test runs; the limits in minutes and hours are
tested through the API with a clock the tests set (tests/api/infusion_day).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.bootstrap import clinic_service, security_for
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient

SCREEN_NO = ["--neuro", "no", "--infection", "no", "--pregnant", "no", "--breastfeeding", "no"]


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    """A clinic on a new SQLite file (the engines are covered by the API and use-case tests)."""
    service = clinic_service(f"sqlite:///{tmp_path / 'clinic.sqlite3'}", upgrade=True)
    service.importer.one(synthesize_patient(1, 7, datetime.now(UTC), "routine-proceed", 1.0))
    yield service
    service.database.close()


@pytest.fixture
def ntz(clinic: Clinic, tmp_path: Path) -> object:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "natalizumab_cds.cli", "visit", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={"NTZ_DATABASE_URL": url, "NTZ_ENVIRONMENT": "test", "PATH": ""},
        )

    return run


def _opened(ntz: object) -> str:
    done = ntz("open", "p1")  # type: ignore[operator]
    assert done.returncode == 0, done.stderr
    found = re.match(r"(visit-[0-9a-f]{12})  Patient/p1  SCREENING  \(version 1\)", done.stdout)
    assert found, done.stdout
    return found.group(1)


def _prepared(ntz: object) -> str:
    visit = _opened(ntz)
    diluted = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    steps = [
        ("screen", visit, *SCREEN_NO, "--new-medicines", "no", "--by", "nurse.ana"),
        ("clear", visit, "--by", "dr.dara"),
        (
            "prepare",
            visit,
            "--lot",
            "LOT-SYN-001",
            "--expiry",
            "2099-12-31",
            "--dose",
            "300",
            "--diluent",
            "0.9% sodium chloride",
            "--volume",
            "100",
            "--diluted-at",
            diluted,
            "--prepared-by",
            "pharm.ben",
            "--checked-by",
            "pharm.chloe",
        ),
    ]
    for step in steps:
        done = ntz(*step)  # type: ignore[operator]
        assert done.returncode == 0, done.stderr
    return visit


def test_a_visit_is_opened_screened_cleared_and_prepared_from_the_terminal(ntz: object) -> None:
    visit = _prepared(ntz)

    shown = ntz("show", visit)  # type: ignore[operator]

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{visit}  Patient/p1  PREPARED  (version 4)"
    assert "by nurse.ana: no concerns" in lines[1]
    assert lines[2].endswith("by dr.dara: proceed")
    assert "lot LOT-SYN-001, 300 mg in 100 mL 0.9% sodium chloride" in lines[3]
    assert re.search(r"usable until .*; 7 h 4\d min at room temperature left", shown.stdout)
    assert lines[-1] == "  next: screening, clearance, preparation, storage-moves, start, cancel"


def test_a_refused_step_prints_the_rule_and_the_reason_and_exits_1(ntz: object) -> None:
    visit = _prepared(ntz)

    too_fast = ntz("start", visit, "--rate", "150", "--by", "nurse.ana")  # type: ignore[operator]
    shown = json.loads(ntz("show", visit, "--format", "json").stdout)  # type: ignore[operator]

    assert too_fast.returncode == 1
    assert too_fast.stdout == ""
    assert too_fast.stderr == (
        "refused (administration.too-fast): 150 mL/h runs 100 mL in under 60 minutes; "
        "the rate must be at most 100 mL/h\n"
    )
    assert (shown["state"], shown["version"]) == ("prepared", 4)


def test_an_infusion_ended_at_once_is_refused_as_too_fast(ntz: object) -> None:
    visit = _prepared(ntz)
    assert ntz("start", visit, "--rate", "100").returncode == 0  # type: ignore[operator]

    ended = ntz("end", visit)  # type: ignore[operator]

    assert ended.returncode == 1
    assert ended.stderr.startswith("refused (administration.too-fast): the infusion ran ")


def test_a_reaction_stops_the_infusion_and_the_patient_can_then_be_discharged(
    ntz: object, clinic: Clinic
) -> None:
    visit = _prepared(ntz)
    assert ntz("start", visit, "--rate", "100", "--by", "nurse.ana").returncode == 0  # type: ignore[operator]

    reacted = ntz(  # type: ignore[operator]
        "react",
        visit,
        "--symptom",
        "urticaria",
        "--symptom",
        "dyspnea",
        "--severity",
        "severe",
        "--treatment",
        "infusion stopped; cetirizine 10 mg; oxygen",
        "--by",
        "nurse.ana",
    )
    left = ntz("discharge", visit, "--by", "nurse.ana")  # type: ignore[operator]

    assert reacted.returncode == 0, reacted.stderr
    assert "STOPPED-FOR-REACTION" in reacted.stdout
    assert "REACTION" in reacted.stdout
    assert "urticaria, dyspnea (severe); treated with infusion stopped" in reacted.stdout
    assert left.returncode == 0, left.stderr
    assert "DISCHARGED" in left.stdout
    assert clinic.patients.assessment("p1", datetime.now(UTC)).decision.value == "discontinue"


def test_a_hold_at_clearance_lists_the_findings_behind_it(ntz: object) -> None:
    visit = _opened(ntz)
    screened = ntz(  # type: ignore[operator]
        "screen",
        visit,
        "--neuro",
        "yes",
        "--infection",
        "no",
        "--pregnant",
        "no",
        "--breastfeeding",
        "no",
        "--new-medicines",
        "no",
    )
    assert "new or worsening neurological symptoms" in screened.stdout

    cleared = ntz("clear", visit)  # type: ignore[operator]

    assert cleared.returncode == 1
    first, *findings = cleared.stderr.splitlines()
    assert first == (
        "refused (administration.requires-clearance): "
        "the assessment at clearance says hold: do not infuse today"
    )
    assert findings[0].startswith("  pml.suspected (hold): ")


def test_screening_answers_must_be_yes_or_no_and_unknown_visits_are_invalid(ntz: object) -> None:
    visit = _opened(ntz)

    vague = ntz(
        "screen",
        visit,
        "--neuro",
        "maybe",
        "--infection",
        "no",
        "--pregnant",
        "no",  # type: ignore[operator]
        "--breastfeeding",
        "no",
        "--new-medicines",
        "no",
    )
    missing = ntz("end", "visit-000000000000")  # type: ignore[operator]
    second = ntz("open", "p1")  # type: ignore[operator]

    assert vague.returncode == 2
    assert "'maybe' is not one of 'yes', 'no'" in vague.stderr
    assert missing.returncode == 2
    assert missing.stderr == "ntz: visit 'visit-000000000000' is not on file\n"
    assert second.returncode == 1
    assert second.stderr.startswith(
        f"refused (workflow.out-of-order): visit {visit} of this patient"
    )


def test_only_a_physician_account_named_by_by_takes_back_a_yes_to_neurological_symptoms(
    ntz: object, clinic: Clinic
) -> None:
    security = security_for(clinic, passwords=Passwords(TEST_COST))
    security.accounts.add(operator("tests"), "dr.dara", Role.PHYSICIAN, "a synthetic passphrase")
    visit = _opened(ntz)
    neuro_yes = ["--neuro", "yes", *SCREEN_NO[2:], "--new-medicines", "no"]
    neuro_no = [*SCREEN_NO, "--new-medicines", "no"]
    assert ntz("screen", visit, *neuro_yes, "--by", "nurse.ana").returncode == 0  # type: ignore[operator]

    by_nurse = ntz("screen", visit, *neuro_no, "--by", "nurse.ana")  # type: ignore[operator]
    by_nobody = ntz("screen", visit, *neuro_no)  # type: ignore[operator]
    by_physician = ntz("screen", visit, *neuro_no, "--by", "dr.dara")  # type: ignore[operator]

    assert by_nurse.returncode == by_nobody.returncode == 1
    assert by_nurse.stderr.startswith("refused (pml.suspected): the screening at ")
    assert "only a physician who has evaluated the patient" in by_nurse.stderr
    assert by_physician.returncode == 0, by_physician.stderr
    assert re.search(
        r"withdrawn neurological symptoms: yes \(asked .* by nurse.ana\), "
        r"answered no .* by dr.dara",
        by_physician.stdout,
    )


def test_new_medicines_are_reviewed_with_an_option_and_an_immunosuppressant_is_refused(
    ntz: object,
) -> None:
    visit = _opened(ntz)
    answers = [*SCREEN_NO, "--by", "nurse.ana", "--new-medicines"]
    assert ntz("screen", visit, *answers, "azathioprine 50 mg").returncode == 0  # type: ignore[operator]
    prohibited = ntz("clear", visit, "--medicines-reviewed")  # type: ignore[operator]
    assert ntz("screen", visit, *answers, "vitamin D").returncode == 0  # type: ignore[operator]
    unreviewed = ntz("clear", visit)  # type: ignore[operator]
    reviewed = ntz("clear", visit, "--medicines-reviewed", "--by", "dr.dara")  # type: ignore[operator]

    assert prohibited.returncode == unreviewed.returncode == 1
    assert prohibited.stderr.startswith(
        "refused (immunosuppression.concurrent): the screening names azathioprine "
        "(azathioprine, 1256): "
    )
    assert unreviewed.stderr.startswith("refused (administration.requires-clearance): ")
    assert reviewed.returncode == 0, reviewed.stderr
    assert "by dr.dara: proceed; new medicines reviewed" in reviewed.stdout
