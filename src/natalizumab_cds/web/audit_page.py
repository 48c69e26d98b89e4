"""``/audit``: the audit trail for administrators, newest first, and a check of its chain.

The page is ``/api/audit/events`` and ``/api/audit/verify`` in HTML: the same
use cases (``security.audit``), the same ``read-audit`` and ``verify-audit``
permissions, and each reading or check is itself recorded in the trail. The
records are listed newest first, ``SHOWN`` a page, filtered by patient, user
and days (in the clinic's time zone); *Older records* pages back with
``before=<the lowest sequence shown>``. *Verify the chain* walks every record
and says whether the chain is intact or names its first broken link.

Every query parameter is bounded (``Query`` limits); one that is refused, by
FastAPI or by the checks here, is answered with this page (422) and the
message beside its field, never with a JSON problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import security
from natalizumab_cds.application.security.audit import AuditRecord, Operation, Outcome
from natalizumab_cds.application.security.audit_verify import Verification
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.domain.errors import InvalidInput, NtzError
from natalizumab_cds.web.pages import clinic_zone, page_requires, render

#: Records a page.
SHOWN = 50
#: The longest patient id and username the trail stores.
ID_LENGTH = 64
#: ``before`` beyond this is no sequence number the trail will reach.
LAST_SEQUENCE = 2**62
#: The days a filter may name (a day after the last would not fit a datetime).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

OPERATIONS = {
    Operation.CREATE.value: "create",
    Operation.READ.value: "read",
    Operation.UPDATE.value: "update",
    Operation.DELETE.value: "delete",
    Operation.EXECUTE.value: "execute",
}
OUTCOMES = {
    Outcome.SUCCESS.value: "success",
    Outcome.MINOR_FAILURE.value: "minor failure",
    Outcome.SERIOUS_FAILURE.value: "serious failure",
}
#: What to say beside a field whose value FastAPI's ``Query`` limits refused.
DAY_FORMAT = "Give the day as YYYY-MM-DD, e.g. 2026-11-24."
REFUSED_FIELDS = {
    "patient": f"A patient id has at most {ID_LENGTH} characters.",
    "user": f"A username has at most {ID_LENGTH} characters.",
    "from": DAY_FORMAT,
    "to": DAY_FORMAT,
}
BAD_PAGE = f"No such page of the trail: 'before' must be a record number from 1 to {LAST_SEQUENCE}."


def _refused_query(request: Request, error: RequestValidationError) -> Response | None:
    """The page with FastAPI's refusal beside each field; None if no reader asked."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or not principal.may(Action.READ_AUDIT):
        return None
    errors: dict[str, str] = {}
    problem = ""
    for item in error.errors():
        location = item.get("loc", ())
        name = str(location[-1]) if len(location) == 2 and location[0] == "query" else ""
        if name in REFUSED_FIELDS:
            errors[name] = REFUSED_FIELDS[name]
        else:
            problem = BAD_PAGE if name == "before" else "The address of this page is not valid."
    typed = request.query_params
    filters = Filters(
        *(typed.get(name, "")[: ID_LENGTH * 2] for name in ("patient", "user", "from", "to"))
    )
    _, also = _query(filters, None, clinic_zone(request))  # what else is wrong, field by field
    errors = also | errors
    return _render(request, principal, filters, errors=errors, problem=problem, status=422)


class AuditPageRoute(APIRoute):
    """A route whose refused query parameters are answered with the page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as error:
                page = _refused_query(request, error)
                if page is None:
                    raise
                return page

        return answer


router = APIRouter(include_in_schema=False, route_class=AuditPageRoute)
Reader = Annotated[Principal, page_requires(Action.READ_AUDIT)]
Verifier = Annotated[Principal, page_requires(Action.VERIFY_AUDIT)]
Identifier = Annotated[str, Query(max_length=ID_LENGTH)]


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters as typed (days as ``YYYY-MM-DD``); ``link`` keeps them across pages."""

    patient: str = ""
    user: str = ""
    since: str = ""
    until: str = ""

    @property
    def any(self) -> bool:
        return bool(self.patient or self.user or self.since or self.until)

    def link(self, before: int | None = None) -> str:
        pairs = [("patient", self.patient), ("user", self.user)]
        pairs += [("from", self.since), ("to", self.until)]
        query = [(name, value) for name, value in pairs if value]
        if before is not None:
            query.append(("before", str(before)))
        return "/audit" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True, slots=True)
class Row:
    """One record as the table shows it."""

    record: AuditRecord
    recorded: str
    recorded_iso: str
    operation: str
    outcome: str
    failed: bool
    states: str  # before and after, pretty-printed; "" when the record has neither


def _day(text: str) -> tuple[date | None, str]:
    """The day a filter names, or the reason it names none."""
    if not _DAY.fullmatch(text):
        return None, DAY_FORMAT
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"There is no day {text}."
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return None, f"Give a day from {EARLIEST_DAY} to {LATEST_DAY}."
    return day, ""


def _identifier(text: str, what: str) -> str:
    """Why a typed patient id or username cannot be one ("" when it can)."""
    return "" if text.isprintable() else f"A {what} has no control characters."


def _query(
    filters: Filters, before: int | None, tz: tzinfo
) -> tuple[AuditQuery | None, dict[str, str]]:
    """The query the filters ask for, or what is wrong with them, field by field."""
    errors = {}
    if message := _identifier(filters.patient, "patient id"):
        errors["patient"] = message
    if message := _identifier(filters.user, "username"):
        errors["user"] = message
    since = until = None
    if filters.since:
        first, message = _day(filters.since)
        if first is None:
            errors["from"] = message
        else:
            since = datetime.combine(first, time.min, tz)
    if filters.until:
        last, message = _day(filters.until)
        if last is None:
            errors["to"] = message
        else:
            until = datetime.combine(last + timedelta(days=1), time.min, tz)
    if since is not None and until is not None and since >= until:
        errors["to"] = f"This day is before the first day, {filters.since}: nothing is between."
    if errors:
        return None, errors
    query = AuditQuery(
        patient_id=filters.patient or None,
        since=since,
        until=until,
        limit=SHOWN + 1,  # one more than shown: are there older ones?
        actor=filters.user or None,
        before_sequence=before,
        newest_first=True,
    )
    return query, {}


def _states(record: AuditRecord) -> str:
    parts = []
    for label, text in (("Before", record.before), ("After", record.after)):
        if not text:
            continue
        try:
            shown = orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONDecodeError:
            shown = text
        parts.append(f"{label}:\n{shown}")
    return "\n\n".join(parts)


def _row(record: AuditRecord, tz: tzinfo) -> Row:
    moment = record.recorded.astimezone(tz)
    return Row(
        record=record,
        recorded=moment.strftime("%Y-%m-%d %H:%M:%S %Z"),
        recorded_iso=moment.isoformat(),
        operation=OPERATIONS.get(record.operation, record.operation),
        outcome=OUTCOMES.get(record.outcome, record.outcome),
        failed=record.outcome != Outcome.SUCCESS.value,
        states=_states(record),
    )


def _render(
    request: Request,
    principal: Principal,
    filters: Filters,
    *,
    rows: list[Row] | None = None,
    before: int | None = None,
    older: int | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    verification: Verification | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "filters": filters,
        "rows": rows,
        "newest_link": filters.link() if before is not None else "",
        "older_link": filters.link(older) if older is not None else "",
        "errors": errors or {},
        "problem": problem,
        "verification": verification,
        "may_verify": principal.may(Action.VERIFY_AUDIT),
        "zone": str(clinic_zone(request)),
        "shown": SHOWN,
    }
    return render(request, "audit.html", context, status=status, active="audit")


def _page(
    request: Request,
    principal: Principal,
    filters: Filters,
    before: int | None = None,
    verification: Verification | None = None,
) -> HTMLResponse:
    """The records the filters select, newest first; or the page saying what is wrong."""
    tz = clinic_zone(request)
    query, errors = _query(filters, before, tz)
    if query is None:
        return _render(request, principal, filters, errors=errors, status=422)
    try:
        found = security(request).audit.records(principal, query)
    except InvalidInput as error:
        return _render(request, principal, filters, problem=str(error), status=422)
    except NtzError:
        if verification is None or verification.intact:
            raise
        # a broken chain may take no new record, not even of this reading
        problem = "The records cannot be listed while the chain is broken."
        return _render(request, principal, filters, problem=problem, verification=verification)
    older = found[SHOWN - 1].sequence if len(found) > SHOWN else None
    rows = [_row(record, tz) for record in found[:SHOWN]]
    return _render(
        request,
        principal,
        filters,
        rows=rows,
        before=before,
        older=older,
        verification=verification,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: Reader,
    patient: Identifier = "",
    user: Identifier = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1, le=LAST_SEQUENCE)] = None,
) -> HTMLResponse:
    """The trail newest first, filtered; ``before``: only records numbered below it."""
    filters = Filters(patient.strip(), user.strip(), since.strip(), until.strip())
    return _page(request, principal, filters, before)


@router.get("/audit/verify", response_class=HTMLResponse)
async def verify_page(request: Request, principal: Verifier) -> HTMLResponse:
    """Walk the whole chain (seconds on a big trail: off the event loop) and say how it is."""
    result = await run_in_threadpool(security(request).audit.verify, principal)
    return await run_in_threadpool(_page, request, principal, Filters(), None, result)
