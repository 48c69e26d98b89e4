"""Infusion visits as the clinic keeps them: the ports, the stored value and its errors.

A visit is stored with a ``version`` that goes up by one with every step. A
step is saved only if the visit still has the version it was read at
(optimistic concurrency): when two clinicians act on the same visit at once,
the second save finds a newer version and raises ``VisitConflict``; its whole
transaction is rolled back, the first clinician's step stands, nothing is lost.

Errors (subclasses of ``NtzError``):

- ``UnknownVisit``: a visit id that is not on file (the API answers 404).
- ``VisitConflict``: someone else changed the visit since it was read, or since
  the version the client says it saw (409). Never retried automatically: the
  clinician must look at the visit as it now stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from natalizumab_cds.domain.errors import NtzError
from natalizumab_cds.domain.infusion_events import Method, ReactionSeverity, Symptom
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.preparation import Storage


class UnknownVisit(NtzError):
    def __init__(self, visit_id: str) -> None:
        super().__init__(f"visit {visit_id!r} is not on file")
        self.visit_id = visit_id


class VisitConflict(NtzError):
    def __init__(self, visit_id: str, expected: int, found: int | None) -> None:
        now = "" if found is None else f" (it is now at version {found}, not {expected})"
        super().__init__(
            f"visit {visit_id} was changed by someone else since you read it{now}; "
            "nothing was recorded: reload the visit and try again"
        )
        self.visit_id = visit_id
        self.expected = expected
        self.found = found


@dataclass(frozen=True, slots=True)
class StoredVisit:
    """A visit as stored: the domain value, its version and when it last changed."""

    visit: Visit
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScreeningAnswers:
    neurological_symptoms: bool
    active_infection: bool
    pregnant: bool
    breastfeeding: bool
    new_medicines: bool
    new_medicines_detail: str = ""


@dataclass(frozen=True, slots=True)
class Bag:
    """The diluted bag as the pharmacy records it; it starts its life in ``location``."""

    vial_lot: str
    vial_expiry: date
    dose_mg: float
    diluent: str
    volume_ml: float
    diluted_at: datetime
    prepared_by: str
    checked_by: str
    location: Storage = Storage.ROOM_TEMPERATURE
    checked_at: datetime | None = None  # default: when it is recorded
    frozen: bool = False
    shaken: bool = False


@dataclass(frozen=True, slots=True)
class PumpSetting:
    """How the infusion is given, and the bedside inspection of the bag."""

    rate_ml_per_hour: float | None = None
    planned_duration: timedelta | None = None
    method: Method = Method.INFUSION
    found_frozen: bool = False
    found_shaken: bool = False


@dataclass(frozen=True, slots=True)
class ReactionReport:
    symptoms: frozenset[Symptom]
    severity: ReactionSeverity
    treatment: str
    description: str = ""
    at: datetime | None = None  # default: when it is recorded


class VisitRepository(Protocol):
    def get(self, visit_id: str) -> StoredVisit | None: ...

    def add(self, visit: Visit, at: datetime) -> StoredVisit:
        """Store a new visit at version 1."""
        ...

    def save(self, visit: Visit, expected_version: int, at: datetime) -> StoredVisit:
        """Write the visit over the stored one if that is still at ``expected_version``.

        Raises ``VisitConflict`` otherwise (the row is left as the other writer left it).
        """
        ...

    def of_patient(self, patient_id: str) -> list[StoredVisit]:
        """The patient's visits, newest first."""
        ...

    def opened_between(self, start: datetime, end: datetime) -> list[StoredVisit]:
        """Visits of every patient opened in [``start``, ``end``), oldest first."""
        ...
