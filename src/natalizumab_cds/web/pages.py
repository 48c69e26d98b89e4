"""How a web page is made: who is signed in, may they, and the rendered template.

Every page route declares ``dependencies=[page_requires(Action.…)]`` (the same
permission table and audit action as the REST API) and renders through
``render(request, "name.html", {...})``, which adds what ``base.html`` needs:
``principal`` (the signed-in user), ``csrf_token`` (every form carries it as the
hidden field ``csrf_token``) and ``nav`` (the header's links, ``active`` one
marked). A page request without a session is redirected to
``/login?next=<the page>``; a refused action or a form without its CSRF token
gets an HTML page that says so (403), never a JSON problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from natalizumab_cds.api.access import current_principal
from natalizumab_cds.application.security.errors import (
    CsrfRefused,
    Forbidden,
    NotAuthenticated,
    SignInRefused,
)
from natalizumab_cds.application.security.permissions import Action, Principal

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class NavLink:
    key: str
    label: str
    href: str
    action: Action | None = None  # shown only to those allowed it


#: The header's links; ``render(..., active=key)`` marks the current one.
NAV: tuple[NavLink, ...] = (
    NavLink("worklist", "Worklist", "/", Action.READ_WORKLIST),
    NavLink("infusion-day", "Infusion day", "/infusion-day", Action.READ_PATIENT),
    NavLink("safety", "Safety report", "/safety-report", Action.READ_WORKLIST),
    NavLink("lab-messages", "Lab messages", "/lab-messages", Action.RESOLVE_LAB_MESSAGES),
    NavLink("accounts", "Accounts", "/accounts", Action.MANAGE_USERS),
    NavLink("audit", "Audit trail", "/audit", Action.READ_AUDIT),
)


class SignInNeeded(Exception):
    """A page was asked for without a valid session: answered with a redirect to /login."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class ElsewhereFirst(Exception):
    """The home page for a role whose work is elsewhere: answered with a redirect there."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class PageRefused(Exception):
    """A page or form the caller may not use: answered with an HTML page saying why."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def page_principal(request: Request) -> Principal:
    """The signed-in person (session cookie; an API token works too, for tools)."""
    try:
        return await current_principal(request, None, None)
    except (NotAuthenticated, SignInRefused) as error:
        target = _here(request) if request.method == "GET" else "/"
        raise SignInNeeded(target) from error
    except CsrfRefused as error:
        raise PageRefused(403, "The form had expired", str(error)) from error


class PageRequirement:
    def __init__(self, action: Action, *, home: bool = False) -> None:
        self.action = action
        self.home = home

    async def __call__(self, request: Request) -> Principal:
        principal = await page_principal(request)
        try:
            principal.require(self.action)
        except Forbidden as error:
            first = first_page(principal) if self.home else None
            if first is not None:
                raise ElsewhereFirst(first.href) from error
            raise PageRefused(403, "Not allowed", str(error)) from error
        request.state.action = self.action  # the clinic dependency audits under it
        return principal


def page_requires(action: Action, *, home: bool = False) -> Any:
    """The page's action: signed in (else redirect to sign-in) and the role allows it.

    ``home``: the home page, which sends a role that may not use it (the
    administrator) to the first page of the header it may use instead of
    refusing it.
    """
    return Depends(PageRequirement(action, home=home))


def first_page(principal: Principal) -> NavLink | None:
    """The first header link ``principal`` may follow."""
    return next((link for link in NAV if _may(principal, link.action)), None)


def _may(principal: Principal | None, action: Action | None) -> bool:
    return action is None or (principal is not None and principal.may(action))


def clinic_zone(request: Request) -> tzinfo:
    """The clinic's time zone (setting ``clinic_timezone``), in which pages show times."""
    tz: tzinfo = request.app.state.clinic.context.tz
    return tz


def local(moment: datetime | None, tz: tzinfo) -> str:
    """``2026-11-24 10:46`` in the clinic's zone, for the page ("" for none)."""
    return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    active: str = "",
) -> HTMLResponse:
    """``template`` with ``context`` plus ``principal``, ``csrf_token``, ``nav``, ``active``."""
    principal: Principal | None = getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "principal": principal,
        "csrf_token": getattr(request.state, "csrf_token", None) or "",
        "nav": [link for link in NAV if _may(principal, link.action)],
        "active": active,
        "request_path": request.url.path,
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status)


async def _sign_in_needed(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInNeeded)
    return RedirectResponse(f"/login?next={quote(error.target, safe='/')}", status_code=303)


async def _elsewhere(request: Request, error: Exception) -> Response:
    assert isinstance(error, ElsewhereFirst)
    return RedirectResponse(error.target, status_code=303)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageRefused)
    context = {"title": error.title, "detail": error.detail}
    return render(request, "error.html", context, status=error.status)


def install_page_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(ElsewhereFirst, _elsewhere)
    app.add_exception_handler(PageRefused, _refused)
