"""Accounts and API tokens, for administrators (``manage-users``).

A token's secret is in the answer to ``POST /api/tokens`` and nowhere else,
ever: store it in the calling system's secret store at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import PrincipalDep, require, security
from natalizumab_cds.application.security.permissions import Action, Role
from natalizumab_cds.application.security.ports import Account, ApiToken

router = APIRouter(prefix="/api", tags=["accounts"])
MANAGE = [require(Action.MANAGE_USERS)]
Username = Annotated[str, Path(min_length=2, max_length=64)]


class AccountOut(BaseModel):
    username: str
    role: Role
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            username=account.username,
            role=account.role,
            active=account.active,
            created_at=account.created_at,
        )


class AccountIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=1024)


class AccountChange(BaseModel):
    active: bool


class TokenOut(BaseModel):
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class TokenIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=100, description="Which system uses it")


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The secret: shown this once, never again")


def _token(token: ApiToken, names: dict[int, str]) -> TokenOut:
    return TokenOut(
        id=token.id,
        username=names.get(token.user_id, "?"),
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.get("/users", response_model=list[AccountOut], dependencies=MANAGE)
def list_users(request: Request, principal: PrincipalDep) -> list[AccountOut]:
    return [AccountOut.of(a) for a in security(request).accounts.listed(principal)]


@router.post("/users", status_code=201, response_model=AccountOut, dependencies=MANAGE)
def add_user(request: Request, principal: PrincipalDep, body: AccountIn) -> AccountOut:
    """A new account (password: at least 12 characters, not the username)."""
    accounts = security(request).accounts
    return AccountOut.of(accounts.add(principal, body.username, body.role, body.password))


@router.patch("/users/{username}", response_model=AccountOut, dependencies=MANAGE)
def change_user(
    request: Request, principal: PrincipalDep, username: Username, body: AccountChange
) -> AccountOut:
    """Disable (signs the user out everywhere; tokens refused) or enable again."""
    accounts = security(request).accounts
    return AccountOut.of(accounts.set_active(principal, username, body.active))


def _names(request: Request, principal: PrincipalDep) -> dict[int, str]:
    return {a.id: a.username for a in security(request).accounts.listed(principal)}


@router.get("/tokens", response_model=list[TokenOut], dependencies=MANAGE)
def list_tokens(request: Request, principal: PrincipalDep) -> list[TokenOut]:
    names = _names(request, principal)
    return [_token(t, names) for t in security(request).accounts.tokens(principal)]


@router.post("/tokens", status_code=201, response_model=IssuedTokenOut, dependencies=MANAGE)
async def create_token(request: Request, principal: PrincipalDep, body: TokenIn) -> IssuedTokenOut:
    accounts = security(request).accounts
    issued = await run_in_threadpool(accounts.create_token, principal, body.username, body.name)
    shown = _token(issued.token, {issued.token.user_id: body.username.strip()})
    return IssuedTokenOut(**shown.model_dump(), token=issued.secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, dependencies=MANAGE)
def revoke_token(
    request: Request, principal: PrincipalDep, token_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> TokenOut:
    """Revoke at once: the next request with it is refused (401)."""
    revoked = security(request).accounts.revoke_token(principal, token_id)
    return _token(revoked, _names(request, principal))
