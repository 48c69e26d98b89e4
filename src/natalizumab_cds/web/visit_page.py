"""Infusion day in the browser: today's visits, one visit's page, the reaction form.

The visit page shows what the chair needs at a glance: the state, every step
recorded, the bag's last usable moment and the observation's end (stated by
the server; ``countdown.js`` only keeps the minutes ticking), and a form for
each step the state allows *and* the signed-in role may take. A refused step
is shown next to its form with the rule id and the reason
(``visit_forms.py``). While the patient is infusing or under observation a
"Reaction" button stays on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.visit_view import Step, VisitView
from natalizumab_cds.application.visits import UnknownVisit
from natalizumab_cds.domain.infusion_events import ReactionSeverity, Symptom
from natalizumab_cds.domain.infusion_visit import VisitState
from natalizumab_cds.web.pages import PageRefused, local, page_requires, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, page_requires(Action.READ_PATIENT)]

#: Who may take each step (the same actions as the REST API's routes).
STEP_ACTIONS: dict[Step, Action] = {
    Step.SCREENING: Action.RECORD_SCREENING,
    Step.CLEARANCE: Action.RECORD_SCREENING,
    Step.PREPARATION: Action.PREPARE_INFUSION,
    Step.STORAGE_MOVE: Action.CHECK_PREPARATION,
    Step.START: Action.RECORD_ADMINISTRATION,
    Step.END: Action.RECORD_ADMINISTRATION,
    Step.REACTION: Action.RECORD_REACTION,
    Step.DISCHARGE: Action.RECORD_OBSERVATION,
    Step.CANCEL: Action.RECORD_SCREENING,
}
SCREENING_QUESTIONS = (
    ("neurological_symptoms", "New or worsening neurological symptoms since the last infusion?"),
    ("active_infection", "An active infection (fever, antibiotics, feeling unwell)?"),
    ("pregnant", "Pregnant?"),
    ("breastfeeding", "Breastfeeding?"),
    ("new_medicines", "Any new medicines since the last infusion?"),
)
REACTION_STATES = frozenset({VisitState.INFUSING, VisitState.OBSERVING})


@dataclass(frozen=True, slots=True)
class Refusal:
    """What went wrong with one step, shown next to that step's form."""

    step: str
    title: str
    reason: str
    rule: str = ""
    findings: tuple[tuple[str, str, str], ...] = ()  # (rule, effect, summary)


def minutes(seconds: float | None) -> int | None:
    return None if seconds is None else max(0, int(-(-seconds // 60)))


def visit_page(
    request: Request,
    clinic: Clinic,
    principal: Principal,
    visit_id: str,
    *,
    refusal: Refusal | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
    template: str = "visit.html",
) -> HTMLResponse:
    """The visit as it stands now, with the forms this role may use."""
    try:
        view = clinic.infusion_day.show(visit_id)
    except UnknownVisit as error:
        raise PageRefused(404, "Visit not on file", str(error)) from error
    entry, _ = clinic.patients.patient(view.visit.patient)
    tz = clinic.context.tz
    allowed = {s.value for s in view.next_steps if principal.may(STEP_ACTIONS[s])}
    if view.state is VisitState.OBSERVING and principal.may(Action.RECORD_OBSERVATION):
        allowed.add(Step.DISCHARGE.value)  # shown early, so the nurse sees why it must wait
    assessment = clinic.patients.assessment(entry.id) if Step.CLEARANCE.value in allowed else None
    context: dict[str, Any] = {
        "view": view,
        "visit": view.visit,
        "entry": entry,
        "allowed": allowed,
        "assessment": assessment,
        "refusal": refusal,
        "form": form or {},
        "questions": SCREENING_QUESTIONS,
        "symptoms": [s.value for s in Symptom],
        "severities": [s.value for s in ReactionSeverity],
        "reaction_button": view.state in REACTION_STATES and principal.may(Action.RECORD_REACTION),
        "may_acknowledge": principal.may(Action.ACKNOWLEDGE_CAUTION),
        "local": lambda moment: local(moment, tz),
        "tz_name": str(tz),
        "now_local": local(view.at, tz).replace(" ", "T"),
        "rt_minutes": minutes(_seconds(view, "room_temperature_remaining")),
        "observation_minutes": minutes(_seconds(view, "observation_remaining")),
        "principal_name": principal.username,
    }
    return render(request, template, context, status=status, active="infusion-day")


def _seconds(view: VisitView, name: str) -> float | None:
    value = getattr(view, name)
    return None if value is None else float(value.total_seconds())


#: Rows of the "due today" list on the infusion-day page (the worklist has the rest).
DUE_SHOWN = 100


def infusion_day_page(
    request: Request,
    clinic: Clinic,
    principal: Principal,
    *,
    patient_id: str = "",
    refusal: Refusal | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Today's visits, the infusions due today with a button to open each, the open form."""
    rows = clinic.infusion_day.of_day()
    visits = {view.visit.patient: view for view, _ in rows}  # oldest first: the latest wins
    due = clinic.worklist.entries(
        days=1, kinds=["infusion"], sort=[("due", False), ("name", False)], size=DUE_SHOWN
    )
    context = {
        "rows": rows,
        "due": [(entry, visits.get(entry.patient_id)) for entry in due.items],
        "due_total": due.total,
        "today": clinic.context.today(),
        "may_open": principal.may(Action.RECORD_SCREENING),
        "local": lambda moment: local(moment, clinic.context.tz),
        "patient_id": patient_id,
        "refusal": refusal,
    }
    return render(request, "infusion_day.html", context, status=status, active="infusion-day")


@router.get("/infusion-day", response_class=HTMLResponse)
def infusion_day(request: Request, clinic: ClinicDep, principal: Reader) -> HTMLResponse:
    """Today's visits, the infusions due today, and a form to open a visit."""
    typed = request.query_params.get("patient", "")
    return infusion_day_page(request, clinic, principal, patient_id=typed[:64])


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def visit(request: Request, clinic: ClinicDep, visit_id: str, principal: Reader) -> HTMLResponse:
    """One visit: its steps so far, its clocks, and the forms for the next steps."""
    return visit_page(request, clinic, principal, visit_id)


@router.get("/visits/{visit_id}/reaction", response_class=HTMLResponse)
def reaction_form(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, page_requires(Action.RECORD_REACTION)],
) -> HTMLResponse:
    """The reaction form on its own page: reached in one press from the Reaction button."""
    return visit_page(request, clinic, principal, visit_id, template="reaction.html")
