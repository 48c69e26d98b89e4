"""A visit as the infusion chair sees it at one moment: state, clocks and next steps.

The clocks are the domain's (``expires_at``, ``room_temperature_remaining``,
``earliest_end_at``, ``observation_remaining``) read at ``at``; the next steps are those the state
allows. A listed step can still be refused by a rule when it is recorded (the
assessment may have changed, the bag may expire meanwhile); a step not listed
is always refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from natalizumab_cds.application.visits import StoredVisit
from natalizumab_cds.domain.infusion import (
    earliest_end_at,
    observation_ends_at,
    observation_remaining,
)
from natalizumab_cds.domain.infusion_visit import Visit, VisitState
from natalizumab_cds.domain.preparation import expires_at, is_usable, room_temperature_remaining
from natalizumab_cds.domain.protocol import Protocol


class Step(StrEnum):
    """The steps of a visit, named as the API's paths name them."""

    SCREENING = "screening"
    CLEARANCE = "clearance"
    PREPARATION = "preparation"
    STORAGE_MOVE = "storage-moves"
    START = "start"
    END = "end"
    REACTION = "reaction"
    DISCHARGE = "discharge"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class VisitView:
    visit: Visit
    version: int
    at: datetime
    expires_at: datetime | None
    usable_now: bool | None
    room_temperature_remaining: timedelta | None
    observation_ends_at: datetime | None
    observation_remaining: timedelta | None
    next_steps: tuple[Step, ...]
    #: While infusing: the first moment the infusion may be ended (minimum duration).
    earliest_end_at: datetime | None = None

    @property
    def state(self) -> VisitState:
        return self.visit.state


def view_of(stored: StoredVisit, at: datetime, protocol: Protocol) -> VisitView:
    visit = stored.visit
    bag = visit.preparation
    in_use = bag is not None and visit.start is None and visit.cancellation is None
    return VisitView(
        visit=visit,
        version=stored.version,
        at=at,
        expires_at=expires_at(bag, protocol) if bag is not None else None,
        usable_now=is_usable(bag, at, protocol) if bag is not None and in_use else None,
        room_temperature_remaining=(
            room_temperature_remaining(bag, at, protocol) if bag is not None and in_use else None
        ),
        observation_ends_at=observation_ends_at(visit, protocol),
        observation_remaining=observation_remaining(visit, at, protocol),
        next_steps=next_steps(visit, at, protocol),
        earliest_end_at=earliest_end_at(visit, protocol),
    )


def next_steps(visit: Visit, at: datetime, protocol: Protocol) -> tuple[Step, ...]:
    """The steps the visit's state allows at ``at``."""
    state = visit.state
    if state in (VisitState.SCREENING, VisitState.CLEARED, VisitState.PREPARED):
        steps = [Step.SCREENING]
        if visit.screening is not None:
            steps.append(Step.CLEARANCE)
        steps.append(Step.PREPARATION)
        if visit.preparation is not None:
            steps.append(Step.STORAGE_MOVE)
        if state is VisitState.PREPARED:
            steps.append(Step.START)
        return (*steps, Step.CANCEL)
    if state is VisitState.INFUSING:
        return (Step.END, Step.REACTION)
    if state is VisitState.OBSERVING:
        steps = []
        end = visit.end
        window = protocol.interval("reaction_window").as_timedelta()
        if end is not None and at - end.at <= window:
            steps.append(Step.REACTION)
        if not observation_remaining(visit, at, protocol):
            steps.append(Step.DISCHARGE)
        return tuple(steps)
    if state is VisitState.STOPPED_FOR_REACTION:
        return (Step.DISCHARGE,)
    return ()
