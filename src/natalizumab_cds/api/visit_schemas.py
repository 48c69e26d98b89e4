"""Request and response bodies of the infusion-day routes (``api/infusion_day.py``).

Moments are ISO 8601 (no offset = UTC); durations go out in whole seconds.
Who takes a step is the signed-in caller (or the API token's account), never
a name in the body; only the second person who checked a bag is named.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.preparation import Preparation

Location = Literal["refrigerator", "room-temperature"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScreeningIn(_In):
    neurological_symptoms: bool = Field(description="New or worsening neurological symptoms")
    active_infection: bool
    pregnant: bool
    breastfeeding: bool
    new_medicines: bool
    new_medicines_detail: str = Field(default="", max_length=2000)


class ClearanceIn(_In):
    acknowledge: bool = Field(
        default=False, description="Acknowledge a caution decision (the clinician clearing)"
    )
    medicines_reviewed: bool = Field(
        default=False,
        description=(
            "The new medicines named at the screening were reviewed against the prohibited "
            "list (required when the screening says new medicines = true)"
        ),
    )


class PreparationIn(_In):
    vial_lot: str = Field(min_length=1, max_length=64)
    vial_expiry: date
    dose_mg: float = Field(examples=[300])
    diluent: str = Field(min_length=1, max_length=100, examples=["0.9% sodium chloride"])
    volume_ml: float = Field(examples=[100])
    diluted_at: datetime
    location: Location = Field(default="room-temperature", description="Where the bag went")
    checked_by: str = Field(
        min_length=1,
        max_length=200,
        examples=["pharm.chloe"],
        description="The second person's username; not the one who prepared the bag",
    )
    checker_password: SecretStr = Field(
        min_length=1,
        max_length=1024,
        description="The second person's password: they co-sign the check (never stored)",
    )
    checked_at: datetime | None = None
    frozen: bool = False
    shaken: bool = False


class StorageMoveIn(_In):
    location: Location
    at: datetime | None = None


class StartIn(_In):
    rate_ml_per_hour: float | None = Field(default=None, gt=0, le=10_000, examples=[100])
    planned_duration_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    method: Literal["iv-infusion", "iv-push", "iv-bolus"] = "iv-infusion"
    found_frozen: bool = False
    found_shaken: bool = False


class MomentIn(_In):
    """End of the infusion, discharge: now, or ``at`` when documented afterwards."""

    at: datetime | None = None


class ReactionIn(_In):
    symptoms: list[Literal["urticaria", "hypotension", "dyspnea", "anaphylaxis", "other"]] = Field(
        min_length=1
    )
    severity: Literal["mild", "moderate", "severe", "life-threatening"]
    treatment: str = Field(min_length=1, max_length=2000)
    description: str = Field(default="", max_length=2000)
    at: datetime | None = None


class CancelIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class VisitOut(BaseModel):
    id: str
    patient: str
    state: str
    version: int
    opened_at: datetime
    at: datetime = Field(description="The moment the clocks below were read")
    next_steps: list[str]
    expires_at: datetime | None = Field(description="Last usable moment of the bag")
    usable_now: bool | None
    room_temperature_remaining_seconds: int | None
    earliest_end_at: datetime | None = Field(
        description="While infusing: the first moment the infusion may be ended"
    )
    observation_ends_at: datetime | None
    observation_remaining_seconds: int | None
    administration_status: str | None
    steps: dict[str, Any] = Field(description="Each step recorded so far, as recorded")

    @classmethod
    def of(cls, view: VisitView) -> VisitOut:
        visit = view.visit
        return cls(
            id=visit.id,
            patient=visit.patient,
            state=view.state.value,
            version=view.version,
            opened_at=visit.opened_at,
            at=view.at,
            next_steps=[step.value for step in view.next_steps],
            expires_at=view.expires_at,
            usable_now=view.usable_now,
            room_temperature_remaining_seconds=_seconds(view.room_temperature_remaining),
            earliest_end_at=view.earliest_end_at,
            observation_ends_at=view.observation_ends_at,
            observation_remaining_seconds=_seconds(view.observation_remaining),
            administration_status=visit.administration_status,
            steps=steps_out(visit),
        )


def _seconds(duration: timedelta | None) -> int | None:
    return None if duration is None else int(duration.total_seconds())


def steps_out(visit: Visit) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    if visit.screening is not None:
        s = visit.screening
        steps["screening"] = {
            "at": s.at,
            "by": s.screened_by,
            "neurological_symptoms": s.neurological_symptoms,
            "active_infection": s.active_infection,
            "pregnant": s.pregnant,
            "breastfeeding": s.breastfeeding,
            "new_medicines": s.new_medicines,
            "new_medicines_detail": s.new_medicines_detail,
            "concerns": list(s.concerns),
            "withdrawn": [
                {
                    "question": w.question,
                    "answered_at": w.answered_at,
                    "answered_by": w.answered_by,
                    "withdrawn_at": w.withdrawn_at,
                    "withdrawn_by": w.withdrawn_by,
                }
                for w in s.withdrawn
            ],
        }
    if visit.clearance is not None:
        c, ack = visit.clearance, visit.clearance.acknowledgement
        steps["clearance"] = {
            "at": c.at,
            "by": c.cleared_by,
            "decision": c.decision.value,
            "acknowledged_by": ack.by if ack else None,
            "acknowledged_at": ack.at if ack else None,
            "medicines_reviewed": c.medicines_reviewed,
        }
    if visit.preparation is not None:
        steps["preparation"] = _preparation(visit.preparation)
    if visit.start is not None:
        st = visit.start
        steps["start"] = {
            "at": st.at,
            "by": st.started_by,
            "method": st.method.value,
            "decision": st.decision.value,
            "rate_ml_per_hour": st.rate_ml_per_hour,
            "planned_duration_minutes": (
                st.planned_duration.total_seconds() / 60 if st.planned_duration else None
            ),
        }
    if visit.end is not None:
        steps["end"] = {"at": visit.end.at, "by": visit.end.ended_by}
    if visit.reaction is not None:
        r = visit.reaction
        steps["reaction"] = {
            "at": r.at,
            "by": r.recorded_by,
            "symptoms": sorted(s.value for s in r.symptoms),
            "severity": r.severity.value,
            "treatment": r.treatment,
            "description": r.description,
        }
    if visit.discharge is not None:
        steps["discharge"] = {"at": visit.discharge.at, "by": visit.discharge.discharged_by}
    if visit.cancellation is not None:
        x = visit.cancellation
        steps["cancellation"] = {"at": x.at, "by": x.cancelled_by, "reason": x.reason}
    return steps


def _preparation(p: Preparation) -> dict[str, Any]:
    return {
        "vial_lot": p.vial_lot,
        "vial_expiry": p.vial_expiry,
        "dose_mg": p.dose_mg,
        "diluent": p.diluent,
        "volume_ml": p.volume_ml,
        "diluted_at": p.diluted_at,
        "storage": [{"at": m.at, "location": m.location.value} for m in p.storage],
        "prepared_by": p.prepared_by,
        "checked_by": p.checked_by,
        "checked_at": p.checked_at,
    }
