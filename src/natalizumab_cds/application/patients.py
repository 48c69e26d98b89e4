"""Looking patients up: search, timeline, assessment and schedule at any moment.

An assessment is always computed from the stored raw record, never from the
summary row: the summary only serves the worklist.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.records import (
    ClinicianDecision,
    Page,
    PatientEntry,
    PatientListing,
    StoredResource,
    Summary,
)
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Timeline

MAX_PAGE_SIZE = 500


def check_page(page: int, size: int) -> None:
    if page < 1:
        raise InvalidInput(f"page: must be 1 or more, got {page}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"size: must be from 1 to {MAX_PAGE_SIZE}, got {size}")


@dataclass(frozen=True, slots=True)
class PatientView:
    """Everything the patient page shows, read in one transaction (one snapshot, one audit)."""

    entry: PatientEntry
    summary: Summary | None
    timeline: Timeline
    assessment: Assessment
    decisions: list[ClinicianDecision]  # newest first


class PatientQueries:
    def __init__(self, database: Database, context: ClinicContext) -> None:
        self._database = database
        self._context = context

    def search(self, text: str | None, page: int = 1, size: int = 50) -> Page[PatientListing]:
        """Patients whose name contains ``text`` or whose MRN starts with it."""
        check_page(page, size)
        with self._database.reading() as uow:
            return uow.records.search(text.strip() if text else None, page, size)

    def patient(self, patient_id: str) -> tuple[PatientEntry, Summary | None]:
        with self._database.reading() as uow:
            entry = uow.records.patient(patient_id)
            if entry is None:
                raise UnknownPatient(patient_id)
            return entry, uow.summaries.summary(patient_id)

    def entries(self, patient_ids: Collection[str]) -> dict[str, PatientEntry]:
        """The entries of those of ``patient_ids`` on file, read in one transaction."""
        with self._database.reading() as uow:
            found = {pid: uow.records.patient(pid) for pid in dict.fromkeys(patient_ids)}
        return {pid: entry for pid, entry in found.items() if entry is not None}

    def timeline(
        self, patient_id: str, types: Collection[str] = (), page: int = 1, size: int = 50
    ) -> Page[StoredResource]:
        """The stored resources, newest clinical date first, optionally of some types only."""
        check_page(page, size)
        with self._database.reading() as uow:
            if uow.records.patient(patient_id) is None:
                raise UnknownPatient(patient_id)
            return uow.records.timeline(patient_id, types, page, size)

    def history(
        self, patient_id: str, resource_type: str, resource_id: str
    ) -> list[StoredResource]:
        """Older versions of one of the patient's resources, oldest first."""
        with self._database.reading() as uow:
            if uow.records.patient(patient_id) is None:
                raise UnknownPatient(patient_id)
            return [
                r
                for r in uow.records.history(resource_type, resource_id)
                if r.patient_id == patient_id
            ]

    def view(self, patient_id: str, at: datetime | None = None) -> PatientView:
        """The entry, summary, record, assessment at ``at`` and decisions, as of one moment.

        Read in one transaction, so the record version shown, the findings and
        the decisions listed agree, and the reading is one audit record.
        """
        moment = self._moment(at)
        with self._database.reading() as uow:
            entry = uow.records.patient(patient_id)
            if entry is None:
                raise UnknownPatient(patient_id)
            summary = uow.summaries.summary(patient_id)
            record = uow.records.resources([patient_id]).get(patient_id, [])
        timeline = self._context.timeline(record)
        assessment = self._context.assess(timeline, moment)
        decisions = self._context.decisions(patient_id, record)[::-1]
        return PatientView(entry, summary, timeline, assessment, decisions)

    def _moment(self, at: datetime | None) -> datetime:
        moment = at or self._context.now()
        if moment.tzinfo is None:
            raise InvalidInput(f"at: {moment.isoformat()} has no time zone")
        return moment

    def assessment(self, patient_id: str, at: datetime | None = None) -> Assessment:
        """The assessment at ``at`` (default now) from the stored record."""
        return self.history_and_assessment(patient_id, at)[1]

    def history_and_assessment(
        self, patient_id: str, at: datetime | None = None
    ) -> tuple[Timeline, Assessment]:
        """The record as the rules read it (for charts) and the assessment at ``at``."""
        moment = self._moment(at)
        with self._database.reading() as uow:
            record = uow.records.resources([patient_id]).get(patient_id)
        if not record:
            raise UnknownPatient(patient_id)
        timeline = self._context.timeline(record)
        return timeline, self._context.assess(timeline, moment)
