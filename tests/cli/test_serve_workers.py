"""``ntz serve --workers 2``: several processes on one port, sharing the database.

A real server on a real SQLite file: it answers, the CDS Hooks replay cache
refuses a token already used whichever worker sees it again, and SIGTERM stops
every worker cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from tests.interop.cds_hooks.hooks import ANCHOR, an_order_sign
from tests.interop.cds_hooks.signing import ISSUER, EhrKeys
from tests.serving import free_port, healthy

SERVICE = "/cds-services/natalizumab-infusion-safety"


def test_two_workers_serve_one_port_and_share_the_replay_cache(tmp_path: Path) -> None:
    keys = EhrKeys()
    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks()))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NTZ_CDS_HOOKS_TRUSTED_ISSUERS": json.dumps({ISSUER: str(tmp_path / "jwks.json")}),
        "NTZ_CDS_HOOKS_AUDIENCE": base,
    }
    command = [sys.executable, "-m", "natalizumab_cds.cli", "serve", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--database-url", f"sqlite:///{tmp_path}/clinic.sqlite3"]
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        health = healthy(base, server)
        assert health.json()["database"] == {"reachable": True}

        record = [e["resource"] for e in synthesize_patient(0, 3, ANCHOR, years=1.0)["entry"]]
        body = json.dumps(an_order_sign(record))
        for _ in range(4):  # each call on a new connection: the workers take turns at random
            token = keys.token(base + SERVICE)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            first = httpx.post(base + SERVICE, content=body, headers=headers, timeout=30)
            again = httpx.post(base + SERVICE, content=body, headers=headers, timeout=30)
            assert first.status_code == 200, first.text
            assert again.status_code == 401
            assert "already used" in again.json()["detail"]
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0, log.read_text()
