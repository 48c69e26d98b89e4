"""``ntz mllp`` and ``ntz hl7`` as an operator runs them: real processes, a real socket.

The patient and the messages are synthetic.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.interop.hl7v2.mllp import send
from tests.clinic_db import a_patient
from tests.interop.hl7v2.messages import an_oru

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "NTZ_ENVIRONMENT": "test"}


def _ntz(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=ENV,
    )


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    clinic = clinic_service(url, upgrade=True)
    clinic.importer.one(a_patient(1))
    clinic.database.close()
    return url


def _start(database_url: str, *options: str) -> tuple[subprocess.Popen[str], int]:
    command = ["mllp", "--port", "0", "--database-url", database_url, *options]
    process = subprocess.Popen(
        [sys.executable, "-m", "natalizumab_cds.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"MLLP listener on 127\.0\.0\.1:(\d+)", first)
    assert found, first + (process.stderr.read() if process.stderr else "")
    return process, int(found[1])


@pytest.fixture
def listener(database_url: str) -> Iterator[int]:
    process, port = _start(database_url)
    yield port
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert "MLLP listener stopped" in out
    assert process.returncode == 0


def test_the_listener_acknowledges_and_the_operator_resolves_what_it_kept(
    listener: int, database_url: str
) -> None:
    accepted = send("127.0.0.1", listener, an_oru("SYN-CLI-1"))
    kept = send("127.0.0.1", listener, an_oru("SYN-CLI-2", mrn="MRN0000404"))

    assert b"MSA|AA|SYN-CLI-1" in accepted
    assert b"MSA|AE|SYN-CLI-2" in kept
    listed = _ntz("hl7", "dead-letters", "list", "--database-url", database_url)
    assert listed.returncode == 0, listed.stderr
    assert "SYN-CLI-2" in listed.stdout
    assert "MRN0000404" in listed.stdout
    letter_id = listed.stdout.split()[0]
    shown = _ntz("hl7", "dead-letters", "show", letter_id, "--database-url", database_url)
    assert "PID|1||MRN0000404" in shown.stdout
    retried = _ntz("hl7", "dead-letters", "retry", letter_id, "--database-url", database_url)
    assert f"{letter_id}: AE" in retried.stdout
    refused = _ntz(
        "hl7", "dead-letters", "discard", letter_id, "--reason", " ", "--database-url", database_url
    )
    assert refused.returncode == 2
    assert "say why" in refused.stderr
    discarded = _ntz(
        "hl7", "dead-letters", "discard", letter_id,
        "--reason", "synthetic patient never registered", "--database-url", database_url,
    )  # fmt: skip
    assert discarded.returncode == 0, discarded.stderr
    after = _ntz("hl7", "dead-letters", "list", "--database-url", database_url)
    assert "no dead letters" in after.stdout


def test_ntz_hl7_send_prints_the_ack_of_each_file(listener: int, tmp_path: Path) -> None:
    message = tmp_path / "message.hl7"
    message.write_bytes(an_oru("SYN-CLI-SEND").replace(b"\r", b"\n"))

    sent = _ntz("hl7", "send", str(message), "--host", "127.0.0.1", "--port", str(listener))

    assert sent.returncode == 0, sent.stderr
    assert "MSA|AA|SYN-CLI-SEND" in sent.stdout


def _summary_current(database_url: str, patient_id: str) -> bool:
    clinic = clinic_service(database_url)
    try:
        with clinic.database.reading() as uow:
            summary = uow.summaries.summary(patient_id)
            version = uow.records.versions([patient_id])[patient_id]
    finally:
        clinic.database.close()
    return summary is not None and summary.record_version == version


def test_two_listener_processes_share_the_port_and_the_summaries_catch_up(
    database_url: str,
) -> None:
    process, port = _start(database_url, "--workers", "2")
    try:
        listeners = _children(process.pid)
        assert len(listeners) == 2
        with ThreadPoolExecutor(12) as pool:
            acks = list(
                pool.map(lambda n: send("127.0.0.1", port, an_oru(f"SYN-W-{n}")), range(12))
            )
        assert all(b"MSA|AA|SYN-W-" in ack for ack in acks)
        deadline = time.monotonic() + 30
        while not _summary_current(database_url, "p1"):  # rebuilt by the parent, unasked
            assert time.monotonic() < deadline, "the summary was never rebuilt"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert "MLLP listener stopped" in out
    assert process.returncode == 0
    assert not any(_alive(pid) for pid in listeners)


def test_a_listener_process_that_dies_stops_the_service_with_status_1(
    database_url: str,
) -> None:
    process, _port = _start(database_url, "--workers", "2")
    first, second = _children(process.pid)

    os.kill(first, signal.SIGKILL)

    process.communicate(timeout=30)
    assert process.returncode == 1  # for the service manager to restart it
    assert not _alive(second)


def _children(pid: int) -> list[int]:
    """The listener processes: the parent's children running Python (not its tracker)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    children = [int(child) for child in found.stdout.split()]
    return [c for c in children if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
