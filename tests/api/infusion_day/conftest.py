"""The infusion-day API served for real, called by a nurse, a pharmacist and a physician.

Each clinician calls with their own API token, so the API knows who takes
each step. Runs on SQLite and PostgreSQL (``clinic`` from tests/api/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import security_for
from tests.interop.cds_hooks.servers import LiveApp

#: Every account's password (the second person of a double check types it).
PASSWORD = "a long synthetic passphrase"
STAFF = {
    "nurse": ("nurse.ana", Role.NURSE),
    "second_nurse": ("nurse.bo", Role.NURSE),
    "pharmacist": ("pharm.ben", Role.PHARMACIST),
    "physician": ("dr.dara", Role.PHYSICIAN),
    "reader": ("audit.ro", Role.READ_ONLY),
}


@dataclass(frozen=True)
class Team:
    nurse: httpx.Client
    second_nurse: httpx.Client
    pharmacist: httpx.Client
    physician: httpx.Client
    reader: httpx.Client


def _token(security: Security, username: str, role: Role) -> str:
    admin = operator()
    security.accounts.add(admin, username, role, PASSWORD)
    return security.accounts.create_token(admin, username, "infusion-day tests").secret


@pytest.fixture
def team(clinic: Clinic) -> Iterator[Team]:
    security = security_for(
        clinic, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
    )
    tokens = {key: _token(security, *who) for key, who in STAFF.items()}
    app = create_app(clinic, security=security)
    with LiveApp(app) as server:
        clients = {
            key: httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            for key, token in tokens.items()
        }
        try:
            yield Team(**clients)
        finally:
            for client in clients.values():
                client.close()
