"""The lab feed's ``ObservationStore`` on the clinic's records.

Two ways in, both inside the caller's transaction so the message ids are
committed with the results:

- ``store_many``, the feed's usual path, for results that are new to the
  record (their ids derive from the message id, which the feed has just
  checked was never applied). Each result is read alone by the record reader
  with the subject check a whole record gets; then the rows are added, the
  record's version goes up by one and nothing else is rewritten. The patient's
  worklist summary is not rebuilt here: its record version is now behind, so
  it is rebuilt soon after the commit (``SummaryCatchUp``), before any
  worklist page is answered (``ClinicWorklist.entries``) and by every refresh.
  A record is never reread and reassessed inside the write transaction, which
  is what kept the feed at about a hundred messages a second.
- ``store_observations``, the import's ``RecordWriter``: the same idempotence
  by id and content hash and the whole record reread. ``store_many`` falls back
  to it for any result whose id is already on file.
"""

from __future__ import annotations

from collections.abc import Sequence

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.lab_messages import FhirResource
from natalizumab_cds.application.ports import UnitOfWork
from natalizumab_cds.application.recording import RecordWriter
from natalizumab_cds.application.records import IncomingRecord, StoredResource
from natalizumab_cds.domain.errors import InvalidInput


class RecordObservations:
    """Stores Observations into patients' records inside the caller's unit of work."""

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

    def store_many(
        self, batch: Sequence[tuple[str, Sequence[FhirResource]]]
    ) -> list[InvalidInput | None]:
        """Store each (patient, results) item; per item None, or why none of it was stored."""
        outcomes: list[InvalidInput | None] = [None] * len(batch)
        checked: dict[int, IncomingRecord] = {}
        for index, (patient, resources) in enumerate(batch):
            if not resources:
                continue
            try:
                checked[index] = self._context.format.joining(
                    patient.removeprefix("Patient/"), resources
                )
            except InvalidInput as problem:
                outcomes[index] = problem
        records = self._uow.records
        keys = [resource.key for record in checked.values() for resource in record.resources]
        on_file = set(records.owners(keys)) if keys else set()
        seen: set[tuple[str, str]] = set()
        new: dict[int, IncomingRecord] = {}
        for index, record in checked.items():
            record_keys = {resource.key for resource in record.resources}
            if record_keys & (on_file | seen):
                continue  # stored before or twice in this batch: the general path decides
            seen |= record_keys
            new[index] = record
        if new:
            self._add(list(new.values()))
        for index in sorted(checked.keys() - new.keys()):
            patient, resources = batch[index]
            try:
                self.store_observations(patient, resources)
            except InvalidInput as problem:
                outcomes[index] = problem
        return outcomes

    def _add(self, records: list[IncomingRecord]) -> None:
        versions = self._uow.records.lock({record.patient_id for record in records})
        missing = sorted({record.patient_id for record in records} - versions.keys())
        if missing:  # found by MRN in this same transaction, so this is a bug, not input
            raise RuntimeError(f"patients vanished while results were stored: {missing}")
        now = self._context.now()
        self._uow.records.add_resources(
            [
                StoredResource(
                    patient_id=record.patient_id,
                    resource_type=resource.resource_type,
                    resource_id=resource.resource_id,
                    version=1,
                    last_updated=resource.last_updated or now,
                    occurred_at=resource.occurred_at,
                    content_hash=resource.content_hash,
                    content=resource.content,
                )
                for record in records
                for resource in record.resources
            ]
        )
        self._uow.records.touch(versions)
