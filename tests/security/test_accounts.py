"""Accounts: the first administrator from the shell, roles, disabling, demo accounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from typer.testing import CliRunner

from natalizumab_cds.application.security.errors import AccountError
from natalizumab_cds.application.security.passwords import TEST_COST, Passwords
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.service import Security, create_demo_accounts
from natalizumab_cds.cli import app as ntz
from tests.security.browser import sign_in
from tests.security.conftest import ADMIN, bearer
from tests.security.in_process import InProcessClient

TokenFor = Callable[[Role], str]


def ntz_at(database_url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(ntz, [*args, "--database-url", database_url], input=stdin)


def test_the_first_administrator_is_made_at_the_shell_with_a_password_from_stdin(
    database_url: str, client: InProcessClient
) -> None:
    add = ["user", "add", "--username", "chief", "--role", "administrator", "--password-stdin"]
    result = ntz_at(database_url, *add, stdin="a long synthetic passphrase\n")
    assert result.exit_code == 0, result.output
    listed = ntz_at(database_url, "user", "list")
    assert "chief\tadministrator\tactive" in listed.output
    assert sign_in(client, "chief", "a long synthetic passphrase").status_code == 303


def test_a_token_made_at_the_shell_is_printed_once_and_revoked_by_number(
    database_url: str, security: Security, client: InProcessClient
) -> None:
    security.accounts.add(ADMIN, "lab-system", Role.NURSE, "a long synthetic passphrase")
    created = CliRunner().invoke(
        ntz,
        [
            "token",
            "create",
            "--username",
            "lab-system",
            "--name",
            "lab",
            "--database-url",
            database_url,
        ],
    )
    assert created.exit_code == 0, created.output
    secret = next(line for line in created.output.splitlines() if line.startswith("ntz_"))
    assert client.get("/api/worklist", headers=bearer(secret)).status_code == 200
    (token,) = security.accounts.tokens(ADMIN)
    assert (
        secret
        not in CliRunner().invoke(ntz, ["token", "list", "--database-url", database_url]).output
    )
    revoked = CliRunner().invoke(
        ntz, ["token", "revoke", str(token.id), "--database-url", database_url]
    )
    assert revoked.exit_code == 0
    assert client.get("/api/worklist", headers=bearer(secret)).status_code == 401


def test_a_short_password_or_one_equal_to_the_username_is_refused(security: Security) -> None:
    with pytest.raises(AccountError, match="at least 12"):
        security.accounts.add(ADMIN, "nurse-ada", Role.NURSE, "short")
    with pytest.raises(AccountError, match="not be the username"):
        security.accounts.add(ADMIN, "nurse-ada-long", Role.NURSE, "nurse-ada-long")


def test_a_taken_username_is_refused(security: Security) -> None:
    security.accounts.add(ADMIN, "nurse-ada", Role.NURSE, "a long synthetic passphrase")
    with pytest.raises(AccountError, match="taken"):
        security.accounts.add(ADMIN, "nurse-ada", Role.PHYSICIAN, "a long synthetic passphrase")


def test_the_last_active_administrator_cannot_be_disabled(security: Security) -> None:
    security.accounts.add(ADMIN, "chief", Role.ADMINISTRATOR, "a long synthetic passphrase")
    with pytest.raises(AccountError, match="last active administrator"):
        security.accounts.set_active(ADMIN, "chief", False)


def test_passwords_are_stored_as_argon2id_hashes(security: Security) -> None:
    security.accounts.add(ADMIN, "nurse-ada", Role.NURSE, "a long synthetic passphrase")
    with security.sign_in._database.reading() as uow:
        found = uow.users.by_username("nurse-ada")
    assert found is not None
    assert found[1].startswith("$argon2id$")
    assert "a long synthetic passphrase" not in found[1]


def test_an_administrator_manages_accounts_through_the_api(
    client: InProcessClient, token_for: TokenFor
) -> None:
    admin = bearer(token_for(Role.ADMINISTRATOR))
    body = {"username": "pharm-cy", "role": "pharmacist", "password": "a long synthetic passphrase"}
    assert client.post("/api/users", json=body, headers=admin).status_code == 201
    assert client.post("/api/users", json=body, headers=admin).status_code == 422
    changed = client.patch("/api/users/pharm-cy", json={"active": False}, headers=admin)
    assert changed.json()["active"] is False
    users = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert users["pharm-cy"]["role"] == "pharmacist"
    assert "password" not in users["pharm-cy"]


def test_the_demo_makes_one_account_per_role_with_random_passwords_once(
    security: Security, client: InProcessClient
) -> None:
    accounts = create_demo_accounts(security, ADMIN)
    assert {a.role for a in accounts} == set(Role)
    assert len({a.password for a in accounts}) == len(accounts)
    assert all(len(a.password) >= 16 for a in accounts)
    nurse = next(a for a in accounts if a.role is Role.NURSE)
    assert sign_in(client, nurse.username, nurse.password).status_code == 303
    assert create_demo_accounts(security, ADMIN) == []  # a restart prints nothing new


def test_a_fresh_clinic_has_no_account_and_no_default_password(
    security: Security, client: InProcessClient
) -> None:
    assert security.accounts.listed(ADMIN) == []
    for username, password in (("admin", "admin"), ("administrator", "password")):
        assert sign_in(client, username, password).status_code == 401


def test_cheap_test_hashes_are_still_argon2id() -> None:
    assert Passwords(TEST_COST).hash("x" * 12).startswith("$argon2id$")
