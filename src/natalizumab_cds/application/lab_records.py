"""The lab feed's ``ObservationStore`` on the clinic's records.

Lab results go through the same writer as a FHIR import (``RecordWriter``):
the same idempotence by id and content hash, the same check that the record
still reads cleanly, the same rebuilt summary for the worklist, and the same
transaction as the caller's, so the message id is committed with the results.
"""

from __future__ import annotations

from collections.abc import Sequence

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.lab_messages import FhirResource
from natalizumab_cds.application.ports import UnitOfWork
from natalizumab_cds.application.recording import RecordWriter
from natalizumab_cds.domain.errors import InvalidInput


class RecordObservations:
    """Stores Observations into one patient's record inside the caller's unit of work."""

    def __init__(self, uow: UnitOfWork, context: ClinicContext) -> None:
        self._uow = uow
        self._context = context

    def store_observations(self, patient: str, resources: Sequence[FhirResource]) -> None:
        if not resources:
            return
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": dict(resource)} for resource in resources],
        }
        records = self._context.format.split(bundle)
        patient_id = patient.removeprefix("Patient/")
        strangers = sorted({r.patient_id for r in records} - {patient_id})
        if strangers:
            raise InvalidInput(f"results name patients other than {patient}: {strangers}")
        writer = RecordWriter(self._uow, self._context)
        writer.apply(records)
        writer.finish()
