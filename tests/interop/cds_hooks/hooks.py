"""Builders of CDS Hooks requests around synthetic patients (all records here are synthetic).

``a_record("pediatric")`` is a synthetic patient's resources made so that the
scenario's rule fires at ``ANCHOR``; ``prefetch_of(record)`` splits them into
the service's prefetch keys as an EHR would; ``an_order_sign(record)`` is the
hook call for signing a natalizumab infusion planned at ``ANCHOR``.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from natalizumab_cds.interop.cds_hooks.discovery import PREFETCH
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient

JSON = dict[str, Any]
ANCHOR = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SEED = 11
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

KEY_OF_TYPE = {
    "Patient": "patient",
    "Observation": "observations",
    "Condition": "conditions",
    "AllergyIntolerance": "allergies",
    "MedicationStatement": "medicationStatements",
    "MedicationRequest": "medicationRequests",
    "MedicationAdministration": "medicationAdministrations",
    "DetectedIssue": "detectedIssues",
}


def a_record(scenario: str, index: int = 0) -> list[JSON]:
    bundle = synthesize_patient(index, SEED, ANCHOR, scenario)
    return [entry["resource"] for entry in bundle["entry"]]


def patient_of(record: list[JSON]) -> str:
    return next(str(r["id"]) for r in record if r["resourceType"] == "Patient")


def a_searchset(resources: list[JSON]) -> JSON:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in resources],
    }


def prefetch_of(record: list[JSON], leave_out: tuple[str, ...] = ()) -> JSON:
    """Every prefetch key filled from the record (empty searchsets too), minus ``leave_out``."""
    grouped: dict[str, list[JSON]] = {key: [] for key in PREFETCH}
    for resource in copy.deepcopy(record):
        grouped[KEY_OF_TYPE[resource["resourceType"]]].append(resource)
    prefetch: JSON = {key: a_searchset(resources) for key, resources in grouped.items()}
    prefetch["patient"] = grouped["patient"][0]
    for key in leave_out:
        del prefetch[key]
    return prefetch


def a_natalizumab_order(
    patient: str, planned: datetime | None = ANCHOR, id: str = "draft-1"
) -> JSON:
    order: JSON = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "354770", "display": "natalizumab"}],
            "text": "Natalizumab 300 mg IV",
        },
        "subject": {"reference": f"Patient/{patient}"},
    }
    if planned is not None:
        order["dosageInstruction"] = [{"timing": {"event": [planned.isoformat()]}}]
    return order


def an_unrelated_order(patient: str) -> JSON:
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-paracetamol",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "161", "display": "acetaminophen"}]
        },
        "subject": {"reference": f"Patient/{patient}"},
    }


def a_hook_call(
    hook: str,
    record: list[JSON],
    *,
    context: JSON | None = None,
    prefetch: JSON | None = None,
    fhir_server: str | None = None,
    access_token: str | None = None,
) -> JSON:
    patient = patient_of(record)
    call: JSON = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/neuro-1", "patientId": patient, **(context or {})},
        "prefetch": prefetch_of(record) if prefetch is None else prefetch,
    }
    if fhir_server is not None:
        call["fhirServer"] = fhir_server
    if access_token is not None:
        call["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "ntz-cds",
        }
    return call


def an_order_sign(record: list[JSON], *, planned: datetime | None = ANCHOR, **options: Any) -> JSON:
    order = a_natalizumab_order(patient_of(record), planned)
    draft = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
    return a_hook_call("order-sign", record, context={"draftOrders": draft}, **options)


def a_patient_view(record: list[JSON], **options: Any) -> JSON:
    return a_hook_call("patient-view", record, **options)


def an_appointment_book(record: list[JSON], start: datetime = ANCHOR, **options: Any) -> JSON:
    appointment = {
        "resourceType": "Appointment",
        "id": "appt-1",
        "status": "proposed",
        "start": start.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{patient_of(record)}"}, "status": "needs-action"}
        ],
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": appointment}]}
    return a_hook_call("appointment-book", record, context={"appointments": bundle}, **options)
