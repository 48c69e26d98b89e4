"""Writing incoming resources into patients' records, inside one transaction.

Used by the import and by clinicians' decisions alike. For each bundle the
writer first works out every change in memory and reads the resulting record
with the record format (the same reader an assessment uses); only a record that
reads cleanly is written, so an invalid bundle leaves nothing behind. The
patients touched are locked when the transaction starts, and each one's
version goes up once per transaction, so concurrent writers cannot lose an
update. Summaries are rebuilt once, at the end, for every record that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.ports import UnitOfWork
from natalizumab_cds.application.records import (
    ImportReport,
    IncomingRecord,
    IncomingResource,
    PatientEntry,
    StoredResource,
)
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Timeline

Key = tuple[str, str]
T = TypeVar("T")
RETRIES = 5


def with_retries(work: Callable[[], T], attempts: int = RETRIES) -> T:
    """Run a whole transaction again when another writer got to a patient first."""
    for _ in range(attempts - 1):
        try:
            return work()
        except ConcurrentUpdate:
            continue
    return work()


@dataclass(slots=True)
class _Staged:
    """One patient's record as it will stand if the bundle is accepted."""

    record: dict[Key, StoredResource]
    added: dict[Key, StoredResource]
    replaced: dict[Key, StoredResource]
    timeline: Timeline | None = None


class RecordWriter:
    """Applies bundles to patients' records within one unit of work."""

    def __init__(self, uow: UnitOfWork, context: ClinicContext) -> None:
        self._uow = uow
        self._context = context
        self._now = context.now()
        self._locked: dict[str, int] = {}  # patient -> stored version when locked
        self._records: dict[str, dict[Key, StoredResource]] = {}
        self._owners: dict[Key, str] = {}
        self._looked_up: set[Key] = set()
        self._entries: dict[str, PatientEntry] = {}
        self._timelines: dict[str, Timeline] = {}
        self._inserted: dict[str, PatientEntry] = {}  # new patients, as first written

    def load(self, records: Iterable[IncomingRecord]) -> None:
        """Lock the patients these records touch and read what is on file for them.

        Called once with a whole batch, then again (cheaply) by each ``apply``.
        """
        records = list(records)
        patient_ids = sorted({r.patient_id for r in records} - self._records.keys())
        keys = {res.key for r in records for res in r.resources} - self._looked_up
        self._looked_up |= keys
        if not patient_ids and not keys:
            return
        versions = self._uow.records.lock(patient_ids)
        self._locked.update(versions)
        stored = self._uow.records.resources(list(versions)) if versions else {}
        for patient_id in patient_ids:
            kept = stored.get(patient_id, [])
            self._records[patient_id] = {r.key: r for r in kept}
            for resource in kept:
                self._owners[resource.key] = patient_id
        for key, owner in self._uow.records.owners(list(keys)).items():
            self._owners.setdefault(key, owner.patient_id)

    def record(self, patient_id: str) -> list[StoredResource]:
        """A loaded patient's record as it stands in this transaction."""
        return list(self._records.get(patient_id, {}).values())

    def apply(self, records: Sequence[IncomingRecord]) -> ImportReport:
        """Stage, check and write one bundle; ``InvalidInput`` leaves nothing written."""
        self.load(records)
        staged: dict[str, _Staged] = {}
        counts = {"created": 0, "updated": 0, "unchanged": 0, "stale": 0}
        for incoming in records:
            patient_id = incoming.patient_id
            if patient_id not in staged:
                staged[patient_id] = _Staged(dict(self._records[patient_id]), {}, {})
            for resource in incoming.resources:
                counts[self._stage(staged[patient_id], patient_id, resource)] += 1
        changed = {pid: s for pid, s in staged.items() if s.added or s.replaced}
        for patient_id, stage in changed.items():
            stage.timeline = self._read(patient_id, stage)
        self._write(changed)
        return ImportReport(
            created=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            stale=counts["stale"],
        )

    def _stage(self, stage: _Staged, patient_id: str, incoming: IncomingResource) -> str:
        owner = self._owners.get(incoming.key)
        if owner is not None and owner != patient_id:
            raise InvalidInput(
                f"{incoming.ref}: belongs to the record of Patient/{owner}, "
                f"not to that of Patient/{patient_id}"
            )
        old = stage.record.get(incoming.key)
        if old is not None and old.content_hash == incoming.content_hash:
            return "unchanged"
        if old is not None and incoming.last_updated is not None:
            sent = self._context.format.sent_at(old.content)
            if sent is not None and incoming.last_updated < sent:
                return "stale"  # an older version arriving late never replaces a newer one
        new = StoredResource(
            patient_id=patient_id,
            resource_type=incoming.resource_type,
            resource_id=incoming.resource_id,
            version=1 if old is None else old.version + 1,
            last_updated=incoming.last_updated or self._now,
            occurred_at=incoming.occurred_at,
            content_hash=incoming.content_hash,
            content=incoming.content,
        )
        stage.record[incoming.key] = new
        if old is None:
            stage.added[new.key] = new
            return "created"
        # a resource added earlier in this bundle is still an addition, only newer
        (stage.added if new.key in stage.added else stage.replaced)[new.key] = new
        return "updated"

    def _read(self, patient_id: str, stage: _Staged) -> Timeline:
        if ("Patient", patient_id) not in stage.record:
            first = next(iter((stage.added or stage.replaced).values()))
            raise InvalidInput(
                f"{first.ref}: refers to Patient/{patient_id}, who is not on file "
                "(send the Patient resource in the same bundle)"
            )
        return self._context.timeline(stage.record.values())

    def _write(self, changed: dict[str, _Staged]) -> None:
        new_patients = []
        for patient_id, stage in changed.items():
            assert stage.timeline is not None
            person = stage.timeline.patient
            entry = PatientEntry(patient_id, person.mrn, person.name, person.birth_date)
            if patient_id not in self._locked and patient_id not in self._entries:
                new_patients.append(entry)
                self._inserted[patient_id] = entry
            self._entries[patient_id] = entry
            self._records[patient_id] = stage.record
            self._timelines[patient_id] = stage.timeline
            for key in stage.added:
                self._owners[key] = patient_id
        self._uow.records.add_patients(new_patients)
        self._uow.records.add_resources([r for s in changed.values() for r in s.added.values()])
        self._uow.records.replace_resources(
            [r for s in changed.values() for r in s.replaced.values()]
        )

    def finish(self) -> list[str]:
        """Bump the version of every changed record and rebuild its summary.

        Call once, at the end of the transaction; returns the patients changed.
        """
        updates = []
        summaries = []
        for patient_id, entry in self._entries.items():
            before = self._locked.get(patient_id)
            version = 1 if before is None else before + 1
            if self._inserted.get(patient_id) != entry:
                updates.append((replace(entry, version=version), before or 1))
            summaries.append(
                self._context.summarise(
                    patient_id,
                    version,
                    list(self._records[patient_id].values()),
                    self._timelines[patient_id],
                )
            )
        self._uow.records.update_patients(updates)
        self._uow.summaries.save(summaries)
        return list(self._entries)
