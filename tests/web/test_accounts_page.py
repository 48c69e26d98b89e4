"""``/accounts``: administrators manage accounts and API tokens from the web app.

Each test makes accounts of its own (``acct-…``): the session's ``web-*``
accounts are shared by every web test and stay as they are.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI

from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.service import Security
from tests.security.browser import sign_in
from tests.security.in_process import InProcessClient
from tests.web.conftest import USERS, SignedIn, page_csrf

NEW_PASSWORD = "a long enough passphrase"
ADMIN = operator("accounts-page-test")


def _post(client: InProcessClient, path: str, **data: str) -> object:
    return client.post(path, data={"csrf_token": page_csrf(client, "/accounts"), **data})


def _add(client: InProcessClient, username: str, role: Role = Role.NURSE) -> None:
    answer = _post(
        client,
        "/accounts",
        username=username,
        role=role.value,
        password=NEW_PASSWORD,
        again=NEW_PASSWORD,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/accounts?done=added&name={username}")


def _signs_in(app: FastAPI, username: str, password: str) -> bool:
    with InProcessClient(app) as client:
        return sign_in(client, username, password).status_code == 303


def _field_error(text: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">([^<]*)<', text)
    assert found is not None, f"no message beside {field_id}"
    return found.group(1)


def test_the_administrator_starts_on_accounts_and_sees_only_their_pages(
    signed_in: SignedIn,
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    home = admin.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/accounts")
    page = admin.get("/accounts").text
    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    links = set(re.findall(r'href="([^"]+)"', nav))
    assert {"/accounts", "/audit"} <= links
    assert not links & {"/", "/infusion-day", "/safety-report", "/lab-messages"}
    for role in Role:
        assert f'<td data-label="Role">{role.value}</td>' in page  # one account per role
    nurse_header = signed_in(Role.NURSE).get("/").text
    assert 'href="/accounts"' not in nurse_header[: nurse_header.index("</nav>")]


def test_an_account_added_on_the_page_can_sign_in_with_its_first_password(
    signed_in: SignedIn, web_app: FastAPI
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    _add(admin, "acct-nadia", Role.NURSE)
    listed = admin.get("/accounts?done=added&name=acct-nadia").text
    assert "Account acct-nadia added." in listed
    row = listed[listed.index('id="account-acct-nadia"') :]
    assert '<td data-label="Role">nurse</td>' in row[: row.index("</tr>")]
    assert _signs_in(web_app, "acct-nadia", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"password": NEW_PASSWORD, "again": NEW_PASSWORD + "x"}, "again", "differ"),
        ({"password": "short", "again": "short"}, "password", "at least 12 characters"),
        ({"role": ""}, "role", "Choose the role"),
        ({"username": "Not Valid!"}, "username", "lower-case letters"),
        ({"username": USERS[Role.NURSE]}, "username", "is taken"),
    ],
)
def test_a_refused_account_says_why_beside_the_field_and_keeps_what_was_typed(
    signed_in: SignedIn, web_security: Security, form: dict[str, str], field: str, message: str
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    before = {a.username for a in web_security.accounts.listed(ADMIN)}
    data = {"username": "acct-refused", "role": "physician", "password": NEW_PASSWORD}
    data |= {"again": data["password"]} | form
    answer = _post(admin, "/accounts", **data)
    assert answer.status_code == 422
    assert message in _field_error(answer.text, f"add-{field}")
    assert f'value="{data["username"]}"' in answer.text
    assert NEW_PASSWORD not in answer.text  # a password is never echoed back
    assert {a.username for a in web_security.accounts.listed(ADMIN)} == before


def test_disabling_signs_the_person_out_and_enabling_lets_them_back_in(
    signed_in: SignedIn, web_app: FastAPI
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    _add(admin, "acct-dora", Role.NURSE)
    with InProcessClient(web_app) as dora:
        assert sign_in(dora, "acct-dora", NEW_PASSWORD).status_code == 303
        assert dora.get("/").status_code == 200
        answer = _post(admin, "/accounts/acct-dora/active", active="no")
        assert answer.status_code == 303
        assert "Account acct-dora disabled" in admin.get(answer.headers["location"]).text
        assert dora.get("/").status_code == 303  # her session is gone: back to sign-in
    assert not _signs_in(web_app, "acct-dora", NEW_PASSWORD)
    assert _post(admin, "/accounts/acct-dora/active", active="yes").status_code == 303
    assert _signs_in(web_app, "acct-dora", NEW_PASSWORD)


def test_the_last_active_administrator_cannot_be_disabled(signed_in: SignedIn) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    me = USERS[Role.ADMINISTRATOR]
    answer = _post(admin, f"/accounts/{me}/active", active="no")
    assert answer.status_code == 409
    assert "last active administrator" in answer.text
    assert admin.get("/accounts").status_code == 200  # still signed in, still active


def test_a_new_password_replaces_the_old_one(signed_in: SignedIn, web_app: FastAPI) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    _add(admin, "acct-pia", Role.PHARMACIST)
    mismatch = _post(
        admin, "/accounts/acct-pia/password", password="another passphrase", again="another"
    )
    assert mismatch.status_code == 422
    assert "differ" in _field_error(mismatch.text, "acct-pia-again")
    assert _signs_in(web_app, "acct-pia", NEW_PASSWORD)
    changed = _post(
        admin,
        "/accounts/acct-pia/password",
        password="another passphrase",
        again="another passphrase",
    )
    assert changed.status_code == 303
    assert not _signs_in(web_app, "acct-pia", NEW_PASSWORD)
    assert _signs_in(web_app, "acct-pia", "another passphrase")


def test_a_token_is_shown_once_works_for_its_system_and_stops_when_revoked(
    signed_in: SignedIn, web_app: FastAPI
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    _add(admin, "acct-lab", Role.NURSE)
    issued = _post(admin, "/accounts/tokens", username="acct-lab", name="lab interface")
    assert issued.status_code == 201
    assert "only time it is shown" in issued.text
    secret = re.search(r'id="issued-secret" value="(ntz_[^"]+)"', issued.text)
    assert secret is not None
    token_id = re.search(r"Token (\d+) issued to acct-lab for lab interface", issued.text)
    assert token_id is not None
    bearer = {"authorization": f"Bearer {secret.group(1)}"}
    with InProcessClient(web_app) as system:
        assert system.get("/api/worklist", headers=bearer).status_code == 200
        listed = admin.get("/accounts").text
        assert secret.group(1) not in listed  # never shown again
        assert f"{secret.group(1)[:12]}…" in listed
        answer = _post(admin, f"/accounts/tokens/{token_id.group(1)}/revoke")
        assert answer.status_code == 303
        assert system.get("/api/worklist", headers=bearer).status_code == 401
    row = admin.get("/accounts").text.split(f'id="token-{token_id.group(1)}"')[1]
    assert "revoked" in row[: row.index("</tr>")]


def test_a_token_needs_an_account_and_a_name(signed_in: SignedIn) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    no_account = _post(admin, "/accounts/tokens", username="", name="lab interface")
    assert no_account.status_code == 422
    assert "Choose the account" in _field_error(no_account.text, "token-username")
    no_name = _post(admin, "/accounts/tokens", username=USERS[Role.NURSE], name="  ")
    assert no_name.status_code == 422
    assert "which system uses the token" in _field_error(no_name.text, "token-name")
    unknown = _post(admin, "/accounts/tokens/999999/revoke")
    assert unknown.status_code == 404
    assert "there is no API token 999999" in unknown.text
    nobody = _post(admin, "/accounts/acct-nobody/active", active="no")
    assert nobody.status_code == 404
    assert "there is no user &#39;acct-nobody&#39;" in nobody.text


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMINISTRATOR])
def test_only_administrators_manage_accounts(signed_in: SignedIn, role: Role) -> None:
    client = signed_in(role)
    assert client.get("/accounts").status_code == 403
    token = page_csrf(client, "/")
    for path, data in [
        ("/accounts", {"username": "acct-sneak", "role": "administrator"}),
        (f"/accounts/{USERS[Role.NURSE]}/active", {"active": "no"}),
        ("/accounts/tokens", {"username": USERS[role], "name": "mine"}),
    ]:
        answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
