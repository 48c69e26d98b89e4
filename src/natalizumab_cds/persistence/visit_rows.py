"""A visit's steps ⇄ the JSON kept in its row, one explicit mapping per step.

Moments are ISO 8601 with their offset, durations whole seconds, enums their
words. Reading a row back goes through the domain's constructors, so a row that
no longer makes a valid visit fails loudly (``InvalidInput``) instead of being
guessed around.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion_events import (
    Acknowledgement,
    Cancellation,
    Clearance,
    Discharge,
    InfusionEnd,
    InfusionStart,
    Method,
    Reaction,
    ReactionSeverity,
    Screening,
    Symptom,
    Withdrawal,
)
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.preparation import Preparation, Storage, StorageMove

Row = dict[str, Any]
T = TypeVar("T")

#: The step columns of the ``visits`` table, in the order the steps happen.
STEP_COLUMNS = (
    "screening",
    "clearance",
    "preparation",
    "infusion_start",
    "infusion_end",
    "reaction",
    "discharge",
    "cancellation",
)


def _at(value: datetime) -> str:
    return value.isoformat()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def steps_of(visit: Visit) -> dict[str, Row | None]:
    """The step columns' values for ``visit`` (``None`` for a step not taken)."""
    return {
        "screening": _maybe(visit.screening, _screening),
        "clearance": _maybe(visit.clearance, _clearance),
        "preparation": _maybe(visit.preparation, _preparation),
        "infusion_start": _maybe(visit.start, _start),
        "infusion_end": _maybe(visit.end, lambda e: {"at": _at(e.at), "by": e.ended_by}),
        "reaction": _maybe(visit.reaction, _reaction),
        "discharge": _maybe(visit.discharge, lambda d: {"at": _at(d.at), "by": d.discharged_by}),
        "cancellation": _maybe(
            visit.cancellation,
            lambda c: {"at": _at(c.at), "by": c.cancelled_by, "reason": c.reason},
        ),
    }


def visit_of(visit_id: str, patient_id: str, opened_at: datetime, steps: dict[str, Any]) -> Visit:
    """The domain visit a row holds."""
    return Visit(
        id=visit_id,
        patient=patient_id,
        opened_at=opened_at,
        screening=_maybe(steps.get("screening"), _read_screening),
        clearance=_maybe(steps.get("clearance"), _read_clearance),
        preparation=_maybe(steps.get("preparation"), _read_preparation),
        start=_maybe(steps.get("infusion_start"), _read_start),
        end=_maybe(steps.get("infusion_end"), lambda r: InfusionEnd(_moment(r["at"]), r["by"])),
        reaction=_maybe(steps.get("reaction"), _read_reaction),
        discharge=_maybe(steps.get("discharge"), lambda r: Discharge(_moment(r["at"]), r["by"])),
        cancellation=_maybe(
            steps.get("cancellation"),
            lambda r: Cancellation(_moment(r["at"]), r["by"], r["reason"]),
        ),
    )


def _maybe(value: Any, convert: Callable[[Any], T]) -> T | None:
    return None if value is None else convert(value)


def _screening(s: Screening) -> Row:
    return {
        "at": _at(s.at),
        "by": s.screened_by,
        "neurological_symptoms": s.neurological_symptoms,
        "active_infection": s.active_infection,
        "pregnant": s.pregnant,
        "breastfeeding": s.breastfeeding,
        "new_medicines": s.new_medicines,
        "new_medicines_detail": s.new_medicines_detail,
        "withdrawn": [
            {
                "question": w.question,
                "answered_at": _at(w.answered_at),
                "answered_by": w.answered_by,
                "withdrawn_at": _at(w.withdrawn_at),
                "withdrawn_by": w.withdrawn_by,
            }
            for w in s.withdrawn
        ],
    }


def _read_screening(r: Row) -> Screening:
    return Screening(
        at=_moment(r["at"]),
        screened_by=r["by"],
        neurological_symptoms=r["neurological_symptoms"],
        active_infection=r["active_infection"],
        pregnant=r["pregnant"],
        breastfeeding=r["breastfeeding"],
        new_medicines=r["new_medicines"],
        new_medicines_detail=r["new_medicines_detail"],
        withdrawn=tuple(
            Withdrawal(
                question=w["question"],
                answered_at=_moment(w["answered_at"]),
                answered_by=w["answered_by"],
                withdrawn_at=_moment(w["withdrawn_at"]),
                withdrawn_by=w["withdrawn_by"],
            )
            for w in r.get("withdrawn", [])  # rows written before withdrawals were kept
        ),
    )


def _clearance(c: Clearance) -> Row:
    ack = c.acknowledgement
    return {
        "at": _at(c.at),
        "by": c.cleared_by,
        "decision": c.decision.value,
        "acknowledged_by": ack.by if ack else None,
        "acknowledged_at": _at(ack.at) if ack else None,
        "medicines_reviewed": c.medicines_reviewed,
    }


def _read_clearance(r: Row) -> Clearance:
    ack = None
    if r["acknowledged_by"] is not None:
        ack = Acknowledgement(by=r["acknowledged_by"], at=_moment(r["acknowledged_at"]))
    reviewed = r.get("medicines_reviewed", False)  # absent from rows of earlier versions
    return Clearance(_moment(r["at"]), r["by"], Decision(r["decision"]), ack, reviewed)


def _preparation(p: Preparation) -> Row:
    return {
        "vial_lot": p.vial_lot,
        "vial_expiry": p.vial_expiry.isoformat(),
        "dose_mg": p.dose_mg,
        "diluent": p.diluent,
        "volume_ml": p.volume_ml,
        "diluted_at": _at(p.diluted_at),
        "storage": [{"at": _at(m.at), "location": m.location.value} for m in p.storage],
        "prepared_by": p.prepared_by,
        "checked_by": p.checked_by,
        "checked_at": _at(p.checked_at),
        "frozen": p.frozen,
        "shaken": p.shaken,
    }


def _read_preparation(r: Row) -> Preparation:
    return Preparation(
        vial_lot=r["vial_lot"],
        vial_expiry=date.fromisoformat(r["vial_expiry"]),
        dose_mg=float(r["dose_mg"]),
        diluent=r["diluent"],
        volume_ml=float(r["volume_ml"]),
        diluted_at=_moment(r["diluted_at"]),
        storage=tuple(StorageMove(_moment(m["at"]), Storage(m["location"])) for m in r["storage"]),
        prepared_by=r["prepared_by"],
        checked_by=r["checked_by"],
        checked_at=_moment(r["checked_at"]),
        frozen=r["frozen"],
        shaken=r["shaken"],
    )


def _start(s: InfusionStart) -> Row:
    planned = s.planned_duration
    return {
        "at": _at(s.at),
        "by": s.started_by,
        "method": s.method.value,
        "decision": s.decision.value,
        "found_frozen": s.found_frozen,
        "found_shaken": s.found_shaken,
        "rate_ml_per_hour": s.rate_ml_per_hour,
        "planned_duration_seconds": None if planned is None else planned.total_seconds(),
    }


def _read_start(r: Row) -> InfusionStart:
    seconds = r["planned_duration_seconds"]
    rate = r["rate_ml_per_hour"]
    return InfusionStart(
        at=_moment(r["at"]),
        started_by=r["by"],
        method=Method(r["method"]),
        decision=Decision(r["decision"]),
        found_frozen=r["found_frozen"],
        found_shaken=r["found_shaken"],
        rate_ml_per_hour=None if rate is None else float(rate),
        planned_duration=None if seconds is None else timedelta(seconds=seconds),
    )


def _reaction(r: Reaction) -> Row:
    return {
        "at": _at(r.at),
        "by": r.recorded_by,
        "symptoms": sorted(s.value for s in r.symptoms),
        "severity": r.severity.value,
        "treatment": r.treatment,
        "description": r.description,
    }


def _read_reaction(r: Row) -> Reaction:
    return Reaction(
        at=_moment(r["at"]),
        recorded_by=r["by"],
        symptoms=frozenset(Symptom(s) for s in r["symptoms"]),
        severity=ReactionSeverity(r["severity"]),
        treatment=r["treatment"],
        description=r["description"],
    )
