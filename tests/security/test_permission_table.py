"""The permission table, cell by cell: every role × every action, allowed and refused.

The expected table is written out here independently of the code, so changing
who may do what means changing this test too (and docs/security.md).
"""

from __future__ import annotations

import pytest

from natalizumab_cds.application.security.errors import Forbidden
from natalizumab_cds.application.security.permissions import (
    ALLOWED,
    Action,
    Principal,
    Role,
    allowed,
)

P, N, PH, A, R = "physician", "nurse", "pharmacist", "administrator", "read-only"

EXPECTED: dict[str, set[str]] = {
    "read-patient-record": {P, N, PH, R},
    "read-worklist": {P, N, PH, R},
    "import-records": {P, N, A},
    "record-lab-results": {P, N},
    "record-clinical-results": {P, N},
    "resolve-lab-messages": {P, N},
    "record-screening": {P, N},
    "withdraw-screening-hold": {P},
    "record-administration": {P, N},
    "record-observation": {P, N},
    "record-reaction": {P, N},
    "prepare-infusion": {PH},
    "check-preparation": {PH, N},
    "acknowledge-caution": {P, N},
    "override-finding": {P},
    "export-fhir": {P, N},
    "send-cds-feedback": {P, N, PH},
    "manage-users": {A},
    "read-audit": {A},
    "verify-audit": {A},
}

CELLS = [(role, action) for action in Action for role in Role]


def test_the_table_names_every_action_and_no_other() -> None:
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in ALLOWED}


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r}-{a}" for r, a in CELLS])
def test_each_role_is_allowed_exactly_the_actions_of_the_table(role: Role, action: Action) -> None:
    principal = Principal(1, "someone", role)
    if role.value in EXPECTED[action.value]:
        assert allowed(role, action)
        principal.require(action)  # does not raise
    else:
        assert not allowed(role, action)
        with pytest.raises(Forbidden) as refused:
            principal.require(action)
        assert refused.value.action == action.value
        assert action.value in str(refused.value)


def test_only_a_physician_may_override_a_finding() -> None:
    assert ALLOWED[Action.OVERRIDE_FINDING] == {Role.PHYSICIAN}


def test_the_administrator_manages_accounts_and_the_audit_but_reads_no_patient() -> None:
    admin_actions = {a for a in Action if allowed(Role.ADMINISTRATOR, a)}
    assert admin_actions == {
        Action.MANAGE_USERS,
        Action.READ_AUDIT,
        Action.VERIFY_AUDIT,
        Action.IMPORT_RECORDS,
    }


def test_read_only_may_only_read() -> None:
    assert {a for a in Action if allowed(Role.READ_ONLY, a)} == {
        Action.READ_PATIENT,
        Action.READ_WORKLIST,
    }
