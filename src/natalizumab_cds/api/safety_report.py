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
from natalizumab_cds.application.safety_report import SafetyMeasure, SafetyReport, SerumLevels
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


class SerumLevelsOut(BaseModel):
    key: str = Field(description='"with-antibodies" or "without-antibodies" (ever positive or not)')
    title: str
    patients: int = Field(description="Treated patients of the group with a level on treatment")
    median: float | None = Field(description="µg/mL; null when no patient has a level")
    lower_quartile: float | None
    upper_quartile: float | None
    below_threshold: int
    threshold: float = Field(description="µg/mL, the low_drug_level parameter")
    expected: float = Field(description="µg/mL, the protocol's expected level")
    expected_source: str

    @classmethod
    def of(cls, g: SerumLevels) -> SerumLevelsOut:
        return cls(
            key=g.key,
            title=g.title,
            patients=g.patients,
            median=g.median,
            lower_quartile=g.quartiles[0] if g.quartiles else None,
            upper_quartile=g.quartiles[1] if g.quartiles else None,
            below_threshold=g.below_threshold,
            threshold=g.threshold,
            expected=g.expected,
            expected_source=g.expected_source,
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
    serum_levels: list[SerumLevelsOut] = Field(
        description="Latest serum natalizumab level on treatment, by antibody status"
    )

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
            serum_levels=[SerumLevelsOut.of(g) for g in report.levels],
        )


@router.get(
    "/safety-report", response_model=SafetyReportOut, dependencies=[require(Action.READ_WORKLIST)]
)
def safety_report(clinic: ClinicDep) -> SafetyReportOut:
    """Severe reactions, infections, thyroid, antibodies and monitoring adherence, with 95 % CIs;
    serum natalizumab levels by antibody status."""
    return SafetyReportOut.of(clinic.safety.report())
