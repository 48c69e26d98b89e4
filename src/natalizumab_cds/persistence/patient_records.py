"""Patients and their raw resources in SQL (the ``PatientRecords`` port).

Rows map to the application's values explicitly, here and nowhere else. Bulk
writes go through ``executemany`` (one statement, many parameter sets), never
row by row; lists of keys are sent in chunks that stay under every engine's
limit on bound parameters.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, bindparam, func, insert, or_, select, tuple_, update

from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.records import (
    Page,
    PatientEntry,
    PatientListing,
    StoredResource,
    StoredVersion,
)
from natalizumab_cds.persistence.bulk import BulkInsert
from natalizumab_cds.persistence.tables import (
    monitoring_dues,
    patient_summaries,
    patients,
    resource_history,
    resources,
)

T = TypeVar("T")
CHUNK = 900
RESOURCE_COLUMNS = (
    "resource_type",
    "resource_id",
    "patient_id",
    "version",
    "last_updated",
    "occurred_at",
    "content_hash",
    "content",
)


_ADD_RESOURCES = BulkInsert(resources, RESOURCE_COLUMNS)
#: Statements run for every transaction of the lab feed, built once (``ids``/``keys``: lists).
_p, _r = patients.c, resources.c
_LOCK = (
    select(_p.id, _p.version)
    .where(_p.id.in_(bindparam("ids", expanding=True)))
    .order_by(_p.id)  # one order for every writer: no deadlocks
    .with_for_update()  # PostgreSQL row locks; SQLite holds the write lock already
)
_VERSIONS = select(_p.id, _p.version).where(_p.id.in_(bindparam("ids", expanding=True)))
_OWNERS = select(
    _r.resource_id, _r.patient_id, _r.version, _r.content_hash, _r.last_updated
).where(  # the primary key's index: (type, id)
    _r.resource_type == bindparam("kind"), _r.resource_id.in_(bindparam("ids", expanding=True))
)
_TOUCH = (
    update(patients)
    .where(tuple_(_p.id, _p.version).in_(bindparam("keys", expanding=True)))
    .values(version=_p.version + 1)
)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _patient_row(entry: PatientEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "mrn": entry.mrn,
        "name": entry.name,
        "name_key": entry.name.casefold(),
        "birth_date": entry.birth_date,
        "version": entry.version,
    }


def _entry(row: Row[Any]) -> PatientEntry:
    return PatientEntry(row.id, row.mrn, row.name, row.birth_date, row.version)


def _stored(row: Row[Any]) -> StoredResource:
    return StoredResource(
        patient_id=row.patient_id,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        version=row.version,
        last_updated=row.last_updated,
        occurred_at=row.occurred_at,
        content_hash=row.content_hash,
        content=row.content,
    )


class SqlPatientRecords:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def lock(self, patient_ids: Collection[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        for part in chunks(sorted(patient_ids)):
            for patient_id, version in self._db.execute(_LOCK, {"ids": part}):
                versions[patient_id] = version
        return versions

    def versions(self, patient_ids: Collection[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        for part in chunks(sorted(patient_ids)):
            for patient_id, version in self._db.execute(_VERSIONS, {"ids": part}):
                versions[patient_id] = version
        return versions

    def owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], StoredVersion]:
        by_type: dict[str, set[str]] = {}
        for kind, identity in keys:
            by_type.setdefault(kind, set()).add(identity)
        found: dict[tuple[str, str], StoredVersion] = {}
        for kind, identities in sorted(by_type.items()):
            for part in chunks(sorted(identities)):
                for identity, patient_id, version, content_hash, updated in self._db.execute(
                    _OWNERS, {"kind": kind, "ids": part}
                ):
                    found[(kind, identity)] = StoredVersion(
                        patient_id, version, content_hash, updated
                    )
        return found

    def resources(self, patient_ids: Collection[str]) -> dict[str, list[StoredResource]]:
        found: dict[str, list[StoredResource]] = {}
        for part in chunks(sorted(patient_ids)):
            query = select(resources).where(resources.c.patient_id.in_(part))
            for row in self._db.execute(query):
                found.setdefault(row.patient_id, []).append(_stored(row))
        return found

    def add_patients(self, entries: Sequence[PatientEntry]) -> None:
        if entries:
            self._db.execute(insert(patients), [_patient_row(e) for e in entries])

    def update_patients(self, entries: Sequence[tuple[PatientEntry, int]]) -> None:
        if not entries:
            return
        statement = (
            update(patients)
            .where(patients.c.id == bindparam("key"), patients.c.version == bindparam("seen"))
            .values(
                mrn=bindparam("mrn"),
                name=bindparam("name"),
                name_key=bindparam("name_key"),
                birth_date=bindparam("birth_date"),
                version=bindparam("version"),
            )
        )
        for entry, seen in entries:
            row = _patient_row(entry)
            row["key"] = row.pop("id")
            if self._db.execute(statement, {**row, "seen": seen}).rowcount != 1:
                raise ConcurrentUpdate(f"Patient/{entry.id} was changed by another writer")

    def touch(self, versions: Mapping[str, int]) -> None:
        seen = sorted(versions.items())
        for part in chunks(seen):
            if self._db.execute(_TOUCH, {"keys": part}).rowcount != len(part):
                raise ConcurrentUpdate(
                    f"one of {', '.join(f'Patient/{p}' for p, _ in part)} was changed by "
                    "another writer"
                )

    def add_resources(self, stored: Sequence[StoredResource]) -> None:
        _ADD_RESOURCES(
            self._db,
            [
                (
                    r.resource_type,
                    r.resource_id,
                    r.patient_id,
                    r.version,
                    r.last_updated,
                    r.occurred_at,
                    r.content_hash,
                    r.content,
                )
                for r in stored
            ],
        )

    def replace_resources(self, stored: Sequence[StoredResource]) -> None:
        if not stored:
            return
        r = resources.c
        same = (r.resource_type == bindparam("key_type"), r.resource_id == bindparam("key_id"))
        keep_old = insert(resource_history).from_select(
            [*RESOURCE_COLUMNS, "replaced_at"],
            select(
                *(r[name] for name in RESOURCE_COLUMNS),
                bindparam("now", type_=resource_history.c.replaced_at.type),
            ).where(*same),
        )
        now = datetime.now(UTC)
        keys = [{"key_type": s.resource_type, "key_id": s.resource_id, "now": now} for s in stored]
        self._db.execute(keep_old, keys)
        columns = (
            "patient_id",
            "version",
            "last_updated",
            "occurred_at",
            "content_hash",
            "content",
        )
        put_new = update(resources).where(*same).values({c: bindparam(c) for c in columns})
        self._db.execute(
            put_new,
            [
                {"key_type": s.resource_type, "key_id": s.resource_id}
                | {c: getattr(s, c) for c in columns}
                for s in stored
            ],
        )

    def patient(self, patient_id: str) -> PatientEntry | None:
        row = self._db.execute(select(patients).where(patients.c.id == patient_id)).first()
        return None if row is None else _entry(row)

    def search(self, text: str | None, page: int, size: int) -> Page[PatientListing]:
        p, s, d = patients.c, patient_summaries.c, monitoring_dues.c
        where = []
        if text:
            where.append(
                or_(
                    p.name_key.contains(text.casefold(), autoescape=True),
                    p.mrn.startswith(text, autoescape=True),
                    p.id == text,
                )
            )
        total = self._db.execute(
            select(func.count()).select_from(patients).where(*where)
        ).scalar_one()
        query = (
            select(patients, s.decision, d.due)
            .outerjoin(patient_summaries, s.patient_id == p.id)
            .outerjoin(monitoring_dues, (d.patient_id == p.id) & (d.item == "infusion"))
            .where(*where)
            .order_by(p.name_key, p.id)
            .limit(size)
            .offset((page - 1) * size)
        )
        items = tuple(
            PatientListing(_entry(row), row.decision, row.due) for row in self._db.execute(query)
        )
        return Page(items, page, size, total)

    def timeline(
        self, patient_id: str, types: Collection[str], page: int, size: int
    ) -> Page[StoredResource]:
        r = resources.c
        where = [r.patient_id == patient_id]
        if types:
            where.append(r.resource_type.in_(sorted(types)))
        total = self._db.execute(
            select(func.count()).select_from(resources).where(*where)
        ).scalar_one()
        query = (
            select(resources)
            .where(*where)
            .order_by(
                r.occurred_at.desc().nulls_last(),
                r.last_updated.desc(),
                r.resource_type,
                r.resource_id,
            )
            .limit(size)
            .offset((page - 1) * size)
        )
        return Page(tuple(_stored(row) for row in self._db.execute(query)), page, size, total)

    def history(self, resource_type: str, resource_id: str) -> list[StoredResource]:
        h = resource_history.c
        query = (
            select(resource_history)
            .where(h.resource_type == resource_type, h.resource_id == resource_id)
            .order_by(h.version)
        )
        return [_stored(row) for row in self._db.execute(query)]
