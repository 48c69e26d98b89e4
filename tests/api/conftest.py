"""The clinic API suite runs on SQLite and on PostgreSQL (see tests/clinic_db.py).

Every API route but ``/health``, ``/login``, the OpenAPI page and CDS Hooks
needs a caller: ``api_security`` is people-and-trust on the test clinic (cheap
argon2id), ``api_token(role)`` an API token of a fresh account with that role
(``{"Authorization": f"Bearer {token}"}``).
"""

from collections.abc import Callable

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import security_for
from tests.clinic_db import clinic, clock, database_url, empty_database_url

__all__ = ["clinic", "clock", "database_url", "empty_database_url"]


@pytest.fixture
def api_security(clinic: Clinic) -> Security:
    """Accounts, tokens and the audit trail on the test clinic; pass to ``create_app``."""
    return security_for(clinic, passwords=Passwords(TEST_COST))


@pytest.fixture
def api_token(api_security: Security) -> Callable[[Role], str]:
    """``api_token(Role.NURSE)``: the secret of a new token for a new account of that role."""
    made: dict[Role, str] = {}

    def token(role: Role) -> str:
        if role not in made:
            admin = operator("api-tests")
            username = f"api-{role.value}"
            api_security.accounts.add(admin, username, role, "a long synthetic passphrase")
            made[role] = api_security.accounts.create_token(admin, username, "api tests").secret
        return made[role]

    return token
