"""Managing accounts and API tokens (the ``manage-users`` action).

Every change is audited in the same transaction. Passwords and token secrets
never reach the audit trail or the logs; a token's secret is returned once, by
``create_token``, and only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from natalizumab_cds.application.ports import Clock
from natalizumab_cds.application.security.audit import AuditEntry, Operation
from natalizumab_cds.application.security.errors import AccountError, NotOnFile
from natalizumab_cds.application.security.passwords import Passwords, check_policy
from natalizumab_cds.application.security.permissions import Action, Principal, Role
from natalizumab_cds.application.security.ports import (
    Account,
    ApiToken,
    SecurityDatabase,
    SecurityUnitOfWork,
)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TOKEN_PREFIX = "ntz_"


def token_hash(secret: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to keep them safe at rest."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _shown(account: Account) -> dict[str, object]:
    return {"username": account.username, "role": account.role.value, "active": account.active}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; never stored


class Accounts:
    def __init__(self, database: SecurityDatabase, passwords: Passwords, clock: Clock) -> None:
        self._database = database
        self._passwords = passwords
        self._clock = clock

    def add(self, actor: Principal, username: str, role: Role, password: str) -> Account:
        actor.require(Action.MANAGE_USERS)
        username = username.strip()
        if not USERNAME.fullmatch(username):
            raise AccountError(
                "username: 2 to 64 characters, lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        check_policy(username, password)
        password_hash = self._passwords.hash(password)
        with self._database.writing() as uow:
            account = uow.users.add(username, role, password_hash, self._clock.now())
            self._audit(uow, actor, Operation.CREATE, account, None, _shown(account))
        return account

    def listed(self, actor: Principal) -> list[Account]:
        actor.require(Action.MANAGE_USERS)
        with self._database.reading() as uow:
            return uow.users.listed()

    def set_active(self, actor: Principal, username: str, active: bool) -> Account:
        """Disabling signs the user out everywhere; their tokens are refused while disabled."""
        actor.require(Action.MANAGE_USERS)
        with self._database.writing() as uow:
            account = self._account(uow, username)
            if account.active == active:
                return account
            last_admin = account.role is Role.ADMINISTRATOR and (
                uow.users.count_active(Role.ADMINISTRATOR) <= 1
            )
            if not active and last_admin:
                raise AccountError(f"{username} is the last active administrator")
            uow.users.set_active(account.id, active)
            if not active:
                uow.sessions.remove_for_user(account.id)
            changed = Account(
                account.id, account.username, account.role, active, account.created_at
            )
            self._audit(uow, actor, Operation.UPDATE, account, _shown(account), _shown(changed))
            return changed

    def set_password(self, actor: Principal, username: str, password: str) -> None:
        """A new password; every session of the user ends."""
        actor.require(Action.MANAGE_USERS)
        check_policy(username, password)
        password_hash = self._passwords.hash(password)
        with self._database.writing() as uow:
            account = self._account(uow, username)
            uow.users.set_password(account.id, password_hash)
            uow.sessions.remove_for_user(account.id)
            self._audit(uow, actor, Operation.UPDATE, account, None, None, "password changed")

    def create_token(self, actor: Principal, username: str, name: str) -> IssuedToken:
        actor.require(Action.MANAGE_USERS)
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise AccountError("name: say in 1 to 100 characters which system uses the token")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._database.writing() as uow:
            account = self._account(uow, username)
            token = uow.tokens.add(
                account.id, name, secret[:12], token_hash(secret), self._clock.now()
            )
            self._audit(
                uow,
                actor,
                Operation.CREATE,
                account,
                None,
                {"token": token.id, "name": name, "prefix": token.prefix},
                "API token created",
            )
        return IssuedToken(token, secret)

    def tokens(self, actor: Principal) -> list[ApiToken]:
        actor.require(Action.MANAGE_USERS)
        with self._database.reading() as uow:
            return uow.tokens.listed()

    def revoke_token(self, actor: Principal, token_id: int) -> ApiToken:
        actor.require(Action.MANAGE_USERS)
        with self._database.writing() as uow:
            token = uow.tokens.by_id(token_id)
            if token is None:
                raise NotOnFile(f"there is no API token {token_id}")
            if token.revoked_at is not None:
                return token
            at = self._clock.now()
            uow.tokens.revoke(token_id, at)
            owner = uow.users.by_id(token.user_id)
            assert owner is not None  # tokens are deleted with their user (foreign key)
            self._audit(
                uow,
                actor,
                Operation.UPDATE,
                owner,
                {"token": token.id, "revoked": False},
                {"token": token.id, "revoked": True},
                "API token revoked",
            )
            return ApiToken(
                token.id,
                token.user_id,
                token.name,
                token.prefix,
                token.created_at,
                at,
                token.last_used_at,
            )

    @staticmethod
    def _account(uow: SecurityUnitOfWork, username: str) -> Account:
        username = username.strip()
        found = uow.users.by_username(username) if USERNAME.fullmatch(username) else None
        if found is None:
            raise NotOnFile(f"there is no user {username!r}")
        return found[0]

    def _audit(
        self,
        uow: SecurityUnitOfWork,
        actor: Principal,
        operation: Operation,
        account: Account,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
        detail: str = "",
    ) -> None:
        entry = AuditEntry(
            action=Action.MANAGE_USERS.value,
            operation=operation,
            actor=actor.username,
            role=actor.role.value,
            entity=f"User/{account.username}",
            before=before,
            after=after,
            detail=detail,
        )
        uow.audit.append([entry], self._clock.now())
