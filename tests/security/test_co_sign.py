"""A second person's co-signature (the double check of a prepared bag), checked like a sign-in.

The use case itself, on both engines: who may co-sign, what the audit trail
keeps, and that failures count toward the same throttle as sign-ins. The API
and the pages that ask for it are tested with the infusion day.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from natalizumab_cds.application.security.audit import Outcome
from natalizumab_cds.application.security.errors import CoSignRefused
from natalizumab_cds.application.security.permissions import Action, Credential, Principal, Role
from natalizumab_cds.application.security.service import Security
from tests.security.browser import sign_in
from tests.security.conftest import ADMIN, PASSWORD
from tests.security.in_process import InProcessClient
from tests.security.test_audit_records import trail

BAG = "double check of a prepared bag"
SignUp = Callable[[str, Role], str]


def co_sign(security: Security, username: str, password: str = PASSWORD) -> Principal:
    return security.sign_in.co_sign(username, password, "192.0.2.10", Action.CHECK_PREPARATION, BAG)


def test_a_nurse_co_signs_with_her_own_password_and_no_session_is_opened(
    security: Security, sign_up: SignUp
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    principal = security.sign_in.co_sign(
        " nurse-ada ", PASSWORD, "192.0.2.10", Action.CHECK_PREPARATION, BAG
    )
    assert (principal.username, principal.role) == ("nurse-ada", Role.NURSE)
    assert principal.credential is Credential.CO_SIGNATURE
    (entry,) = [r for r in trail(security) if r.action == "co-sign"]
    assert (entry.actor, entry.role, entry.outcome) == ("nurse-ada", "nurse", Outcome.SUCCESS)
    assert entry.detail == f"{BAG} from 192.0.2.10"


@pytest.mark.parametrize(
    ("username", "password"),
    [("nurse-ada", "not her password"), ("nobody-here", PASSWORD), ("no such name!", PASSWORD)],
)
def test_a_wrong_password_or_unknown_name_is_refused_alike_and_audited(
    security: Security, sign_up: SignUp, username: str, password: str
) -> None:
    sign_up("nurse-ada", Role.NURSE)
    with pytest.raises(CoSignRefused) as refused:
        co_sign(security, username, password)
    assert str(refused.value) == (
        "checked_by: the second person was not accepted: "
        "unknown username or wrong password, or a disabled account"
    )
    (entry,) = [r for r in trail(security) if r.action == "co-sign"]
    assert entry.outcome == Outcome.MINOR_FAILURE


def test_a_disabled_account_cannot_co_sign(security: Security, sign_up: SignUp) -> None:
    sign_up("nurse-ada", Role.NURSE)
    security.accounts.set_active(ADMIN, "nurse-ada", False)
    with pytest.raises(CoSignRefused, match="wrong password, or a disabled account"):
        co_sign(security, "nurse-ada")


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.READ_ONLY, Role.ADMINISTRATOR])
def test_only_a_pharmacist_or_nurse_may_check_a_bag(
    security: Security, sign_up: SignUp, role: Role
) -> None:
    sign_up("someone", role)
    with pytest.raises(CoSignRefused, match=rf"someone \({role.value}\) may not check-preparation"):
        co_sign(security, "someone")
    refused = [
        r for r in trail(security) if r.action == "co-sign" and r.outcome == Outcome.MINOR_FAILURE
    ]
    assert [r.detail for r in refused] == [
        f"{BAG} from 192.0.2.10: the role may not check-preparation"
    ]
    sign_up("pharm-bo", Role.PHARMACIST)
    assert co_sign(security, "pharm-bo").username == "pharm-bo"


def test_failed_co_signatures_lock_the_name_for_sign_in_too(
    security: Security, sign_up: SignUp, client: InProcessClient
) -> None:
    """The field cannot be used to guess a colleague's password faster than the login page."""
    sign_up("nurse-ada", Role.NURSE)
    for _ in range(5):
        with pytest.raises(CoSignRefused, match="wrong password"):
            co_sign(security, "nurse-ada", "guess guess guess")
    with pytest.raises(CoSignRefused, match="too many failed sign-ins"):
        co_sign(security, "nurse-ada")  # even the right password
    assert sign_in(client, "nurse-ada").status_code == 429
