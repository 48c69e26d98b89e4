"""The worklist, the home page ``/``: who needs looking at today and this week.

Three lists from the worklist use case (one SQL query each, no record read):
holds and discontinues first, then the infusions due (overdue and today before
the rest of the week, worst decision first), then monitoring overdue or due
soon. Search (name or MRN) and the filters apply to all three.

Each list shows its first ``SHOWN`` rows and says how many there are. A longer
list links to itself alone (``show=<list>``), where it is read page by page
(``page=N``, ``SHOWN`` rows each) with the filters kept in every link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.api.lab_messages import lab_messages
from natalizumab_cds.application.records import Page
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.worklist import ClinicWorklist
from natalizumab_cds.application.worklist_query import EntryKind, WorklistEntry
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.rule_specs import rule_title
from natalizumab_cds.domain.schedule import Item
from natalizumab_cds.web.pages import page_requires, render

router = APIRouter(include_in_schema=False)
#: Rows shown per list; the page says how many more there are.
SHOWN = 100
WINDOWS = {"today": 1, "week": 7}


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    heading: str
    empty: str
    rows: tuple[WorklistEntry, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Filters:
    q: str
    decision: str
    item: str
    window: str
    show: str
    page: int = 1

    def decisions(self) -> list[str]:
        return [self.decision] if self.decision else []

    def items(self) -> list[str]:
        return [self.item] if self.item else []

    def link(self, **changed: str | int) -> str:
        """This page's address with some parameters changed; defaults are left out."""
        values = {**asdict(self), **changed}
        kept = {k: v for k, v in values.items() if v and (k, v) not in DEFAULTS}
        return "/?" + urlencode(kept) if kept else "/"


#: Parameters left out of links when they have their default value.
DEFAULTS = {("window", "week"), ("page", 1)}


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a list read alone stands: its page, how many there are, and the rows shown."""

    number: int
    count: int
    first_row: int
    last_row: int


SECTIONS: tuple[tuple[str, EntryKind, str, str, str], ...] = (
    (
        "decisions",
        EntryKind.DECISION,
        "Holds and discontinues",
        "decision,due,name",
        "No patient is on hold or discontinued.",
    ),
    (
        "infusions",
        EntryKind.INFUSION,
        "Infusions due",
        "due,decision,name",
        "No infusion is due in this window.",
    ),
    (
        "monitoring",
        EntryKind.MONITORING,
        "Monitoring overdue or due soon",
        "status,due,name",
        "No monitoring is overdue or due soon.",
    ),
)


def _choice(value: str | None, allowed: list[str]) -> str:
    """A filter value from the form, or "" (any) when it is not one of the choices."""
    return value if value in allowed else ""


def _section(
    worklist: ClinicWorklist, kind: EntryKind, sort: str, f: Filters
) -> Page[WorklistEntry]:
    return worklist.entries(
        days=WINDOWS[f.window],
        kinds=[kind.value],
        decisions=f.decisions(),
        items=f.items() if kind is EntryKind.MONITORING else [],
        text=f.q or None,
        sort=[(k.removeprefix("-"), k.startswith("-")) for k in sort.split(",")],
        page=f.page if f.show else 1,
        size=SHOWN,
    )


def _page_number(value: str) -> int:
    """``page`` from the address; anything that is not a page number is the first page."""
    return int(value) if value.isdecimal() and 0 < len(value) <= 6 and int(value) > 0 else 1


@router.get("/", response_class=HTMLResponse)
def worklist(
    request: Request,
    principal: Annotated[Principal, page_requires(Action.READ_WORKLIST, home=True)],  # 1st
    clinic: ClinicDep,
    q: Annotated[str, Query(max_length=200, title="the search (name or MRN)")] = "",
    decision: Annotated[str, Query(max_length=20)] = "",
    item: Annotated[str, Query(max_length=20)] = "",
    window: Annotated[str, Query(max_length=10)] = "week",
    show: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[str, Query(max_length=10)] = "1",
) -> HTMLResponse:
    """Today's and this week's work, holds and discontinues first."""
    filters = Filters(
        q=q.strip(),
        decision=_choice(decision, [d.value for d in Decision]),
        item=_choice(item, [i.value for i in Item if i is not Item.INFUSION]),
        window=_choice(window, list(WINDOWS)) or "week",
        show=_choice(show, [s[0] for s in SECTIONS]),
    )
    if filters.show:
        filters = replace(filters, page=_page_number(page))
    sections = []
    pages = None
    with clinic.worklist.snapshot() as worklist:  # every list from one state, one audit entry
        for key, kind, heading, sort, empty in SECTIONS:
            if filters.show and filters.show != key:
                continue
            found = _section(worklist, kind, sort, filters)
            if filters.show:
                count = max(1, -(-found.total // SHOWN))
                if filters.page > count:  # past the end (the list got shorter): the last page
                    filters = replace(filters, page=count)
                    found = _section(worklist, kind, sort, filters)
                first = (filters.page - 1) * SHOWN + 1
                pages = Pages(filters.page, count, first, first + len(found.items) - 1)
            sections.append(Section(key, heading, empty, found.items, found.total))
    context = {
        "sections": sections,
        "filters": filters,
        "decisions": [d.value for d in Decision],
        "items": [i.value for i in Item if i is not Item.INFUSION],
        "shown": SHOWN,
        "pages": pages,
        "today": clinic.context.today(),
        "unfiled": _unfiled_lab_messages(request, principal),
        "rule_title": rule_title,
    }
    return render(request, "worklist.html", context, active="worklist")


def _unfiled_lab_messages(request: Request, principal: Principal) -> int | None:
    """How many lab messages wait to be filed, for those who may resolve them (else None)."""
    if not principal.may(Action.RESOLVE_LAB_MESSAGES):
        return None
    return lab_messages(request, principal).open_letters()
