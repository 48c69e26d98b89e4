"""A patient's printable summary: everything a clinician needs on one document.

Gathered from the stored record at one moment, as plain values; rendering
(PDF) is an adapter's job (``interop/pdf/``). Reading it is a read of the
patient's record and is audited like one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.infusion_day import InfusionDay
from natalizumab_cds.application.patients import PatientQueries
from natalizumab_cds.application.records import PatientEntry
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.timeline import Allergy, Analyte, Infusion, Result

#: How many of the newest results and infusions the summary lists.
RECENT_RESULTS = 12
RECENT_INFUSIONS = 6


@dataclass(frozen=True, slots=True)
class SummaryDocument:
    patient: PatientEntry
    assessment: Assessment
    results: tuple[Result, ...]  # newest first
    infusions: tuple[Infusion, ...]  # newest first
    reactions: tuple[Allergy, ...]
    visits: tuple[VisitView, ...]  # newest first
    generated_at: datetime
    tz_name: str


class PatientSummaries:
    def __init__(
        self, patients: PatientQueries, infusion_day: InfusionDay, context: ClinicContext
    ) -> None:
        self._patients = patients
        self._infusion_day = infusion_day
        self._context = context

    def document(self, patient_id: str) -> SummaryDocument:
        """The summary now; raises ``UnknownPatient`` for a patient not on file."""
        at = self._context.now()
        entry, _ = self._patients.patient(patient_id)
        timeline, assessment = self._patients.history_and_assessment(patient_id, at)
        results = sorted(
            (r for analyte in Analyte for r in timeline.results(analyte, at)),
            key=lambda r: r.at,
            reverse=True,
        )
        infusions = list(timeline.completed_infusions(at))[::-1]
        return SummaryDocument(
            patient=entry,
            assessment=assessment,
            results=tuple(results[:RECENT_RESULTS]),
            infusions=tuple(infusions[:RECENT_INFUSIONS]),
            reactions=tuple(timeline.allergies_known(at)),
            visits=tuple(self._infusion_day.of_patient(patient_id)[:RECENT_INFUSIONS]),
            generated_at=at,
            tz_name=str(self._context.tz),
        )
