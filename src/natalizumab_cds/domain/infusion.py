"""The infusion-day workflow: each step either returns a new ``Visit`` or is refused.

Every transition takes the current visit, the step and the protocol, and
returns a new visit, or raises ``WorkflowRefused(rule, reason)`` with a rule id
from ``domain/infusion_rules.py``; the visit it was given is never changed, so
nothing is ever half-applied. ``apply`` dispatches on the step's type.

Choices the catalogue leaves open, made here:

- Clearance needs the screening answers first (the assessment behind it must
  have seen them); recording new answers withdraws an earlier clearance. An
  earlier "yes" answered "no" is kept on the new screening (``withdrawn``):
  who may take back which answer is the application's question (it knows roles).
- Screening answers naming new medicines gate the clearance
  (``screening_medicines``): a prohibited one named refuses it, others must be
  confirmed as reviewed.
- The assessment is run again at the start (``InfusionStart.decision``):
  ``proceed`` starts; ``caution`` starts only if the clearance carries a
  clinician's acknowledgement; ``hold`` / ``discontinue`` never start.
- A preparation can be recorded before clearance and replaced by a new bag
  until the infusion starts. Its own moments are the pharmacy's; the start
  must come after the last of them.
- **Reaction window.** A reaction is recorded while the infusion runs, or from
  its end up to ``reaction_window`` (2 h) after the end, both limits included
  — "during or within 2 h of the infusion" read as the end of the infusion.
  Before a start, after that window or after discharge it is refused
  (``reaction.hypersensitivity``): it then belongs in the patient's allergies.
- After a reaction the only way out is a discharge, allowed at any moment from
  the reaction (which records the treatment) on.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NoReturn

from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion_events import (
    Cancellation,
    Clearance,
    Discharge,
    InfusionEnd,
    InfusionStart,
    Method,
    Reaction,
    Screening,
    in_words,
    stamp,
    withdrawals,
)
from natalizumab_cds.domain.infusion_rules import (
    ADMINISTRATION_REQUIRES_CLEARANCE,
    ADMINISTRATION_TOO_FAST,
    OBSERVATION_INCOMPLETE,
    REACTION_HYPERSENSITIVITY,
    WORKFLOW_OUT_OF_ORDER,
)
from natalizumab_cds.domain.infusion_visit import BEFORE_INFUSION, Visit, VisitState
from natalizumab_cds.domain.preparation import (
    SODIUM_CHLORIDE_0_9,
    Preparation,
    StorageMove,
    check_intact,
    check_preparation,
    check_usable,
)
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.screening_medicines import check_new_medicines

__all__ = [
    "Visit",
    "VisitEvent",
    "VisitState",
    "apply",
    "cancel",
    "clear",
    "discharge",
    "earliest_end_at",
    "end_infusion",
    "move_preparation",
    "observation_ends_at",
    "observation_remaining",
    "prepare",
    "record_reaction",
    "record_screening",
    "start_infusion",
]

VisitEvent = (
    Screening
    | Clearance
    | Preparation
    | StorageMove
    | InfusionStart
    | InfusionEnd
    | Reaction
    | Discharge
    | Cancellation
)


def apply(visit: Visit, event: VisitEvent, protocol: Protocol, tz: tzinfo = UTC) -> Visit:
    """The visit after ``event``; ``tz`` (the clinic's zone) dates the vial expiry check."""
    match event:
        case Screening():
            return record_screening(visit, event, protocol)
        case Clearance():
            return clear(visit, event, protocol)
        case Preparation():
            return prepare(visit, event, protocol, tz)
        case StorageMove():
            return move_preparation(visit, event, protocol)
        case InfusionStart():
            return start_infusion(visit, event, protocol)
        case InfusionEnd():
            return end_infusion(visit, event, protocol)
        case Reaction():
            return record_reaction(visit, event, protocol)
        case Discharge():
            return discharge(visit, event, protocol)
        case Cancellation():
            return cancel(visit, event, protocol)


def record_screening(visit: Visit, screening: Screening, protocol: Protocol) -> Visit:
    """Record (or re-record) the answers; new answers withdraw an earlier clearance.

    Each earlier "yes" answered "no" now is added to the screening's
    ``withdrawn`` list, which carries the earlier ones along.
    """
    _require_before_infusion(visit, "screening answers")
    _require_in_order(visit, screening.at, "the screening", "screening.at")
    earlier = visit.screening
    kept = earlier.withdrawn if earlier is not None else ()
    recorded = replace(screening, withdrawn=kept + withdrawals(earlier, screening))
    return replace(visit, screening=recorded, clearance=None)


def clear(visit: Visit, clearance: Clearance, protocol: Protocol) -> Visit:
    """Clear the patient on the assessment's decision at ``clearance.at``.

    A screening naming new medicines needs them reviewed, and never names a
    prohibited one (``screening_medicines.check_new_medicines``).
    """
    _require_before_infusion(visit, "a clearance")
    if visit.screening is None:
        _out_of_order("record the screening answers before clearing the patient")
    _require_in_order(visit, clearance.at, "the clearance", "clearance.at")
    check_new_medicines(visit.screening, clearance.medicines_reviewed, protocol)
    _check_decision(clearance.decision, clearance.acknowledgement is not None, "at clearance")
    return replace(visit, clearance=clearance)


def prepare(visit: Visit, preparation: Preparation, protocol: Protocol, tz: tzinfo = UTC) -> Visit:
    """Record the bag (replacing an unused earlier one); the diluent is stored normalized."""
    _require_before_infusion(visit, "a preparation")
    check_preparation(preparation, protocol, tz)
    return replace(visit, preparation=replace(preparation, diluent=SODIUM_CHLORIDE_0_9))


def move_preparation(visit: Visit, move: StorageMove, protocol: Protocol) -> Visit:
    """Record that the bag moved (refrigerator ⇄ room temperature) before the start."""
    _require_before_infusion(visit, "a storage move")
    if visit.preparation is None:
        _out_of_order("no preparation is recorded for this visit")
    last = visit.preparation.storage[-1].at
    if move.at <= last:
        _out_of_order(
            f"the move at {stamp(move.at)} is not after the last one ({stamp(last)})", "storage.at"
        )
    return replace(visit, preparation=visit.preparation.with_move(move))


def start_infusion(visit: Visit, start: InfusionStart, protocol: Protocol) -> Visit:
    """Start the infusion: cleared, bag intact and in date, and not too fast."""
    _require_before_infusion(visit, "an infusion start")
    if visit.clearance is None:
        raise WorkflowRefused(
            ADMINISTRATION_REQUIRES_CLEARANCE.id, "the patient has not been cleared to infuse"
        )
    _check_decision(start.decision, visit.clearance.acknowledgement is not None, "at the start")
    if visit.preparation is None:
        _out_of_order("record the preparation before starting the infusion")
    _require_in_order(visit, start.at, "the infusion start", "infusion_start.at")
    if start.at < visit.preparation.last_recorded_at:
        _out_of_order(
            "the infusion start is dated before the preparation's last record", "infusion_start.at"
        )
    if start.method is not Method.INFUSION:
        raise WorkflowRefused(
            ADMINISTRATION_TOO_FAST.id,
            f"{start.method.value} is prohibited; give it as an intravenous infusion",
            "infusion_start.method",
        )
    check_intact(frozen=start.found_frozen, shaken=start.found_shaken)
    check_usable(visit.preparation, start.at, protocol)
    _check_planned_pace(start, visit.preparation.volume_ml, protocol)
    return replace(visit, start=start)


def end_infusion(visit: Visit, end: InfusionEnd, protocol: Protocol) -> Visit:
    """End the infusion, which must have run at least the minimum duration."""
    if visit.state is not VisitState.INFUSING or visit.start is None:
        _out_of_order(f"there is no running infusion to end (the visit is {visit.state})")
    if end.at < visit.start.at:
        _out_of_order("the end is dated before the start of the infusion", "infusion_end.at")
    minimum = protocol.interval("min_infusion_duration")
    ran = end.at - visit.start.at
    if ran < minimum.as_timedelta():
        raise WorkflowRefused(
            ADMINISTRATION_TOO_FAST.id,
            f"the infusion ran {in_words(ran)}; it must run at least {minimum}",
            "infusion_end.at",
        )
    return replace(visit, end=end)


def record_reaction(visit: Visit, reaction: Reaction, protocol: Protocol) -> Visit:
    """Stop the infusion for a reaction during it or within the window after its end."""
    state = visit.state
    if state in BEFORE_INFUSION:
        _outside_window("no infusion has started at this visit")
    if state is VisitState.DISCHARGED:
        _outside_window("the patient has been discharged")
    if state is not VisitState.INFUSING and state is not VisitState.OBSERVING:
        _out_of_order(f"the visit is {state}; a reaction cannot be added")
    _require_in_order(visit, reaction.at, "the reaction", "reaction.at")
    if visit.end is not None:
        window = protocol.interval("reaction_window")
        after_end = reaction.at - visit.end.at
        if after_end > window.as_timedelta():
            _outside_window(
                f"the reaction came {in_words(after_end)} after the infusion ended, "
                f"beyond the {window} this visit covers"
            )
    return replace(visit, reaction=reaction)


def discharge(visit: Visit, leaving: Discharge, protocol: Protocol) -> Visit:
    """Discharge after the observation period, or after a reaction once it is treated."""
    state = visit.state
    if state is VisitState.INFUSING:
        raise WorkflowRefused(
            OBSERVATION_INCOMPLETE.id,
            f"the infusion is still running; observation lasts "
            f"{protocol.interval('observation_period')} after it ends",
        )
    if state is not VisitState.OBSERVING and state is not VisitState.STOPPED_FOR_REACTION:
        _out_of_order(f"the visit is {state}; only an infused patient is discharged")
    _require_in_order(visit, leaving.at, "the discharge", "discharge.at")
    if state is VisitState.OBSERVING:
        remaining = observation_remaining(visit, leaving.at, protocol)
        ends = observation_ends_at(visit, protocol)
        if remaining and ends is not None:
            minutes = math.ceil(remaining.total_seconds() / 60)
            raise WorkflowRefused(
                OBSERVATION_INCOMPLETE.id,
                f"{minutes} minute{'s' if minutes != 1 else ''} of observation remain "
                f"(until {stamp(ends)})",
                "discharge.at",
            )
    return replace(visit, discharge=leaving)


def cancel(visit: Visit, cancellation: Cancellation, protocol: Protocol) -> Visit:
    """Call the visit off before the infusion starts."""
    _require_before_infusion(visit, "a cancellation")
    _require_in_order(visit, cancellation.at, "the cancellation", "cancellation.at")
    return replace(visit, cancellation=cancellation)


def earliest_end_at(visit: Visit, protocol: Protocol) -> datetime | None:
    """The first moment a running infusion may be ended (the minimum duration after
    its start); ``None`` unless the visit is infusing."""
    if visit.state is not VisitState.INFUSING or visit.start is None:
        return None
    return visit.start.at + protocol.interval("min_infusion_duration").as_timedelta()


def observation_ends_at(visit: Visit, protocol: Protocol) -> datetime | None:
    """When the observation after the infusion ends; ``None`` until the infusion has ended."""
    if visit.end is None:
        return None
    return visit.end.at + protocol.interval("observation_period").as_timedelta()


def observation_remaining(visit: Visit, at: datetime, protocol: Protocol) -> timedelta | None:
    """Observation time left at ``at`` (zero when complete); ``None`` until the infusion ends."""
    ends = observation_ends_at(visit, protocol)
    if ends is None:
        return None
    return max(timedelta(0), ends - at)


def _check_decision(decision: Decision, acknowledged: bool, moment: str) -> None:
    if decision is Decision.PROCEED or (decision is Decision.CAUTION and acknowledged):
        return
    consequence = {
        Decision.CAUTION: "a clinician must acknowledge it before the patient is cleared",
        Decision.HOLD: "do not infuse today",
        Decision.DISCONTINUE: "natalizumab must not be given",
    }[decision]
    raise WorkflowRefused(
        ADMINISTRATION_REQUIRES_CLEARANCE.id,
        f"the assessment {moment} says {decision.value}: {consequence}",
    )


def _check_planned_pace(start: InfusionStart, volume_ml: float, protocol: Protocol) -> None:
    minimum = protocol.interval("min_infusion_duration")
    shortest = minimum.as_timedelta()
    if start.planned_duration is not None and start.planned_duration < shortest:
        raise WorkflowRefused(
            ADMINISTRATION_TOO_FAST.id,
            f"a planned duration of {in_words(start.planned_duration)} is too fast; "
            f"the infusion must run at least {minimum}",
            "infusion_start.planned_duration",
        )
    rate = start.rate_ml_per_hour
    # rate > volume / minimum, kept in multiplications so 100 mL/h is exactly allowed.
    if rate is not None and rate * shortest.total_seconds() > volume_ml * 3600:
        fastest = volume_ml * 3600 / shortest.total_seconds()
        raise WorkflowRefused(
            ADMINISTRATION_TOO_FAST.id,
            f"{rate:g} mL/h runs {volume_ml:g} mL in under {minimum}; "
            f"the rate must be at most {fastest:g} mL/h",
            "infusion_start.rate_ml_per_hour",
        )


def _require_before_infusion(visit: Visit, what: str) -> None:
    if visit.state not in BEFORE_INFUSION:
        _out_of_order(f"the visit is {visit.state}; {what} can no longer be recorded")


def _require_in_order(visit: Visit, at: datetime, what: str, field: str) -> None:
    if at < visit.last_moment:
        _out_of_order(
            f"{what} is dated {stamp(at)}, before the last recorded step "
            f"({stamp(visit.last_moment)})",
            field,
        )


def _out_of_order(reason: str, field: str | None = None) -> NoReturn:
    raise WorkflowRefused(WORKFLOW_OUT_OF_ORDER.id, reason, field)


def _outside_window(reason: str) -> NoReturn:
    raise WorkflowRefused(
        REACTION_HYPERSENSITIVITY.id,
        f"{reason}; record the reaction in the patient's allergies instead",
    )
