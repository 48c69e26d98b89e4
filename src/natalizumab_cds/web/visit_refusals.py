"""A refused visit step, said to the person at the form.

The domain and the use cases word a refusal for every entry point: the REST
API and the terminal name a field by its JSON name (``infusion_start.
rate_ml_per_hour: must be positive``) and write moments in UTC. The visit
page names the field as its form labels it ("Pump rate (mL/h)"), writes
moments in the clinic's zone to the minute, and says which field a refusal
concerns, so the page marks it (``aria-invalid``, the message under the
field) as the lab-result form does. A rule's id stays beside its reason: it
is the clinical explanation. A visit changed by someone else says what
changed; what was typed is kept (never a password).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, tzinfo

from starlette.datastructures import FormData

from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.application.visit_view import Step, VisitView
from natalizumab_cds.application.visits import VisitConflict
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.web.pages import local
from natalizumab_cds.web.visit_page import SCREENING_QUESTIONS, Refusal

#: Each form's fields as the visit page labels them (visit.html, visit_preparation.html,
#: the reaction form), by the field's form name.
LABELS: dict[Step, dict[str, str]] = {
    Step.SCREENING: {**dict(SCREENING_QUESTIONS), "new_medicines_detail": "New medicines (which)"},
    Step.CLEARANCE: {"medicines_reviewed": "New medicines reviewed against the prohibited list"},
    Step.PREPARATION: {
        "vial_lot": "Vial lot",
        "vial_expiry": "Vial expiry date",
        "dose_mg": "Dose (mg)",
        "diluent": "Diluent",
        "volume_ml": "Volume (mL)",
        "diluted_at": "Diluted at",
        "checked_by": "Their username (who checked the bag)",
        "checker_password": "Their password (who checked the bag)",
        "location": "Kept in",
    },
    Step.STORAGE_MOVE: {"location": "Moved to", "at": "Moved at"},
    Step.START: {
        "rate_ml_per_hour": "Pump rate (mL/h)",
        "planned_duration_minutes": "Planned duration (minutes)",
    },
    Step.END: {"at": "Ended at"},
    Step.REACTION: {
        "symptoms": "Symptoms",
        "severity": "Severity",
        "treatment": "Treatment given",
        "description": "Description",
        "at": "When",
    },
    Step.DISCHARGE: {"at": "Discharged at"},
    Step.CANCEL: {"reason": "Reason"},
}
#: The domain's names for what a form field became, where they differ from the form's.
#: A check dated before the dilution: the form's check is "now", so "Diluted at" is wrong.
FORM_NAMES = {
    "preparation.checked_at": "diluted_at",
    "infusion_start": "rate_ml_per_hour",
    "infusion_start.planned_duration": "planned_duration_minutes",
    "cancellation.reason": "reason",
}
#: Each step in words, for "your … was not recorded".
STEP_WORDS = {
    Step.SCREENING: "screening",
    Step.CLEARANCE: "clearance",
    Step.PREPARATION: "preparation",
    Step.STORAGE_MOVE: "bag move",
    Step.START: "infusion start",
    Step.END: "infusion end",
    Step.REACTION: "reaction",
    Step.DISCHARGE: "discharge",
    Step.CANCEL: "cancellation",
}
_CODE = re.compile(r"[a-z_]+(?:\.[a-z_]+)*")
#: A moment as the domain writes it (``2026-11-24 10:46 UTC``) or in ISO 8601.
_MOMENT = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?"
    r"(?P<zone> UTC|Z|[+-]\d{2}:\d{2})?"
)


def in_clinic_time(text: str, tz: tzinfo) -> str:
    """``text`` with every moment in it written in the clinic's zone, to the minute."""

    def one(found: re.Match[str]) -> str:
        zone = (found["zone"] or "").strip()
        if not zone:  # no zone: already local, only cut to the minute
            return f"{found['day']} {found['time']}"
        offset = "+00:00" if zone in ("UTC", "Z") else zone
        return local(datetime.fromisoformat(f"{found['day']}T{found['time']}{offset}"), tz)

    return _MOMENT.sub(one, text)


def refusal_of(
    step: Step, error: Exception, form: FormData, tz: tzinfo, now: VisitView | None = None
) -> Refusal:
    """The refusal of ``step`` in words, with the field it concerns (``now``: the visit
    as it stands, for a conflict)."""
    kept = typed(step, form)
    if isinstance(error, WorkflowRefused):
        reason = in_clinic_time(error.reason, tz)
        name = _refused_field(step, error.field, form)
        findings: tuple[tuple[str, str, str], ...] = ()
        if isinstance(error, AssessmentRefused):
            findings = tuple(
                (f.rule, f.effect.value, in_clinic_time(f.summary, tz)) for f in error.findings
            )
        label = LABELS.get(step, {}).get(name, "")
        return Refusal(step, "Refused", reason, error.rule, findings, name, label, kept)
    if isinstance(error, VisitConflict):
        reason = changed_meanwhile(step, error, now, tz)
        return Refusal(step, "Changed by someone else", reason, kept=kept)
    name, label, reason = _field_of(step, str(error))
    return Refusal(
        step, "Please check the form", in_clinic_time(reason, tz), "", (), name, label, kept
    )


def _field_of(step: Step, message: str) -> tuple[str, str, str]:
    """(form field, its label, the rest) of a message that starts with a field's name."""
    head, sep, rest = message.partition(": ")
    if not sep or not _CODE.fullmatch(head):
        return "", "", message
    name = _form_field(step, head)
    if name:
        return name, LABELS[step][name], rest
    return "", head.rsplit(".", 1)[-1].replace("_", " ").capitalize(), rest  # not marked


def _form_field(step: Step, path: str) -> str:
    """The step's form field that an input named as the domain names it
    (``infusion_start.planned_duration``) was typed in, or ""."""
    labels = LABELS.get(step, {})
    for name in (FORM_NAMES.get(path, ""), path, path.rsplit(".", 1)[-1]):
        if name in labels:
            return name
    return ""


def _refused_field(step: Step, field: str | None, form: FormData) -> str:
    """The form field a refusal concerns, when the step's form has it.

    An ``at`` field is marked only when it was typed (left blank it means now).
    """
    name = _form_field(step, field) if field else ""
    return name if name != "at" or _value(form, "at") else ""


def typed(step: Step, form: FormData) -> tuple[tuple[str, str], ...]:
    """What was typed into the step's labelled fields, in words (never a password)."""
    return tuple(
        (label, ", ".join(v for v in form.getlist(name) if isinstance(v, str) and v.strip()))
        for name, label in LABELS.get(step, {}).items()
        if not name.endswith("password") and _value(form, name)
    )


def _value(form: FormData, name: str) -> bool:
    return any(isinstance(v, str) and v.strip() for v in form.getlist(name))


def changed_meanwhile(step: Step, error: VisitConflict, now: VisitView | None, tz: tzinfo) -> str:
    """What someone else changed since the form was read, and that the form was not kept."""
    what = f"someone else changed this visit after you opened it (version {error.expected})"
    if now is not None:
        what += (
            f". It is now at version {now.version}, {now.state.value.upper()}; the latest "
            f"step: {latest_change(now.visit, tz)}"
        )
    return (
        f"your {STEP_WORDS[step]} was not recorded: {what}. Look at the visit as it is now; "
        "what you typed is kept, to send again if it still applies."
    )


def latest_change(visit: Visit, tz: tzinfo) -> str:
    """The step recorded last, in words: what changed the visit most recently."""
    # the last of equal moments is the later step (a step is never dated before the one before)
    moment, what, by = max(reversed(list(_steps(visit))), key=lambda step: step[0])
    return f"{what} at {local(moment, tz)}" + (f" by {by}" if by else "")


def _steps(visit: Visit) -> Iterator[tuple[datetime, str, str]]:
    """(moment, what was done, by whom) for each step recorded at the visit."""
    yield visit.opened_at, "the visit was opened", ""
    if s := visit.screening:
        yield s.at, "the screening was recorded", s.screened_by
    if c := visit.clearance:
        yield c.at, f"the patient was cleared ({c.decision.value})", c.cleared_by
    if p := visit.preparation:
        yield p.checked_at, "a bag was recorded", p.prepared_by
        for move in p.storage[1:]:
            yield move.at, f"the bag was moved to {move.location.value}", ""
    if st := visit.start:
        yield st.at, "the infusion was started", st.started_by
    if e := visit.end:
        yield e.at, "the infusion was ended", e.ended_by
    if r := visit.reaction:
        yield r.at, "a reaction was recorded", r.recorded_by
    if d := visit.discharge:
        yield d.at, "the patient was discharged", d.discharged_by
    if x := visit.cancellation:
        yield x.at, f"the visit was cancelled (“{x.reason}”)", x.cancelled_by
