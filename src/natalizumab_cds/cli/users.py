"""``ntz user …`` and ``ntz token …``: accounts and API tokens, from the server's shell.

Whoever runs these holds the database anyway, so they act as the operator
(``os:<login name>`` in the audit trail) without signing in; this is how the
first administrator is created. Passwords are never arguments (they would
land in the shell history and the process list): they are prompted for, or
read from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import clinic_service, operator_principal, security_for
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl

user_app = typer.Typer(help="People who sign in, and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for other systems.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

Username = Annotated[str, typer.Option("--username", help="Lower-case letters, digits, . _ -")]


@contextmanager
def security_at(database_url: str | None) -> Iterator[Security]:
    """People and trust on the (migrated) database; its connections closed afterwards."""
    clinic = clinic_service(database_url, upgrade=True)
    try:
        yield security_for(clinic)
    finally:
        clinic.database.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input")
]


@user_app.command("add")
def add_user(
    username: Username,
    role: Annotated[Role, typer.Option("--role", help="What the person may do")],
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account (the first administrator too). There are no default passwords."""
    password = _password(password_stdin)
    with security_at(database_url) as security:
        account = security.accounts.add(operator_principal(), username, role, password)
    typer.echo(f"created {account.username} ({account.role.value})")


@user_app.command("list")
def list_users(database_url: DatabaseUrl = None) -> None:
    """Every account, its role and whether it may sign in."""
    with security_at(database_url) as security:
        accounts = security.accounts.listed(operator_principal())
    for account in accounts:
        state = "active" if account.active else "disabled"
        typer.echo(f"{account.username}\t{account.role.value}\t{state}")


@user_app.command("disable")
def disable_user(username: Username, database_url: DatabaseUrl = None) -> None:
    """Refuse the account's sign-ins and tokens; its sessions end at once."""
    with security_at(database_url) as security:
        security.accounts.set_active(operator_principal(), username, False)
    typer.echo(f"disabled {username}")


@user_app.command("enable")
def enable_user(username: Username, database_url: DatabaseUrl = None) -> None:
    """Let a disabled account sign in (and its tokens work) again."""
    with security_at(database_url) as security:
        security.accounts.set_active(operator_principal(), username, True)
    typer.echo(f"enabled {username}")


@user_app.command("password")
def set_password(
    username: Username, password_stdin: PasswordStdin = False, database_url: DatabaseUrl = None
) -> None:
    """Set a new password; the user's sessions end."""
    password = _password(password_stdin)
    with security_at(database_url) as security:
        security.accounts.set_password(operator_principal(), username, password)
    typer.echo(f"password of {username} changed")


@token_app.command("create")
def create_token(
    username: Annotated[str, typer.Option("--username", help="The account the system acts as")],
    name: Annotated[str, typer.Option("--name", help="Which system will use it")],
    database_url: DatabaseUrl = None,
) -> None:
    """Print a new API token once; only its hash is kept."""
    with security_at(database_url) as security:
        issued = security.accounts.create_token(operator_principal(), username, name)
    typer.echo(f"token {issued.token.id} for {username} ({name}); shown this once:", err=True)
    typer.echo(issued.secret)


@token_app.command("list")
def list_tokens(database_url: DatabaseUrl = None) -> None:
    """Every token: number, first characters, name, active or revoked."""
    with security_at(database_url) as security:
        tokens = security.accounts.tokens(operator_principal())
    for token in tokens:
        state = "revoked" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{state}")


@token_app.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The token's number (ntz token list)")],
    database_url: DatabaseUrl = None,
) -> None:
    """Refuse the token from now on."""
    with security_at(database_url) as security:
        security.accounts.revoke_token(operator_principal(), token_id)
    typer.echo(f"revoked token {token_id}")
