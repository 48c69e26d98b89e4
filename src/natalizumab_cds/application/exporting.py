"""Export: a patient's stored record and its assessment at a moment, in the record format.

The export carries the raw record unchanged (the truth, as received) and what
the assessment derives from it at ``at``: the decision, the findings and the
monitoring schedule. Writing it out is the ``RecordExporter`` port's job (FHIR
R4 in ``interop``, wired in bootstrap), so this use case knows no format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.records import StoredResource
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.errors import InvalidInput


class RecordExporter(Protocol):
    def bundle(self, record: Sequence[Mapping[str, Any]], assessment: Assessment) -> dict[str, Any]:
        """The record's resources, unchanged, with what ``assessment`` derives from them."""
        ...


class PatientExports:
    def __init__(
        self, database: Database, context: ClinicContext, exporter: RecordExporter
    ) -> None:
        self._database = database
        self._context = context
        self._exporter = exporter

    def export_patient(self, patient_id: str, at: datetime | None = None) -> dict[str, Any]:
        """The patient's record and assessment at ``at`` (default now) as one document.

        Raises ``UnknownPatient`` for a patient not on file, ``InvalidInput`` for
        an ``at`` without a time zone or a stored record that no longer reads.
        """
        moment = at or self._context.now()
        if moment.tzinfo is None:
            raise InvalidInput(f"at: {moment.isoformat()} has no time zone")
        with self._database.reading() as uow:
            record = uow.records.resources([patient_id]).get(patient_id)
        if not record:
            raise UnknownPatient(patient_id)
        ordered = sorted(record, key=_record_order)
        assessment = self._context.assess(self._context.timeline(ordered), moment)
        return self._exporter.bundle([r.content for r in ordered], assessment)


def _record_order(resource: StoredResource) -> tuple[bool, str, str]:
    """The Patient first, then by type and id: the same record always exports the same."""
    return (resource.resource_type != "Patient", resource.resource_type, resource.resource_id)
