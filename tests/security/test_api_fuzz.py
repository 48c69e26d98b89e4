"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

The app runs in this process (ASGI, no server). Each operation is called with
generated parameters and bodies by an account whose role may take the
operation's action; no answer may be a 5xx, and every answer must match the
schema the API declares for it. Bounded: ``EXAMPLES`` per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import ALLOWED, Action, Role
from tests.security.conftest import bearer
from tests.security.routes import protected_endpoints

TokenFor = Callable[[Role], str]
EXAMPLES = 25
#: Most permissive first, so each operation is called by a role that may take it.
PREFERENCE = (Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST, Role.ADMINISTRATOR, Role.READ_ONLY)
#: Fuzzed last: revoking tokens could revoke the fuzzers' own.
LAST = ("DELETE /api/tokens/{token_id}",)
CHECKS = [not_a_server_error, response_schema_conformance]


def _role_for(action: Action | None) -> Role:
    if action is None:
        return Role.PHYSICIAN
    return next(role for role in PREFERENCE if role in ALLOWED[action])


def _fuzz(operation: Any, headers: dict[str, str]) -> int:
    """Call the operation with up to ``EXAMPLES`` generated requests; how many were made."""
    calls = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)
        calls.append(1)

    run()
    return len(calls)


def test_no_generated_request_gets_a_server_error_or_an_answer_off_its_schema(
    stocked: Clinic, app: FastAPI, token_for: TokenFor
) -> None:
    tokens = {role: bearer(token_for(role)) for role in PREFERENCE}
    actions = {str(e): e.action for e in protected_endpoints(app)}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: f"{op.method.upper()} {op.path}" in LAST)
    assert len(operations) >= 20
    calls = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        calls[label] = _fuzz(operation, tokens[_role_for(actions.get(label))])
    assert all(count >= 1 for count in calls.values()), calls
    assert sum(calls.values()) >= 5 * len(calls)
