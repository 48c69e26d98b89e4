"""Signing in and out: ``GET/POST /login``, ``POST /logout``, ``GET /api/session``.

The session cookie holds only a random id (``HttpOnly``, ``SameSite=Lax``,
``Secure`` over HTTPS or in production) and lives no longer than the session's
absolute limit. The sign-in form itself is protected against login CSRF by a
double-submit token: a random cookie, repeated in a hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import (
    CSRF_FIELD,
    SESSION_COOKIE,
    PrincipalDep,
    client_address,
    security,
)
from natalizumab_cds.application.security.errors import SignInRefused, SignInThrottled
from natalizumab_cds.application.security.permissions import ALLOWED, Action
from natalizumab_cds.config import Environment, get_settings

LOGIN_CSRF_COOKIE = "ntz_login_csrf"
router = APIRouter(tags=["sign-in"])


class SessionOut(BaseModel):
    username: str
    role: str
    credential: str
    actions: list[str]
    csrf_token: str | None = None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings().environment is Environment.PRODUCTION


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//host`` or ``https://…`` (an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _page(request: Request, message: str = "", status: int = 200, next_: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    notice = f'<p role="alert">{escape(message)}</p>' if message else ""
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - natalizumab-cds</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/app.css"></head>
<body><header class="site-header"><div class="brand">natalizumab-cds</div></header>
<main id="main" class="sign-in"><h1>Sign in</h1>{notice}
<form method="post" action="/login">
<input type="hidden" name="{CSRF_FIELD}" value="{token}">
<input type="hidden" name="next" value="{escape(_safe_next(next_))}">
<p class="field"><label>Username <input type="text" name="username" autocomplete="username"
 required></label></p>
<p class="field"><label>Password <input name="password" type="password"
 autocomplete="current-password" required></label></p>
<p><button type="submit" class="button">Sign in</button></p>
</form></main></body></html>"""
    page = HTMLResponse(body, status_code=status)
    page.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return page


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, next_=next)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (rate-limited) and start a session; 303 to ``next``."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _page(request, "The form had expired: please sign in again.", 403, next)
    services = security(request)
    client = client_address(request)
    try:
        opened = await run_in_threadpool(services.sign_in.sign_in, username, password, client)
    except SignInThrottled as error:
        page = _page(request, str(error), 429, next)
        page.headers["Retry-After"] = str(int(services.sign_in.policy.window.total_seconds()))
        return page
    except SignInRefused as error:
        return _page(request, str(error), 401, next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        max_age=int(services.sign_in.policy.absolute.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, principal: PrincipalDep) -> Response:
    """End the session (the CSRF token is required like for any form post)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    await run_in_threadpool(security(request).sign_in.sign_out, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/api/session", response_model=SessionOut, tags=["sign-in"])
def current_session(request: Request, principal: PrincipalDep) -> SessionOut:
    """Who is signed in, what their role allows, and the CSRF token for form posts."""
    return SessionOut(
        username=principal.username,
        role=principal.role.value,
        credential=principal.credential.value,
        actions=[a.value for a in Action if principal.role in ALLOWED[a]],
        csrf_token=getattr(request.state, "csrf_token", None),
    )
