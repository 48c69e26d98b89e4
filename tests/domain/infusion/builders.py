"""Readable builders for one synthetic infusion visit, step by step.

The day runs: the visit opens at ``OPENED`` (08:00 UTC), the bag is diluted at
08:00 and left at room temperature, checked at 08:05, the patient is screened
at 08:05 and cleared at 08:10, the infusion starts at ``START`` (08:30), ends
at ``END`` (09:30) and the patient can leave from 10:30. All data is synthetic.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion import (
    Visit,
    clear,
    end_infusion,
    prepare,
    record_screening,
    start_infusion,
)
from natalizumab_cds.domain.infusion_events import (
    Acknowledgement,
    Clearance,
    InfusionEnd,
    InfusionStart,
    Method,
    Reaction,
    ReactionSeverity,
    Screening,
    Symptom,
)
from natalizumab_cds.domain.preparation import Preparation, Storage, StorageMove
from natalizumab_cds.domain.protocol import Protocol

OPENED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DILUTED = OPENED
START = OPENED + timedelta(minutes=30)
END = START + timedelta(minutes=60)
SCREENED = OPENED + timedelta(minutes=5)
CLEARED = OPENED + timedelta(minutes=10)
NURSE = "nurse.ana"
PHARMACIST = "pharm.ben"
CHECKER = "pharm.chloe"
DOCTOR = "dr.dara"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def protocol() -> Protocol:
    return packaged_protocol()


def a_visit() -> Visit:
    return Visit(id="Encounter/visit-1", patient="Patient/p1", opened_at=OPENED)


def a_screening(at: datetime = SCREENED, **answers: Any) -> Screening:
    given: dict[str, Any] = {
        "neurological_symptoms": False,
        "active_infection": False,
        "pregnant": False,
        "breastfeeding": False,
        "new_medicines": False,
    } | answers
    return Screening(at=at, screened_by=NURSE, **given)


def a_clearance(
    decision: Decision = Decision.PROCEED,
    at: datetime = CLEARED,
    *,
    acknowledged: bool = False,
) -> Clearance:
    acknowledgement = Acknowledgement(by=DOCTOR, at=at) if acknowledged else None
    return Clearance(at=at, cleared_by=DOCTOR, decision=decision, acknowledgement=acknowledgement)


def a_preparation(
    diluted_at: datetime = DILUTED,
    moves: tuple[tuple[timedelta, Storage], ...] = ((timedelta(0), Storage.ROOM_TEMPERATURE),),
    **fields: Any,
) -> Preparation:
    """A correct bag; ``moves`` are (time after dilution, location)."""
    given: dict[str, Any] = {
        "vial_lot": "LOT-SYN-001",
        "vial_expiry": date(2027, 6, 30),
        "dose_mg": 300.0,
        "diluent": "0.9% sodium chloride",
        "volume_ml": 100.0,
        "prepared_by": PHARMACIST,
        "checked_by": CHECKER,
        "checked_at": diluted_at + minutes(5),
    } | fields
    storage = tuple(StorageMove(diluted_at + offset, where) for offset, where in moves)
    return Preparation(diluted_at=diluted_at, storage=storage, **given)


def a_start(at: datetime = START, **fields: Any) -> InfusionStart:
    given: dict[str, Any] = {
        "method": Method.INFUSION,
        "decision": Decision.PROCEED,
        "found_frozen": False,
        "found_shaken": False,
        "rate_ml_per_hour": 100.0,
    } | fields
    return InfusionStart(at=at, started_by=NURSE, **given)


def an_end(at: datetime = END) -> InfusionEnd:
    return InfusionEnd(at=at, ended_by=NURSE)


def a_reaction(at: datetime, **fields: Any) -> Reaction:
    given: dict[str, Any] = {
        "symptoms": frozenset({Symptom.URTICARIA, Symptom.DYSPNEA}),
        "severity": ReactionSeverity.MODERATE,
        "treatment": "infusion stopped; cetirizine 10 mg PO; oxygen",
    } | fields
    return Reaction(at=at, recorded_by=NURSE, **given)


def a_screened_visit() -> Visit:
    return record_screening(a_visit(), a_screening(), protocol())


def a_cleared_visit(clearance: Clearance | None = None) -> Visit:
    return clear(a_screened_visit(), clearance or a_clearance(), protocol())


def a_prepared_visit(preparation: Preparation | None = None, **clearance: Any) -> Visit:
    cleared = a_cleared_visit(a_clearance(**clearance)) if clearance else a_cleared_visit()
    return prepare(cleared, preparation or a_preparation(), protocol())


def an_infusing_visit(start: InfusionStart | None = None) -> Visit:
    return start_infusion(a_prepared_visit(), start or a_start(), protocol())


def an_observing_visit(end_at: datetime = END) -> Visit:
    return end_infusion(an_infusing_visit(), an_end(end_at), protocol())


def with_fields(preparation: Preparation, **fields: Any) -> Preparation:
    return replace(preparation, **fields)
