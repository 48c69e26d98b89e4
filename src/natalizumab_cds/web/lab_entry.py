"""The lab-result form: checked field by field, then imported as a FHIR Observation.

The form's own checks (a known analyte, a number, a unit, a date not in the
future, a range whose low is below its high) give a message next to the field.
What passes is imported through the import use case like any other record, so
the reader's checks (a unit it cannot convert, say) apply too; their message is
shown next to the field it names.

Typing slips are refused at the door, since whatever is stored drives the
rules, the charts and the printed summary: a field longer than ``MAX_LENGTH``
characters, a result or range limit of ``LARGEST`` or more once converted to
the analyte's unit (no lab result comes near it: an extreme ALT is a few
thousand U/L), and a date before the patient's birth or before
``EARLIEST_DAY`` (docs/web.md says why).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from natalizumab_cds.domain.protocol import LOCAL, LOINC, UCUM
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.units import CANONICAL_UNIT, FACTORS, conversion_factor

#: Analyte → (label, code system, code) the reader recognises (INTERFACES.md §1).
ANALYTES: dict[str, tuple[str, str, str]] = {
    Analyte.ALT.value: ("ALT (alanine aminotransferase)", LOINC, "1742-6"),
    Analyte.AST.value: ("AST (aspartate aminotransferase)", LOINC, "1920-8"),
    Analyte.NEUTROPHILS.value: ("Neutrophils", LOINC, "751-8"),
    Analyte.LYMPHOCYTES.value: ("Lymphocytes", LOINC, "731-0"),
    Analyte.MONOCYTES.value: ("Monocytes", LOINC, "742-7"),
    Analyte.PLATELETS.value: ("Platelets", LOINC, "777-3"),
    Analyte.TSH.value: ("TSH", LOINC, "3016-3"),
    Analyte.FREE_T4.value: ("Free T4", LOINC, "3024-7"),
    Analyte.NATALIZUMAB.value: ("Natalizumab concentration", LOCAL, "natalizumab-concentration"),
    Analyte.EDSS.value: ("EDSS score", LOCAL, "edss"),
}
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FIELDS = ("analyte", "value", "unit", "date", "low", "high")
#: Each field in words, as the messages name it.
LABELS = {
    "analyte": "The test",
    "value": "The result",
    "unit": "The unit",
    "date": "The date",
    "low": "The lower limit",
    "high": "The upper limit",
}
#: The most characters a field takes ("0.000123" and "10*3/uL" need far fewer).
MAX_LENGTH = 40
#: What of a longer field is kept to show back: more is no person typing.
KEPT = 200
#: Results and range limits must be below this in the analyte's own unit (U/L,
#: 10⁹/L …): generous, as no result reaches it, but far from a float's limits.
LARGEST = 1_000_000.0
#: The earliest sample date taken: older is a slip of the year (1900 for 2000),
#: and would stretch every chart's time axis over a century.
EARLIEST_DAY = date(1950, 1, 1)


def unit_choices() -> list[str]:
    """Every unit spelling the reader converts, canonical ones first (for the datalist)."""
    canonical = list(dict.fromkeys(CANONICAL_UNIT.values()))
    others = sorted({u for units in FACTORS.values() for u in units if u} - set(canonical))
    return canonical + others


@dataclass(slots=True)
class LabForm:
    """What was typed, and a message per field that is wrong."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def typed(cls, typed: dict[str, str]) -> LabForm:
        """The form as posted, each field cut to ``KEPT`` characters."""
        return cls({name: typed.get(name, "")[:KEPT] for name in FIELDS})

    @classmethod
    def blank(cls, today: date) -> LabForm:
        return cls(
            {
                "analyte": "",
                "value": "",
                "unit": "",
                "date": today.isoformat(),
                "low": "",
                "high": "",
            }
        )


def too_long(values: dict[str, str], errors: dict[str, str], labels: dict[str, str]) -> None:
    """A message for each field of ``labels`` longer than ``MAX_LENGTH`` characters."""
    for name, label in labels.items():
        if len(values.get(name, "").strip()) > MAX_LENGTH:
            errors[name] = f"{label} is too long: enter at most {MAX_LENGTH} characters."


def _number(form: LabForm, name: str, *, required: bool, factor: float) -> float | None:
    """The field as a number from 0 to below ``LARGEST`` (after ``factor``); else a message."""
    raw = form.values.get(name, "").strip()
    if name in form.errors:
        return None
    if not raw:
        if required:
            form.errors[name] = "Enter the result as a number, e.g. 32 or 0.8."
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        form.errors[name] = f"“{raw}” is not a number: enter digits, e.g. 32 or 0.8."
        return None
    if not math.isfinite(value) or value < 0:
        form.errors[name] = f"{LABELS[name]} must be a number of zero or more."
        return None
    if value * factor >= LARGEST:
        unit = form.values.get("unit", "").strip()
        form.errors[name] = (
            f"{LABELS[name]} must be below {LARGEST / factor:,.0f} {unit}: no lab result "
            "is that large. Check the number and the unit."
        )
        return None
    return value


def earliest_day(born: date | None) -> date:
    """The earliest date a form takes for a patient born on ``born`` (if known)."""
    return max(EARLIEST_DAY, born) if born else EARLIEST_DAY


def past_day(
    values: dict[str, str],
    errors: dict[str, str],
    today: date,
    what: str = "the sample was taken",
    born: date | None = None,
) -> date | None:
    """The ``date`` field as a day from ``earliest_day(born)`` to today; else a message."""
    raw = values.get("date", "").strip()
    if "date" in errors:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["date"] = f"Enter the date {what}, as YYYY-MM-DD."
        return None
    if day > today:
        errors["date"] = f"The date is in the future: it must be {today.isoformat()} or earlier."
        return None
    if born is not None and day < born:
        errors["date"] = (
            f"The date is before the patient's birth date, {born.isoformat()}: check the year."
        )
        return None
    if day < EARLIEST_DAY:
        errors["date"] = (
            f"The date is before {EARLIEST_DAY.isoformat()}, the earliest this form takes: "
            "check the year."
        )
        return None
    return day


def _factor(form: LabForm) -> float:
    """The unit's factor into the analyte's own unit; 1 if either is not known here."""
    analyte = form.values.get("analyte", "")
    if analyte not in ANALYTES or "unit" in form.errors:
        return 1.0
    return conversion_factor(Analyte(analyte), form.values.get("unit", "").strip()) or 1.0


def check(form: LabForm, today: date, born: date | None = None) -> None:
    """Fill ``form.errors`` with a message per wrong field (``born``: the birth date)."""
    too_long(form.values, form.errors, LABELS)
    if "analyte" not in form.errors and form.values.get("analyte") not in ANALYTES:
        form.errors["analyte"] = "Choose the test this result is for."
    if not form.values.get("unit", "").strip():
        form.errors["unit"] = "Enter the unit the lab reported, e.g. U/L."
    factor = _factor(form)
    _number(form, "value", required=True, factor=factor)
    past_day(form.values, form.errors, today, born=born)
    low = _number(form, "low", required=False, factor=factor)
    high = _number(form, "high", required=False, factor=factor)
    if low is not None and high is not None and low >= high:
        form.errors["high"] = "The upper limit must be above the lower limit."


def recorded_observation(
    system: str, code: str, category: str, patient_id: str, day: date, tz: tzinfo
) -> dict[str, Any]:
    """A final FHIR R4 Observation for ``patient_id`` dated ``day`` (midnight, clinic time).

    The id is new each time: a form records a new result, never a new version.
    """
    category_coding = {"system": OBSERVATION_CATEGORY, "code": category}
    return {
        "resourceType": "Observation",
        "id": f"web-{uuid.uuid4().hex[:16]}",
        "status": "final",
        "category": [{"coding": [category_coding]}],
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": datetime.combine(day, time(0, 0), tz).isoformat(),
    }


def observation(form: LabForm, patient_id: str, tz: tzinfo) -> dict[str, Any]:
    """The checked form as a FHIR R4 Observation for ``patient_id``."""
    _, system, code = ANALYTES[form.values["analyte"]]
    unit = form.values["unit"].strip()
    day = date.fromisoformat(form.values["date"])

    def quantity(name: str) -> dict[str, Any]:
        value = float(form.values[name].strip().replace(",", "."))
        return {"value": value, "unit": unit, "system": UCUM, "code": unit}

    resource = recorded_observation(system, code, "laboratory", patient_id, day, tz)
    resource["valueQuantity"] = quantity("value")
    bounds = {k: quantity(n) for k, n in (("low", "low"), ("high", "high")) if form.values[n]}
    if bounds:
        resource["referenceRange"] = [bounds]
    return resource


def field_of(message: str) -> str:
    """The form field an import refusal is about (by the FHIR path it names)."""
    lowered = message.lower()
    for path, name in (
        ("converted", "unit"),
        ("unit", "unit"),
        ("quantity.code", "unit"),
        ("referencerange", "high"),
        ("effective", "date"),
        ("value", "value"),
        ("code", "analyte"),
    ):
        if path in lowered:
            return name
    return "value"


def plain(message: str) -> str:
    """An import refusal without the generated resource id it starts with."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.startswith("Observation/") else message
