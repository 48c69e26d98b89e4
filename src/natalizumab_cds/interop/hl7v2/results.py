"""One OBX segment → one FHIR R4 Observation of the profile (INTERFACES.md §1).

An OBX is ours when OBX-3 is coded in LOINC (``LN``, as the main or the
alternate code) with one of the codes of §1 for ALT, AST, neutrophils,
lymphocytes, monocytes, platelets, TSH or free T4. Anything else is not stored
and is named in the ACK.

Result status (OBX-11, HL7 table 0085): F, C, A, P, R, S and U are stored with
the matching FHIR status. X (cannot be obtained), D (deleted), W (posted in
error), I (pending), N (not asked) and O (no result yet) never count, so they
are not stored; the ACK says so. A D or W result refers to a result sent
earlier in another message, whose id (derived from that message's MSH-10) we
cannot know, so it is not applied to it either: a person corrects the record
(docs/hl7.md). This is the "not stored" choice of the issue; it never lets a
withdrawn value count twice, but it does not retract the earlier one.

Values are converted into the analyte's one canonical unit with the FHIR
reader's unit table (``interop.fhir.units``), so an HL7 result and a FHIR
result of the same test look the same in the store; what the lab sent is kept
in ``note``. A unit not in that table is refused (AE), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from typing import Any

from natalizumab_cds.application.lab_messages import ErrorCode, MessageHeader
from natalizumab_cds.domain.protocol import LOINC, UCUM
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.observations import ANALYTE_CODES
from natalizumab_cds.interop.fhir.units import CANONICAL_UNIT, conversion_factor
from natalizumab_cds.interop.hl7v2.errors import Hl7Rejected, in_error, rejected
from natalizumab_cds.interop.hl7v2.segments import Segment
from natalizumab_cds.interop.hl7v2.timestamps import BadTimestamp, parse_timestamp

LOINC_ANALYTES: dict[str, Analyte] = {
    code: analyte for (system, code), analyte in ANALYTE_CODES.items() if system == LOINC
}
#: OBX-11 codes that are stored, with the FHIR Observation.status they become.
COUNTED_STATUSES = {
    "F": "final",
    "C": "corrected",
    "A": "amended",
    "P": "preliminary",
    "R": "preliminary",
    "S": "preliminary",
    "U": "final",
}
#: OBX-11 codes that never count, and what they mean.
NOT_COUNTED_STATUSES = {
    "X": "cannot be obtained",
    "D": "deleted",
    "W": "posted in error",
    "I": "pending",
    "N": "not asked",
    "O": "no result yet",
}
#: SN comparators (HL7 v2 SN.1) and the FHIR Quantity.comparator each becomes.
SN_COMPARATORS = {"": "", "=": "", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
INTERPRETATIONS = frozenset({"L", "H", "LL", "HH", "N", "A", "AA", "<", ">"})
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_SYSTEM = "urn:natalizumab-cds:hl7v2-result"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_NUMBER_RE = re.compile(_NUMBER)
_BETWEEN = re.compile(rf"({_NUMBER})\s*-\s*({_NUMBER})")
_BOUND = re.compile(rf"(<=?|>=?|≤|≥)\s*({_NUMBER})")


@dataclass(frozen=True, slots=True)
class ResultContext:
    """What an OBX needs from around it: the message and its OBR."""

    header: MessageHeader
    id_prefix: str
    order_time: str
    order_ordinal: int
    clinic_tz: tzinfo


@dataclass(frozen=True, slots=True)
class _Place:
    """Where an OBX sits, for error locations (ERR-2) and notes."""

    ordinal: int
    set_id: str

    def field(self, number: int) -> str:
        return f"OBX^{self.ordinal}^{number}"

    def __str__(self) -> str:
        if self.set_id == str(self.ordinal):
            return f"OBX {self.ordinal}"
        return f"OBX {self.ordinal} (set id {self.set_id or 'missing'})"


def read_result(obx: Segment, ordinal: int, context: ResultContext) -> dict[str, Any] | str:
    """The Observation an OBX records, or a note saying why it is not stored."""
    place = _Place(ordinal, obx.value(1))
    coding = _loinc(obx.values(3))
    if coding is None:
        return f"{place}: {_unrecognised(obx)}, not stored"
    code, display = coding
    analyte = LOINC_ANALYTES[code]
    status = _status(obx, place, context)
    if status in NOT_COUNTED_STATUSES:
        meaning = NOT_COUNTED_STATUSES[status]
        return f"{place}: {code} has result status {status} ({meaning}), never counts, not stored"
    value, comparator = _value(obx, place, context)
    units = obx.values(6)
    unit = units[0] or (units[1] if len(units) > 1 else "")
    factor = conversion_factor(analyte, unit or None)
    canonical = CANONICAL_UNIT[analyte]
    if factor is None:
        problem = f"unit {unit!r} cannot be converted to {canonical}" if unit else "has no unit"
        raise _error(context, place, 6, f"{code} {problem}", ErrorCode.TABLE_VALUE_NOT_FOUND)
    reference_text = obx.value(7)
    header = context.header
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{context.id_prefix}-{ordinal}",
        "identifier": [
            {
                "system": IDENTIFIER_SYSTEM,
                "value": f"{header.sender}|{header.control_id}|{ordinal}",
            }
        ],
        "status": COUNTED_STATUSES[status],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "laboratory"}]}],
        "code": {"coding": [_coding(code, display)]},
        "effectiveDateTime": _time(obx, place, context),
        "valueQuantity": _quantity(value * factor, canonical, comparator),
        "note": [{"text": _as_sent(obx, context, place, unit, reference_text)}],
    }
    low_high = _reference_range(reference_text, place, context)
    if low_high is not None:
        reference: dict[str, Any] = {"text": reference_text}
        for side, bound in zip(("low", "high"), low_high, strict=True):
            if bound is not None:
                reference[side] = _quantity(bound * factor, canonical)
        resource["referenceRange"] = [reference]
    flag = obx.value(8)
    if flag in INTERPRETATIONS:
        resource["interpretation"] = [{"coding": [{"system": INTERPRETATION_SYSTEM, "code": flag}]}]
    return resource


def _loinc(coded: list[str]) -> tuple[str, str] | None:
    """(code, display) when OBX-3's main or alternate coding is a LOINC code we read."""
    for first in (0, 3):
        if len(coded) <= first + 2:
            return None
        code = coded[first]
        if coded[first + 2].upper() == "LN" and code in LOINC_ANALYTES:
            return code, coded[first + 1]
    return None


def _unrecognised(obx: Segment) -> str:
    code, system = obx.value(3, 1), obx.value(3, 3)
    if not code:
        return "OBX-3 has no code"
    if system.upper() == "LN":
        return f"LOINC {code} is not one of the profile's tests"
    if obx.value(3, 6).upper() == "LN":
        return f"LOINC {obx.value(3, 4)} is not one of the profile's tests"
    return f"code {code} ({system or 'no coding system'}) is not LOINC"


def _status(obx: Segment, place: _Place, context: ResultContext) -> str:
    status = obx.value(11).upper()
    if not status:
        raise rejected(
            f"{place}: OBX-11 result status is missing (a truncated segment?)",
            ErrorCode.REQUIRED_FIELD_MISSING,
            place.field(11),
            context.header,
        )
    if status not in COUNTED_STATUSES and status not in NOT_COUNTED_STATUSES:
        raise _error(
            context,
            place,
            11,
            f"result status {status!r} is not in HL7 table 0085",
            ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    return status


def _value(obx: Segment, place: _Place, context: ResultContext) -> tuple[float, str]:
    """OBX-5 as (number, FHIR comparator): NM, or SN with an optional <, <=, > or >=."""
    kind = obx.value(2).upper()
    if obx.repetitions(5) > 1:
        raise _error(context, place, 5, "holds more than one value", ErrorCode.DATA_TYPE)
    comparator = ""
    if kind == "NM":
        text = obx.value(5)
    elif kind == "SN":
        comparator, text = obx.value(5, 1), obx.value(5, 2)
        if comparator not in SN_COMPARATORS or obx.value(5, 3) or obx.value(5, 4):
            raise _error(
                context,
                place,
                5,
                f"structured value {obx.field_text(5)!r} is not a number with an optional "
                "<, <=, > or >=",
                ErrorCode.DATA_TYPE,
            )
    else:
        raise _error(
            context,
            place,
            2,
            f"value type {kind or 'missing'}; NM or SN expected",
            ErrorCode.DATA_TYPE,
        )
    if not text:
        raise _error(context, place, 5, "has no value", ErrorCode.REQUIRED_FIELD_MISSING)
    if _NUMBER_RE.fullmatch(text) is None:
        raise _error(context, place, 5, f"value {text!r} is not a number", ErrorCode.DATA_TYPE)
    return float(text), SN_COMPARATORS[comparator]


def _reference_range(
    text: str, place: _Place, context: ResultContext
) -> tuple[float | None, float | None] | None:
    """OBX-7 as (low, high): "10-40", "<5" / "<=5" (high only), ">1" (low only)."""
    if not text:
        return None
    between = _BETWEEN.fullmatch(text)
    if between is not None:
        low, high = float(between[1]), float(between[2])
        if low <= high:
            return low, high
    bound = _BOUND.fullmatch(text)
    if bound is not None:
        number = float(bound[2])
        return (None, number) if bound[1] in ("<", "<=", "≤") else (number, None)
    raise _error(
        context,
        place,
        7,
        f"reference range {text!r} is not low-high, <high or >low",
        ErrorCode.DATA_TYPE,
    )


def _time(obx: Segment, place: _Place, context: ResultContext) -> str:
    """OBX-14, else OBR-7 of the OBX's order; as an ISO 8601 dateTime with offset."""
    text, field = obx.value(14), 14
    if not text:
        text, field = context.order_time, 7
    if not text:
        raise _error(
            context,
            place,
            14,
            "has no observation time (neither OBX-14 nor OBR-7)",
            ErrorCode.REQUIRED_FIELD_MISSING,
        )
    try:
        return _iso_time(text, context.clinic_tz)
    except BadTimestamp as problem:
        where = place.field(14) if field == 14 else f"OBR^{context.order_ordinal}^7"
        raise in_error(f"{place}: {problem}", ErrorCode.DATA_TYPE, where, context.header) from None


@lru_cache(maxsize=512)
def _iso_time(text: str, clinic_tz: tzinfo) -> str:
    """An HL7 timestamp as ISO 8601 (the results of one message mostly share one)."""
    return parse_timestamp(text, clinic_tz).isoformat()


def _quantity(value: float, unit: str, comparator: str = "") -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": float(f"{value:.12g}")}
    if comparator:
        quantity["comparator"] = comparator
    quantity.update(unit=unit, system=UCUM, code=unit)
    return quantity


def _coding(code: str, display: str) -> dict[str, str]:
    coding = {"system": LOINC, "code": code}
    if display:
        coding["display"] = display
    return coding


def _as_sent(obx: Segment, context: ResultContext, place: _Place, unit: str, reference: str) -> str:
    sent = f"{obx.field_text(5)} {unit}".strip()
    in_range = f", reference range {reference}" if reference else ""
    return (
        f"HL7 v2 message {context.header.control_id} from {context.header.sender}, "
        f"{place}: as sent {sent}{in_range}"
    )


def _error(
    context: ResultContext, place: _Place, field: int, problem: str, error: ErrorCode
) -> Hl7Rejected:
    return in_error(f"{place}: {problem}", error, place.field(field), context.header)
