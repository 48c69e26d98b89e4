"""CDS Hooks over HTTP with bad bodies: a clear 400 (or 413), never a 500; and feedback.

Ends with a Hypothesis fuzz of the request body: whatever an authenticated EHR
sends, the service answers below 500.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from natalizumab_cds.application.cds_hooks import FeedbackOutcome
from tests.interop.cds_hooks.harness import Cds, running_cds
from tests.interop.cds_hooks.hooks import a_hook_call, a_record, an_order_sign, prefetch_of
from tests.interop.cds_hooks.signing import EhrKeys

RECORD = a_record("pregnant")


@pytest.fixture(scope="module")
def cds() -> Iterator[Cds]:
    with running_cds(EhrKeys(), max_body_bytes=2_000_000) as harness:
        yield harness


def assert_bad_request(response: Any, mentions: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert mentions in response.json()["detail"]


def with_change(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    call = copy.deepcopy(an_order_sign(RECORD))
    node: Any = call
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return call


def test_a_body_that_is_not_json_is_400_naming_the_problem(cds: Cds) -> None:
    assert_bad_request(cds.call(b'{"hook": "order-sign",'), "not valid JSON")


@pytest.mark.parametrize(
    ("path", "value", "mentions"),
    [
        (("hook",), "encounter-discharge", "hook 'encounter-discharge' is not served here"),
        (("hookInstance",), 42, "hookInstance"),
        (("context",), "Patient/p0", "context"),
        (("context", "patientId"), "not a valid id!", "patientId"),
        (("context", "draftOrders"), {"resourceType": "Patient"}, "draftOrders.resourceType"),
        (("context", "draftOrders", "entry"), [{"resource": "x"}], "draftOrders"),
        (("prefetch", "patient"), "Patient/p0", "prefetch.patient"),
        (("prefetch", "patient"), {"resourceType": "Observation", "id": "p0"}, "prefetch.patient"),
        (("prefetch", "patient", "id"), "someone-else", "is not the context's patient"),
        (
            ("prefetch", "conditions"),
            {"resourceType": "Condition", "id": "c"},
            "prefetch.conditions",
        ),
        (("prefetch", "conditions", "entry"), "x", "prefetch.conditions: Bundle.entry"),
        (("fhirAuthorization",), {"access_token": "t"}, "fhirServer"),
    ],
)
def test_a_request_with_the_wrong_shape_or_fhir_type_is_400_naming_the_field(
    cds: Cds, path: tuple[str | int, ...], value: Any, mentions: str
) -> None:
    assert_bad_request(cds.call(with_change(path, value)), mentions)


def test_a_searchset_holding_resources_of_another_type_is_400(cds: Cds) -> None:
    prefetch = prefetch_of(RECORD)
    prefetch["conditions"]["entry"] = prefetch["observations"]["entry"][:1]

    response = cds.call(an_order_sign(RECORD, prefetch=prefetch))

    assert_bad_request(response, "prefetch.conditions: entry[0] has resourceType 'Observation'")


def test_a_malformed_resource_in_the_record_is_400_naming_the_resource_and_field(cds: Cds) -> None:
    prefetch = prefetch_of(RECORD)
    observation = prefetch["observations"]["entry"][0]["resource"]
    observation["effectiveDateTime"] = "yesterday"

    response = cds.call(an_order_sign(RECORD, prefetch=prefetch))

    assert_bad_request(response, f"Observation/{observation['id']}")


def test_a_draft_order_with_an_unreadable_planned_time_is_400(cds: Cds) -> None:
    call = an_order_sign(RECORD)
    order = call["context"]["draftOrders"]["entry"][0]["resource"]
    order["dosageInstruction"][0]["timing"]["event"] = ["next tuesday"]

    assert_bad_request(cds.call(call), "MedicationRequest/draft-1")


def test_errors_are_operation_outcomes_for_a_client_that_asks_for_fhir_json(cds: Cds) -> None:
    response = cds.call(b"[]", Accept="application/fhir+json")

    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "invalid"


def test_an_oversized_body_is_413(cds: Cds) -> None:
    response = cds.call(b" " * 2_000_001)

    assert response.status_code == 413


def test_accepted_and_overridden_feedback_is_recorded_with_the_reason(cds: Cds) -> None:
    cards = cds.call(an_order_sign(RECORD)).json()["cards"]
    pregnancy = next(c for c in cards if "overrideReasons" in c)
    summary = cards[0]
    reason = pregnancy["overrideReasons"][0]
    body = {
        "feedback": [
            {
                "card": pregnancy["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "discussed with the patient"},
                "outcomeTimestamp": "2026-11-24T09:05:00Z",
            },
            {
                "card": summary["uuid"],
                "outcome": "accepted",
                "outcomeTimestamp": "2026-11-24T09:06:00+01:00",
            },
        ]
    }

    response = cds.send_feedback(body)

    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 2}
    [overridden] = cds.feedback_log.for_card(pregnancy["uuid"])
    assert overridden.outcome is FeedbackOutcome.OVERRIDDEN
    assert overridden.override_code == reason["code"]
    assert overridden.user_comment == "discussed with the patient"
    assert overridden.client == "https://ehr.example.org"
    [accepted] = cds.feedback_log.for_card(summary["uuid"])
    assert accepted.outcome is FeedbackOutcome.ACCEPTED
    assert accepted.outcome_at.utcoffset() is not None


@pytest.mark.parametrize(
    "body",
    [
        {"feedback": []},
        {
            "feedback": [
                {"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-11-24T09:00:00Z"}
            ]
        },
        {
            "feedback": [
                {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-24T09:00:00"}
            ]
        },
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-11-24T09:00:00Z"}]},
    ],
)
def test_feedback_that_is_not_valid_is_400_and_stores_nothing(cds: Cds, body: Any) -> None:
    before = len(cds.feedback_log.items)

    response = cds.send_feedback(body)

    assert_bad_request(response, "feedback request")
    assert len(cds.feedback_log.items) == before


# --- fuzz ---------------------------------------------------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS_OF_A_CALL = st.sampled_from(
    [
        ("hook",),
        ("hookInstance",),
        ("context",),
        ("context", "patientId"),
        ("context", "draftOrders"),
        ("context", "draftOrders", "entry"),
        ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction"),
        ("context", "draftOrders", "entry", 0, "resource", "medicationCodeableConcept"),
        ("prefetch",),
        ("prefetch", "patient"),
        ("prefetch", "patient", "birthDate"),
        ("prefetch", "observations"),
        ("prefetch", "observations", "entry"),
        ("prefetch", "observations", "entry", 0, "resource", "valueQuantity"),
        ("prefetch", "observations", "entry", 0, "resource", "code"),
        ("prefetch", "observations", "link"),
        ("prefetch", "medicationAdministrations", "entry", 0, "resource"),
        ("fhirServer",),
        ("fhirAuthorization",),
    ]
)
BODIES = (
    st.binary(max_size=200)
    | JSON_VALUES.map(lambda value: value)
    | st.tuples(FIELDS_OF_A_CALL, JSON_VALUES).map(lambda change: with_change(*change))
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES)
def test_no_request_body_makes_the_service_fail_with_a_5xx(cds: Cds, body: Any) -> None:
    response = cds.call(body)

    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 412), response.text


def test_an_unrelated_hook_call_with_extensions_is_answered(cds: Cds) -> None:
    call = a_hook_call("patient-view", RECORD, context={"com.example.extra": {"x": 1}})
    call["extension"] = {"com.example.trace": "abc"}

    assert cds.call(call).status_code == 200
