"""The patient's ordered, validated history, and the questions rules ask of it.

Every fact carries a reference to the resource it came from (``Observation/alt-1``)
and a timezone-aware moment. Facts marked entered-in-error, cancelled or refuted
are kept (so they can be shown) but never counted. Every query takes ``at``:
nothing dated after it is ever returned.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Override

#: Observation / administration statuses whose data never counts.
VOID_STATUSES = frozenset({"entered-in-error", "cancelled", "registered", "not-done"})
#: Verification statuses that make a condition or allergy not count.
VOID_VERIFICATION = frozenset({"refuted", "entered-in-error"})


class Analyte(StrEnum):
    """Numeric results the rules read, each held in one canonical unit."""

    ALT = "alt"
    AST = "ast"
    NEUTROPHILS = "neutrophils"
    LYMPHOCYTES = "lymphocytes"
    MONOCYTES = "monocytes"
    PLATELETS = "platelets"
    TSH = "tsh"
    FREE_T4 = "free-t4"
    NATALIZUMAB = "natalizumab-concentration"
    EDSS = "edss"


#: Each analyte as a finding or a page names it in a sentence.
ANALYTE_NAMES: dict[Analyte, str] = {
    Analyte.ALT: "ALT",
    Analyte.AST: "AST",
    Analyte.NEUTROPHILS: "Neutrophils",
    Analyte.LYMPHOCYTES: "Lymphocytes",
    Analyte.MONOCYTES: "Monocytes",
    Analyte.PLATELETS: "Platelets",
    Analyte.TSH: "TSH",
    Analyte.FREE_T4: "Free T4",
    Analyte.NATALIZUMAB: "Serum natalizumab",
    Analyte.EDSS: "EDSS",
}

#: Canonical UCUM codes as a person reads them beside a number; a code not
#: listed reads as written. EDSS is a score: no unit.
UNIT_TEXT: dict[str, str] = {
    "10*9/L": "×10⁹/L",
    "m[IU]/L": "mIU/L",
    "ug/mL": "µg/mL",
    "1": "",
}


def unit_text(code: str) -> str:
    """``10*9/L`` → ``×10⁹/L``: the unit as a clinician writes it."""
    return UNIT_TEXT.get(code, code)


def quantity_text(value: str, code: str) -> str:
    """A number and its unit as read: ``0.9 ×10⁹/L``, ``3.5`` (a score)."""
    unit = unit_text(code)
    return f"{value} {unit}" if unit else value


class StatusKind(StrEnum):
    """Coded or yes/no observations; their ``value`` words are listed per kind."""

    PREGNANCY = "pregnancy"  # pregnant | not-pregnant | unknown
    BREASTFEEDING = "breastfeeding"  # true | false
    ANTIBODY = "anti-natalizumab-antibody"  # positive | negative
    SCREEN_NEURO = "screen-new-neurological-symptoms"  # true | false
    SCREEN_INFECTION = "screen-active-infection"  # true | false


STATUS_VALUES: dict[StatusKind, frozenset[str]] = {
    StatusKind.PREGNANCY: frozenset({"pregnant", "not-pregnant", "unknown"}),
    StatusKind.BREASTFEEDING: frozenset({"true", "false"}),
    StatusKind.ANTIBODY: frozenset({"positive", "negative"}),
    StatusKind.SCREEN_NEURO: frozenset({"true", "false"}),
    StatusKind.SCREEN_INFECTION: frozenset({"true", "false"}),
}


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """``birth_date`` is the earliest day the recorded birth date allows; for a partial
    date (a year or a month) ``birth_date_last`` is the latest, so age limits can be
    checked against the youngest and the oldest age the record allows."""

    id: str
    birth_date: date | None
    name: str = ""
    mrn: str | None = None
    birth_date_last: date | None = None

    @property
    def latest_possible_birth(self) -> date | None:
        return self.birth_date_last or self.birth_date


@dataclass(frozen=True, slots=True)
class Result:
    """A numeric result in its analyte's canonical unit, with its reference range."""

    id: str
    analyte: Analyte
    at: datetime
    value: float
    unit: str
    low: float | None = None
    high: float | None = None
    status: str = "final"
    comparator: str = ""  # "<", "<=", ">=", ">" when the lab reports a bound, not a value


@dataclass(frozen=True, slots=True)
class StatusObservation:
    id: str
    kind: StatusKind
    at: datetime
    value: str
    status: str = "final"


@dataclass(frozen=True, slots=True)
class MriRead:
    id: str
    at: datetime
    gd_enhancing: int
    new_or_enlarging_t2: int
    status: str = "final"

    @property
    def shows_activity(self) -> bool:
        return self.gd_enhancing >= 1 or self.new_or_enlarging_t2 >= 1


@dataclass(frozen=True, slots=True)
class Relapse:
    id: str
    at: datetime
    status: str = "final"


@dataclass(frozen=True, slots=True)
class Infusion:
    """A natalizumab administration; only ``completed`` ones count as given."""

    id: str
    at: datetime
    end: datetime | None = None
    status: str = "completed"


@dataclass(frozen=True, slots=True)
class Medication:
    """A medicine the patient takes; active at ``at`` if its period covers it."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    start: datetime | None = None
    end: datetime | None = None
    name: str = ""

    def is_active(self, at: datetime) -> bool:
        if self.status != "active":
            return False
        if self.start is not None and self.start > at:
            return False
        return self.end is None or self.end >= at


@dataclass(frozen=True, slots=True)
class Condition:
    id: str
    codes: tuple[Coding, ...]
    clinical_status: str | None
    verification_status: str | None
    at: datetime | None = None  # onset, else recorded date; None if neither given
    abatement: datetime | None = None
    name: str = ""

    @property
    def counts(self) -> bool:
        return self.verification_status not in VOID_VERIFICATION

    def is_active(self, at: datetime) -> bool:
        if self.clinical_status not in ("active", "recurrence", "relapse"):
            return False
        return self.abatement is None or self.abatement > at


@dataclass(frozen=True, slots=True)
class Allergy:
    id: str
    codes: tuple[Coding, ...]
    verification_status: str | None
    at: datetime | None = None  # onset / recorded date
    reaction: str = ""
    severe: bool = False  # criticality high, or a reaction recorded as severe

    @property
    def counts(self) -> bool:
        return self.verification_status not in VOID_VERIFICATION


def _require_aware(ref: str, moment: datetime | None) -> None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(f"{ref}: date-time {moment.isoformat()} has no time zone")


T = TypeVar("T")
Dated = TypeVar("Dated", Result, StatusObservation, MriRead, Relapse, Infusion)


class _Series(Generic[T]):
    """Facts of one kind, sorted by moment, answering "up to at" by bisection."""

    __slots__ = ("_items", "_moments")

    def __init__(self, items: Iterable[tuple[datetime, str, T]]) -> None:
        # Same moment: order by resource id, so the record's order never matters.
        pairs = [(moment, item) for moment, _, item in sorted(items, key=lambda t: t[:2])]
        self._moments = [moment for moment, _ in pairs]
        self._items = [item for _, item in pairs]

    def upto(self, at: datetime) -> Sequence[T]:
        return self._items[: bisect_right(self._moments, at)]

    def latest(self, at: datetime) -> T | None:
        index = bisect_right(self._moments, at)
        return self._items[index - 1] if index else None


def _dated(facts: Iterable[Dated]) -> list[tuple[datetime, str, Dated]]:
    kept = []
    for fact in facts:
        _require_aware(fact.id, fact.at)
        if fact.status not in VOID_STATUSES:
            kept.append((fact.at, fact.id, fact))
    return kept


class Timeline:
    """One patient's history, validated, indexed for the rules' questions."""

    def __init__(
        self,
        patient: Patient,
        *,
        results: Iterable[Result] = (),
        statuses: Iterable[StatusObservation] = (),
        mris: Iterable[MriRead] = (),
        relapses: Iterable[Relapse] = (),
        infusions: Iterable[Infusion] = (),
        medications: Iterable[Medication] = (),
        conditions: Iterable[Condition] = (),
        allergies: Iterable[Allergy] = (),
        overrides: Iterable[Override] = (),
    ) -> None:
        self.patient = patient
        by_analyte: dict[Analyte, list[Result]] = {}
        for result in results:
            by_analyte.setdefault(result.analyte, []).append(result)
        self._results = {a: _Series(_dated(rs)) for a, rs in by_analyte.items()}
        by_kind: dict[StatusKind, list[StatusObservation]] = {}
        for status in statuses:
            by_kind.setdefault(status.kind, []).append(status)
        self._statuses = {k: _Series(_dated(ss)) for k, ss in by_kind.items()}
        self._mris = _Series(_dated(mris))
        self._relapses = _Series(_dated(relapses))
        self._infusions = _Series(
            (moment, ref, i) for moment, ref, i in _dated(infusions) if i.status == "completed"
        )
        self.medications = tuple(medications)
        self.conditions = tuple(conditions)
        self.allergies = tuple(allergies)
        self.overrides = tuple(overrides)
        for medication in self.medications:
            _require_aware(medication.id, medication.start)
            _require_aware(medication.id, medication.end)
        for condition in self.conditions:
            _require_aware(condition.id, condition.at)
        for allergy in self.allergies:
            _require_aware(allergy.id, allergy.at)
        for override in self.overrides:
            _require_aware(override.id, override.at)

    # -- numeric and coded results -------------------------------------------------

    def results(self, analyte: Analyte, at: datetime) -> Sequence[Result]:
        series = self._results.get(analyte)
        return series.upto(at) if series else ()

    def latest_result(self, analyte: Analyte, at: datetime) -> Result | None:
        series = self._results.get(analyte)
        return series.latest(at) if series else None

    def statuses(self, kind: StatusKind, at: datetime) -> Sequence[StatusObservation]:
        series = self._statuses.get(kind)
        return series.upto(at) if series else ()

    def latest_status(self, kind: StatusKind, at: datetime) -> StatusObservation | None:
        series = self._statuses.get(kind)
        return series.latest(at) if series else None

    # -- disease activity -----------------------------------------------------------

    def mris(self, at: datetime) -> Sequence[MriRead]:
        return self._mris.upto(at)

    def relapses(self, at: datetime) -> Sequence[Relapse]:
        return self._relapses.upto(at)

    # -- treatment ------------------------------------------------------------------

    def completed_infusions(self, at: datetime) -> Sequence[Infusion]:
        return self._infusions.upto(at)

    def active_medications(self, at: datetime) -> list[Medication]:
        return [m for m in self.medications if m.is_active(at)]

    def conditions_known(self, at: datetime) -> list[Condition]:
        """Conditions that count and were known by ``at`` (undated ones always are)."""
        return [c for c in self.conditions if c.counts and (c.at is None or c.at <= at)]

    def allergies_known(self, at: datetime) -> list[Allergy]:
        return [a for a in self.allergies if a.counts and (a.at is None or a.at <= at)]

    def overrides_known(self, at: datetime) -> list[Override]:
        return [o for o in self.overrides if o.at <= at]
