"""``POST /hl7``: one HL7 v2 ORU^R01 lab message per request, answered with its ACK.

The body is the message in ER7 (pipes and hats), UTF-8 unless MSH-18 says
ISO 8859-1; any content type is accepted (``text/plain``,
``application/hl7-v2``, ``x-application/hl7-v2+er7``). The answer is the ACK as
text: HTTP 200 for ``AA`` and ``AE`` (the message was received: applied, or
kept as a dead letter with the reason), 400 for ``AR`` (not a message we take;
also kept). A body over ``NTZ_MAX_MESSAGE_BYTES`` is not read further and is
answered ``AR``. The semantics are the MLLP listener's (docs/hl7.md); the
caller needs the ``record-lab-results`` permission (an API token for the lab
system), and the results are audited under it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from natalizumab_cds import bootstrap
from natalizumab_cds.api.access import require
from natalizumab_cds.application.lab_messages import AckCode
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.interop.hl7v2 import Hl7Endpoint

router = APIRouter(tags=["hl7"])
ACK_TYPE = "text/plain; charset=utf-8"
RECORD = require(Action.RECORD_LAB_RESULTS)


def hl7_endpoint(request: Request, principal: Annotated[Principal, RECORD]) -> Hl7Endpoint:
    """The lab feed for the caller (tests may override it)."""
    return bootstrap.hl7_endpoint(request.app.state.clinic, principal)


EndpointDep = Annotated[Hl7Endpoint, Depends(hl7_endpoint)]
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "One HL7 v2.5.1 ORU^R01 message, segments separated by CR",
    }
}
_ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"description": "ACK with MSA-1 AA or AE", "content": {"text/plain": {}}},
    400: {
        "description": "ACK with MSA-1 AR (kept as a dead letter)",
        "content": {"text/plain": {}},
    },
}


@router.post(
    "/hl7", response_class=Response, responses=_ANSWERS, openapi_extra=_BODY, dependencies=[RECORD]
)
async def receive_hl7(request: Request, endpoint: EndpointDep) -> Response:
    """Apply one lab message; the ACK is sent only after its results are committed."""
    limit = endpoint.max_message_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            ack, text = await run_in_threadpool(
                endpoint.refuse_oversized, bytes(body[:limit]), limit
            )
            break
    else:
        ack, text = await run_in_threadpool(endpoint.receive, bytes(body))
    status = 400 if ack.code is AckCode.REJECT else 200
    return Response(text, status_code=status, media_type=ACK_TYPE)
