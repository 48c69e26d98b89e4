"""The audit trail for administrators: FHIR AuditEvents, and verification of the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import PrincipalDep, require, security
from natalizumab_cds.api.dependencies import aware
from natalizumab_cds.application.security.audit_verify import MAX_PAGE
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.interop.fhir.audit_event import audit_bundle

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/api/audit", tags=["audit"])
_BUNDLE = {
    200: {
        "description": "A FHIR R4 Bundle (searchset) of AuditEvent resources",
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
    }
}


class BrokenLinkOut(BaseModel):
    sequence: int
    reason: str


class VerificationOut(BaseModel):
    intact: bool
    checked: int
    last_sequence: int
    last_hash: str
    broken: BrokenLinkOut | None = None


@router.get(
    "/events",
    response_class=Response,
    responses=_BUNDLE,  # type: ignore[arg-type]
    dependencies=[require(Action.READ_AUDIT)],
)
def audit_events(
    request: Request,
    principal: PrincipalDep,
    patient: Annotated[str | None, Query(max_length=64, description="Patient id")] = None,
    since: Annotated[datetime | None, Query(description="Recorded at or after")] = None,
    until: Annotated[datetime | None, Query(description="Recorded before")] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="After this sequence number")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Response:
    """Audit records in sequence order as FHIR AuditEvents; page on with ``after``."""
    query = AuditQuery(patient, aware(since), aware(until), after, limit)
    records = security(request).audit.records(principal, query)
    return Response(orjson.dumps(audit_bundle(records)), media_type=FHIR_JSON)


@router.get("/verify", response_model=VerificationOut, dependencies=[require(Action.VERIFY_AUDIT)])
async def verify_audit(request: Request, principal: PrincipalDep) -> VerificationOut:
    """Walk the whole hash chain; name the first broken link if there is one."""
    result = await run_in_threadpool(security(request).audit.verify, principal)
    broken = result.broken
    return VerificationOut(
        intact=result.intact,
        checked=result.checked,
        last_sequence=result.last_sequence,
        last_hash=result.last_hash,
        broken=BrokenLinkOut(sequence=broken.sequence, reason=broken.reason) if broken else None,
    )
