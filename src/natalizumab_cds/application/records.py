"""What the clinic service keeps about a patient, as plain values.

The raw record (each FHIR resource as it arrived, with its version) is the
truth; the patient entry and the summary are derived from it and rebuilt
whenever the record changes, so the worklist can be answered in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from natalizumab_cds.domain.safety import SafetyFacts

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IncomingResource:
    """One resource as it arrives, already tied to its patient by the record format.

    ``content_hash`` identifies the clinical content (the same resource sent
    twice has the same hash); ``last_updated`` is the sender's ``meta.lastUpdated``
    when given; ``occurred_at`` is the clinical date used to order a timeline.
    """

    resource_type: str
    resource_id: str
    content: Mapping[str, Any]
    content_hash: str
    last_updated: datetime | None = None
    occurred_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.resource_id)


@dataclass(frozen=True, slots=True)
class IncomingRecord:
    """One patient's share of one bundle (or a single resource): written all or nothing."""

    patient_id: str
    resources: tuple[IncomingResource, ...]


@dataclass(frozen=True, slots=True)
class StoredResource:
    """A resource as kept: its current version and when it was last changed."""

    patient_id: str
    resource_type: str
    resource_id: str
    version: int
    last_updated: datetime
    occurred_at: datetime | None
    content_hash: str
    content: Mapping[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.resource_id)


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """Who owns a stored resource and which version of its content is current."""

    patient_id: str
    version: int
    content_hash: str
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class PatientEntry:
    """The patient as the clinic finds them: id, MRN, name, birth date.

    ``version`` goes up by one with every change to the record; a writer that
    saw an older version must start again (no lost updates).
    """

    id: str
    mrn: str | None
    name: str
    birth_date: date | None
    version: int = 1


@dataclass(frozen=True, slots=True)
class ItemDue:
    """When one monitoring item (or the next infusion) was last done and falls due."""

    item: str
    last: date | None
    due: date


@dataclass(frozen=True, slots=True)
class Summary:
    """What the worklist needs about one patient, from the latest assessment.

    ``attention`` lists the rules whose effect is caution or worse;
    ``acknowledged`` those of them a clinician acknowledged on ``assessed_on``.
    ``decision`` is None only when the stored record could not be assessed, and
    then ``problem`` says why.
    """

    patient_id: str
    record_version: int
    assessed_at: datetime
    assessed_on: date
    protocol_version: str
    decision: str | None
    attention: tuple[str, ...] = ()
    acknowledged: tuple[str, ...] = ()
    dues: tuple[ItemDue, ...] = ()
    problem: str | None = None
    safety: SafetyFacts = field(default_factory=SafetyFacts)  # share of the safety report


class DecisionKind(StrEnum):
    """A clinician's decision on one finding."""

    ACKNOWLEDGE = "acknowledge"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class ClinicianDecision:
    """An acknowledgement of a caution or an override of an overridable rule."""

    id: str
    patient_id: str
    kind: DecisionKind
    rule: str
    author: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    size: int
    total: int


@dataclass(frozen=True, slots=True)
class PatientListing:
    """A patient found by name or MRN, with the latest decision if assessed."""

    patient: PatientEntry
    decision: str | None
    next_infusion_due: date | None


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did; ``failures`` are (source, reason) of bundles left out whole."""

    patients: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    failures: tuple[tuple[str, str], ...] = field(default=())

    def __add__(self, other: ImportReport) -> ImportReport:
        return ImportReport(
            self.patients + other.patients,
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.stale + other.stale,
            self.failures + other.failures,
        )
