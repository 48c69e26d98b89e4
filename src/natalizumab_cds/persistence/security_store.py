"""Accounts, sessions, API tokens and sign-in attempts in SQL, and the security unit of work.

A ``SqlSecurityDatabase`` transaction is a clinic transaction (same engine,
same ``BEGIN IMMEDIATE`` on SQLite, same error translation) with these stores
and the audit trail on its connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from natalizumab_cds.application.security.errors import AccountError
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.application.security.ports import Account, ApiToken, WebSession
from natalizumab_cds.persistence.audit_store import SqlAuditLog, SqlAuditTrail
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.security_tables import (
    api_tokens,
    sign_in_attempts,
    users,
    web_sessions,
)

#: A result row of any shape.
AnyRow = Row[*tuple[Any, ...]]
_u = users.c
_ACCOUNT = (_u.id, _u.username, _u.role, _u.active, _u.created_at)


def _account(row: AnyRow) -> Account:
    return Account(row.id, row.username, Role(row.role), row.active, row.created_at)


def _token(row: AnyRow) -> ApiToken:
    t = row
    return ApiToken(t.id, t.user_id, t.name, t.prefix, t.created_at, t.revoked_at, t.last_used_at)


class SqlUsers:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, username: str, role: Role, password_hash: str, at: datetime) -> Account:
        taken = self._db.execute(select(_u.id).where(_u.username == username)).first()
        if taken is not None:
            raise AccountError(f"username {username!r} is taken")
        row = {
            "username": username,
            "role": role.value,
            "password_hash": password_hash,
            "active": True,
            "created_at": at,
        }
        try:
            new_id = self._db.execute(insert(users).values(**row).returning(_u.id)).scalar_one()
        except IntegrityError:
            raise AccountError(f"username {username!r} is taken") from None
        return Account(new_id, username, role, True, at)

    def by_username(self, username: str) -> tuple[Account, str] | None:
        row = self._db.execute(
            select(*_ACCOUNT, _u.password_hash).where(_u.username == username)
        ).first()
        return None if row is None else (_account(row), row.password_hash)

    def by_id(self, user_id: int) -> Account | None:
        row = self._db.execute(select(*_ACCOUNT).where(_u.id == user_id)).first()
        return None if row is None else _account(row)

    def listed(self) -> list[Account]:
        return [_account(r) for r in self._db.execute(select(*_ACCOUNT).order_by(_u.username))]

    def set_active(self, user_id: int, active: bool) -> None:
        self._db.execute(update(users).where(_u.id == user_id).values(active=active))

    def set_password(self, user_id: int, password_hash: str) -> None:
        self._db.execute(update(users).where(_u.id == user_id).values(password_hash=password_hash))

    def count_active(self, role: Role) -> int:
        query = select(func.count()).where(_u.role == role.value, _u.active.is_(True))
        return int(self._db.execute(query).scalar_one())


class SqlSessions:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, session: WebSession) -> None:
        self._db.execute(
            insert(web_sessions).values(
                key=session.key,
                user_id=session.user_id,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                csrf_token=session.csrf_token,
            )
        )

    def get(self, key: str) -> WebSession | None:
        s = web_sessions.c
        row = self._db.execute(
            select(s.key, s.user_id, s.created_at, s.last_seen_at, s.csrf_token).where(s.key == key)
        ).first()
        return None if row is None else WebSession(*row)

    def touch(self, key: str, at: datetime) -> None:
        s = web_sessions.c
        self._db.execute(update(web_sessions).where(s.key == key).values(last_seen_at=at))

    def remove(self, key: str) -> None:
        self._db.execute(delete(web_sessions).where(web_sessions.c.key == key))

    def remove_for_user(self, user_id: int) -> None:
        self._db.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))

    def purge(self, idle_before: datetime, created_before: datetime) -> int:
        s = web_sessions.c
        result = self._db.execute(
            delete(web_sessions).where(
                or_(s.last_seen_at < idle_before, s.created_at < created_before)
            )
        )
        return int(result.rowcount)


class SqlTokens:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, user_id: int, name: str, prefix: str, token_hash: str, at: datetime) -> ApiToken:
        row = {
            "user_id": user_id,
            "name": name,
            "prefix": prefix,
            "token_hash": token_hash,
            "created_at": at,
        }
        new_id = self._db.execute(
            insert(api_tokens).values(**row).returning(api_tokens.c.id)
        ).scalar_one()
        return ApiToken(new_id, user_id, name, prefix, at)

    def _one(self, *where: Any) -> ApiToken | None:
        row = self._db.execute(select(api_tokens).where(*where)).first()
        return None if row is None else _token(row)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        return self._one(api_tokens.c.token_hash == token_hash)

    def by_id(self, token_id: int) -> ApiToken | None:
        return self._one(api_tokens.c.id == token_id)

    def listed(self) -> list[ApiToken]:
        return [_token(r) for r in self._db.execute(select(api_tokens).order_by(api_tokens.c.id))]

    def revoke(self, token_id: int, at: datetime) -> None:
        t = api_tokens.c
        self._db.execute(update(api_tokens).where(t.id == token_id).values(revoked_at=at))

    def used(self, token_id: int, at: datetime) -> None:
        t = api_tokens.c
        self._db.execute(update(api_tokens).where(t.id == token_id).values(last_used_at=at))


class SqlSignInAttempts:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def record(self, username: str, client: str, succeeded: bool, at: datetime) -> None:
        self._db.execute(
            insert(sign_in_attempts).values(
                at=at, username=username, client=client[:64], succeeded=succeeded
            )
        )

    def failures_for(self, username: str, since: datetime) -> list[datetime]:
        a = sign_in_attempts.c
        last_success = (
            select(func.max(a.at))
            .where(a.username == username, a.succeeded.is_(True))
            .scalar_subquery()
        )
        query = select(a.at).where(
            a.username == username,
            a.succeeded.is_(False),
            a.at >= since,
            or_(last_success.is_(None), a.at > last_success),
        )
        return list(self._db.execute(query).scalars())

    def failures_from(self, client: str, since: datetime) -> list[datetime]:
        a = sign_in_attempts.c
        query = select(a.at).where(a.client == client[:64], a.succeeded.is_(False), a.at >= since)
        return list(self._db.execute(query).scalars())

    def purge(self, before: datetime) -> int:
        result = self._db.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < before))
        return int(result.rowcount)


class SqlSecurityUnitOfWork:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.users = SqlUsers(connection)
        self.sessions = SqlSessions(connection)
        self.tokens = SqlTokens(connection)
        self.attempts = SqlSignInAttempts(connection)
        self.audit = SqlAuditTrail(connection)
        self.audit_log = SqlAuditLog(connection)


class SqlSecurityDatabase:
    """The ``SecurityDatabase`` port on the clinic database's engine."""

    def __init__(self, database: SqlDatabase) -> None:
        self._database = database

    @contextmanager
    def writing(self) -> Iterator[SqlSecurityUnitOfWork]:
        with self._database.writing() as uow:
            yield SqlSecurityUnitOfWork(uow.connection)

    @contextmanager
    def reading(self) -> Iterator[SqlSecurityUnitOfWork]:
        with self._database.reading() as uow:
            yield SqlSecurityUnitOfWork(uow.connection)
