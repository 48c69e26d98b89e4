"""The export use case: the stored record and its assessment go to the exporter port.

Fakes, not mocks: an in-memory database of stored resources, a fixed clock and
an exporter that keeps what it was given. The records are synthetic.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.exporting import PatientExports
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.application.records import StoredResource
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.record_format import FhirRecordFormat
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass
class FixedClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@dataclass
class StoredRecords:
    by_patient: dict[str, list[StoredResource]]

    def resources(self, patient_ids: Collection[str]) -> dict[str, list[StoredResource]]:
        return {p: list(self.by_patient[p]) for p in patient_ids if p in self.by_patient}


@dataclass
class ReadOnlyWork:
    records: StoredRecords


@dataclass
class InMemoryDatabase:
    records: StoredRecords

    @contextmanager
    def reading(self) -> Iterator[ReadOnlyWork]:
        yield ReadOnlyWork(self.records)


@dataclass
class KeptExports:
    calls: list[tuple[list[Mapping[str, Any]], Assessment]] = field(default_factory=list)

    def bundle(self, record: Sequence[Mapping[str, Any]], assessment: Assessment) -> dict[str, Any]:
        self.calls.append((list(record), assessment))
        return {"resourceType": "Bundle", "type": "collection"}


def stored(patient_id: str, resource: dict[str, Any]) -> StoredResource:
    return StoredResource(
        patient_id=patient_id,
        resource_type=resource["resourceType"],
        resource_id=resource["id"],
        version=1,
        last_updated=AT,
        occurred_at=None,
        content_hash="",
        content=resource,
    )


@pytest.fixture
def exporter() -> KeptExports:
    return KeptExports()


def exports_of(exporter: KeptExports, now: datetime = AT) -> PatientExports:
    bundle = synthesize_patient(0, 3, AT, "liver-elevated")
    resources = [stored("p0", e["resource"]) for e in bundle["entry"]]
    resources.reverse()  # the store's order must not matter
    database = cast(Database, InMemoryDatabase(StoredRecords({"p0": resources})))
    protocol = packaged_protocol()
    context = ClinicContext(FhirRecordFormat(protocol), protocol, UTC, FixedClock(now))
    return PatientExports(database, context, exporter)


def test_exports_the_stored_record_patient_first_with_its_assessment(
    exporter: KeptExports,
) -> None:
    result = exports_of(exporter).export_patient("p0", AT)
    assert result == {"resourceType": "Bundle", "type": "collection"}
    [(record, assessment)] = exporter.calls
    assert record[0]["resourceType"] == "Patient"
    keys = [(r["resourceType"], r["id"]) for r in record[1:]]
    assert keys == sorted(keys)
    assert assessment.at == AT
    assert assessment.decision.value == "hold"


def test_the_moment_defaults_to_the_clinics_now(exporter: KeptExports) -> None:
    later = AT + timedelta(days=2)
    exports_of(exporter, now=later).export_patient("p0")
    assert exporter.calls[0][1].at == later


def test_an_unknown_patient_is_refused(exporter: KeptExports) -> None:
    with pytest.raises(UnknownPatient):
        exports_of(exporter).export_patient("nobody", AT)
    assert exporter.calls == []


def test_a_moment_without_a_time_zone_is_refused(exporter: KeptExports) -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        exports_of(exporter).export_patient("p0", datetime(2026, 11, 24, 9, 0))
