"""``GET /api/patients/{id}/fhir``: the patient's record and assessment as a FHIR R4 Bundle.

The body is ``application/fhir+json``: a ``collection`` Bundle with the record
as received, the decision (GuidanceResponse), the findings (DetectedIssue), the
monitoring plan (CarePlan) and proposed lab orders (ServiceRequest); see
docs/fhir-export.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Response

from natalizumab_cds import bootstrap
from natalizumab_cds.api.access import require
from natalizumab_cds.api.dependencies import ClinicDep, aware
from natalizumab_cds.application.exporting import PatientExports
from natalizumab_cds.application.security.permissions import Action

FHIR_JSON = "application/fhir+json"

router = APIRouter(prefix="/api/patients", tags=["fhir"])


def patient_exports(clinic: ClinicDep) -> PatientExports:
    """The export use case over the app's clinic (tests may override it)."""
    return bootstrap.patient_exports(clinic)


ExportsDep = Annotated[PatientExports, Depends(patient_exports)]
At = Annotated[
    datetime | None,
    Query(description="Moment assessed, ISO 8601 (no offset = UTC); default now"),
]
_BUNDLE = {
    200: {
        "description": "A FHIR R4 Bundle of type collection",
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
    }
}


@router.get(
    "/{patient_id}/fhir",
    response_class=Response,
    responses=_BUNDLE,  # type: ignore[arg-type]
    dependencies=[require(Action.EXPORT_FHIR)],
)
def export_patient(exports: ExportsDep, patient_id: str, at: At = None) -> Response:
    """The stored record, unchanged, with the decision, findings and plan at ``at``."""
    bundle = exports.export_patient(patient_id, aware(at))
    return Response(orjson.dumps(bundle), media_type=FHIR_JSON)
