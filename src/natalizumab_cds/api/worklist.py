"""The clinic worklist: infusions due, monitoring overdue or due soon, holds and discontinues."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from natalizumab_cds.api.access import require
from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.api.schemas import PageOut, WorklistEntryOut
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.application.worklist_query import EntryKind, parse_sort
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.schedule import DueStatus, Item

router = APIRouter(prefix="/api/worklist", tags=["worklist"])


@router.get(
    "", response_model=PageOut[WorklistEntryOut], dependencies=[require(Action.READ_WORKLIST)]
)
def worklist(
    clinic: ClinicDep,
    days: Annotated[int, Query(ge=1, le=366, description="Infusion window: 1 = today")] = 7,
    today: Annotated[date | None, Query(description="Default: today in the clinic")] = None,
    kind: Annotated[list[EntryKind], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    decision: Annotated[list[Decision], Query()] = [],  # noqa: B006
    item: Annotated[list[Item], Query()] = [],  # noqa: B006
    status: Annotated[list[DueStatus], Query()] = [],  # noqa: B006
    due_from: date | None = None,
    due_to: date | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of name or MRN")] = None,
    sort: Annotated[
        str, Query(description="Keys: due, name, mrn, decision, item, status, kind; -key = desc")
    ] = "due,name",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageOut[WorklistEntryOut]:
    """One row per reason to look at a patient, computed in SQL over the summaries."""
    found = clinic.worklist.entries(
        days=days,
        today=today,
        kinds=[k.value for k in kind],
        decisions=[d.value for d in decision],
        items=[i.value for i in item],
        statuses=[s.value for s in status],
        due_from=due_from,
        due_to=due_to,
        text=q,
        sort=parse_sort(sort),
        page=page,
        size=size,
    )
    return PageOut(
        items=[WorklistEntryOut.of(e) for e in found.items],
        page=found.page,
        size=found.size,
        total=found.total,
    )
