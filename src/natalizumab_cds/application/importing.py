"""Import: FHIR bundles and single resources into the clinic's records.

Each bundle is all or nothing. The same resource sent twice is one record
(same content hash: nothing changes); changed content becomes a new version and
the old one goes to the history. Bulk imports write many bundles per
transaction for speed; a bundle that does not read cleanly is left out whole and
reported, and the others go in. A crash loses at most the open transaction,
never part of a bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.recording import RecordWriter, with_retries
from natalizumab_cds.application.records import ImportReport, IncomingRecord
from natalizumab_cds.domain.errors import InvalidInput

#: (where it came from, the bundle or resource as JSON bytes or parsed)
Source = tuple[str, bytes | Mapping[str, Any]]
#: Called after each committed batch with (bundles, resources) it went through.
Progress = Callable[[int, int], None]
#: Resources per transaction in a bulk import: large enough to amortise the
#: commit, small enough that a crash or a conflict costs little.
BATCH_RESOURCES = 5000


class ImportRecords:
    def __init__(
        self, database: Database, context: ClinicContext, batch_resources: int = BATCH_RESOURCES
    ) -> None:
        self._database = database
        self._context = context
        self._batch_resources = batch_resources

    def one(self, data: bytes | Mapping[str, Any]) -> ImportReport:
        """One bundle or resource; ``InvalidInput`` (naming resource and field) if it is bad."""
        records = self._context.format.split(data)
        return self._write([("", records)], strict=True)

    def many(self, sources: Iterable[Source], on_progress: Progress | None = None) -> ImportReport:
        """Many bundles, each all or nothing; bad ones are reported in ``failures``."""
        report = ImportReport()
        batch: list[tuple[str, list[IncomingRecord]]] = []
        size = unreadable = 0
        for label, data in sources:
            try:
                records = self._context.format.split(data)
            except InvalidInput as error:
                report += ImportReport(failures=((label, str(error)),))
                unreadable += 1
                continue
            batch.append((label, records))
            size += sum(len(r.resources) for r in records)
            if size >= self._batch_resources:
                report += self._write(batch, strict=False)
                if on_progress is not None:
                    on_progress(len(batch) + unreadable, size)
                batch, size, unreadable = [], 0, 0
        if batch:
            report += self._write(batch, strict=False)
        if on_progress is not None and (batch or unreadable):
            on_progress(len(batch) + unreadable, size)
        return report

    def _write(
        self, batch: list[tuple[str, list[IncomingRecord]]], *, strict: bool
    ) -> ImportReport:
        def transaction() -> ImportReport:
            report = ImportReport()
            with self._database.writing() as uow:
                writer = RecordWriter(uow, self._context)
                writer.load(record for _, records in batch for record in records)
                for label, records in batch:
                    try:
                        report += writer.apply(records)
                    except InvalidInput as error:
                        if strict:
                            raise
                        report += ImportReport(failures=((label, str(error)),))
                report += ImportReport(patients=len(writer.finish()))
            return report

        return with_retries(transaction)
