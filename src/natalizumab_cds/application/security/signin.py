"""Signing in: passwords to server-side sessions, bearer tokens to principals.

A session lives in the database (so any app process can serve the next
request) and is found by the SHA-256 of the random id in the browser's cookie.
It ends after ``idle`` without a request or ``absolute`` after sign-in,
whichever comes first; ``last_seen_at`` is written at most once a minute, so
the idle limit is honoured to within ``TOUCH_EVERY``.

Failed sign-ins are counted in the database too: ``max_failures_per_user``
failures for one username (since its last success) or ``max_failures_per_client``
from one address within ``window`` refuse further attempts until the oldest
failure leaves the window. A throttled attempt does not check the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from natalizumab_cds.application.ports import Clock
from natalizumab_cds.application.security.accounts import USERNAME, token_hash
from natalizumab_cds.application.security.audit import AuditEntry, Operation, Outcome
from natalizumab_cds.application.security.errors import (
    CoSignRefused,
    CsrfRefused,
    NotAuthenticated,
    SignInRefused,
    SignInThrottled,
)
from natalizumab_cds.application.security.passwords import Passwords
from natalizumab_cds.application.security.permissions import (
    Action,
    Credential,
    Principal,
    allowed,
)
from natalizumab_cds.application.security.ports import (
    Account,
    SecurityDatabase,
    SecurityUnitOfWork,
    WebSession,
)

TOUCH_EVERY = timedelta(minutes=1)
SIGN_IN = "sign-in"
SIGN_OUT = "sign-out"
CO_SIGN = "co-sign"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    window: timedelta = timedelta(minutes=15)
    max_failures_per_user: int = 5
    max_failures_per_client: int = 20


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """What the browser gets: the cookie's value (never stored) and the CSRF token."""

    cookie: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    principal: Principal
    csrf_token: str

    def check_csrf(self, submitted: str | None) -> None:
        """Raises ``CsrfRefused`` unless ``submitted`` is this session's token."""
        if not submitted or not hmac.compare_digest(submitted.encode(), self.csrf_token.encode()):
            raise CsrfRefused


def session_key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _principal(account: Account, credential: Credential) -> Principal:
    return Principal(account.id, account.username, account.role, credential)


class SignIn:
    def __init__(
        self,
        database: SecurityDatabase,
        passwords: Passwords,
        clock: Clock,
        policy: SessionPolicy | None = None,
    ) -> None:
        self._database = database
        self._passwords = passwords
        self._clock = clock
        self.policy = policy or SessionPolicy()

    def sign_in(self, username: str, password: str, client: str) -> OpenedSession:
        """A new session; ``SignInThrottled`` or ``SignInRefused`` otherwise (both recorded)."""
        opened: list[OpenedSession] = []

        def open_session(uow: SecurityUnitOfWork, account: Account, now: datetime) -> None:
            cookie = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            uow.sessions.add(WebSession(session_key(cookie), account.id, now, now, csrf))
            principal = _principal(account, Credential.SESSION)
            opened.append(OpenedSession(cookie, csrf, principal, now + self.policy.absolute))

        self._password_attempt(username, password, client, SIGN_IN, f"from {client}", open_session)
        if not opened:
            raise SignInRefused
        return opened[0]

    def co_sign(
        self, username: str, password: str, client: str, action: Action, purpose: str
    ) -> Principal:
        """A second person, typed in at someone else's session, checked like a sign-in.

        For an independent double check (a prepared bag): the second person gives
        their own username and password. Nothing is opened (no session, no cookie).
        Failures count toward the same limits as sign-ins, for the username and for
        the client address, so the field cannot be used to guess passwords, and every
        attempt is in the audit trail (``purpose`` says what was being checked). The
        account must be active and its role allowed to take ``action``.

        Raises ``CoSignRefused`` (invalid input: the form, not the session, is wrong).
        """
        signed: list[Account] = []

        def allowed_to_act(uow: SecurityUnitOfWork, account: Account, now: datetime) -> None:
            if allowed(account.role, action):
                signed.append(account)
            else:
                refused = Outcome.MINOR_FAILURE
                why = f"{detail}: the role may not {action.value}"
                self._audit(uow, account.username, account.role.value, CO_SIGN, refused, why, now)

        detail = f"{purpose} from {client}"
        try:
            found = self._password_attempt(
                username, password, client, CO_SIGN, detail, allowed_to_act
            )
        except SignInThrottled as throttled:
            raise CoSignRefused(str(throttled)) from None
        if found is None:
            raise CoSignRefused()
        if not signed:
            raise CoSignRefused(
                f"{found.username} ({found.role.value}) may not {action.value}: "
                "the role does not allow it"
            )
        return _principal(found, Credential.CO_SIGNATURE)

    def _password_attempt(
        self,
        username: str,
        password: str,
        client: str,
        audit_action: str,
        detail: str,
        on_success: Callable[[SecurityUnitOfWork, Account, datetime], None],
    ) -> Account | None:
        """Check a password, throttled, recorded and audited; the account if it matched.

        ``on_success`` runs in the transaction that records the attempt; if it
        leaves no trace of acceptance the caller decides (the audit entry says
        success only for a matching password of an active account).
        """
        username = username.strip()
        if not USERNAME.fullmatch(username):  # cannot be an account; counted under one name
            username = "(not-a-username)"
        now = self._clock.now()
        with self._database.reading() as uow:
            self._check_throttle(uow, username, client, now)
            found = uow.users.by_username(username)
        account, stored = found if found else (None, None)
        matches = self._passwords.verify(stored, password)  # constant work for unknown names
        succeeded = matches and account is not None and account.active
        with self._database.writing() as uow:
            uow.attempts.record(username, client, succeeded, now)
            actor = account.username if account else username
            role = account.role.value if account else ""
            outcome = Outcome.SUCCESS if succeeded else Outcome.MINOR_FAILURE
            self._audit(uow, actor, role, audit_action, outcome, detail, now)
            if not succeeded or account is None or stored is None:
                return None
            if self._passwords.needs_rehash(stored):
                uow.users.set_password(account.id, self._passwords.hash(password))
            on_success(uow, account, now)
        return account

    def session(self, cookie: str | None) -> ActiveSession:
        """The signed-in principal behind a session cookie; ``NotAuthenticated`` if none."""
        if not cookie:
            raise NotAuthenticated
        key = session_key(cookie)
        now = self._clock.now()
        with self._database.reading() as uow:
            session = uow.sessions.get(key)
            account = uow.users.by_id(session.user_id) if session else None
        if session is None or account is None or not account.active:
            raise NotAuthenticated("the session has ended: sign in again")
        expired = (
            now - session.last_seen_at > self.policy.idle
            or now - session.created_at > self.policy.absolute
        )
        if expired or now - session.last_seen_at >= TOUCH_EVERY:
            with self._database.writing() as uow:
                if expired:
                    uow.sessions.remove(key)
                else:
                    uow.sessions.touch(key, now)
            if expired:
                raise NotAuthenticated("the session has expired: sign in again")
        return ActiveSession(_principal(account, Credential.SESSION), session.csrf_token)

    def sign_out(self, cookie: str | None) -> None:
        if not cookie:
            return
        key = session_key(cookie)
        now = self._clock.now()
        with self._database.writing() as uow:
            session = uow.sessions.get(key)
            if session is None:
                return
            uow.sessions.remove(key)
            account = uow.users.by_id(session.user_id)
            if account is not None:
                self._audit(
                    uow, account.username, account.role.value, SIGN_OUT, Outcome.SUCCESS, "", now
                )

    def bearer(self, secret: str | None) -> Principal:
        """The principal behind an API token; ``NotAuthenticated`` if unknown or revoked."""
        if not secret:
            raise NotAuthenticated
        now = self._clock.now()
        with self._database.reading() as uow:
            token = uow.tokens.by_hash(token_hash(secret))
            account = uow.users.by_id(token.user_id) if token else None
        if token is None or token.revoked_at is not None or account is None or not account.active:
            raise NotAuthenticated("the API token is unknown or revoked")
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            with self._database.writing() as uow:
                uow.tokens.used(token.id, now)
        return _principal(account, Credential.TOKEN)

    def purge(self) -> int:
        """Forget ended sessions and sign-in attempts older than the window."""
        now = self._clock.now()
        with self._database.writing() as uow:
            ended = uow.sessions.purge(now - self.policy.idle, now - self.policy.absolute)
            uow.attempts.purge(now - self.policy.window)
        return ended

    def _check_throttle(
        self, uow: SecurityUnitOfWork, username: str, client: str, now: datetime
    ) -> None:
        since = now - self.policy.window
        for failures, limit in (
            (uow.attempts.failures_for(username, since), self.policy.max_failures_per_user),
            (uow.attempts.failures_from(client, since), self.policy.max_failures_per_client),
        ):
            if len(failures) >= limit:
                oldest_counted = sorted(failures)[-limit]
                raise SignInThrottled(oldest_counted + self.policy.window)

    def _audit(
        self,
        uow: SecurityUnitOfWork,
        actor: str,
        role: str,
        action: str,
        outcome: Outcome,
        detail: str,
        at: datetime,
    ) -> None:
        entry = AuditEntry(action, Operation.EXECUTE, actor, role, outcome=outcome, detail=detail)
        uow.audit.append([entry], at)
