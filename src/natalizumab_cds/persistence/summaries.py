"""Summary rows in SQL (the ``Summaries`` port): one per patient, one per item due.

Saving replaces a patient's rows whole (delete, then insert in bulk): simpler
than an upsert that both engines spell differently, and just as atomic inside
the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, or_, select, update

from natalizumab_cds.application.records import ItemDue, Page, Summary
from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.application.worklist_query import WorklistEntry, WorklistQuery
from natalizumab_cds.domain.safety import SafetyFacts
from natalizumab_cds.domain.schedule import Item
from natalizumab_cds.persistence.patient_records import chunks
from natalizumab_cds.persistence.safety_report import safety_counts, serum_levels
from natalizumab_cds.persistence.tables import (
    SAFETY_FLAGS,
    monitoring_dues,
    patient_summaries,
    patients,
)
from natalizumab_cds.persistence.worklist import worklist_page

ITEM_ORDER = {item.value: index for index, item in enumerate(Item)}


def rules_text(rules: Sequence[str]) -> str:
    return ",".join(rules)


def rules_of(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def summary_row(summary: Summary) -> dict[str, Any]:
    return {
        "patient_id": summary.patient_id,
        "record_version": summary.record_version,
        "assessed_at": summary.assessed_at,
        "assessed_on": summary.assessed_on,
        "protocol_version": summary.protocol_version,
        "decision": summary.decision,
        "attention": rules_text(summary.attention),
        "acknowledged": rules_text(summary.acknowledged),
        "problem": summary.problem,
        **safety_row(summary.safety),
    }


def safety_row(facts: SafetyFacts) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(facts, name) for name in SAFETY_FLAGS}
    return row | {
        "exposure_days": facts.exposure_days,
        "infections": facts.infections,
        "serum_level": facts.serum_level,
    }


def safety_of(row: Row[Any]) -> SafetyFacts:
    if row.treated is None:  # summarised before the safety columns existed
        return SafetyFacts()
    flags = {name: bool(getattr(row, name)) for name in SAFETY_FLAGS}
    return SafetyFacts(
        exposure_days=row.exposure_days,
        infections=row.infections,
        serum_level=row.serum_level,
        **flags,
    )


def due_rows(summary: Summary) -> list[dict[str, Any]]:
    return [
        {"patient_id": summary.patient_id, "item": d.item, "last_done": d.last, "due": d.due}
        for d in summary.dues
    ]


class SqlSummaries:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def save(self, summaries: Sequence[Summary]) -> None:
        if not summaries:
            return
        for part in chunks([s.patient_id for s in summaries]):
            self._db.execute(delete(monitoring_dues).where(monitoring_dues.c.patient_id.in_(part)))
            self._db.execute(
                delete(patient_summaries).where(patient_summaries.c.patient_id.in_(part))
            )
        self._db.execute(insert(patient_summaries), [summary_row(s) for s in summaries])
        self._db.execute(
            update(patients)
            .where(patients.c.id == bindparam("key"))
            .values(summarised_version=bindparam("summarised")),
            [{"key": s.patient_id, "summarised": s.record_version} for s in summaries],
        )
        dues = [row for s in summaries for row in due_rows(s)]
        if dues:
            self._db.execute(insert(monitoring_dues), dues)

    def outdated(self, today: date, protocol_version: str, limit: int) -> list[str]:
        s = patient_summaries.c
        query = (
            select(patients.c.id)
            .outerjoin(patient_summaries, s.patient_id == patients.c.id)
            .where(
                or_(
                    s.patient_id.is_(None),
                    s.assessed_on < today,
                    s.protocol_version != protocol_version,
                    s.treated.is_(None),
                    patients.c.summarised_version < patients.c.version,
                )
            )
            .order_by(patients.c.id)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def behind_records(self, limit: int) -> list[str]:
        p = patients.c
        query = (  # the same predicate as the partial index, so only it is read
            select(p.id).where(p.version > p.summarised_version).order_by(p.id).limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def summary(self, patient_id: str) -> Summary | None:
        s = patient_summaries.c
        row = self._db.execute(select(patient_summaries).where(s.patient_id == patient_id)).first()
        if row is None:
            return None
        d = monitoring_dues.c
        dues = self._db.execute(
            select(d.item, d.last_done, d.due).where(d.patient_id == patient_id)
        )
        return Summary(
            patient_id=row.patient_id,
            record_version=row.record_version,
            assessed_at=row.assessed_at,
            assessed_on=row.assessed_on,
            protocol_version=row.protocol_version,
            decision=row.decision,
            attention=rules_of(row.attention),
            acknowledged=rules_of(row.acknowledged),
            dues=tuple(
                sorted(
                    (ItemDue(item, last, due) for item, last, due in dues),
                    key=lambda due: ITEM_ORDER.get(due.item, len(ITEM_ORDER)),
                )
            ),
            problem=row.problem,
            safety=safety_of(row),
        )

    def worklist(self, query: WorklistQuery) -> Page[WorklistEntry]:
        return worklist_page(self._db, query)

    def safety_counts(self, today: date) -> SafetyCounts:
        return safety_counts(self._db, today)

    def serum_levels(self) -> list[tuple[float, bool]]:
        return serum_levels(self._db)
