"""FHIR R4 as the clinic service's record format (the application's ``RecordFormat`` port)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from natalizumab_cds.application.records import (
    ClinicianDecision,
    IncomingRecord,
    IncomingResource,
)
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.timeline import Timeline
from natalizumab_cds.interop.fhir.dates import parse_datetime
from natalizumab_cds.interop.fhir.decisions import decision_of, detected_issue
from natalizumab_cds.interop.fhir.infusion_day import FhirInfusionRecords
from natalizumab_cds.interop.fhir.ingest import FHIR_ID, incoming, split_record
from natalizumab_cds.interop.fhir.reader import check_joining, read_resources


class FhirRecordFormat:
    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._infusion_day = FhirInfusionRecords(protocol)

    def split(self, data: bytes | Mapping[str, Any]) -> list[IncomingRecord]:
        return split_record(data)

    def timeline(self, resources: Iterable[Mapping[str, Any]]) -> Timeline:
        return read_resources(resources, self._protocol)

    def joining(self, patient_id: str, resources: Sequence[Mapping[str, Any]]) -> IncomingRecord:
        check_joining(resources, self._protocol, f"Patient/{patient_id}")
        for resource in resources:
            if not FHIR_ID.fullmatch(resource["id"]):
                kind = resource["resourceType"]
                raise InvalidInput(f"{kind}: {resource['id']!r} is not a FHIR id")
        return IncomingRecord(
            patient_id,
            tuple(incoming(dict(r), f"{r['resourceType']}/{r['id']}") for r in resources),
        )

    def sent_at(self, content: Mapping[str, Any]) -> datetime | None:
        meta = content.get("meta")
        raw = meta.get("lastUpdated") if isinstance(meta, Mapping) else None
        if not isinstance(raw, str):
            return None
        try:
            return parse_datetime("", "meta.lastUpdated", raw)
        except InvalidInput:
            return None

    def decision_resource(self, decision: ClinicianDecision) -> IncomingResource:
        resource = detected_issue(decision)
        return incoming(resource, f"DetectedIssue/{decision.id}")

    def decision_of(self, patient_id: str, content: Mapping[str, Any]) -> ClinicianDecision | None:
        return decision_of(patient_id, content)

    def screening_resources(self, visit: Visit) -> list[IncomingResource]:
        return self._infusion_day.screening(visit)

    def administration_resource(self, visit: Visit) -> IncomingResource | None:
        return self._infusion_day.administration(visit)

    def reaction_resource(self, visit: Visit) -> IncomingResource | None:
        return self._infusion_day.reaction(visit)
