"""What accounts, sign-in, tokens and the audit trail need from storage.

One ``SecurityDatabase`` transaction (a ``SecurityUnitOfWork``) covers every
store, so a change to an account and its audit record commit together. The
SQL adapters live in ``persistence.security``; tests may pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from natalizumab_cds.application.security.audit import AuditEntry, AuditRecord
from natalizumab_cds.application.security.permissions import Role


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser. ``key`` is the SHA-256 of the cookie's random id."""

    key: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    csrf_token: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A system's bearer token; only its SHA-256 is kept, ``prefix`` identifies it."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A page of the audit trail in sequence order, optionally for one patient or time span.

    ``actor``: only that user's records (exact username). ``before_sequence``:
    only records numbered below it (with ``after_sequence``, a window).
    ``newest_first``: highest sequence first, so ``limit`` keeps the newest.
    """

    patient_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_sequence: int = 0
    limit: int = 100
    actor: str | None = None
    before_sequence: int | None = None
    newest_first: bool = False


class Users(Protocol):
    def add(self, username: str, role: Role, password_hash: str, at: datetime) -> Account:
        """Raises ``AccountError`` if the username is taken."""
        ...

    def by_username(self, username: str) -> tuple[Account, str] | None:
        """The account and its password hash."""
        ...

    def by_id(self, user_id: int) -> Account | None: ...

    def listed(self) -> list[Account]: ...

    def set_active(self, user_id: int, active: bool) -> None: ...

    def set_password(self, user_id: int, password_hash: str) -> None: ...

    def count_active(self, role: Role) -> int: ...


class Sessions(Protocol):
    def add(self, session: WebSession) -> None: ...

    def get(self, key: str) -> WebSession | None: ...

    def touch(self, key: str, at: datetime) -> None: ...

    def remove(self, key: str) -> None: ...

    def remove_for_user(self, user_id: int) -> None: ...

    def purge(self, idle_before: datetime, created_before: datetime) -> int:
        """Delete sessions last seen before ``idle_before`` or created before ``created_before``."""
        ...


class Tokens(Protocol):
    def add(
        self, user_id: int, name: str, prefix: str, token_hash: str, at: datetime
    ) -> ApiToken: ...

    def by_hash(self, token_hash: str) -> ApiToken | None: ...

    def by_id(self, token_id: int) -> ApiToken | None: ...

    def listed(self) -> list[ApiToken]: ...

    def revoke(self, token_id: int, at: datetime) -> None: ...

    def used(self, token_id: int, at: datetime) -> None: ...


class SignInAttempts(Protocol):
    def record(self, username: str, client: str, succeeded: bool, at: datetime) -> None: ...

    def failures_for(self, username: str, since: datetime) -> list[datetime]:
        """Failed attempts for the username since ``since`` and after its last success."""
        ...

    def failures_from(self, client: str, since: datetime) -> list[datetime]:
        """Failed attempts from the client address since ``since``."""
        ...

    def purge(self, before: datetime) -> int: ...


class AuditTrail(Protocol):
    """Appending to the chain, inside the caller's transaction."""

    def append(self, entries: Sequence[AuditEntry], at: datetime) -> list[AuditRecord]:
        """Link and store the entries after the current head; appends are serialized."""
        ...


class AuditLog(Protocol):
    """Reading the chain."""

    def head(self) -> tuple[int, str]:
        """Sequence number and hash of the last record (0 and ``GENESIS`` when empty)."""
        ...

    def rows(self) -> Iterator[Sequence[Any]]:
        """Every stored record as a tuple in ``ROW_FIELDS`` order, by sequence, streamed."""
        ...

    def records(self, query: AuditQuery) -> list[AuditRecord]: ...


class SecurityUnitOfWork(Protocol):
    @property
    def users(self) -> Users: ...

    @property
    def sessions(self) -> Sessions: ...

    @property
    def tokens(self) -> Tokens: ...

    @property
    def attempts(self) -> SignInAttempts: ...

    @property
    def audit(self) -> AuditTrail: ...

    @property
    def audit_log(self) -> AuditLog: ...


class SecurityDatabase(Protocol):
    def writing(self) -> AbstractContextManager[SecurityUnitOfWork]:
        """A write transaction, committed when the block ends without an error."""
        ...

    def reading(self) -> AbstractContextManager[SecurityUnitOfWork]: ...
