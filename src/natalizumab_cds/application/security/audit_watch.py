"""Repositories that note what a use case reads and changes, for ``audited``.

They pass every call through to the real repository unchanged and remember:
which patients' records were read, how many searches and worklist pages were
answered, and per patient which resources changed from which version (and
content hash) to which. Versions seen when the record was loaded serve as the
"before"; anything not seen is looked up once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from natalizumab_cds.application.ports import PatientRecords, Summaries
from natalizumab_cds.application.records import (
    Page,
    PatientEntry,
    PatientListing,
    StoredResource,
    StoredVersion,
    Summary,
)
from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.application.visits import StoredVisit, VisitRepository
from natalizumab_cds.application.worklist_query import WorklistEntry, WorklistQuery
from natalizumab_cds.domain.infusion_visit import Visit

Key = tuple[str, str]
Pin = tuple[int, str]  # version, content hash


def _ref(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


@dataclass(slots=True)
class PatientChange:
    created: bool = False
    record_before: int | None = None
    record_after: int | None = None
    resources_before: dict[Key, Pin] = field(default_factory=dict)
    resources_after: dict[Key, Pin] = field(default_factory=dict)
    visits_before: dict[str, dict[str, Any]] = field(default_factory=dict)
    visits_after: dict[str, dict[str, Any]] = field(default_factory=dict)

    def before(self) -> dict[str, Any]:
        return self._state(self.record_before, self.resources_before, self.visits_before)

    def after(self) -> dict[str, Any]:
        return self._state(self.record_after, self.resources_after, self.visits_after)

    @staticmethod
    def _state(
        version: int | None, resources: dict[Key, Pin], visits: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        state: dict[str, Any] = {
            "record_version": version,
            "resources": {
                _ref(k): {"version": v, "sha256": h} for k, (v, h) in sorted(resources.items())
            },
        }
        if visits:
            state["visits"] = visits
        return state


def _visit_state(visit: Visit, version: int) -> dict[str, Any]:
    return {"version": version, "state": visit.state.value}


class WatchedRecords:
    def __init__(self, inner: PatientRecords) -> None:
        self._inner = inner
        self.read: set[str] = set()
        self.searches: list[int] = []
        self.changes: dict[str, PatientChange] = {}
        self._seen: dict[Key, Pin] = {}

    def change_of(self, patient_id: str) -> PatientChange:
        return self.changes.setdefault(patient_id, PatientChange())

    def lock(self, patient_ids: Collection[str]) -> dict[str, int]:
        return self._inner.lock(patient_ids)

    def versions(self, patient_ids: Collection[str]) -> dict[str, int]:
        return self._inner.versions(patient_ids)

    def owners(self, keys: Collection[Key]) -> dict[Key, StoredVersion]:
        found = self._inner.owners(keys)
        for key, stored in found.items():
            self._seen.setdefault(key, (stored.version, stored.content_hash))
        return found

    def resources(self, patient_ids: Collection[str]) -> dict[str, list[StoredResource]]:
        found = self._inner.resources(patient_ids)
        for patient_id, kept in found.items():
            if kept:
                self.read.add(patient_id)
            for resource in kept:
                self._seen.setdefault(resource.key, (resource.version, resource.content_hash))
        return found

    def add_patients(self, patients: Sequence[PatientEntry]) -> None:
        self._inner.add_patients(patients)
        for entry in patients:
            change = self.change_of(entry.id)
            change.created = True
            change.record_after = entry.version

    def update_patients(self, patients: Sequence[tuple[PatientEntry, int]]) -> None:
        self._inner.update_patients(patients)
        for entry, expected in patients:
            change = self.change_of(entry.id)
            if not change.created and change.record_before is None:
                change.record_before = expected
            change.record_after = entry.version

    def touch(self, versions: Mapping[str, int]) -> None:
        self._inner.touch(versions)
        for patient_id, seen in versions.items():
            change = self.change_of(patient_id)
            if not change.created and change.record_before is None:
                change.record_before = seen
            change.record_after = seen + 1

    def add_resources(self, resources: Sequence[StoredResource]) -> None:
        self._inner.add_resources(resources)
        for resource in resources:
            self._noted(resource)

    def replace_resources(self, resources: Sequence[StoredResource]) -> None:
        unseen = [r.key for r in resources if r.key not in self._seen]
        if unseen:
            self.owners(unseen)
        self._inner.replace_resources(resources)
        for resource in resources:
            change = self.change_of(resource.patient_id)
            if resource.key not in change.resources_after and resource.key in self._seen:
                change.resources_before.setdefault(resource.key, self._seen[resource.key])
            self._noted(resource)

    def _noted(self, resource: StoredResource) -> None:
        pin = (resource.version, resource.content_hash)
        self.change_of(resource.patient_id).resources_after[resource.key] = pin
        self._seen[resource.key] = pin

    def patient(self, patient_id: str) -> PatientEntry | None:
        entry = self._inner.patient(patient_id)
        if entry is not None:
            self.read.add(patient_id)
        return entry

    def search(self, text: str | None, page: int, size: int) -> Page[PatientListing]:
        found = self._inner.search(text, page, size)
        self.searches.append(len(found.items))
        return found

    def timeline(
        self, patient_id: str, types: Collection[str], page: int, size: int
    ) -> Page[StoredResource]:
        found = self._inner.timeline(patient_id, types, page, size)
        self.read.add(patient_id)
        return found

    def history(self, resource_type: str, resource_id: str) -> list[StoredResource]:
        found = self._inner.history(resource_type, resource_id)
        self.read.update(r.patient_id for r in found)
        return found


class WatchedSummaries:
    def __init__(self, inner: Summaries) -> None:
        self._inner = inner
        self.worklists: list[int] = []
        self.safety_reports: list[int] = []  # patients counted, per report read

    def save(self, summaries: Sequence[Summary]) -> None:
        self._inner.save(summaries)

    def outdated(self, today: date, protocol_version: str, limit: int) -> list[str]:
        return self._inner.outdated(today, protocol_version, limit)

    def behind_records(self, limit: int) -> list[str]:
        return self._inner.behind_records(limit)

    def summary(self, patient_id: str) -> Summary | None:
        return self._inner.summary(patient_id)

    def worklist(self, query: WorklistQuery) -> Page[WorklistEntry]:
        found = self._inner.worklist(query)
        self.worklists.append(len(found.items))
        return found

    def safety_counts(self, today: date) -> SafetyCounts:
        found = self._inner.safety_counts(today)
        self.safety_reports.append(found.patients)
        return found

    def serum_levels(self) -> list[tuple[float, bool]]:
        return self._inner.serum_levels()  # part of the same report read, audited above


class WatchedVisits:
    """Infusion visits: each step is a change of the patient's record."""

    def __init__(self, inner: VisitRepository, records: WatchedRecords) -> None:
        self._inner = inner
        self._records = records

    def get(self, visit_id: str) -> StoredVisit | None:
        found = self._inner.get(visit_id)
        if found is not None:
            self._records.read.add(found.visit.patient)
        return found

    def add(self, visit: Visit, at: datetime) -> StoredVisit:
        stored = self._inner.add(visit, at)
        change = self._records.change_of(visit.patient)
        change.visits_after[visit.id] = _visit_state(visit, stored.version)
        return stored

    def save(self, visit: Visit, expected_version: int, at: datetime) -> StoredVisit:
        before = self._inner.get(visit.id)
        stored = self._inner.save(visit, expected_version, at)
        change = self._records.change_of(visit.patient)
        if before is not None and visit.id not in change.visits_after:
            change.visits_before[visit.id] = _visit_state(before.visit, before.version)
        change.visits_after[visit.id] = _visit_state(visit, stored.version)
        return stored

    def opened_between(self, start: datetime, end: datetime) -> list[StoredVisit]:
        found = self._inner.opened_between(start, end)
        self._records.read.update(stored.visit.patient for stored in found)
        return found

    def of_patient(self, patient_id: str) -> list[StoredVisit]:
        found = self._inner.of_patient(patient_id)
        self._records.read.add(patient_id)
        return found
