"""The REST API's request and response bodies (pydantic), mapped from application values.

Assessments are not modelled here: they go out exactly as
``application.report.assessment_to_dict`` writes them (INTERFACES.md §2).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from natalizumab_cds.application.records import (
    ClinicianDecision,
    ImportReport,
    PatientEntry,
    PatientListing,
    StoredResource,
    Summary,
)
from natalizumab_cds.application.worklist_query import WorklistEntry

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProtocolOut(BaseModel):
    name: str
    version: str


class DatabaseOut(BaseModel):
    reachable: bool


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    protocol: ProtocolOut
    database: DatabaseOut


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int


#: What a summary's decision answers (docs/service.md, "Whose decision").
NEXT_INFUSION_DECISION = (
    "The decision for the patient's next infusion: on its due date when that is after "
    "today (with today's data), else now; null if the record could not be assessed"
)


class PatientOut(BaseModel):
    id: str
    mrn: str | None
    name: str
    birth_date: date | None
    decision: str | None = Field(default=None, description=NEXT_INFUSION_DECISION)
    next_infusion_due: date | None = None

    @classmethod
    def of(cls, listing: PatientListing) -> PatientOut:
        return cls.of_entry(listing.patient, listing.decision, listing.next_infusion_due)

    @classmethod
    def of_entry(
        cls, entry: PatientEntry, decision: str | None, next_due: date | None
    ) -> PatientOut:
        return cls(
            id=entry.id,
            mrn=entry.mrn,
            name=entry.name,
            birth_date=entry.birth_date,
            decision=decision,
            next_infusion_due=next_due,
        )


class ItemDueOut(BaseModel):
    item: str
    last: date | None
    due: date


class SummaryOut(BaseModel):
    decision: str | None = Field(description=NEXT_INFUSION_DECISION)
    assessed_at: datetime
    protocol_version: str
    attention: list[str]
    acknowledged: list[str]
    dues: list[ItemDueOut]
    problem: str | None

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        return cls(
            decision=summary.decision,
            assessed_at=summary.assessed_at,
            protocol_version=summary.protocol_version,
            attention=list(summary.attention),
            acknowledged=list(summary.acknowledged),
            dues=[ItemDueOut(item=d.item, last=d.last, due=d.due) for d in summary.dues],
            problem=summary.problem,
        )


class PatientDetailOut(PatientOut):
    record_version: int
    summary: SummaryOut | None


class ResourceOut(BaseModel):
    resource_type: str
    resource_id: str
    version: int
    last_updated: datetime
    occurred_at: datetime | None
    content: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredResource) -> ResourceOut:
        return cls(
            resource_type=stored.resource_type,
            resource_id=stored.resource_id,
            version=stored.version,
            last_updated=stored.last_updated,
            occurred_at=stored.occurred_at,
            content=dict(stored.content),
        )


class DecisionIn(Strict):
    kind: Literal["acknowledge", "override"]
    rule: str = Field(min_length=1, max_length=100, examples=["population.pregnancy"])
    # The author is the signed-in account; a body that names someone else is refused.
    author: str | None = Field(
        default=None,
        max_length=200,
        description="Optional; if given it must be the signed-in user's username",
    )
    reason: str = Field(default="", max_length=2000)


class DecisionOut(BaseModel):
    id: str
    patient: str
    kind: str
    rule: str
    author: str
    at: datetime
    reason: str

    @classmethod
    def of(cls, decision: ClinicianDecision) -> DecisionOut:
        return cls(
            id=decision.id,
            patient=decision.patient_id,
            kind=decision.kind.value,
            rule=decision.rule,
            author=decision.author,
            at=decision.at,
            reason=decision.reason,
        )


class WorklistEntryOut(BaseModel):
    kind: str
    patient: str
    mrn: str | None
    name: str
    decision: str | None = Field(description=NEXT_INFUSION_DECISION)
    item: str | None
    due: date | None
    last: date | None
    status: str | None
    attention: list[str]
    acknowledged: list[str]
    assessed_on: date

    @classmethod
    def of(cls, entry: WorklistEntry) -> WorklistEntryOut:
        return cls(
            kind=entry.kind.value,
            patient=entry.patient_id,
            mrn=entry.mrn,
            name=entry.name,
            decision=entry.decision,
            item=entry.item,
            due=entry.due,
            last=entry.last,
            status=entry.status,
            attention=list(entry.attention),
            acknowledged=list(entry.acknowledged),
            assessed_on=entry.assessed_on,
        )


class ImportOut(BaseModel):
    patients: int
    created: int
    updated: int
    unchanged: int
    stale: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(
            patients=report.patients,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            stale=report.stale,
        )
