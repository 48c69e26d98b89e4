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
from natalizumab_cds.application.screening_holds import HOLDING_ANSWERS
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.visit_view import Step, VisitView
from natalizumab_cds.application.visits import UnknownVisit
from natalizumab_cds.domain.infusion_events import ReactionSeverity, Symptom
from natalizumab_cds.domain.infusion_visit import VisitState
from natalizumab_cds.domain.screening_medicines import PROHIBITED, immunosuppressants_named
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
#: What the visit waits for when the signed-in role cannot take its next step.
WAITING_FOR: dict[Step, str] = {
    Step.SCREENING: "Waiting for a nurse or physician to screen the patient",
    Step.CLEARANCE: "Waiting for a nurse or physician to clear the patient for infusion",
    Step.PREPARATION: "Waiting for the pharmacy to prepare the bag",
    Step.START: "Waiting for a nurse or physician to start the infusion",
    Step.END: "Waiting for the infusion to run; a nurse or physician ends it",
    Step.DISCHARGE: "Waiting for a nurse or physician to discharge the patient",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """What went wrong with one step, shown next to that step's form (``visit_refusals.py``).

    ``reason`` is in words, its moments in the clinic's zone. When it concerns one
    field, ``field`` is that field's form name (the page marks it and puts the
    reason under it) and ``label`` the field as the form labels it. ``kept`` is
    what was typed, (label, value), listed when the step's form is no longer shown.
    """

    step: str
    title: str
    reason: str
    rule: str = ""
    findings: tuple[tuple[str, str, str], ...] = ()  # (rule, effect, summary)
    field: str = ""
    label: str = ""
    kept: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        """The reason, after the field's label when it concerns one field."""
        if not self.label:
            return self.reason
        if self.label.endswith("?"):  # a screening question
            return f"{self.label} {self.reason[:1].upper()}{self.reason[1:]}"
        return f"{self.label}: {self.reason}"


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
        "prohibited": PROHIBITED,
        "holds_standing": holds_standing(view),
        "waiting_for": waiting_for(view, allowed),
        "new_medicines": new_medicines(view),
        "prohibited_named": [
            str(m) for m in immunosuppressants_named(new_medicines(view), clinic.context.protocol)
        ],
        "may_withdraw_holds": principal.may(Action.WITHDRAW_SCREENING_HOLD),
        "local": lambda moment: local(moment, tz),
        "tz_name": str(tz),
        "now_local": local(view.at, tz).replace(" ", "T"),
        "rt_minutes": minutes(_seconds(view, "room_temperature_remaining")),
        "observation_minutes": minutes(_seconds(view, "observation_remaining")),
        "end_minutes": minutes(
            (view.earliest_end_at - view.at).total_seconds() if view.earliest_end_at else None
        ),
        "min_infusion": str(clinic.context.protocol.interval("min_infusion_duration")),
        "principal_name": principal.username,
    }
    return render(request, template, context, status=status, active="infusion-day")


def forward_step(view: VisitView) -> Step | None:
    """The step that takes the visit on from its state (``None`` once it is over)."""
    visit = view.visit
    match view.state:
        case VisitState.SCREENING:
            return Step.SCREENING if visit.screening is None else Step.CLEARANCE
        case VisitState.CLEARED:
            return Step.PREPARATION
        case VisitState.PREPARED:
            return Step.START
        case VisitState.INFUSING:
            return Step.END
        case VisitState.OBSERVING | VisitState.STOPPED_FOR_REACTION:
            return Step.DISCHARGE
    return None


def waiting_for(view: VisitView, allowed: set[str]) -> str:
    """What the visit waits for, when the signed-in role has no form for its next step."""
    step = forward_step(view)
    if step is None or step.value in allowed:
        return ""
    return WAITING_FOR[step]


def holds_standing(view: VisitView) -> list[tuple[str, str]]:
    """The current screening's "yes" answers that hold the infusion: (rule id, question)."""
    screening = view.visit.screening
    if screening is None:
        return []
    return [
        (rule.id, words)
        for question, (rule, words) in HOLDING_ANSWERS.items()
        if screening.answer(question)
    ]


def new_medicines(view: VisitView) -> str:
    """The new medicines the current screening names ("" when it says there are none)."""
    screening = view.visit.screening
    if screening is None or not screening.new_medicines:
        return ""
    return screening.new_medicines_detail.strip()


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
