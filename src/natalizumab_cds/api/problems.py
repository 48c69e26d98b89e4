"""Every error as an RFC 9457 problem document (``application/problem+json``).

A problem has ``type``, ``title``, ``status`` and ``detail``; a validation
problem also lists the offending fields in ``errors`` (``field``, ``in``,
``message``). Malformed input is always a 4xx that names the field, never a 500;
an unexpected failure is a 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from natalizumab_cds.application.errors import (
    ConcurrentUpdate,
    DatabaseUnavailable,
    DecisionRefused,
    NotOverridable,
    UnknownPatient,
)
from natalizumab_cds.domain.errors import InvalidInput, NtzError, WorkflowRefused

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:natalizumab-cds:problem:"
log = logging.getLogger(__name__)

#: Project errors: (HTTP status, problem type, title).
KNOWN: tuple[tuple[type[NtzError], int, str, str], ...] = (
    (UnknownPatient, 404, "unknown-patient", "Patient not on file"),
    (NotOverridable, 422, "not-overridable", "Rule cannot be overridden"),
    (DecisionRefused, 409, "decision-refused", "Decision does not fit the current findings"),
    (WorkflowRefused, 422, "workflow-refused", "Refused by a workflow rule"),
    (ConcurrentUpdate, 409, "concurrent-update", "Record changed by another user; try again"),
    (InvalidInput, 422, "invalid-input", "Invalid input"),
    (DatabaseUnavailable, 503, "database-unavailable", "Database unavailable"),
)


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """An RFC 9457 problem document; ``extensions`` become members of their own (rule, visit)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        **extensions,
    }
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def refusal_fields(error: WorkflowRefused) -> dict[str, Any]:
    """A workflow refusal's members of its problem document: the rule, the reason and,
    when the refusal concerns one input, that ``field`` (``preparation.dose_mg``)."""
    fields: dict[str, Any] = {"rule": error.rule, "reason": error.reason}
    if error.field is not None:
        fields["field"] = error.field
    return fields


def _field_of(message: str) -> list[dict[str, str]]:
    """``"author: is required"`` names the field ``author``; FHIR messages name the resource."""
    head, _, rest = message.partition(": ")
    if rest and " " not in head:
        return [{"field": head, "message": rest}]
    return []


async def _project_error(request: Request, error: Exception) -> JSONResponse:
    for kind, status, slug, title in KNOWN:
        if isinstance(error, kind):
            errors = _field_of(str(error)) if isinstance(error, InvalidInput) else []
            if isinstance(error, WorkflowRefused):
                return problem(status, slug, title, str(error), **refusal_fields(error))
            return problem(status, slug, title, str(error), errors)
    log.error("unexpected project error", exc_info=error)
    return problem(500, "internal-error", "Internal error", "the request could not be completed")


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        location = list(item.get("loc", ()))
        where = str(location[0]) if location else "request"
        # a repeated query parameter's index (decision.0) is not a field of its own
        path = [str(p) for p in location[1:] if where == "body" or not isinstance(p, int)]
        field = ".".join(path) or where
        errors.append({"field": field, "in": where, "message": str(item.get("msg", "invalid"))})
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    detail = f"invalid request: {fields}: " + "; ".join(e["message"] for e in errors)
    return problem(422, "validation-error", "Invalid request", detail, errors)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "HTTP error")
    return problem(
        error.status_code,
        f"http-{error.status_code}",
        title,
        str(error.detail),
        headers=dict(error.headers) if error.headers else None,
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal-error", "Internal error", "the request could not be completed")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(NtzError, _project_error)
    app.add_exception_handler(Exception, _unexpected)
