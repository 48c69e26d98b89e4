"""Readable builders for domain tests: ``a_patient()``, ``an_alt(150, on=...)``.

All records are synthetic. ``AT`` is the moment most tests assess; ``day(n)``
is ``n`` days before it (same time of day), ``on(date)`` a date at 08:00 UTC.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.assessment import Assessment, assess
from natalizumab_cds.domain.findings import Override
from natalizumab_cds.domain.protocol import LOCAL, RXNORM, SNOMED, Protocol
from natalizumab_cds.domain.timeline import (
    Allergy,
    Analyte,
    Coding,
    Condition,
    Infusion,
    Medication,
    MriRead,
    Patient,
    Relapse,
    Result,
    StatusKind,
    StatusObservation,
    Timeline,
)

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def day(n: float, at: datetime = AT) -> datetime:
    """``n`` days before ``at`` (negative: after)."""
    return at - timedelta(days=n)


def on(when: date, hour: int = 8) -> datetime:
    return datetime(when.year, when.month, when.day, hour, tzinfo=UTC)


def _ref(kind: str, prefix: str) -> str:
    return f"{kind}/{prefix}-{next(_ids)}"


def protocol() -> Protocol:
    return packaged_protocol()


def a_patient(born: date | None = date(1980, 5, 1), ident: str = "Patient/p1") -> Patient:
    return Patient(id=ident, birth_date=born, name="Synthetic Patient", mrn="MRN0000001")


def a_result(
    analyte: Analyte,
    value: float,
    at: datetime,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    status: str = "final",
    ident: str | None = None,
    comparator: str = "",
) -> Result:
    return Result(
        comparator=comparator,
        id=ident or _ref("Observation", analyte.value),
        analyte=analyte,
        at=at,
        value=value,
        unit=unit,
        low=low,
        high=high,
        status=status,
    )


def an_alt(value: float, at: datetime, high: float | None = 40.0, **kw: Any) -> Result:
    return a_result(Analyte.ALT, value, at, unit="U/L", low=0.0 if high else None, high=high, **kw)


def an_ast(value: float, at: datetime, high: float | None = 40.0, **kw: Any) -> Result:
    return a_result(Analyte.AST, value, at, unit="U/L", low=0.0 if high else None, high=high, **kw)


CBC_RANGES = {
    Analyte.NEUTROPHILS: (1.5, 7.0, 4.0),
    Analyte.LYMPHOCYTES: (1.0, 4.0, 2.5),
    Analyte.MONOCYTES: (0.2, 1.0, 0.5),
    Analyte.PLATELETS: (150.0, 400.0, 250.0),
}
THYROID_RANGES = {Analyte.TSH: (0.4, 4.0, 1.8), Analyte.FREE_T4: (0.8, 1.8, 1.2)}
UNITS = {
    Analyte.NEUTROPHILS: "10*9/L",
    Analyte.LYMPHOCYTES: "10*9/L",
    Analyte.MONOCYTES: "10*9/L",
    Analyte.PLATELETS: "10*9/L",
    Analyte.TSH: "m[IU]/L",
    Analyte.FREE_T4: "ng/dL",
    Analyte.NATALIZUMAB: "ug/mL",
    Analyte.EDSS: "1",
}


def a_ranged(analyte: Analyte, value: float | None, at: datetime, **kw: Any) -> Result:
    """A CBC or thyroid result with the usual adult range; ``None`` = a normal value."""
    low, high, normal = {**CBC_RANGES, **THYROID_RANGES}[analyte]
    kw.setdefault("low", low)
    kw.setdefault("high", high)
    return a_result(analyte, normal if value is None else value, at, unit=UNITS[analyte], **kw)


def a_cbc(at: datetime, **values: float) -> list[Result]:
    """A full CBC; pass e.g. ``neutrophils=0.9`` to change one count."""
    return [a_ranged(a, values.get(a.value), at) for a in CBC_RANGES]


def a_thyroid_panel(at: datetime, **values: float) -> list[Result]:
    return [a_ranged(a, values.get(a.value.replace("-", "_")), at) for a in THYROID_RANGES]


def an_edss(value: float, at: datetime, **kw: Any) -> Result:
    return a_result(Analyte.EDSS, value, at, unit="1", **kw)


def a_drug_level(value: float, at: datetime, **kw: Any) -> Result:
    return a_result(Analyte.NATALIZUMAB, value, at, unit="ug/mL", **kw)


def a_status(
    kind: StatusKind, value: str, at: datetime, status: str = "final"
) -> StatusObservation:
    return StatusObservation(_ref("Observation", kind.value), kind, at, value, status)


def an_antibody(value: str, at: datetime, status: str = "final") -> StatusObservation:
    return a_status(StatusKind.ANTIBODY, value, at, status)


def an_infusion(at: datetime, status: str = "completed") -> Infusion:
    return Infusion(_ref("MedicationAdministration", "ntz"), at, at + timedelta(hours=1), status)


def infusions(count: int, last: datetime, every_days: int = 28) -> list[Infusion]:
    """``count`` completed infusions, every ``every_days``, the last at ``last``."""
    return [an_infusion(last - timedelta(days=every_days * k)) for k in reversed(range(count))]


def a_medication(
    code: str,
    system: str = RXNORM,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str = "active",
    name: str = "",
) -> Medication:
    return Medication(
        _ref("MedicationStatement", "med"), (Coding(system, code),), status, start, end, name
    )


def a_condition(
    code: str,
    system: str = SNOMED,
    *,
    at: datetime | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    abatement: datetime | None = None,
) -> Condition:
    return Condition(
        _ref("Condition", "cond"), (Coding(system, code),), clinical, verification, at, abatement
    )


def a_local_condition(code: str, **kw: Any) -> Condition:
    return a_condition(code, LOCAL, **kw)


def an_allergy(
    code: str = "354770",
    system: str = RXNORM,
    *,
    at: datetime | None = None,
    verification: str | None = "confirmed",
    reaction: str = "urticaria",
) -> Allergy:
    return Allergy(
        _ref("AllergyIntolerance", "alg"), (Coding(system, code),), verification, at, reaction
    )


def an_mri(at: datetime, gd: int = 0, t2: int = 0, status: str = "final") -> MriRead:
    return MriRead(_ref("Observation", "mri"), at, gd, t2, status)


def a_relapse(at: datetime, status: str = "final") -> Relapse:
    return Relapse(_ref("Observation", "relapse"), at, status)


def an_override(rule: str, at: datetime, reason: str = "benefit outweighs risk") -> Override:
    return Override(_ref("DetectedIssue", "ovr"), rule, "Practitioner/dr-synthetic", at, reason)


def a_timeline(patient: Patient | None = None, /, **facts: Iterable[Any]) -> Timeline:
    return Timeline(patient or a_patient(), **facts)  # type: ignore[arg-type]


def assess_at(timeline: Timeline, at: datetime = AT) -> Assessment:
    return assess(timeline, protocol(), at)


def a_well_monitored_record(at: datetime = AT) -> dict[str, list[Any]]:
    """Facts for a patient on treatment for two years with every test up to date.

    Assessed at ``at`` this record fires only ``activity.neda3`` (info): decision proceed.
    """
    last = day(28, at)
    return {
        "infusions": infusions(26, last),
        "results": [
            an_alt(22, day(30, at)),
            an_ast(25, day(30, at)),
            *a_cbc(day(30, at)),
            *a_thyroid_panel(day(60, at)),
            an_edss(2.0, day(760, at)),
            an_edss(2.0, day(60, at)),
        ],
        "statuses": [an_antibody("negative", day(40, at))],
        "mris": [an_mri(day(200, at))],
    }


def with_facts(base: dict[str, list[Any]], **extra: Iterable[Any]) -> dict[str, list[Any]]:
    """``base`` with ``extra`` facts added to the same kinds (lists are copied)."""
    merged = {key: list(values) for key, values in base.items()}
    for key, values in extra.items():
        merged.setdefault(key, []).extend(values)
    return merged
