"""The reader keeps what a partial birth date or a bounded value really says."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.fhir.reader import read_bundle


def _bundle(birth: str, *resources: dict[str, object]) -> dict[str, object]:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": birth}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }


def _level(comparator: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": "lvl-1",
        "status": "final",
        "code": {
            "coding": [{"system": "urn:natalizumab-cds:local", "code": "natalizumab-concentration"}]
        },
        "effectiveDateTime": "2026-11-20T08:00:00+00:00",
        "valueQuantity": {
            "value": 1,
            "comparator": comparator,
            "unit": "ug/mL",
            "system": "http://unitsofmeasure.org",
            "code": "ug/mL",
        },
    }


def test_a_year_only_birth_date_keeps_its_first_and_last_day() -> None:
    patient = read_bundle(_bundle("2008"), packaged_protocol()).patient
    assert (patient.birth_date, patient.birth_date_last) == (date(2008, 1, 1), date(2008, 12, 31))


def test_a_full_birth_date_has_one_day() -> None:
    patient = read_bundle(_bundle("2008-03-04"), packaged_protocol()).patient
    assert patient.latest_possible_birth == date(2008, 3, 4)


def test_a_value_comparator_is_kept_on_the_result() -> None:
    timeline = read_bundle(_bundle("1980", _level("<")), packaged_protocol())
    results = timeline.results(Analyte.NATALIZUMAB, datetime(2026, 11, 24, tzinfo=UTC))
    assert [(r.value, r.comparator) for r in results] == [(1.0, "<")]


def test_an_unknown_comparator_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"Observation/lvl-1.*valueQuantity.comparator"):
        read_bundle(_bundle("1980", _level("about")), packaged_protocol())
