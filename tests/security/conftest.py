"""People-and-trust tests run on SQLite and on PostgreSQL (see tests/clinic_db.py).

``security`` uses cheap argon2id parameters; ``app`` is the whole API in
process; ``sign_up`` makes an account of any role, ``token_for`` an API token
for it. All patients are synthetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest
from fastapi import FastAPI

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Action, Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import as_operator, security_for
from tests.clinic_db import a_patient, clinic, clock, database_url, empty_database_url
from tests.security.in_process import InProcessClient

__all__ = ["clinic", "clock", "database_url", "empty_database_url"]

PASSWORD = "correct horse battery staple"
ADMIN = operator("test-operator")


@pytest.fixture
def security(clinic: Clinic) -> Security:
    return security_for(clinic, passwords=Passwords(TEST_COST))


@pytest.fixture
def app(clinic: Clinic, security: Security) -> FastAPI:
    return create_app(clinic, security=security)


@pytest.fixture
def client(app: FastAPI) -> Iterator[InProcessClient]:
    """A browser-like client with no credentials yet."""
    with InProcessClient(app) as in_process:
        yield in_process


@pytest.fixture
def sign_up(security: Security) -> Callable[[str, Role], str]:
    """Create an account; returns its username (the password is ``PASSWORD``)."""

    def make(username: str, role: Role) -> str:
        security.accounts.add(ADMIN, username, role, PASSWORD)
        return username

    return make


@pytest.fixture
def token_for(security: Security, sign_up: Callable[[str, Role], str]) -> Callable[[Role], str]:
    """An API token of a fresh account with the role (one account per role)."""

    def make(role: Role) -> str:
        username = f"sys-{role.value}"
        sign_up(username, role)
        return security.accounts.create_token(ADMIN, username, "tests").secret

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stocked(clinic: Clinic) -> Clinic:
    """Two synthetic patients on file, imported by the operator."""
    importer = as_operator(clinic, Action.IMPORT_RECORDS).importer
    for index in range(2):
        importer.one(orjson.dumps(a_patient(index)))
    return clinic
