"""Signing in the way a browser does: fetch the form, post it back with its token."""

from __future__ import annotations

import re

import httpx

from tests.security.in_process import InProcessClient

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: InProcessClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = _TOKEN.search(page.text)
    assert found is not None
    return found.group(1)


def sign_in(
    client: InProcessClient, username: str, password: str = PASSWORD, next_: str = "/"
) -> httpx.Response:
    data = {
        "username": username,
        "password": password,
        "csrf_token": form_token(client),
        "next": next_,
    }
    return client.post("/login", data=data)


def csrf_of(client: InProcessClient) -> str:
    """The signed-in session's CSRF token, as a page script would fetch it."""
    answer = client.get("/api/session")
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    return token
