"""Lab quantities converted into each analyte's one canonical unit.

Rules compare numbers against protocol thresholds written in one unit per
analyte, so every result is converted on the way in. The reader needs only the
handful of units labs actually send for these tests, so a small explicit table
is used instead of a general UCUM library: it is easy to review, and a unit not
in it is refused (``InvalidInput``) rather than guessed. Spellings are the UCUM
codes plus the common non-UCUM ``unit`` strings seen in lab feeds.
"""

from __future__ import annotations

from natalizumab_cds.domain.protocol import UCUM
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.fields import (
    JsonObject,
    get_number,
    get_str,
    invalid,
    path_of,
)

ENZYME_UNIT = "U/L"
COUNT_UNIT = "10*9/L"
TSH_UNIT = "m[IU]/L"
FREE_T4_UNIT = "ng/dL"
DRUG_LEVEL_UNIT = "ug/mL"
SCORE_UNIT = "1"

CANONICAL_UNIT: dict[Analyte, str] = {
    Analyte.ALT: ENZYME_UNIT,
    Analyte.AST: ENZYME_UNIT,
    Analyte.NEUTROPHILS: COUNT_UNIT,
    Analyte.LYMPHOCYTES: COUNT_UNIT,
    Analyte.MONOCYTES: COUNT_UNIT,
    Analyte.PLATELETS: COUNT_UNIT,
    Analyte.TSH: TSH_UNIT,
    Analyte.FREE_T4: FREE_T4_UNIT,
    Analyte.NATALIZUMAB: DRUG_LEVEL_UNIT,
    Analyte.EDSS: SCORE_UNIT,
}

# Unit as written -> factor that turns a value in it into the canonical unit.
_ENZYME = {
    "U/L": 1.0,
    "[IU]/L": 1.0,
    "IU/L": 1.0,
    "u/L": 1.0,
    "mU/mL": 1.0,
    "m[IU]/mL": 1.0,
    "ukat/L": 60.0,  # 1 µkat = 60 µmol/min = 60 U
    "µkat/L": 60.0,
    "nkat/L": 0.06,
}
_COUNT = {
    "10*9/L": 1.0,
    "10^9/L": 1.0,
    "x10*9/L": 1.0,
    "G/L": 1.0,
    "/nL": 1.0,
    "10*3/uL": 1.0,
    "10^3/uL": 1.0,
    "10*3/µL": 1.0,
    "10^3/µL": 1.0,
    "x10E3/uL": 1.0,
    "K/uL": 1.0,
    "10*3/mm3": 1.0,
    "10^3/mm3": 1.0,
    "10*6/mL": 1.0,
    "/uL": 0.001,
    "/µL": 0.001,
    "{cells}/uL": 0.001,
    "{cells}/µL": 0.001,
    "cells/uL": 0.001,
    "/mm3": 0.001,
    "{cells}/mm3": 0.001,
    "/L": 1e-9,
    "{cells}/L": 1e-9,
}
_TSH = {
    "m[IU]/L": 1.0,
    "mIU/L": 1.0,
    "mU/L": 1.0,
    "u[IU]/mL": 1.0,
    "uIU/mL": 1.0,
    "µIU/mL": 1.0,
    "uU/mL": 1.0,
}
_FREE_T4 = {
    "ng/dL": 1.0,
    "pmol/L": 1 / 12.87,  # 1 ng/dL free T4 = 12.87 pmol/L
    "ng/L": 0.1,
    "pg/mL": 0.1,
    "ng/mL": 100.0,
}
_DRUG_LEVEL = {
    "ug/mL": 1.0,
    "µg/mL": 1.0,
    "mcg/mL": 1.0,
    "mg/L": 1.0,
    "ng/mL": 0.001,
    "ug/L": 0.001,
    "µg/L": 0.001,
}
_SCORE = {"1": 1.0, "{score}": 1.0, "": 1.0}

FACTORS: dict[Analyte, dict[str, float]] = {
    Analyte.ALT: _ENZYME,
    Analyte.AST: _ENZYME,
    Analyte.NEUTROPHILS: _COUNT,
    Analyte.LYMPHOCYTES: _COUNT,
    Analyte.MONOCYTES: _COUNT,
    Analyte.PLATELETS: _COUNT,
    Analyte.TSH: _TSH,
    Analyte.FREE_T4: _FREE_T4,
    Analyte.NATALIZUMAB: _DRUG_LEVEL,
    Analyte.EDSS: _SCORE,
}


def conversion_factor(analyte: Analyte, unit: str | None) -> float | None:
    """Factor into the canonical unit, or None when the unit is not one we know.

    A missing unit is only acceptable for EDSS, a dimensionless score.
    """
    return FACTORS[analyte].get(unit if unit is not None else "")


def quantity_unit(ref: str, quantity: JsonObject, path: str) -> tuple[str | None, str]:
    """The unit a Quantity is written in, and the field it came from.

    The UCUM ``code`` is preferred (when its system is UCUM or absent); the
    free-text ``unit`` is the fallback.
    """
    code = get_str(ref, quantity, "code", path)
    if code is not None:
        system = get_str(ref, quantity, "system", path)
        if system is None or system == UCUM:
            return code, path_of(path, "code")
    return get_str(ref, quantity, "unit", path), path_of(path, "unit")


def to_canonical(
    ref: str,
    path: str,
    quantity: JsonObject,
    analyte: Analyte,
    default_unit: str | None = None,
) -> tuple[float, str | None] | None:
    """The quantity's value in the canonical unit, and the unit it was written in.

    None when the quantity has no value (an open reference-range bound). A
    quantity without a unit takes ``default_unit`` (a reference range written
    without a unit is in the result's unit).
    """
    raw = quantity.get("value")
    value: float | None
    if type(raw) is float and raw - raw == 0.0:
        value = raw  # a finite float: the usual case, checked without building paths
    elif type(raw) is int and -(2**53) <= raw <= 2**53:  # type() is never bool here
        value = float(raw)
    else:
        value = get_number(ref, quantity, "value", path)
    if value is None:
        return None
    code, system = quantity.get("code"), quantity.get("system")
    if type(code) is str and (system is None or system == UCUM):
        factor = conversion_factor(analyte, code)
        if factor is not None:
            return value * factor, code
    unit, unit_path = quantity_unit(ref, quantity, path)
    if unit is None:
        unit = default_unit
    factor = conversion_factor(analyte, unit)
    if factor is None:
        canonical = CANONICAL_UNIT[analyte]
        if unit is None:
            raise invalid(ref, unit_path, f"is missing; expected a unit convertible to {canonical}")
        raise invalid(ref, unit_path, f"{unit!r} cannot be converted to {canonical}")
    return value * factor, unit
