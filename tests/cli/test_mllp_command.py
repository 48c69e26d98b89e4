"""``ntz mllp`` and ``ntz hl7`` as an operator runs them: real processes, a real socket.

The patient and the messages are synthetic.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
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


@pytest.fixture
def listener(database_url: str) -> Iterator[int]:
    command = ["mllp", "--port", "0", "--database-url", database_url]
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
    yield int(found[1])
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert "MLLP listener stopped" in out


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
