"""``POST /fhir``: import a FHIR R4 Bundle (or one resource), all or nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import require
from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.api.schemas import ImportOut
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.domain.errors import InvalidInput

router = APIRouter(tags=["fhir"])

#: Bundles bigger than this are refused before they are read (a ten-year record is ~1 MB).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "/fhir",
    response_model=ImportOut,
    openapi_extra=_BODY,
    dependencies=[require(Action.IMPORT_RECORDS)],
)
async def import_bundle(clinic: ClinicDep, request: Request) -> ImportOut:
    """Store a Bundle's resources in the patients' records and reassess them.

    The same resource twice is one record; changed content is a new version.
    An invalid bundle is refused whole (422 naming the resource and field).
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BUNDLE_BYTES:
        raise InvalidInput(f"body: larger than {MAX_BUNDLE_BYTES} bytes")
    body = await request.body()
    if not body.strip():
        raise InvalidInput("body: empty; expected a FHIR Bundle or resource (JSON)")
    if len(body) > MAX_BUNDLE_BYTES:
        raise InvalidInput(f"body: larger than {MAX_BUNDLE_BYTES} bytes")
    report = await run_in_threadpool(clinic.importer.one, body)
    return ImportOut.of(report)
