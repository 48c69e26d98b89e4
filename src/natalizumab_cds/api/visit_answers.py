"""What the infusion-day routes share: the visit version and the problem documents.

A step a workflow rule refuses becomes a 422 problem document with ``rule``
and ``reason`` (and, when the assessment refused it, the ``decision`` and the
``findings`` behind it); a visit changed by someone else a 409 naming the
visit; an unknown visit a 404. Any other error goes to the app's handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse

from natalizumab_cds.api.problems import problem, refusal_fields
from natalizumab_cds.api.visit_schemas import VisitOut
from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.application.visits import UnknownVisit, VisitConflict
from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused

PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such visit or patient (problem document)"},
    409: {"description": "Someone else changed the visit first (problem document)"},
    422: {"description": "Refused by a workflow rule, or invalid input (problem document)"},
}
IfMatch = Annotated[
    str | None,
    Header(description="The visit's version (its ETag) as last read; a newer one is a 409"),
]


def version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput(f'If-Match: {if_match!r} is not a visit version such as "3"')
    return int(tag)


def answer(work: Callable[[], VisitView], status: int = 200, visit_id: str = "") -> JSONResponse:
    """Run one step; refusals, conflicts and unknown visits become problem documents."""
    try:
        view = work()
    except AssessmentRefused as refusal:
        findings = [
            {"rule": f.rule, "effect": f.effect.value, "summary": f.summary}
            for f in refusal.findings
        ]
        return _refused(refusal, visit_id, decision=refusal.decision.value, findings=findings)
    except WorkflowRefused as refusal:
        return _refused(refusal, visit_id)
    except VisitConflict as conflict:
        return problem(
            409,
            "visit-conflict",
            "Visit changed by someone else",
            str(conflict),
            visit=conflict.visit_id,
            current_version=conflict.found,
        )
    except UnknownVisit as unknown:
        return problem(404, "unknown-visit", "Visit not on file", str(unknown), visit=visit_id)
    out = VisitOut.of(view)
    headers = {"ETag": f'"{view.version}"'}
    if status == 201:
        headers["Location"] = f"/api/visits/{out.id}"
    return JSONResponse(out.model_dump(mode="json"), status_code=status, headers=headers)


def _refused(refusal: WorkflowRefused, visit_id: str, **extra: Any) -> JSONResponse:
    return problem(
        422,
        "workflow-refused",
        "Refused by a workflow rule",
        str(refusal),
        **refusal_fields(refusal),
        visit=visit_id,
        **extra,
    )
