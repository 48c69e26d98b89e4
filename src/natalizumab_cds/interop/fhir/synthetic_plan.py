"""A synthetic patient's history as plain facts (what happened when), before FHIR.

``build_history`` lays out a well-monitored natalizumab course ending shortly
before the plan's ``anchor``: an infusion every 28 days, liver tests and CBC
every third infusion, thyroid tests and EDSS every sixth, antibodies every
third (12 weeks), a yearly MRI, a baseline visit before the first infusion, and
relapses only more than 13 months ago. Every date is counted back from the
anchor's (UTC) calendar day, so a demo record never goes stale, and every draw
comes from the plan's own ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from natalizumab_cds.domain.protocol import LOCAL, LOINC

INFUSION_INTERVAL_DAYS = 28
LIVER = ("alt", "ast")
BLOOD = ("neutrophils", "lymphocytes", "monocytes", "platelets")
THYROID = ("tsh", "free-t4")
#: Everything older than this many days before the anchor is outside every
#: 12-month window (relapses and active MRIs are kept there in routine records).
OUTSIDE_YEAR_DAYS = 400


@dataclass(frozen=True, slots=True)
class LabSpec:
    """How one numeric result is coded, its unit, range and usual values."""

    prefix: str
    system: str
    code: str
    display: str
    unit: str
    ucum: str
    low: float | None
    high: float | None
    normal: tuple[float, float]
    digits: int
    category: str = "laboratory"


_DISPLAY = {
    "alt": "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "ast": "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "neutrophils": "Neutrophils [#/volume] in Blood by Automated count",
    "lymphocytes": "Lymphocytes [#/volume] in Blood by Automated count",
    "monocytes": "Monocytes [#/volume] in Blood by Automated count",
    "platelets": "Platelets [#/volume] in Blood by Automated count",
    "tsh": "Thyrotropin [Units/volume] in Serum or Plasma",
    "free-t4": "Thyroxine (T4) free [Mass/volume] in Serum or Plasma",
    "natalizumab-concentration": "Serum natalizumab concentration",
    "edss": "Expanded Disability Status Scale (EDSS) score",
}
_G9 = "10^9/L", "10*9/L"
_NTZ = "natalizumab-concentration"
LABS: dict[str, LabSpec] = {
    "alt": LabSpec("alt", LOINC, "1742-6", _DISPLAY["alt"], "U/L", "U/L", 7, 40, (12, 34), 0),
    "ast": LabSpec("ast", LOINC, "1920-8", _DISPLAY["ast"], "U/L", "U/L", 8, 40, (14, 33), 0),
    "neutrophils": LabSpec(
        "neut", LOINC, "751-8", _DISPLAY["neutrophils"], *_G9, 1.5, 7.0, (2.1, 5.8), 2
    ),
    "lymphocytes": LabSpec(
        "lymph", LOINC, "731-0", _DISPLAY["lymphocytes"], *_G9, 1.0, 4.0, (1.5, 3.6), 2
    ),
    "monocytes": LabSpec(
        "mono", LOINC, "742-7", _DISPLAY["monocytes"], *_G9, 0.2, 1.0, (0.3, 0.8), 2
    ),
    "platelets": LabSpec(
        "plt", LOINC, "777-3", _DISPLAY["platelets"], *_G9, 150, 400, (180, 360), 0
    ),
    "tsh": LabSpec(
        "tsh", LOINC, "3016-3", _DISPLAY["tsh"], "mIU/L", "m[IU]/L", 0.4, 4.0, (0.8, 3.2), 2
    ),
    "free-t4": LabSpec(
        "ft4", LOINC, "3024-7", _DISPLAY["free-t4"], "ng/dL", "ng/dL", 0.8, 1.8, (0.95, 1.6), 2
    ),
    _NTZ: LabSpec(
        "ntz-level", LOCAL, _NTZ, _DISPLAY[_NTZ], "µg/mL", "ug/mL", None, None, (12.0, 32.0), 1
    ),
    "edss": LabSpec(
        "edss",
        LOCAL,
        "edss",
        _DISPLAY["edss"],
        "score",
        "{score}",
        None,
        None,
        (0.0, 10.0),
        1,
        "exam",
    ),
}


@dataclass(slots=True)
class Lab:
    key: str
    at: datetime
    value: float


@dataclass(slots=True)
class Status:
    """A coded or yes/no observation; ``value`` is a bool or a word of its kind."""

    key: str
    at: datetime
    value: bool | str


@dataclass(slots=True)
class Mri:
    at: datetime
    gd: int = 0
    t2: int = 0


@dataclass(slots=True)
class Infusion:
    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(slots=True)
class Plan:
    """One patient's synthetic history; scenarios edit it before it is rendered."""

    index: int
    anchor: datetime
    rng: random.Random
    gender: str
    birth_date: date
    given: str
    family: str
    edss_baseline: float = 2.0
    infusions: list[Infusion] = field(default_factory=list)
    labs: list[Lab] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    mris: list[Mri] = field(default_factory=list)
    relapses: list[datetime] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.anchor.date()

    @property
    def patient_id(self) -> str:
        return f"p{self.index}"

    def new_id(self, prefix: str) -> str:
        """The next stable id of a kind: ``alt-3-1``, ``alt-3-2`` …"""
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}-{self.index}-{self._counters[prefix]}"

    def days_ago(self, days: int, hour: int = 10, minute: int = 0) -> datetime:
        return at_time(self.today - timedelta(days=days), hour, minute)

    def normal(self, key: str) -> float:
        spec = LABS[key]
        return round(self.rng.uniform(*spec.normal), spec.digits)

    def add_panel(self, keys: Iterable[str], at: datetime) -> None:
        self.labs.extend(Lab(key, at, self.normal(key)) for key in keys)

    def drop_labs(self, keys: Iterable[str], after: datetime) -> None:
        wanted = set(keys)
        self.labs = [lab for lab in self.labs if lab.key not in wanted or lab.at <= after]

    def latest_lab(self, key: str) -> Lab | None:
        return max((lab for lab in self.labs if lab.key == key), key=_lab_at, default=None)


def _lab_at(lab: Lab) -> datetime:
    return lab.at


def at_time(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour``:``minute`` UTC on ``day``; minutes past 59 carry into the hours."""
    return datetime.combine(day, time(0), UTC) + timedelta(hours=hour, minutes=minute)


def infusion_count(years: float) -> int:
    return max(1, round(years * 365.25 / INFUSION_INTERVAL_DAYS))


@dataclass(frozen=True, slots=True)
class _Phases:
    """At which infusions (counted back from the last, 1-based) each test falls."""

    liver: int
    thyroid: int
    antibody: int
    edss: int


def build_history(plan: Plan, infusions: int, last_gap_days: int) -> None:
    """A routine course of ``infusions`` doses, the last ``last_gap_days`` before anchor."""
    if infusions < 1:
        return
    days = [
        plan.today - timedelta(days=last_gap_days + INFUSION_INTERVAL_DAYS * (back - 1))
        for back in range(infusions, 0, -1)
    ]
    first = days[0]
    _baseline_visit(plan, first)
    rng = plan.rng
    on_treatment = max(1, infusions - 1)
    phases = _Phases(
        liver=rng.randint(1, min(2, on_treatment)),
        thyroid=rng.randint(1, min(5, on_treatment)),
        antibody=rng.randint(1, min(2, on_treatment)),
        edss=rng.randint(1, min(5, on_treatment)),
    )
    for back, day in zip(range(infusions, 0, -1), days, strict=True):
        _infusion_visit(plan, day, phases, back if back < infusions else 0)
    _mris(plan, first)
    _relapses(plan, first)


def _due(back: int, every: int, phase: int) -> bool:
    return back >= phase and (back - phase) % every == 0


def _baseline_visit(plan: Plan, first: date) -> None:
    rng = plan.rng
    at = at_time(first - timedelta(days=rng.randint(7, 21)), 9, 15 * rng.randint(0, 11))
    plan.add_panel((*LIVER, *BLOOD, *THYROID), at)
    plan.edss_baseline = rng.choice((1.5, 2.0, 2.5, 3.0, 3.5, 4.0))
    plan.labs.append(Lab("edss", at + timedelta(minutes=30), plan.edss_baseline))
    if plan.gender == "female" and _age(plan.birth_date, first) < 50:
        plan.statuses.append(Status("pregnancy", at, "not-pregnant"))


def _infusion_visit(plan: Plan, day: date, phases: _Phases, back: int) -> None:
    """One dosing day; ``back`` = 0 for the first dose (tests were done at baseline)."""
    rng = plan.rng
    start = at_time(day, 8, 15 * rng.randint(0, 16))
    plan.infusions.append(Infusion(start, rng.randint(60, 75)))
    screened = start - timedelta(minutes=15)
    plan.statuses.append(Status("screen-neuro", screened, False))
    plan.statuses.append(Status("screen-infection", screened, False))
    if back == 0:
        return
    drawn = start - timedelta(minutes=45)
    if _due(back, 3, phases.liver):
        plan.add_panel((*LIVER, *BLOOD), drawn)
    if _due(back, 6, phases.thyroid):
        plan.add_panel(THYROID, drawn)
    if _due(back, 3, phases.antibody):
        plan.statuses.append(Status("antibody", drawn, "negative"))
    if _due(back, 12, phases.antibody):
        plan.add_panel(("natalizumab-concentration",), drawn)
    if _due(back, 6, phases.edss):
        step = rng.choice((-0.5, 0.0, 0.0, 0.5))
        score = max(0.0, plan.edss_baseline + step)
        plan.labs.append(Lab("edss", start - timedelta(minutes=30), score))


def _mris(plan: Plan, first: date) -> None:
    rng = plan.rng
    baseline = first - timedelta(days=rng.randint(14, 45))
    old = (plan.today - baseline).days > OUTSIDE_YEAR_DAYS
    gd, t2 = (rng.randint(1, 3), rng.randint(1, 4)) if old else (0, 0)
    plan.mris.append(Mri(at_time(baseline, 14, 15 * rng.randint(0, 12)), gd, t2))
    treated_days = (plan.today - first).days
    latest = min(300, treated_days - 90)
    if latest < 30:
        return
    back = rng.randint(30, latest)
    while back <= treated_days - 90:
        plan.mris.append(Mri(plan.days_ago(back, 14, 15 * rng.randint(0, 12))))
        back += 365


def _relapses(plan: Plan, first: date) -> None:
    """A relapse before treatment and about one per ten years on it, all > 13 months ago."""
    rng = plan.rng
    before = first - timedelta(days=rng.randint(45, 240))
    if (plan.today - before).days > OUTSIDE_YEAR_DAYS:
        plan.relapses.append(at_time(before, 11))
    start = first + timedelta(days=60)
    span = (plan.today - timedelta(days=OUTSIDE_YEAR_DAYS) - start).days
    for _ in range(max(0, span) // 365):
        if rng.random() < 0.1:
            plan.relapses.append(at_time(start + timedelta(days=rng.randint(0, span)), 11))


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
