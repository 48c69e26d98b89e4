"""A synthetic infusion day for the application, API and CLI tests.

The clinic lives at ``NOW`` (09:00 UTC, tests/clinic_db.py); the patient is a
synthetic, well-monitored one (``routine-proceed``) whose last infusion was 28
days ago. The bag is diluted at ``NOW`` and left at room temperature.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.application.visits import Bag, PumpSetting, ScreeningAnswers
from tests.clinic_db import NOW, FakeClock, a_patient

NURSE = "nurse.ana"
PHARMACIST = "pharm.ben"
CHECKER = "pharm.chloe"
DOCTOR = "dr.dara"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def no_concerns(**answers: Any) -> ScreeningAnswers:
    given: dict[str, Any] = {
        "neurological_symptoms": False,
        "active_infection": False,
        "pregnant": False,
        "breastfeeding": False,
        "new_medicines": False,
    } | answers
    return ScreeningAnswers(**given)


def a_bag(diluted_at: datetime = NOW, **fields: Any) -> Bag:
    bag = Bag(
        vial_lot="LOT-SYN-001",
        vial_expiry=date(2027, 6, 30),
        dose_mg=300.0,
        diluent="0.9% sodium chloride",
        volume_ml=100.0,
        diluted_at=diluted_at,
        prepared_by=PHARMACIST,
        checked_by=CHECKER,
    )
    return replace(bag, **fields)


def a_pump(rate: float = 100.0, **fields: Any) -> PumpSetting:
    return replace(PumpSetting(rate_ml_per_hour=rate), **fields)


def a_patient_on_file(clinic: Clinic, index: int = 1, scenario: str = "routine-proceed") -> str:
    clinic.importer.one(a_patient(index, scenario))
    return f"p{index}"


def a_prepared_visit(clinic: Clinic, clock: FakeClock, patient: str = "p1") -> VisitView:
    """Opened, screened (no concerns), cleared and prepared, 10 minutes after ``NOW``."""
    day = clinic.infusion_day
    visit = day.open(patient).visit.id
    clock.moment += minutes(5)
    day.screen(visit, NURSE, no_concerns())
    day.clear(visit, DOCTOR)
    clock.moment += minutes(5)
    return day.prepare(visit, a_bag())


def an_infusing_visit(clinic: Clinic, clock: FakeClock, patient: str = "p1") -> VisitView:
    """Prepared as above, started at ``NOW`` + 20 min at 100 mL/h."""
    visit = a_prepared_visit(clinic, clock, patient).visit.id
    clock.moment += minutes(10)
    return clinic.infusion_day.start(visit, NURSE, a_pump())


def an_observed_visit(clinic: Clinic, clock: FakeClock, patient: str = "p1") -> VisitView:
    """Infused for exactly 60 minutes, now in observation."""
    visit = an_infusing_visit(clinic, clock, patient).visit.id
    clock.moment += minutes(60)
    return clinic.infusion_day.end(visit, NURSE)


def record_of(clinic: Clinic, patient: str, kind: str) -> list[dict[str, Any]]:
    """The patient's stored resources of one type, as stored."""
    page = clinic.patients.timeline(patient, [kind], 1, 500)
    return [dict(r.content) for r in page.items]
