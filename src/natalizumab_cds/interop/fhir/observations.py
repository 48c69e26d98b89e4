"""FHIR ``Observation`` → lab results, coded statuses, MRI reads and relapses.

An Observation is recognised by the first coding of ``code`` found in the table
of INTERFACES.md §1 (LOINC, or the local system); anything else is not ours and
is ignored. One reader per recognised code turns the value into a fact; the
dispatch table is built once at import.

An Observation marked registered, cancelled or entered-in-error never counts,
so it may lack a value or a date; if it cannot be read it is dropped instead of
failing the whole record. One with a ``dataAbsentReason`` and no value is
missing data, not a result, and is not read either.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.protocol import LOCAL, LOINC, SNOMED
from natalizumab_cds.domain.timeline import (
    VOID_STATUSES,
    Analyte,
    MriRead,
    Relapse,
    Result,
    StatusKind,
    StatusObservation,
)
from natalizumab_cds.interop.fhir.context import Context
from natalizumab_cds.interop.fhir.dates import parse_datetime
from natalizumab_cds.interop.fhir.fields import (
    MALFORMED,
    JsonObject,
    get_list,
    get_number,
    get_object,
    get_str,
    invalid,
    item_object,
    require_str,
    show,
)
from natalizumab_cds.interop.fhir.units import CANONICAL_UNIT, to_canonical

ObservationFact = Result | StatusObservation | MriRead | Relapse
ValueReader = Callable[[str, JsonObject, datetime, str], ObservationFact]

OBSERVATION_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
PREGNANCY_CODES = {"77386006": "pregnant", "60001007": "not-pregnant", "261665006": "unknown"}
ANTIBODY_CODES = {"10828004": "positive", "260385009": "negative"}
MRI_GD = "gd-enhancing-lesions"
MRI_T2 = "new-or-enlarging-t2-lesions"

ANALYTE_CODES: dict[tuple[str, str], Analyte] = {
    (LOINC, "1742-6"): Analyte.ALT,
    (LOINC, "1920-8"): Analyte.AST,
    (LOINC, "751-8"): Analyte.NEUTROPHILS,
    (LOINC, "26499-4"): Analyte.NEUTROPHILS,
    (LOINC, "731-0"): Analyte.LYMPHOCYTES,
    (LOINC, "26474-7"): Analyte.LYMPHOCYTES,
    (LOINC, "742-7"): Analyte.MONOCYTES,
    (LOINC, "26484-6"): Analyte.MONOCYTES,
    (LOINC, "777-3"): Analyte.PLATELETS,
    (LOINC, "26515-7"): Analyte.PLATELETS,
    (LOINC, "3016-3"): Analyte.TSH,
    (LOINC, "3024-7"): Analyte.FREE_T4,
    (LOINC, "14920-3"): Analyte.FREE_T4,
    (LOCAL, "natalizumab-concentration"): Analyte.NATALIZUMAB,
    (LOCAL, "edss"): Analyte.EDSS,
}
CODED_STATUS_CODES: dict[tuple[str, str], tuple[StatusKind, dict[str, str]]] = {
    (LOINC, "82810-3"): (StatusKind.PREGNANCY, PREGNANCY_CODES),
    (LOCAL, "anti-natalizumab-antibody"): (StatusKind.ANTIBODY, ANTIBODY_CODES),
}
BOOLEAN_STATUS_CODES: dict[tuple[str, str], StatusKind] = {
    (LOINC, "63895-7"): StatusKind.BREASTFEEDING,
    (LOCAL, "screen-new-neurological-symptoms"): StatusKind.SCREEN_NEURO,
    (LOCAL, "screen-active-infection"): StatusKind.SCREEN_INFECTION,
}
MRI_CODE = (LOCAL, "mri-brain")
RELAPSE_CODE = (LOCAL, "ms-relapse")


def read_observation(resource: JsonObject, ref: str, context: Context) -> ObservationFact | None:
    """The fact an Observation records, or None when its code is not one we read."""
    reader = _recognise(ref, resource)
    if reader is None:
        return None
    status = require_str(ref, resource, "status")
    if status not in OBSERVATION_STATUSES:
        raise invalid(ref, "status", f"{status!r} is not an Observation status")
    if "dataAbsentReason" in resource and _has_no_value(resource) and reader is not _read_relapse:
        return None  # e.g. not performed: no result, which the schedule shows as due
    if status in VOID_STATUSES:
        try:
            return reader(ref, resource, observation_date(ref, resource), status)
        except (InvalidInput, *MALFORMED):  # a void record never counts: keep it if readable
            return None
    return reader(ref, resource, observation_date(ref, resource), status)


def observation_date(ref: str, resource: JsonObject) -> datetime:
    """effectiveDateTime, else effectivePeriod.start, else issued (INTERFACES §1)."""
    for field in ("effectiveDateTime", "effectiveInstant"):
        raw = resource.get(field)
        if raw is not None:
            return parse_datetime(ref, field, raw)
    period = get_object(ref, resource, "effectivePeriod")
    if period is not None and period.get("start") is not None:
        return parse_datetime(ref, "effectivePeriod.start", period["start"])
    raw = resource.get("issued")
    if raw is not None:
        return parse_datetime(ref, "issued", raw)
    raise invalid(ref, "effectiveDateTime", "is missing (and so are effectivePeriod.start, issued)")


def _has_no_value(resource: JsonObject) -> bool:
    return not any(key.startswith("value") or key == "component" for key in resource)


def _recognise(ref: str, resource: JsonObject) -> ValueReader | None:
    """The value reader for the Observation's code, if we read that code."""
    code = resource.get("code")
    if type(code) is dict:  # the usual shape, without building error paths
        items = code.get("coding")
        if type(items) is list:
            for coding in items:
                if type(coding) is not dict:
                    break  # the checked reading below says what is wrong
                system, value = coding.get("system"), coding.get("code")
                if type(system) is str and type(value) is str:
                    reader = VALUE_READERS.get((system, value))
                    if reader is not None:
                        return reader
            else:
                return None
    return _recognise_checked(ref, resource)


def _recognise_checked(ref: str, resource: JsonObject) -> ValueReader | None:
    code = get_object(ref, resource, "code")
    if code is None:
        return None
    items = get_list(ref, code, "coding", "code")
    for index in range(len(items)):
        coding = item_object(ref, items, index, "code.coding")
        system = coding.get("system")
        value = coding.get("code")
        if isinstance(system, str) and isinstance(value, str):
            reader = VALUE_READERS.get((system, value))
            if reader is not None:
                return reader
    return None


def _missing_value(ref: str, resource: JsonObject, expected: str) -> Exception:
    """'valueQuantity is missing', saying which value[x] came instead if any."""
    found = [key for key in resource if key.startswith("value")]
    instead = f" (found {', '.join(found)})" if found else ""
    return invalid(ref, expected, f"is missing{instead}")


def _result_reader(analyte: Analyte) -> ValueReader:
    def read(ref: str, resource: JsonObject, at: datetime, status: str) -> Result:
        quantity = get_object(ref, resource, "valueQuantity")
        if quantity is None:
            raise _missing_value(ref, resource, "valueQuantity")
        converted = to_canonical(ref, "valueQuantity", quantity, analyte)
        if converted is None:
            raise invalid(ref, "valueQuantity.value", "is missing")
        value, unit = converted
        if analyte is Analyte.EDSS and not (0 <= value <= 10 and (value * 2).is_integer()):
            raise invalid(
                ref, "valueQuantity.value", f"EDSS must be 0-10 in steps of 0.5, got {value:g}"
            )
        low, high = _reference_range(ref, resource, analyte, unit)
        comparator = _comparator(ref, quantity)
        return Result(
            ref, analyte, at, value, CANONICAL_UNIT[analyte], low, high, status, comparator
        )

    return read


_COMPARATORS = frozenset({"<", "<=", ">=", ">"})


def _comparator(ref: str, quantity: JsonObject) -> str:
    raw = quantity.get("comparator")
    if raw is None:
        return ""
    if raw not in _COMPARATORS:
        raise invalid(ref, "valueQuantity.comparator", f"must be one of <, <=, >=, >; got {raw!r}")
    return str(raw)


_RANGE_SIDES = (("low", "referenceRange[0].low"), ("high", "referenceRange[0].high"))


def _reference_range(
    ref: str, resource: JsonObject, analyte: Analyte, unit: str | None
) -> tuple[float | None, float | None]:
    """referenceRange[0] low and high in the canonical unit (a bound may be absent)."""
    ranges = get_list(ref, resource, "referenceRange")
    if not ranges:
        return None, None
    first = item_object(ref, ranges, 0, "referenceRange")
    bounds: list[float | None] = []
    for side, path in _RANGE_SIDES:
        quantity = get_object(ref, first, side, "referenceRange[0]")
        converted = None if quantity is None else to_canonical(ref, path, quantity, analyte, unit)
        bounds.append(None if converted is None else converted[0])
    return bounds[0], bounds[1]


def _coded_reader(kind: StatusKind, words: dict[str, str]) -> ValueReader:
    def read(ref: str, resource: JsonObject, at: datetime, status: str) -> StatusObservation:
        concept = get_object(ref, resource, "valueCodeableConcept")
        if concept is None:
            raise _missing_value(ref, resource, "valueCodeableConcept")
        items = get_list(ref, concept, "coding", "valueCodeableConcept")
        for index in range(len(items)):
            coding = item_object(ref, items, index, "valueCodeableConcept.coding")
            where = f"valueCodeableConcept.coding[{index}]"
            code = get_str(ref, coding, "code", where)
            if get_str(ref, coding, "system", where) == SNOMED and code in words:
                return StatusObservation(ref, kind, at, words[code], status)
        expected = ", ".join(f"{code} {word}" for code, word in words.items())
        raise invalid(ref, "valueCodeableConcept", f"has no SNOMED CT code among: {expected}")

    return read


def _boolean_reader(kind: StatusKind) -> ValueReader:
    def read(ref: str, resource: JsonObject, at: datetime, status: str) -> StatusObservation:
        value = resource.get("valueBoolean")
        if value is None:
            raise _missing_value(ref, resource, "valueBoolean")
        if not isinstance(value, bool):
            raise invalid(ref, "valueBoolean", f"must be true or false, got {show(value)}")
        return StatusObservation(ref, kind, at, "true" if value else "false", status)

    return read


def _read_mri(ref: str, resource: JsonObject, at: datetime, status: str) -> MriRead:
    counts: dict[str, int] = {}
    components = get_list(ref, resource, "component")
    for index in range(len(components)):
        component = item_object(ref, components, index, "component")
        name = _local_code(ref, component, f"component[{index}]")
        if name in (MRI_GD, MRI_T2):
            counts[name] = _lesion_count(ref, component, f"component[{index}]")
    for name in (MRI_GD, MRI_T2):
        if name not in counts:
            raise invalid(ref, "component", f"has no {name!r} count")
    return MriRead(ref, at, counts[MRI_GD], counts[MRI_T2], status)


def _local_code(ref: str, component: JsonObject, path: str) -> str | None:
    concept = get_object(ref, component, "code", path)
    if concept is None:
        return None
    items = get_list(ref, concept, "coding", f"{path}.code")
    for index in range(len(items)):
        coding = item_object(ref, items, index, f"{path}.code.coding")
        if coding.get("system") == LOCAL:
            return get_str(ref, coding, "code", f"{path}.code.coding[{index}]")
    return None


def _lesion_count(ref: str, component: JsonObject, path: str) -> int:
    """valueInteger, or a valueQuantity holding a whole number; never negative."""
    value: object = component.get("valueInteger")
    field = f"{path}.valueInteger"
    if value is None:
        quantity = get_object(ref, component, "valueQuantity", path)
        if quantity is None:
            raise invalid(ref, field, "is missing")
        field = f"{path}.valueQuantity.value"
        number = get_number(ref, quantity, "value", f"{path}.valueQuantity")
        value = int(number) if number is not None and number.is_integer() else number
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise invalid(ref, field, f"must be a whole number of lesions, got {show(value)}")


def _read_relapse(ref: str, resource: JsonObject, at: datetime, status: str) -> Relapse:
    return Relapse(ref, at, status)


def _value_readers() -> dict[tuple[str, str], ValueReader]:
    readers: dict[tuple[str, str], ValueReader] = {}
    for key, analyte in ANALYTE_CODES.items():
        readers[key] = _result_reader(analyte)
    for key, (kind, words) in CODED_STATUS_CODES.items():
        readers[key] = _coded_reader(kind, words)
    for key, kind in BOOLEAN_STATUS_CODES.items():
        readers[key] = _boolean_reader(kind)
    readers[MRI_CODE] = _read_mri
    readers[RELAPSE_CODE] = _read_relapse
    return readers


VALUE_READERS = _value_readers()
