"""``/accounts``: the team's accounts and the API tokens of other systems, for administrators.

The page is ``/api/users`` and ``/api/tokens`` in HTML: the same use cases
(``security.accounts``), the same ``manage-users`` permission, and every change
audited in its own transaction. An administrator adds an account with its
first password (typed twice), disables or enables one (disabling signs the
person out everywhere and refuses their tokens; the last active administrator
cannot be disabled), sets a new password for someone who forgot theirs, and
issues or revokes tokens. A new token's secret is shown on the answer to the
form that created it and never again; the page after it is not cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import security
from natalizumab_cds.application.security.accounts import IssuedToken
from natalizumab_cds.application.security.errors import AccountError, NotOnFile
from natalizumab_cds.application.security.passwords import MAX_LENGTH
from natalizumab_cds.application.security.permissions import Action, Principal, Role
from natalizumab_cds.web.pages import PageRefused, clinic_zone, local, page_requires, render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, page_requires(Action.MANAGE_USERS)]
Username = Annotated[str, Path(min_length=1, max_length=64)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=200)]
Secret = Annotated[str, Form(max_length=MAX_LENGTH + 1)]

#: What each role may do, in a line, beside the role picker.
ROLE_WORDS = {
    Role.PHYSICIAN: "reads and records; the only role that overrides a finding",
    Role.NURSE: "reads and records, runs the infusion, acknowledges cautions",
    Role.PHARMACIST: "prepares and checks the infusion bag; reads records",
    Role.ADMINISTRATOR: "accounts, tokens, audit trail and bulk imports; no patient record",
    Role.READ_ONLY: "reads records, the worklist and the safety report",
}
NOTICES = {
    "added": "Account {name} added. Give its password to its owner in person.",
    "disabled": "Account {name} disabled: signed out everywhere, its tokens refused.",
    "enabled": "Account {name} enabled again.",
    "password": "New password set for {name}; every session of theirs has ended.",
    "revoked": "Token {name} revoked: the next request with it is refused.",
}


@dataclass(slots=True)
class Refusals:
    """What each form said was wrong, by form and field ("" for the form as a whole)."""

    form: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: str, error: AccountError, known: tuple[str, ...]) -> Refusals:
        """The use case's message beside its field when it names one ("password: …")."""
        text = str(error)
        name, _, rest = text.partition(":")
        key = "name" if name == "name" else name.split(" ")[0]
        if key in known and rest:
            return cls(form, {key: rest.strip()})
        if text.startswith("username ") and "username" in known:
            return cls(form, {"username": text})
        return cls(form, {"": text})


def _page(
    request: Request,
    principal: Principal,
    *,
    notice: str = "",
    refusals: Refusals | None = None,
    typed: dict[str, str] | None = None,
    issued: IssuedToken | None = None,
    status: int = 200,
) -> HTMLResponse:
    accounts = security(request).accounts
    people = accounts.listed(principal)
    names = {a.id: a.username for a in people}
    tz = clinic_zone(request)
    tokens = sorted(accounts.tokens(principal), key=lambda t: (t.revoked_at is not None, -t.id))
    context: dict[str, Any] = {
        "accounts": sorted(people, key=lambda a: (not a.active, a.username)),
        "tokens": [(t, names.get(t.user_id, "?")) for t in tokens],
        "roles": list(Role),
        "role_words": ROLE_WORDS,
        "local": lambda moment: local(moment, tz),
        "zone": str(tz),
        "notice": notice,
        "refused": refusals or Refusals(),
        "typed": typed or {},
        "issued": issued,
        "issued_to": names.get(issued.token.user_id, "?") if issued else "",
    }
    return render(request, "accounts.html", context, status=status, active="accounts")


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, principal: Manager, done: str = "", name: str = ""
) -> HTMLResponse:
    """Every account, then every API token; forms to add, disable, reset and revoke."""
    words = NOTICES.get(done, "")
    return _page(request, principal, notice=words.format(name=name[:64]) if words else "")


def _done(what: str, name: str | int, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/accounts?done={what}&name={name}#{anchor}", status_code=303)


def _mismatch(password: str, again: str) -> dict[str, str]:
    return {} if password == again else {"again": "The two passwords differ: type it again."}


@router.post("/accounts", response_class=HTMLResponse)
async def add_account(
    request: Request,
    principal: Manager,
    username: Text = "",
    role: Text = "",
    password: Secret = "",
    again: Secret = "",
) -> Response:
    """A new account with its first password (at least 12 characters, not the username)."""
    typed = {"username": username, "role": role}
    problems = _mismatch(password, again)
    if role not in {r.value for r in Role}:
        problems["role"] = "Choose the role this person works in."
    if problems:
        return _page(
            request, principal, refusals=Refusals("add", problems), typed=typed, status=422
        )
    accounts = security(request).accounts
    try:  # hashing the password takes a good part of a second: off the event loop
        added = await run_in_threadpool(accounts.add, principal, username, Role(role), password)
    except AccountError as error:
        refusals = Refusals.of("add", error, ("username", "password"))
        return _page(request, principal, refusals=refusals, typed=typed, status=422)
    return _done("added", added.username, f"account-{added.username}")


@router.post("/accounts/{username}/active", response_class=HTMLResponse)
def set_active(
    request: Request, principal: Manager, username: Username, active: Text = ""
) -> Response:
    """Disable (``active=no``) or enable again (``active=yes``)."""
    if active not in ("yes", "no"):
        refusals = Refusals(username, {"": "Say whether the account is to be enabled or disabled."})
        return _page(request, principal, refusals=refusals, status=422)
    try:
        security(request).accounts.set_active(principal, username, active == "yes")
    except NotOnFile as error:  # no row to show the message in
        raise PageRefused(404, "Not on file", str(error)) from error
    except AccountError as error:
        return _page(request, principal, refusals=Refusals(username, {"": str(error)}), status=409)
    return _done("enabled" if active == "yes" else "disabled", username, f"account-{username}")


@router.post("/accounts/{username}/password", response_class=HTMLResponse)
async def set_password(
    request: Request,
    principal: Manager,
    username: Username,
    password: Secret = "",
    again: Secret = "",
) -> Response:
    """A new password for someone who lost theirs; their sessions end."""
    if problems := _mismatch(password, again):
        return _page(request, principal, refusals=Refusals(username, problems), status=422)
    accounts = security(request).accounts
    try:
        await run_in_threadpool(accounts.set_password, principal, username, password)
    except NotOnFile as error:
        raise PageRefused(404, "Not on file", str(error)) from error
    except AccountError as error:
        refusals = Refusals.of(username, error, ("password",))
        return _page(request, principal, refusals=refusals, status=422)
    return _done("password", username, f"account-{username}")


@router.post("/accounts/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, principal: Manager, username: Text = "", name: Text = ""
) -> HTMLResponse:
    """A token for a system; its secret is on this answer only."""
    typed = {"token_user": username, "name": name}
    if not username:
        refusals = Refusals("token", {"username": "Choose the account the system acts as."})
        return _page(request, principal, refusals=refusals, typed=typed, status=422)
    try:
        issued = security(request).accounts.create_token(principal, username, name)
    except AccountError as error:
        refusals = Refusals.of("token", error, ("name", "username"))
        return _page(request, principal, refusals=refusals, typed=typed, status=422)
    return _page(request, principal, issued=issued, status=201)


@router.post("/accounts/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, principal: Manager, token_id: TokenId) -> Response:
    """Revoke at once."""
    try:
        security(request).accounts.revoke_token(principal, token_id)
    except NotOnFile as error:
        raise PageRefused(404, "Not on file", str(error)) from error
    return _done("revoked", token_id, f"token-{token_id}")
