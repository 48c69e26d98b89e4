"""Bundles and stored resources as a whole: shape, patient, ids (synthetic records)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.reader import read_bundle, read_resources
from tests.interop.fhir.builders import (
    AT,
    a_bundle,
    a_patient,
    an_alt,
    an_infusion,
    read_record,
    refusal,
)


def refused(data: Any) -> str:
    with pytest.raises(InvalidInput) as error:
        read_bundle(data, packaged_protocol())
    return str(error.value)


@pytest.mark.parametrize("kind", ["collection", "transaction", "batch", "searchset"])
def test_reads_every_accepted_bundle_type(kind: str) -> None:
    bundle = a_bundle(an_alt(30), bundle_type=kind)
    assert read_bundle(bundle, packaged_protocol()).latest_result(Analyte.ALT, AT) is not None


def test_reads_a_bundle_given_as_bytes_or_as_text() -> None:
    data = orjson.dumps(a_bundle(an_alt(30)))
    for given in (data, data.decode()):
        assert read_bundle(given, packaged_protocol()).patient.id == "Patient/p1"


def test_refuses_a_bundle_of_another_type() -> None:
    assert refused(a_bundle(bundle_type="history")).startswith("Bundle: type 'history' is not one")


def test_refuses_invalid_json() -> None:
    assert refused(b'{"resourceType": "Bundle",').startswith("Bundle: not valid JSON")


def test_refuses_bytes_that_are_not_utf8() -> None:
    assert refused(b"\xff\xfe{}").startswith("Bundle: not valid JSON")


def test_refuses_json_that_is_not_an_object() -> None:
    assert refused(b"[1, 2]") == "Bundle: expected a JSON object, got a list"


def test_refuses_a_resource_that_is_not_a_bundle() -> None:
    assert refused(a_patient()) == "expected a FHIR Bundle, got resourceType 'Patient'"


def test_refuses_an_entry_list_that_is_not_a_list() -> None:
    bundle = a_bundle()
    bundle["entry"] = {"resource": a_patient()}
    assert refused(bundle) == "Bundle: entry must be a list, got an object"


def test_refuses_an_entry_whose_resource_is_not_an_object() -> None:
    bundle = a_bundle()
    bundle["entry"].append({"resource": "Observation/alt-1"})
    assert refused(bundle) == "Bundle: entry[1].resource must be an object, got 'Observation/alt-1'"


def test_skips_entries_without_a_resource() -> None:
    bundle = a_bundle(bundle_type="transaction")
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Observation/old"}})
    assert read_bundle(bundle, packaged_protocol()).patient.id == "Patient/p1"


def test_refuses_a_bundle_without_patient() -> None:
    bundle = a_bundle()
    bundle["entry"] = []
    assert refused(bundle) == "Bundle: expected exactly one Patient, found 0"


def test_refuses_a_bundle_with_two_patients() -> None:
    message = refusal(a_patient("p2"))
    assert message == "Bundle: expected exactly one Patient, found 2"


def test_refuses_a_listed_resource_without_id() -> None:
    alt = an_alt(30)
    del alt["id"]
    assert (
        refusal(alt)
        == "Bundle: entry[1].resource.id is missing or not a string (Observation needs an id)"
    )


def test_refuses_a_resource_without_resource_type() -> None:
    assert refusal({"id": "x"}).startswith(
        "Bundle: entry[1].resource.resourceType must be a string"
    )


def test_refuses_the_same_resource_twice() -> None:
    assert refusal(an_alt(30, id="a"), an_alt(31, id="a")) == (
        "Observation/a: appears more than once in the Bundle"
    )


def test_ignores_resource_types_outside_the_profile() -> None:
    encounter = {"resourceType": "Encounter", "status": 7}
    practitioner = {"resourceType": "Practitioner"}
    assert read_record(encounter, practitioner).patient.id == "Patient/p1"


def test_refuses_a_fact_about_another_patient() -> None:
    alt = an_alt(30, id="alt-1", subject={"reference": "Patient/p2"})
    assert (
        refusal(alt)
        == "Observation/alt-1: subject.reference 'Patient/p2' is not this record's Patient/p1"
    )


@pytest.mark.parametrize("reference", [
    "Patient/p1",
    "https://example.org/fhir/Patient/p1",
    "Patient/p1/_history/3",
])  # fmt: skip
def test_accepts_the_patient_named_relatively_absolutely_or_by_version(reference: str) -> None:
    alt = an_alt(30, subject={"reference": reference})
    assert read_record(alt).latest_result(Analyte.ALT, AT) is not None


def test_accepts_the_patient_named_by_its_entry_full_url() -> None:
    bundle = a_bundle(an_alt(30, subject={"reference": "urn:uuid:0b6c"}))
    bundle["entry"][0]["fullUrl"] = "urn:uuid:0b6c"
    assert read_bundle(bundle, packaged_protocol()).latest_result(Analyte.ALT, AT) is not None


def test_reads_the_same_record_from_stored_resources() -> None:
    resources = [a_patient(), an_alt(30, id="alt-1"), an_infusion(id="i-1")]
    timeline = read_resources(resources, packaged_protocol())
    result = timeline.latest_result(Analyte.ALT, AT)
    assert result is not None
    assert result.id == "Observation/alt-1"
    assert [i.id for i in timeline.completed_infusions(AT)] == ["MedicationAdministration/i-1"]


def test_refuses_stored_resources_without_patient() -> None:
    with pytest.raises(InvalidInput, match=r"^resources: expected exactly one Patient, found 0$"):
        read_resources([an_alt(30)], packaged_protocol())


def test_refuses_a_stored_resource_that_is_not_an_object() -> None:
    with pytest.raises(InvalidInput, match=r"^resources\[1\]: expected a resource object"):
        read_resources([a_patient(), "Observation/alt-1"], packaged_protocol())  # type: ignore[list-item]


def test_turns_an_unexpected_structure_into_invalid_input_naming_the_resource() -> None:
    lab = an_alt(30, id="alt-1")
    lab["referenceRange"] = [{"high": {"value": 40, "unit": ["U/L"]}}]
    assert refusal(lab).startswith(
        "Observation/alt-1: referenceRange[0].high.unit must be a string"
    )
