"""CDS Hooks 2.0 routes: discovery, the service, its feedback endpoint.

Every call to the service and its feedback endpoint must carry the EHR's signed
JWT (checked before the body is read). Errors are problem documents (or FHIR
OperationOutcomes when the client asks for FHIR JSON): 401 for the token, 400
for a body that is not a valid hook request, 412 when the patient data cannot
be had (never an all-clear), 413 for an oversized body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from natalizumab_cds import bootstrap
from natalizumab_cds.application.errors import DatabaseUnavailable
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.cds_hooks.discovery import SERVICE_ID
from natalizumab_cds.interop.cds_hooks.errors import DataUnavailable, Unauthenticated
from natalizumab_cds.interop.cds_hooks.service import CdsHooksService
from natalizumab_cds.interop.cds_hooks.wire import error_document

SERVICE_PATH = f"/cds-services/{SERVICE_ID}"
FEEDBACK_PATH = f"{SERVICE_PATH}/feedback"

router = APIRouter(tags=["CDS Hooks"])


async def cds_hooks_service(request: Request) -> CdsHooksService:
    """The service wired on the app's clinic database, made at the first call.

    ``async`` so that FastAPI calls it on the event loop: a plain function
    dependency is run in a worker thread, a hop there and back on every hook
    call (about 5 % of a call's time) for what is, after the first call, an
    attribute read. The first call builds the service (settings, engine, key
    set configuration; no network) on the loop, once. Tests replace it with
    ``app.dependency_overrides``.
    """
    service: CdsHooksService | None = getattr(request.app.state, "cds_hooks", None)
    if service is None:
        service = bootstrap.cds_hooks_service(getattr(request.app.state, "clinic", None))
        request.app.state.cds_hooks = service
    return service


Service = Depends(cds_hooks_service)


@router.get("/cds-services")
async def discover(service: CdsHooksService = Service) -> JSONResponse:
    """The services and hooks offered, with their prefetch templates (no token needed)."""
    return JSONResponse(service.discovery().wire())


@router.post(SERVICE_PATH)
async def call_service(request: Request, service: CdsHooksService = Service) -> Response:
    """Cards for one hook call: order-sign, patient-view, appointment-book (or the old alias)."""

    async def answer() -> Response:
        await service.authenticate(
            request.headers.get("authorization"), audiences(request, service.audience)
        )
        response = await service.call(await _body(request, service))
        return JSONResponse(response.wire())

    return await _answering(request, answer)


@router.post(FEEDBACK_PATH)
async def feedback(request: Request, service: CdsHooksService = Service) -> Response:
    """Record what clinicians did with the cards (accepted, or overridden with a reason)."""

    async def answer() -> Response:
        caller = await service.authenticate(
            request.headers.get("authorization"), audiences(request, service.audience)
        )
        stored = await service.feedback(await _body(request, service), caller)
        return JSONResponse({"stored": stored})

    return await _answering(request, answer)


def audiences(request: Request, configured: str) -> list[str]:
    """The ``aud`` values accepted: the service's base URL or the URL of the endpoint called.

    The base is the configured audience (the URL the EHR registered, which a
    proxy may hide from us), else the URL this request reached.
    """
    base = (configured or str(request.base_url)).rstrip("/")
    endpoint = base + request.url.path
    accepted = [base, endpoint]
    if request.url.path == FEEDBACK_PATH:
        accepted.append(base + SERVICE_PATH)  # some EHRs sign feedback for the service URL
    return accepted


class _TooLarge(Exception):
    pass


async def _body(request: Request, service: CdsHooksService) -> bytes:
    limit = service.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


async def _answering(request: Request, answer: Callable[[], Awaitable[Response]]) -> Response:
    accept = request.headers.get("accept", "")
    try:
        return await answer()
    except Unauthenticated as error:
        return _problem(
            401, "Unauthorized", str(error), accept, {"WWW-Authenticate": _challenge(error)}
        )
    except InvalidInput as error:
        return _problem(400, "Invalid hook request", str(error), accept)
    except DataUnavailable as error:
        return _problem(412, "Patient data unavailable", f"{error}; no assessment was made", accept)
    except _TooLarge:
        return _problem(413, "Request too large", "the request body exceeds the size limit", accept)
    except DatabaseUnavailable as error:
        return _problem(503, "Service unavailable", str(error), accept, {"Retry-After": "5"})


def _problem(
    status: int, title: str, detail: str, accept: str, headers: dict[str, str] | None = None
) -> Response:
    media_type, body = error_document(status, title, detail, accept)
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)


def _challenge(error: Unauthenticated) -> str:
    """RFC 6750 challenge; the description may quote the token, so it is made ASCII-safe."""
    description = str(error)[:300].replace('"', "'").encode("ascii", "backslashreplace").decode()
    return f'Bearer error="invalid_token", error_description="{description}"'
