"""In-memory fakes of the clinic service's storage ports (tests only).

``FakeDatabase.writing()`` behaves like a transaction: a block that raises
leaves the state as it was. The worklist itself is SQL and is tested in
tests/persistence; the fake does not answer it.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.application.records import (
    Page,
    PatientEntry,
    PatientListing,
    StoredResource,
    StoredVersion,
    Summary,
)
from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.application.worklist_query import WorklistEntry, WorklistQuery
from natalizumab_cds.interop.fhir.record_format import FhirRecordFormat
from tests.clinic_db import FakeClock

Key = tuple[str, str]


@dataclass
class ClinicState:
    patients: dict[str, PatientEntry] = field(default_factory=dict)
    resources: dict[Key, StoredResource] = field(default_factory=dict)
    history: list[StoredResource] = field(default_factory=list)
    summaries: dict[str, Summary] = field(default_factory=dict)
    commits: int = 0


class FakeRecords:
    def __init__(self, state: ClinicState, conflicts: list[str]) -> None:
        self._state = state
        self._conflicts = conflicts

    def lock(self, patient_ids: Collection[str]) -> dict[str, int]:
        return {
            p: self._state.patients[p].version for p in patient_ids if p in self._state.patients
        }

    def versions(self, patient_ids: Collection[str]) -> dict[str, int]:
        return self.lock(patient_ids)

    def owners(self, keys: Collection[Key]) -> dict[Key, StoredVersion]:
        found = {k: self._state.resources[k] for k in keys if k in self._state.resources}
        return {
            k: StoredVersion(r.patient_id, r.version, r.content_hash, r.last_updated)
            for k, r in found.items()
        }

    def resources(self, patient_ids: Collection[str]) -> dict[str, list[StoredResource]]:
        found: dict[str, list[StoredResource]] = {}
        for resource in self._state.resources.values():
            if resource.patient_id in patient_ids:
                found.setdefault(resource.patient_id, []).append(resource)
        return found

    def add_patients(self, patients: Sequence[PatientEntry]) -> None:
        self._state.patients.update({p.id: p for p in patients})

    def update_patients(self, patients: Sequence[tuple[PatientEntry, int]]) -> None:
        for entry, seen in patients:
            if self._conflicts:
                raise ConcurrentUpdate(self._conflicts.pop())
            if self._state.patients[entry.id].version != seen:
                raise ConcurrentUpdate(entry.id)
            self._state.patients[entry.id] = entry

    def touch(self, versions: Mapping[str, int]) -> None:
        for patient_id, seen in versions.items():
            entry = self._state.patients[patient_id]
            if entry.version != seen:
                raise ConcurrentUpdate(patient_id)
            self._state.patients[patient_id] = replace(entry, version=seen + 1)

    def add_resources(self, resources: Sequence[StoredResource]) -> None:
        self._state.resources.update({r.key: r for r in resources})

    def replace_resources(self, resources: Sequence[StoredResource]) -> None:
        for resource in resources:
            self._state.history.append(self._state.resources[resource.key])
            self._state.resources[resource.key] = resource

    def patient(self, patient_id: str) -> PatientEntry | None:
        return self._state.patients.get(patient_id)

    def search(self, text: str | None, page: int, size: int) -> Page[PatientListing]:
        found = [
            PatientListing(p, None, None)
            for p in self._state.patients.values()
            if not text or text.casefold() in p.name.casefold()
        ]
        return Page(tuple(found[(page - 1) * size : page * size]), page, size, len(found))

    def timeline(
        self, patient_id: str, types: Collection[str], page: int, size: int
    ) -> Page[StoredResource]:
        found = [
            r
            for r in self._state.resources.values()
            if r.patient_id == patient_id and (not types or r.resource_type in types)
        ]
        found.sort(key=lambda r: r.occurred_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return Page(tuple(found[(page - 1) * size : page * size]), page, size, len(found))

    def history(self, resource_type: str, resource_id: str) -> list[StoredResource]:
        return [r for r in self._state.history if r.key == (resource_type, resource_id)]


class FakeSummaries:
    def __init__(self, state: ClinicState) -> None:
        self._state = state

    def save(self, summaries: Sequence[Summary]) -> None:
        self._state.summaries.update({s.patient_id: s for s in summaries})

    def outdated(self, today: date, protocol_version: str, limit: int) -> list[str]:
        stale = [
            p
            for p in sorted(self._state.patients)
            if p not in self._state.summaries
            or self._state.summaries[p].assessed_on < today
            or self._state.summaries[p].protocol_version != protocol_version
            or self._state.summaries[p].record_version < self._state.patients[p].version
        ]
        return stale[:limit]

    def behind_records(self, limit: int) -> list[str]:
        behind = [
            p
            for p in sorted(self._state.patients)
            if p not in self._state.summaries
            or self._state.summaries[p].record_version < self._state.patients[p].version
        ]
        return behind[:limit]

    def summary(self, patient_id: str) -> Summary | None:
        return self._state.summaries.get(patient_id)

    def worklist(self, query: WorklistQuery) -> Page[WorklistEntry]:
        raise NotImplementedError("the worklist is SQL: see tests/persistence/test_worklist.py")

    def safety_counts(self, today: date) -> SafetyCounts:
        raise NotImplementedError("the safety report is SQL: see tests/api/test_safety_report.py")

    def serum_levels(self) -> list[tuple[float, bool]]:
        raise NotImplementedError("the safety report is SQL: see tests/api/test_safety_report.py")


class FakeUnitOfWork:
    def __init__(self, state: ClinicState, conflicts: list[str]) -> None:
        self._records = FakeRecords(state, conflicts)
        self._summaries = FakeSummaries(state)

    @property
    def records(self) -> FakeRecords:
        return self._records

    @property
    def summaries(self) -> FakeSummaries:
        return self._summaries


class FakeDatabase:
    def __init__(self) -> None:
        self.state = ClinicState()
        #: Each entry makes one write fail as if another writer got there first.
        self.conflicts: list[str] = []

    @contextmanager
    def writing(self) -> Iterator[FakeUnitOfWork]:
        before = copy.deepcopy(self.state)
        try:
            yield FakeUnitOfWork(self.state, self.conflicts)
        except BaseException:
            self.state.__dict__.update(before.__dict__)
            raise
        self.state.commits += 1

    @contextmanager
    def reading(self) -> Iterator[FakeUnitOfWork]:
        yield FakeUnitOfWork(self.state, [])

    def reachable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def a_fake_clinic(clock: FakeClock | None = None) -> tuple[Clinic, FakeDatabase]:
    protocol = packaged_protocol()
    database = FakeDatabase()
    context = ClinicContext(FhirRecordFormat(protocol), protocol, UTC, clock or FakeClock())
    return Clinic.build(database, context), database
