"""The clinic worklist as one SQL query over the summary rows.

Three selects, one per reason a patient is listed (see
``application.worklist_query``), are put together with UNION ALL, joined to
the patient and the summary, filtered, sorted and paged by the database. Each
select is a range scan on an index: ``monitoring_dues (item, due)`` or
``patient_summaries (decision)``. The status of a due date is worked out
against the query's ``today``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from natalizumab_cds.application.records import Page
from natalizumab_cds.application.worklist_query import (
    DECISION_ORDER,
    STATUS_ORDER,
    EntryKind,
    SortKey,
    WorklistEntry,
    WorklistQuery,
)
from natalizumab_cds.persistence.tables import monitoring_dues, patient_summaries, patients

ATTENTION_DECISIONS = ("hold", "discontinue")
_KINDS = {kind.value: kind for kind in EntryKind}
INFUSION = "infusion"


def _reasons(query: WorklistQuery) -> list[Select[Any]]:
    d, s = monitoring_dues.c, patient_summaries.c
    selects: list[Select[Any]] = []
    kinds = set(query.kinds or EntryKind)
    items = set(query.items)
    if EntryKind.INFUSION in kinds and (not items or INFUSION in items):
        selects.append(
            select(
                d.patient_id,
                literal(EntryKind.INFUSION.value, String).label("kind"),
                d.item,
                d.due,
                d.last_done,
            ).where(d.item == INFUSION, d.due <= query.window_end)
        )
    monitored = sorted(items - {INFUSION}) if items else None
    if EntryKind.MONITORING in kinds and (monitored is None or monitored):
        selects.append(
            select(
                d.patient_id,
                literal(EntryKind.MONITORING.value, String).label("kind"),
                d.item,
                d.due,
                d.last_done,
            ).where(
                d.item.in_(monitored) if monitored else d.item != INFUSION,
                d.due <= query.soon_end,
            )
        )
    if EntryKind.DECISION in kinds and not items and not query.statuses:
        infusion = monitoring_dues.alias("next_infusion")
        selects.append(
            select(
                s.patient_id,
                literal(EntryKind.DECISION.value, String).label("kind"),
                cast(null(), String).label("item"),
                infusion.c.due,
                cast(null(), Date).label("last_done"),
            )
            .select_from(patient_summaries)
            .outerjoin(
                infusion,
                and_(infusion.c.patient_id == s.patient_id, infusion.c.item == INFUSION),
            )
            .where(or_(s.decision.in_(ATTENTION_DECISIONS), s.decision.is_(None)))
        )
    return selects


def _status(due: ColumnElement[Any], kind: ColumnElement[Any], query: WorklistQuery) -> Any:
    return case(
        (kind == EntryKind.DECISION.value, null()),
        (due < query.today, "overdue"),
        (due <= query.soon_end, "due-soon"),
        else_="ok",
    )


def _rank(column: Any, order: tuple[str, ...]) -> Any:
    return case({word: index for index, word in enumerate(order)}, value=column, else_=-1)


def worklist_page(db: Connection, query: WorklistQuery) -> Page[WorklistEntry]:
    selects = _reasons(query)
    if not selects:
        return Page((), query.page, query.size, 0)
    entries = union_all(*selects).subquery("entries")
    e, p, s = entries.c, patients.c, patient_summaries.c
    status = _status(e.due, e.kind, query).label("status")
    where: list[ColumnElement[bool]] = []
    if query.decisions:
        where.append(s.decision.in_(query.decisions))
    if query.statuses:
        where.append(status.in_(query.statuses))
    if query.due_from:
        where.append(e.due >= query.due_from)
    if query.due_to:
        where.append(e.due <= query.due_to)
    if query.text:
        where.append(
            or_(
                p.name_key.contains(query.text.casefold(), autoescape=True),
                p.mrn.startswith(query.text, autoescape=True),
            )
        )
    joined = entries.join(patients, p.id == e.patient_id).join(
        patient_summaries, s.patient_id == e.patient_id
    )
    columns = (
        e.kind,
        e.patient_id,
        p.mrn,
        p.name,
        s.decision,
        e.item,
        e.due,
        e.last_done,
        status,
        s.attention,
        s.acknowledged,
        s.assessed_on,
    )
    sort_columns = {
        SortKey.DUE: e.due,
        SortKey.NAME: p.name_key,
        SortKey.MRN: p.mrn,
        SortKey.DECISION: _rank(s.decision, DECISION_ORDER),
        SortKey.ITEM: e.item,
        SortKey.STATUS: _rank(status, STATUS_ORDER),
        SortKey.KIND: e.kind,
    }
    order = [
        (sort_columns[key].desc() if descending else sort_columns[key].asc()).nulls_last()
        for key, descending in query.sort
    ]
    rows_query = (
        select(*columns)
        .select_from(joined)
        .where(*where)
        .order_by(*order, e.patient_id, e.kind, e.item)
    )
    if query.size:
        rows_query = rows_query.limit(query.size).offset((query.page - 1) * query.size)
    if db.dialect.name == "postgresql":
        # sort in memory, not on disk; skip JIT compiling, which costs more than it saves here
        db.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        db.exec_driver_sql("SET LOCAL jit = off")
    items = tuple(map(_entry, db.execute(rows_query).all()))  # fetchall: fastest on both drivers
    offset = (query.page - 1) * query.size
    if query.size and (len(items) == query.size or (offset and not items)):
        count = select(func.count()).select_from(joined).where(*where)
        total = db.execute(count).scalar_one()
    else:
        total = offset + len(items)
    return Page(items, query.page, query.size, total)


def _entry(row: Any) -> WorklistEntry:
    kind, patient_id, mrn, name, decision, item, due, last, status, attention, acks, on = row
    return WorklistEntry(
        _KINDS[kind],
        patient_id,
        mrn,
        name,
        decision,
        item,
        due if due is None or due.__class__ is date else _day(due),
        last if last is None or last.__class__ is date else _day(last),
        status,
        tuple(attention.split(",")) if attention else (),
        tuple(acks.split(",")) if acks else (),
        on if on.__class__ is date else _day(on),
    )


def _day(value: Any) -> date:
    """Dates from a UNION come back as text on SQLite (no column type to go by)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
