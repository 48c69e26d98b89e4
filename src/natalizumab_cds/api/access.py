"""Who is calling, and may they: ``current_principal`` and ``require(Action)``.

A caller proves who they are with an API token (``Authorization: Bearer
ntz_…``, for systems) or a session cookie (for people, after ``POST /login``).
A state-changing request made with a session cookie must also carry the
session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``);
token requests need none, since browsers never add that header on their own.

Every protected route declares ``dependencies=[require(Action.…)]``; the
permission table decides, and the clinic the route then receives
(``dependencies.clinic``) audits every read and change under that action.
Failures are problem documents: 401 (with ``WWW-Authenticate``), 403 naming
the action, 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.problems import PROBLEM_JSON, TYPE_BASE, problem
from natalizumab_cds.application.security.errors import (
    AccountError,
    CsrfRefused,
    Forbidden,
    NotAuthenticated,
    SignInRefused,
    SignInThrottled,
)
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.security.service import Security

SESSION_COOKIE = "ntz_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="natalizumab-cds"'}


def security(request: Request) -> Security:
    found: Security = request.app.state.security
    return found


def client_address(request: Request) -> str:
    """Where a request came from, as sign-in throttling counts it."""
    return request.client.host if request.client else "unknown"


def bag_checker(request: Request, username: str, password: str, visit_id: str) -> Principal:
    """The second person checking the bag prepared at ``visit_id``, co-signing with
    their password (blocking).

    ``CoSignRefused`` unless the password is right, the account active and its role
    may check a preparation; throttled and audited as sign-ins are, the audit
    record naming the visit.
    """
    return security(request).sign_in.co_sign(
        username,
        password,
        client_address(request),
        Action.CHECK_PREPARATION,
        f"double check of the bag prepared at visit {visit_id}",
    )


async def _form_token(request: Request) -> str | None:
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


#: Declared so the OpenAPI document (and its "Authorize" button) shows both ways in.
_bearer = HTTPBearer(auto_error=False, description="An API token: ntz_…")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="A session, after POST /login"
)


async def current_principal(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _session: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The signed-in person or token holder; raises ``NotAuthenticated`` (401)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    services = security(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("Authorization: expected 'Bearer <API token>'")
        principal = await run_in_threadpool(services.sign_in.bearer, secret.strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        session = await run_in_threadpool(services.sign_in.session, cookie)
        if request.method not in SAFE_METHODS:
            session.check_csrf(request.headers.get(CSRF_HEADER) or await _form_token(request))
        request.state.csrf_token = session.csrf_token
        principal = session.principal
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


class Requirement:
    """The dependency ``require`` makes: check the action, note it for the audit trail."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def __call__(self, request: Request, principal: PrincipalDep) -> Principal:
        principal.require(self.action)
        request.state.action = self.action
        return principal


def require(action: Action) -> Any:
    """The route's action: the caller must be signed in and their role allowed to take it."""
    return Depends(Requirement(action))


class ChosenRequirement:
    """The dependency ``require_chosen`` makes: the action is read from the request."""

    def __init__(self, choose: Callable[[Request], Awaitable[Action]]) -> None:
        self.choose = choose

    async def __call__(self, request: Request, principal: PrincipalDep) -> Principal:
        action = await self.choose(request)
        principal.require(action)
        request.state.action = action
        return principal


def require_chosen(choose: Callable[[Request], Awaitable[Action]]) -> Any:
    """Like ``require``, for a route whose action depends on the request (e.g. the body)."""
    return Depends(ChosenRequirement(choose))


def _retry_after(moment: datetime) -> str:
    return str(max(1, int((moment - datetime.now(UTC)).total_seconds()) + 1))


async def _not_authenticated(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotAuthenticated | SignInRefused)
    return problem(401, "not-authenticated", "Not authenticated", str(error), headers=CHALLENGE)


async def _forbidden(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Forbidden)
    body = {
        "type": TYPE_BASE + "forbidden",
        "title": "Forbidden",
        "status": 403,
        "detail": str(error),
        "action": error.action,
    }
    return JSONResponse(body, status_code=403, media_type=PROBLEM_JSON)


async def _csrf(request: Request, error: Exception) -> JSONResponse:
    return problem(403, "csrf-refused", "CSRF token missing or wrong", str(error))


async def _throttled(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SignInThrottled)
    headers = {"Retry-After": _retry_after(error.retry_after)}
    return problem(
        429, "sign-in-throttled", "Too many failed sign-ins", str(error), headers=headers
    )


async def _account(request: Request, error: Exception) -> JSONResponse:
    return problem(422, "account-error", "Account request refused", str(error))


def install_access_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(SignInRefused, _not_authenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(SignInThrottled, _throttled)
    app.add_exception_handler(AccountError, _account)
