"""Lab units converted into each analyte's canonical unit (synthetic values)."""

from __future__ import annotations

import pytest

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.units import CANONICAL_UNIT, FACTORS, to_canonical
from tests.interop.fhir.builders import AT, a_drug_level, a_lab, a_quantity, an_alt, read_record

REF = "Observation/x"


def convert(analyte: Analyte, value: float, unit: str | None) -> float:
    converted = to_canonical(REF, "valueQuantity", a_quantity(value, unit), analyte)
    assert converted is not None
    return converted[0]


def test_every_analyte_has_a_canonical_unit_that_converts_to_itself() -> None:
    for analyte in Analyte:
        assert FACTORS[analyte][CANONICAL_UNIT[analyte]] == 1.0


def test_canonical_units_are_the_ones_the_protocol_thresholds_use() -> None:
    assert CANONICAL_UNIT[Analyte.ALT] == "U/L"
    assert CANONICAL_UNIT[Analyte.PLATELETS] == "10*9/L"
    assert CANONICAL_UNIT[Analyte.TSH] == "m[IU]/L"
    assert CANONICAL_UNIT[Analyte.FREE_T4] == "ng/dL"
    assert CANONICAL_UNIT[Analyte.NATALIZUMAB] == "ug/mL"


@pytest.mark.parametrize("unit", ["U/L", "[IU]/L", "IU/L"])
def test_keeps_alt_in_units_per_litre_whatever_the_spelling(unit: str) -> None:
    assert convert(Analyte.ALT, 42, unit) == 42


def test_converts_alt_in_microkatal_to_units_per_litre() -> None:
    assert convert(Analyte.ALT, 0.5, "ukat/L") == pytest.approx(30)


def test_converts_ast_in_nanokatal_to_units_per_litre() -> None:
    assert convert(Analyte.AST, 500, "nkat/L") == pytest.approx(30)


@pytest.mark.parametrize("unit", ["10*9/L", "10^9/L", "10*3/uL", "10^3/uL", "G/L"])
def test_keeps_cell_counts_per_nanolitre_whatever_the_spelling(unit: str) -> None:
    assert convert(Analyte.NEUTROPHILS, 4.5, unit) == 4.5


@pytest.mark.parametrize("unit", ["/uL", "/mm3", "{cells}/uL"])
def test_converts_cell_counts_per_microlitre_to_billions_per_litre(unit: str) -> None:
    assert convert(Analyte.LYMPHOCYTES, 2100, unit) == pytest.approx(2.1)


def test_converts_cell_counts_per_litre_to_billions_per_litre() -> None:
    assert convert(Analyte.PLATELETS, 250e9, "/L") == pytest.approx(250)


@pytest.mark.parametrize("unit", ["m[IU]/L", "u[IU]/mL", "mIU/L", "uIU/mL"])
def test_keeps_tsh_in_milli_units_per_litre_whatever_the_spelling(unit: str) -> None:
    assert convert(Analyte.TSH, 2.5, unit) == 2.5


def test_converts_free_t4_in_picomoles_per_litre_to_nanograms_per_decilitre() -> None:
    assert convert(Analyte.FREE_T4, 12.87, "pmol/L") == pytest.approx(1.0)


def test_converts_free_t4_in_nanograms_per_litre_to_nanograms_per_decilitre() -> None:
    assert convert(Analyte.FREE_T4, 12, "ng/L") == pytest.approx(1.2)


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (2.5, "mg/L", 2.5),
    (2500, "ng/mL", 2.5),
    (2500, "ug/L", 2.5),
])  # fmt: skip
def test_converts_natalizumab_levels_to_micrograms_per_millilitre(
    value: float, unit: str, expected: float
) -> None:
    assert convert(Analyte.NATALIZUMAB, value, unit) == pytest.approx(expected)


@pytest.mark.parametrize("unit", ["1", "{score}", None])
def test_reads_edss_as_a_dimensionless_score(unit: str | None) -> None:
    assert convert(Analyte.EDSS, 3.5, unit) == 3.5


def test_prefers_the_ucum_code_to_the_display_unit() -> None:
    quantity = {"value": 1, "unit": "mg/L", "system": "http://unitsofmeasure.org", "code": "ng/mL"}
    assert to_canonical(REF, "valueQuantity", quantity, Analyte.NATALIZUMAB) == (0.001, "ng/mL")


def test_falls_back_to_the_display_unit_when_there_is_no_code() -> None:
    quantity = {"value": 2100, "unit": "/uL"}
    assert to_canonical(REF, "valueQuantity", quantity, Analyte.MONOCYTES) == (2.1, "/uL")


def test_ignores_a_code_from_another_system_than_ucum() -> None:
    quantity = {"value": 30, "unit": "U/L", "system": "urn:lab:units", "code": "ALT-UNITS"}
    assert to_canonical(REF, "valueQuantity", quantity, Analyte.ALT) == (30, "U/L")


def test_refuses_a_unit_that_cannot_be_converted_naming_resource_and_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        to_canonical("Observation/alt-7", "valueQuantity", a_quantity(30, "mg"), Analyte.ALT)
    assert str(refused.value) == (
        "Observation/alt-7: valueQuantity.code 'mg' cannot be converted to U/L"
    )


def test_refuses_a_lab_value_without_a_unit() -> None:
    with pytest.raises(InvalidInput, match=r"Observation/x: valueQuantity.unit is missing"):
        to_canonical(REF, "valueQuantity", a_quantity(30, None), Analyte.ALT)


def test_refuses_an_unknown_unit_in_a_bundle_naming_the_observation() -> None:
    with pytest.raises(InvalidInput, match=r"Observation/alt-7: valueQuantity.code 'mg'"):
        read_record(an_alt(30, unit="mg", id="alt-7"))


def test_converts_the_reference_range_with_its_own_unit() -> None:
    lab = a_lab("751-8", 4500, "/uL", low=1.5, high=7.0, range_unit="10*9/L")
    result = read_record(lab).results(Analyte.NEUTROPHILS, AT)[0]
    assert (result.value, result.low, result.high) == pytest.approx((4.5, 1.5, 7.0))


def test_reads_a_reference_range_without_unit_in_the_result_unit() -> None:
    lab = a_drug_level(3000, "ng/mL", low=1000, high=20000)
    result = read_record(lab).results(Analyte.NATALIZUMAB, AT)[0]
    assert (result.value, result.low, result.high) == pytest.approx((3.0, 1.0, 20.0))


def test_keeps_an_open_reference_range_open() -> None:
    result = read_record(an_alt(0.5, unit="ukat/L", high=0.7)).results(Analyte.ALT, AT)[0]
    assert result.low is None
    assert result.high == pytest.approx(42)


def test_refuses_a_reference_range_in_an_unknown_unit() -> None:
    with pytest.raises(
        InvalidInput, match=r"referenceRange\[0\].high.code 'g' cannot be converted"
    ):
        read_record(an_alt(30, high=40, range_unit="g"))
