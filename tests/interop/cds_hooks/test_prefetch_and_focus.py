"""Reading a hook call: what the prefetch holds, what is missing, what the call is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from natalizumab_cds.bootstrap import active_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.cds_hooks.discovery import PREFETCH
from natalizumab_cds.interop.cds_hooks.focus import focus_of
from natalizumab_cds.interop.cds_hooks.prefetch import Record, read_prefetch
from natalizumab_cds.interop.cds_hooks.wire import AppointmentBookContext, Hook, OrderSignContext
from tests.interop.cds_hooks.hooks import (
    a_natalizumab_order,
    a_record,
    a_searchset,
    an_unrelated_order,
    prefetch_of,
)

RECORD = a_record("pregnant")


def test_a_complete_prefetch_leaves_nothing_to_fetch() -> None:
    record = Record("p0")

    pending = read_prefetch(prefetch_of(RECORD), record)

    assert pending == {}
    assert len(record.resources()) == len(RECORD)


def test_every_key_left_out_is_to_be_fetched_with_its_rendered_query() -> None:
    pending = read_prefetch(
        prefetch_of(RECORD, leave_out=("patient", "detectedIssues")), Record("p0")
    )

    assert pending == {
        "patient": "Patient/p0",
        "detectedIssues": "DetectedIssue?patient=p0&code=urn:natalizumab-cds:rule|",
    }


def test_no_prefetch_at_all_means_every_key_is_to_be_fetched() -> None:
    assert set(read_prefetch(None, Record("p0"))) == set(PREFETCH)


def test_the_same_resource_from_two_searches_counts_once() -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "natalizumab"}}
    prefetch = prefetch_of(RECORD)
    for key in ("medicationRequests", "medicationAdministrations"):
        prefetch[key]["entry"].append({"resource": medication, "search": {"mode": "include"}})
    record = Record("p0")

    read_prefetch(prefetch, record)

    assert sum(1 for r in record.resources() if r["resourceType"] == "Medication") == 1


def test_an_incomplete_searchset_is_continued_from_its_next_link() -> None:
    prefetch = prefetch_of(RECORD)
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": "https://ehr/fhir/Observation?page=2"}
    ]

    pending = read_prefetch(prefetch, Record("p0"))

    assert pending == {"observations": "https://ehr/fhir/Observation?page=2"}


def test_search_warnings_in_a_searchset_are_allowed() -> None:
    prefetch = prefetch_of(RECORD)
    warning = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}
    prefetch["conditions"] = a_searchset([warning])

    assert read_prefetch(prefetch, Record("p0")) == {}


def draft(*orders: dict[str, Any]) -> OrderSignContext:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
    return OrderSignContext.model_validate({"patientId": "p0", "draftOrders": bundle})


def test_a_natalizumab_order_is_assessed_at_its_earliest_planned_time() -> None:
    early, late = datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 29, 8, tzinfo=UTC)
    context = draft(
        a_natalizumab_order("p0", late, id="a"), a_natalizumab_order("p0", early, id="b")
    )

    focus = focus_of(Hook.ORDER_SIGN, context, active_protocol())

    assert focus.concerns_natalizumab
    assert focus.planned == early


@pytest.mark.parametrize(
    "medication",
    [
        {"medicationCodeableConcept": {"text": "TYSABRI 300 mg/15 mL"}},
        {
            "medicationReference": {"reference": "#med", "display": "an infusion"},
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "med",
                    "code": {
                        "coding": [
                            {
                                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                "code": "354770",
                            }
                        ]
                    },
                }
            ],
        },
        {"medicationReference": {"display": "Natalizumab"}},
    ],
)
def test_a_natalizumab_order_is_recognised_by_code_text_or_referenced_medication(
    medication: dict[str, Any],
) -> None:
    order = {"resourceType": "MedicationRequest", "id": "o1", "status": "draft", **medication}

    assert focus_of(Hook.ORDER_SIGN, draft(order), active_protocol()).concerns_natalizumab


def test_a_natalizumab_infusion_service_request_counts_with_its_occurrence() -> None:
    when = datetime(2026, 12, 3, 10, tzinfo=UTC)
    order = {
        "resourceType": "ServiceRequest",
        "id": "s1",
        "code": {"text": "Natalizumab infusion"},
        "occurrenceDateTime": when.isoformat(),
    }

    focus = focus_of(Hook.ORDER_SIGN, draft(order), active_protocol())

    assert focus.planned == when


def test_an_order_for_something_else_does_not_concern_natalizumab() -> None:
    focus = focus_of(Hook.ORDER_SIGN, draft(an_unrelated_order("p0")), active_protocol())

    assert not focus.concerns_natalizumab


def test_a_malformed_draft_order_is_a_bad_request() -> None:
    order = {
        "resourceType": "MedicationRequest",
        "id": "o1",
        "medicationCodeableConcept": {"coding": "x"},
    }

    with pytest.raises(
        InvalidInput, match=r"MedicationRequest/o1: medicationCodeableConcept\.coding"
    ):
        focus_of(Hook.ORDER_SIGN, draft(order), active_protocol())


def test_an_appointment_is_assessed_at_its_start() -> None:
    start = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    appointment = {"resourceType": "Appointment", "id": "a1", "start": start.isoformat()}
    context = AppointmentBookContext.model_validate(
        {
            "patientId": "p0",
            "appointments": {"resourceType": "Bundle", "entry": [{"resource": appointment}]},
        }
    )

    assert focus_of(Hook.APPOINTMENT_BOOK, context, active_protocol()).planned == start
