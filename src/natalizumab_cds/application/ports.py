"""What the use cases need from the outside world, as ``typing.Protocol`` ports.

Adapters live elsewhere: SQL in ``persistence``, FHIR in ``interop``, the
system clock in ``bootstrap``. The application never imports them; bootstrap
wires them in, and tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol

from natalizumab_cds.application.records import (
    ClinicianDecision,
    IncomingRecord,
    IncomingResource,
    Page,
    PatientEntry,
    PatientListing,
    StoredResource,
    StoredVersion,
    Summary,
)
from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.application.security.ports import AuditTrail
from natalizumab_cds.application.visits import VisitRepository
from natalizumab_cds.application.worklist_query import WorklistEntry, WorklistQuery
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.timeline import Timeline


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class RecordFormat(Protocol):
    """The patient-record format (FHIR R4): reading it in, writing decisions out."""

    def split(self, data: bytes | Mapping[str, Any]) -> list[IncomingRecord]:
        """A bundle or single resource, sorted by patient; raises ``InvalidInput``."""
        ...

    def timeline(self, resources: Iterable[Mapping[str, Any]]) -> Timeline:
        """One patient's stored resources read into a Timeline; raises ``InvalidInput``."""
        ...

    def joining(self, patient_id: str, resources: Sequence[Mapping[str, Any]]) -> IncomingRecord:
        """New resources for one patient's record, each checked to read as it would there.

        For adding to a record that already reads cleanly without reading it whole
        (lab results); raises ``InvalidInput``.
        """
        ...

    def sent_at(self, content: Mapping[str, Any]) -> datetime | None:
        """When the sender last changed this resource, if it says (FHIR meta.lastUpdated)."""
        ...

    def decision_resource(self, decision: ClinicianDecision) -> IncomingResource:
        """The resource that records a clinician's decision in the patient's record."""
        ...

    def decision_of(self, patient_id: str, content: Mapping[str, Any]) -> ClinicianDecision | None:
        """The clinician's decision a stored resource records, if it records one."""
        ...

    # -- what an infusion visit writes into the record (application/infusion_day.py) --

    def screening_resources(self, visit: Visit) -> list[IncomingResource]:
        """The visit's screening answers as the observations the assessment reads."""
        ...

    def administration_resource(self, visit: Visit) -> IncomingResource | None:
        """The visit's natalizumab administration (in progress, completed, stopped)."""
        ...

    def reaction_resource(self, visit: Visit) -> IncomingResource | None:
        """The allergy to natalizumab a reaction at the visit establishes."""
        ...


class PatientRecords(Protocol):
    """Patients and their raw resources."""

    def lock(self, patient_ids: Collection[str]) -> dict[str, int]:
        """Versions of the patients on file among ``patient_ids``, locked until commit."""
        ...

    def versions(self, patient_ids: Collection[str]) -> dict[str, int]:
        """Versions of the patients on file among ``patient_ids``, without locking them."""
        ...

    def owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], StoredVersion]:
        """Who owns each (type, id) already on file, and its current version."""
        ...

    def resources(self, patient_ids: Collection[str]) -> dict[str, list[StoredResource]]:
        """Every current resource of each patient."""
        ...

    def add_patients(self, patients: Sequence[PatientEntry]) -> None: ...

    def update_patients(self, patients: Sequence[tuple[PatientEntry, int]]) -> None:
        """Write each entry over the stored one, if that one still has the given version.

        Raises ``ConcurrentUpdate`` if another writer changed a patient meanwhile.
        """
        ...

    def touch(self, versions: Mapping[str, int]) -> None:
        """Raise each record's version by one, if it is still the given one.

        For a change made without rewriting the patient entry (results added);
        raises ``ConcurrentUpdate`` if another writer changed a patient meanwhile.
        """
        ...

    def add_resources(self, resources: Sequence[StoredResource]) -> None: ...

    def replace_resources(self, resources: Sequence[StoredResource]) -> None:
        """Store newer versions; the versions they replace move to the history."""
        ...

    def patient(self, patient_id: str) -> PatientEntry | None: ...

    def search(self, text: str | None, page: int, size: int) -> Page[PatientListing]: ...

    def timeline(
        self, patient_id: str, types: Collection[str], page: int, size: int
    ) -> Page[StoredResource]:
        """Stored resources, newest clinical date first."""
        ...

    def history(self, resource_type: str, resource_id: str) -> list[StoredResource]:
        """Every older version of one resource, oldest first."""
        ...


class Summaries(Protocol):
    """The per-patient summary rows the worklist is computed from."""

    def save(self, summaries: Sequence[Summary]) -> None: ...

    def outdated(self, today: date, protocol_version: str, limit: int) -> list[str]:
        """Patients whose summary is from before ``today`` or another protocol version."""
        ...

    def behind_records(self, limit: int) -> list[str]:
        """Patients whose summary is missing or older than their record's current version."""
        ...

    def summary(self, patient_id: str) -> Summary | None: ...

    def worklist(self, query: WorklistQuery) -> Page[WorklistEntry]: ...

    def safety_counts(self, today: date) -> SafetyCounts:
        """Every patient's safety facts added up, and monitoring items on time at ``today``."""
        ...

    def serum_levels(self) -> list[tuple[float, bool]]:
        """Each treated patient's latest serum level on treatment (µg/mL), and whether
        the patient was ever antibody-positive; patients with no level are left out."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all."""

    @property
    def records(self) -> PatientRecords: ...

    @property
    def summaries(self) -> Summaries: ...

    @property
    def audit(self) -> AuditTrail:
        """The audit trail, in this same transaction (see ``security.audited``)."""
        ...

    @property
    def visits(self) -> VisitRepository:
        """Infusion visits, versioned (``application/visits.py``)."""
        ...


class Database(Protocol):
    def writing(self) -> AbstractContextManager[UnitOfWork]:
        """A write transaction, committed when the block ends without an error."""
        ...

    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only transaction with a consistent view."""
        ...

    def reachable(self) -> bool: ...

    def close(self) -> None:
        """Release the connections (end of process, end of a test)."""
        ...
