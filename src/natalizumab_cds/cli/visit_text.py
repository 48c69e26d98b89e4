"""A visit as the terminal shows it: state first, then the bag, the observation, next steps."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.domain.errors import WorkflowRefused


def clock_time(moment: datetime, tz: tzinfo) -> str:
    """``2026-11-24 09:00 UTC`` in the clinic's zone."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def duration(span: timedelta) -> str:
    """``7 h 50 min``, rounded up to the minute (a nurse never gets more time than there is)."""
    minutes = math.ceil(span.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def render_visit(view: VisitView, tz: tzinfo) -> str:
    visit = view.visit
    lines = [
        f"{visit.id}  Patient/{visit.patient}  {view.state.value.upper()}  (version {view.version})"
    ]
    if visit.screening is not None:
        concerns = ", ".join(visit.screening.concerns) or "no concerns"
        lines.append(
            f"  screened  {clock_time(visit.screening.at, tz)} by "
            f"{visit.screening.screened_by}: {concerns}"
        )
        lines.extend(
            f"  withdrawn {w.label.lower()}: yes (asked {clock_time(w.answered_at, tz)} by "
            f"{w.answered_by}), answered no {clock_time(w.withdrawn_at, tz)} by {w.withdrawn_by}"
            for w in visit.screening.withdrawn
        )
    if visit.clearance is not None:
        c = visit.clearance
        ack = f" (acknowledged by {c.acknowledgement.by})" if c.acknowledgement else ""
        reviewed = "; new medicines reviewed" if c.medicines_reviewed else ""
        lines.append(
            f"  cleared   {clock_time(c.at, tz)} by {c.cleared_by}: "
            f"{c.decision.value}{ack}{reviewed}"
        )
    lines.extend(_bag_lines(view, tz))
    if visit.start is not None:
        s = visit.start
        pace = (
            f"at {s.rate_ml_per_hour:g} mL/h"
            if s.rate_ml_per_hour
            else f"over {duration(s.planned_duration or timedelta(0))} (planned)"
        )
        lines.append(f"  started   {clock_time(s.at, tz)} by {s.started_by} {pace}")
    if view.earliest_end_at is not None:
        lines.append(f"  may end   from {clock_time(view.earliest_end_at, tz)}")
    if visit.end is not None:
        lines.append(f"  ended     {clock_time(visit.end.at, tz)} by {visit.end.ended_by}")
    if visit.reaction is not None:
        r = visit.reaction
        lines.append(f"  REACTION  {clock_time(r.at, tz)} by {r.recorded_by}: {r.summary}")
    if view.observation_remaining is not None and visit.discharge is None:
        left = view.observation_remaining
        ends = clock_time(view.observation_ends_at, tz) if view.observation_ends_at else ""
        status = f"{duration(left)} left (until {ends})" if left else "complete"
        lines.append(f"  observation {status}")
    if visit.discharge is not None:
        d = visit.discharge
        lines.append(f"  discharged {clock_time(d.at, tz)} by {d.discharged_by}")
    if visit.cancellation is not None:
        x = visit.cancellation
        lines.append(f"  cancelled {clock_time(x.at, tz)} by {x.cancelled_by}: {x.reason}")
    steps = ", ".join(step.value for step in view.next_steps) or "none (the visit is over)"
    lines.append(f"  next: {steps}")
    return "\n".join(lines) + "\n"


def _bag_lines(view: VisitView, tz: tzinfo) -> list[str]:
    bag = view.visit.preparation
    if bag is None:
        return []
    lines = [
        f"  bag       lot {bag.vial_lot}, {bag.dose_mg:g} mg in {bag.volume_ml:g} mL "
        f"{bag.diluent}, diluted {clock_time(bag.diluted_at, tz)} by {bag.prepared_by}, "
        f"checked by {bag.checked_by}",
        "            kept: "
        + "; ".join(f"{m.location.value} from {clock_time(m.at, tz)}" for m in bag.storage),
    ]
    if view.usable_now is not None and view.expires_at is not None:
        if view.usable_now:
            left = view.room_temperature_remaining or timedelta(0)
            lines.append(
                f"            usable until {clock_time(view.expires_at, tz)}; "
                f"{duration(left)} at room temperature left"
            )
        else:
            lines.append(f"            EXPIRED at {clock_time(view.expires_at, tz)}: discard it")
    return lines


def render_refusal(refusal: WorkflowRefused) -> str:
    """``refused (rule.id): reason``, then the findings behind an assessment's refusal."""
    lines = [f"refused ({refusal.rule}): {refusal.reason}"]
    if isinstance(refusal, AssessmentRefused):
        lines.extend(f"  {f.rule} ({f.effect.value}): {f.summary}" for f in refusal.findings)
    return "\n".join(lines) + "\n"
