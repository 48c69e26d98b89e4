"""One infusion visit as an immutable value; its state follows from the steps recorded.

A ``Visit`` holds at most one of each step. Its ``state`` is derived, never
stored, so a visit rebuilt from its steps (e.g. by persistence) cannot
disagree with itself:

    screening ─ clear ─▶ cleared ─ prepare ─▶ prepared ─ start ─▶ infusing
    infusing ─ end ─▶ observing ─ discharge (≥ 60 min after the end) ─▶ discharged
    infusing | observing ─ reaction ─▶ stopped-for-reaction ─ discharge ─▶ discharged
    screening | cleared | prepared ─ cancel ─▶ cancelled

The bag may be prepared before the patient is cleared (the pharmacy works
ahead); such a visit stays ``screening`` until cleared, then is ``prepared``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.infusion_events import (
    Cancellation,
    Clearance,
    Discharge,
    InfusionEnd,
    InfusionStart,
    Reaction,
    Screening,
    require_aware,
    require_text,
)
from natalizumab_cds.domain.preparation import Preparation


class VisitState(StrEnum):
    SCREENING = "screening"
    CLEARED = "cleared"
    PREPARED = "prepared"
    INFUSING = "infusing"
    OBSERVING = "observing"
    DISCHARGED = "discharged"
    STOPPED_FOR_REACTION = "stopped-for-reaction"
    CANCELLED = "cancelled"


#: States in which nothing has been infused yet.
BEFORE_INFUSION = frozenset({VisitState.SCREENING, VisitState.CLEARED, VisitState.PREPARED})


@dataclass(frozen=True, slots=True)
class Visit:
    """One patient's infusion visit; transitions (``domain/infusion.py``) return new visits."""

    id: str
    patient: str
    opened_at: datetime
    screening: Screening | None = None
    clearance: Clearance | None = None
    preparation: Preparation | None = None
    start: InfusionStart | None = None
    end: InfusionEnd | None = None
    reaction: Reaction | None = None
    discharge: Discharge | None = None
    cancellation: Cancellation | None = None

    def __post_init__(self) -> None:
        require_text("visit.id", self.id)
        require_text("visit.patient", self.patient)
        require_aware("visit.opened_at", self.opened_at)
        needs = (
            (self.clearance, self.screening, "a clearance needs the screening"),
            (self.start, self.clearance, "an infusion start needs a clearance"),
            (self.start, self.preparation, "an infusion start needs a preparation"),
            (self.end, self.start, "an infusion end needs its start"),
            (self.reaction, self.start, "a reaction needs an infusion start"),
            (self.discharge, self.end or self.reaction, "a discharge needs an end or a reaction"),
        )
        for step, required, message in needs:
            if step is not None and required is None:
                raise InvalidInput(f"visit {self.id}: {message}")
        if self.cancellation is not None and self.start is not None:
            raise InvalidInput(f"visit {self.id}: a started infusion cannot be cancelled")

    @property
    def state(self) -> VisitState:
        if self.cancellation is not None:
            return VisitState.CANCELLED
        if self.discharge is not None:
            return VisitState.DISCHARGED
        if self.reaction is not None:
            return VisitState.STOPPED_FOR_REACTION
        if self.end is not None:
            return VisitState.OBSERVING
        if self.start is not None:
            return VisitState.INFUSING
        if self.clearance is None:
            return VisitState.SCREENING
        return VisitState.CLEARED if self.preparation is None else VisitState.PREPARED

    @property
    def last_moment(self) -> datetime:
        """The latest moment among the patient's steps (the bag's own log not included)."""
        steps = (
            self.screening,
            self.clearance,
            self.start,
            self.end,
            self.reaction,
            self.discharge,
            self.cancellation,
        )
        return max([self.opened_at, *(step.at for step in steps if step is not None)])

    @property
    def administration_status(self) -> str | None:
        """``in-progress``, ``completed`` (the whole dose ran), ``stopped`` (a reaction
        stopped it) or ``None`` (not started): the administration record's status."""
        if self.start is None:
            return None
        if self.end is not None:
            return "completed"
        return "stopped" if self.reaction is not None else "in-progress"
