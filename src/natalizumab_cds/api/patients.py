"""Patients: search, record, timeline, assessment, schedule and clinicians' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from natalizumab_cds.api.access import current_principal, require, require_chosen
from natalizumab_cds.api.dependencies import ClinicDep, aware
from natalizumab_cds.api.schemas import (
    DecisionIn,
    DecisionOut,
    PageOut,
    PatientDetailOut,
    PatientOut,
    ResourceOut,
    SummaryOut,
)
from natalizumab_cds.application.records import DecisionKind
from natalizumab_cds.application.report import assessment_to_dict, schedule_entry_to_dict
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.domain.errors import InvalidInput

Caller = Annotated[Principal, Depends(current_principal)]

router = APIRouter(prefix="/api/patients", tags=["patients"])
READ = require(Action.READ_PATIENT)


async def _decision_action(request: Request) -> Action:
    """Acknowledging a caution and overriding a finding are different permissions."""
    try:
        kind = (await request.json()).get("kind")
    except (ValueError, AttributeError):
        kind = None
    if kind == DecisionKind.ACKNOWLEDGE.value:
        return Action.ACKNOWLEDGE_CAUTION
    return Action.OVERRIDE_FINDING  # the stricter one when the body does not say


At = Annotated[
    datetime | None,
    Query(description="Moment assessed, ISO 8601 (no offset = UTC); default now"),
]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="1 = first page")]
PageSize = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=PageOut[PatientOut], dependencies=[READ])
def search_patients(
    clinic: ClinicDep,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name or MRN")] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[PatientOut]:
    """Patients whose name contains ``q`` or whose MRN starts with it, by name."""
    found = clinic.patients.search(q, page, size)
    return PageOut(
        items=[PatientOut.of(p) for p in found.items],
        page=found.page,
        size=found.size,
        total=found.total,
    )


@router.get("/{patient_id}", response_model=PatientDetailOut, dependencies=[READ])
def patient(clinic: ClinicDep, patient_id: str) -> PatientDetailOut:
    """The patient and the summary the worklist shows for them."""
    entry, summary = clinic.patients.patient(patient_id)
    next_due = (
        next((d.due for d in summary.dues if d.item == "infusion"), None) if summary else None
    )
    base = PatientOut.of_entry(entry, summary.decision if summary else None, next_due)
    return PatientDetailOut(
        **base.model_dump(),
        record_version=entry.version,
        summary=SummaryOut.of(summary) if summary else None,
    )


@router.get("/{patient_id}/timeline", response_model=PageOut[ResourceOut], dependencies=[READ])
def timeline(
    clinic: ClinicDep,
    patient_id: str,
    resource_types: Annotated[
        list[str] | None,
        Query(alias="type", description="Only these resource types (repeatable)"),
    ] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[ResourceOut]:
    """The stored FHIR resources, newest clinical date first."""
    found = clinic.patients.timeline(patient_id, resource_types or (), page, size)
    return PageOut(
        items=[ResourceOut.of(r) for r in found.items],
        page=found.page,
        size=found.size,
        total=found.total,
    )


@router.get("/{patient_id}/assessment", response_class=JSONResponse, dependencies=[READ])
def assessment(clinic: ClinicDep, patient_id: str, at: At = None) -> dict[str, Any]:
    """The assessment at ``at``: exactly the JSON of ``ntz assess --format json``."""
    return assessment_to_dict(clinic.patients.assessment(patient_id, aware(at)))


@router.get("/{patient_id}/schedule", response_class=JSONResponse, dependencies=[READ])
def schedule(clinic: ClinicDep, patient_id: str, at: At = None) -> dict[str, Any]:
    """The monitoring schedule at ``at``: each item's last done, due date and status."""
    result = clinic.patients.assessment(patient_id, aware(at))
    return {
        "patient": result.patient,
        "at": result.at.isoformat(),
        "monitoring": [schedule_entry_to_dict(e) for e in result.monitoring],
    }


@router.post(
    "/{patient_id}/decisions",
    status_code=201,
    response_model=DecisionOut,
    dependencies=[require_chosen(_decision_action)],
)
def record_decision(
    clinic: ClinicDep, patient_id: str, body: DecisionIn, caller: Caller
) -> DecisionOut:
    """Acknowledge a caution, or override an overridable rule (a reason is required).

    The decision is recorded under the signed-in account, never a name typed in.
    409 when the rule does not fire as that kind of finding now; 422 when the rule
    cannot be overridden at all, or when ``author`` names someone else.
    """
    if body.author is not None and body.author != caller.username:
        raise InvalidInput(
            f"author: decisions are recorded under the signed-in account "
            f"'{caller.username}', not '{body.author}'"
        )
    decision = clinic.decisions.record(
        patient_id, DecisionKind(body.kind), body.rule, caller.username, body.reason
    )
    return DecisionOut.of(decision)


@router.get("/{patient_id}/decisions", response_model=list[DecisionOut], dependencies=[READ])
def decisions(clinic: ClinicDep, patient_id: str) -> list[DecisionOut]:
    """Every acknowledgement and override in the patient's record, newest first."""
    return [DecisionOut.of(d) for d in clinic.decisions.listed(patient_id)]
