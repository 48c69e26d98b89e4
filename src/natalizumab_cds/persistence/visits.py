"""Infusion visits in SQL (the ``VisitRepository`` port).

``save`` is the optimistic version check: ``UPDATE visits ... WHERE id = :id
AND version = :expected``. On PostgreSQL a concurrent writer's UPDATE waits
for the first one's row lock, then re-checks the WHERE clause against the
committed row, finds the newer version and updates nothing; on SQLite writers
are serialised by ``BEGIN IMMEDIATE``. Either way the loser gets
``VisitConflict`` and its transaction is rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from natalizumab_cds.application.visits import StoredVisit, VisitConflict
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.persistence.visit_rows import STEP_COLUMNS, steps_of, visit_of
from natalizumab_cds.persistence.visit_tables import visits


def _stored(row: Row[Any]) -> StoredVisit:
    steps = {name: getattr(row, name) for name in STEP_COLUMNS}
    visit = visit_of(row.id, row.patient_id, row.opened_at, steps)
    return StoredVisit(visit=visit, version=row.version, updated_at=row.updated_at)


class SqlVisits:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def get(self, visit_id: str) -> StoredVisit | None:
        row = self._db.execute(select(visits).where(visits.c.id == visit_id)).first()
        return None if row is None else _stored(row)

    def add(self, visit: Visit, at: datetime) -> StoredVisit:
        self._db.execute(
            insert(visits).values(
                id=visit.id,
                patient_id=visit.patient,
                opened_at=visit.opened_at,
                state=visit.state.value,
                version=1,
                updated_at=at,
                **steps_of(visit),
            )
        )
        return StoredVisit(visit, 1, at)

    def save(self, visit: Visit, expected_version: int, at: datetime) -> StoredVisit:
        version = expected_version + 1
        changed = self._db.execute(
            update(visits)
            .where(visits.c.id == visit.id, visits.c.version == expected_version)
            .values(state=visit.state.value, version=version, updated_at=at, **steps_of(visit))
        )
        if changed.rowcount != 1:
            found = self._db.execute(
                select(visits.c.version).where(visits.c.id == visit.id)
            ).scalar_one_or_none()
            raise VisitConflict(visit.id, expected_version, found)
        return StoredVisit(visit, version, at)

    def of_patient(self, patient_id: str) -> list[StoredVisit]:
        query = (
            select(visits)
            .where(visits.c.patient_id == patient_id)
            .order_by(visits.c.opened_at.desc(), visits.c.id)
        )
        return [_stored(row) for row in self._db.execute(query)]

    def opened_between(self, start: datetime, end: datetime) -> list[StoredVisit]:
        c = visits.c
        query = (
            select(visits)
            .where(c.opened_at >= start, c.opened_at < end)
            .order_by(c.opened_at, c.id)
        )
        return [_stored(row) for row in self._db.execute(query)]
