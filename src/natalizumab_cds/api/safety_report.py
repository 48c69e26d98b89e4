"""The clinic's safety report: observed rates beside the protocol's expected ones.

Open to every role that reads the worklist (it is the same clinic-wide,
aggregate view); it names no patient. The counts come from one SQL aggregate
over the summary rows; definitions: docs/safety-report.md.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from natalizumab_cds.api.access import require
from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.application.safety_report import SafetyMeasure, SafetyReport
from natalizumab_cds.application.security.permissions import Action

router = APIRouter(prefix="/api", tags=["safety report"])


class MeasureOut(BaseModel):
    key: str
    title: str
    numerator: float
    denominator: float = Field(description="Patients, items, or patient-years (see unit)")
    denominator_label: str
    unit: str = Field(description='"proportion" or "per patient-year"')
    observed: float | None
    ci95_low: float | None
    ci95_high: float | None
    expected: float | None
    expected_source: str

    @classmethod
    def of(cls, m: SafetyMeasure) -> MeasureOut:
        return cls(
            key=m.key,
            title=m.title,
            numerator=m.numerator,
            denominator=m.denominator,
            denominator_label=m.denominator_label,
            unit=m.unit,
            observed=m.observed,
            ci95_low=m.interval.low if m.interval else None,
            ci95_high=m.interval.high if m.interval else None,
            expected=m.expected,
            expected_source=m.expected_source,
        )


class SafetyReportOut(BaseModel):
    generated_at: datetime
    today: date
    protocol_name: str
    protocol_version: str
    patients: int
    treated_patients: int
    patient_years: float
    measures: list[MeasureOut]

    @classmethod
    def of(cls, report: SafetyReport) -> SafetyReportOut:
        return cls(
            generated_at=report.generated_at,
            today=report.today,
            protocol_name=report.protocol_name,
            protocol_version=report.protocol_version,
            patients=report.counts.patients,
            treated_patients=report.counts.treated,
            patient_years=report.counts.exposure_days / 365.25,
            measures=[MeasureOut.of(m) for m in report.measures],
        )


@router.get(
    "/safety-report", response_model=SafetyReportOut, dependencies=[require(Action.READ_WORKLIST)]
)
def safety_report(clinic: ClinicDep) -> SafetyReportOut:
    """Severe reactions, infections, thyroid, antibodies and monitoring adherence, with 95 % CIs."""
    return SafetyReportOut.of(clinic.safety.report())
