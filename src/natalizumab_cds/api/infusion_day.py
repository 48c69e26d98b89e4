"""Infusion day: open a visit, record each step, read the visit with its clocks.

Every step answers with the visit as it now stands (and its ``ETag``, the
visit's version). A client that shows a visit sends that version back in
``If-Match``: if someone else changed the visit meanwhile the step is refused
with 409 and nothing is recorded. A step a workflow rule refuses is a 422
problem document naming the rule (``"rule": "administration.too-fast"``) and
the reason in plain words; for a clearance or a start refused on the
assessment it also lists the findings behind the decision.

Each route names its action (``require``): nurses and physicians screen,
clear, infuse, observe and record reactions; pharmacists prepare the bag, which
a second person (pharmacist or nurse) checks, co-signing with their own
password; whoever is signed in is the one who takes the step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from natalizumab_cds.api.access import bag_checker, require, require_chosen
from natalizumab_cds.api.dependencies import ClinicDep, aware
from natalizumab_cds.api.visit_answers import PROBLEMS, IfMatch, answer, version
from natalizumab_cds.api.visit_schemas import (
    CancelIn,
    ClearanceIn,
    MomentIn,
    PreparationIn,
    ReactionIn,
    ScreeningIn,
    StartIn,
    StorageMoveIn,
    VisitOut,
)
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.visits import Bag, PumpSetting, ReactionReport, ScreeningAnswers
from natalizumab_cds.domain.infusion_events import Method, ReactionSeverity, Symptom
from natalizumab_cds.domain.preparation import Storage

router = APIRouter(prefix="/api", tags=["infusion day"])


async def _clearance_action(request: Request) -> Action:
    """Acknowledging a caution is its own permission; a plain clearance is a screening step."""
    try:
        acknowledge = (await request.json()).get("acknowledge") is True
    except (ValueError, AttributeError):
        acknowledge = False
    return Action.ACKNOWLEDGE_CAUTION if acknowledge else Action.RECORD_SCREENING


Reader = Annotated[Principal, require(Action.READ_PATIENT)]
Screener = Annotated[Principal, require(Action.RECORD_SCREENING)]
Clearer = Annotated[Principal, require_chosen(_clearance_action)]
Pharmacist = Annotated[Principal, require(Action.PREPARE_INFUSION)]
BagHandler = Annotated[Principal, require(Action.CHECK_PREPARATION)]
Infuser = Annotated[Principal, require(Action.RECORD_ADMINISTRATION)]
Observer = Annotated[Principal, require(Action.RECORD_OBSERVATION)]
Responder = Annotated[Principal, require(Action.RECORD_REACTION)]
Moment = Annotated[MomentIn | None, Body()]


@router.post(
    "/patients/{patient_id}/visits", status_code=201, response_model=VisitOut, responses=PROBLEMS
)
def open_visit(clinic: ClinicDep, patient_id: str, caller: Screener) -> JSONResponse:
    """Open today's infusion visit for a patient with no other visit under way."""
    return answer(lambda: clinic.infusion_day.open(patient_id), status=201)


@router.get("/patients/{patient_id}/visits", response_model=list[VisitOut], responses=PROBLEMS)
def patient_visits(clinic: ClinicDep, patient_id: str, caller: Reader) -> list[VisitOut]:
    """The patient's visits, newest first."""
    return [VisitOut.of(view) for view in clinic.infusion_day.of_patient(patient_id)]


@router.get("/visits/{visit_id}", response_model=VisitOut, responses=PROBLEMS)
def show_visit(clinic: ClinicDep, visit_id: str, caller: Reader) -> JSONResponse:
    """The visit now: state, the bag's clocks, observation left, the steps allowed next."""
    return answer(lambda: clinic.infusion_day.show(visit_id), visit_id=visit_id)


@router.post("/visits/{visit_id}/screening", response_model=VisitOut, responses=PROBLEMS)
def record_screening(
    clinic: ClinicDep,
    visit_id: str,
    body: ScreeningIn,
    caller: Screener,
    if_match: IfMatch = None,
) -> JSONResponse:
    """The screening answers; they go into the record for the assessment to see.

    Answering "no" where this visit's screening said "yes" to neurological
    symptoms or an active infection takes back a hold: physicians only
    (``withdraw-screening-hold``); anyone else gets a 422 naming the hold's rule.
    """
    answers = ScreeningAnswers(
        neurological_symptoms=body.neurological_symptoms,
        active_infection=body.active_infection,
        pregnant=body.pregnant,
        breastfeeding=body.breastfeeding,
        new_medicines=body.new_medicines,
        new_medicines_detail=body.new_medicines_detail,
    )
    return answer(
        lambda: clinic.infusion_day.screen(visit_id, caller, answers, version(if_match)),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/clearance", response_model=VisitOut, responses=PROBLEMS)
def clear_patient(
    clinic: ClinicDep,
    visit_id: str,
    body: ClearanceIn,
    caller: Clearer,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Clear the patient on the assessment run now (proceed, or caution acknowledged).

    When the screening named new medicines, ``medicines_reviewed`` confirms
    they were reviewed against the prohibited list; a prohibited one named
    there is refused whatever the body says (``immunosuppression.concurrent``).
    """
    return answer(
        lambda: clinic.infusion_day.clear(
            visit_id,
            caller.username,
            body.acknowledge,
            version(if_match),
            medicines_reviewed=body.medicines_reviewed,
        ),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/preparation", response_model=VisitOut, responses=PROBLEMS)
def record_preparation(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    body: PreparationIn,
    caller: Pharmacist,
    if_match: IfMatch = None,
) -> JSONResponse:
    """The diluted bag, checked by a second person; it replaces an unused earlier bag.

    The second person co-signs with their own username and password
    (``checked_by``, ``checker_password``), checked like a sign-in: throttled,
    audited, and only a pharmacist or nurse may check. A wrong one is a 422
    problem naming ``checked_by``, and nothing is recorded.
    """
    diluted_at = aware(body.diluted_at)
    assert diluted_at is not None
    bag = Bag(
        vial_lot=body.vial_lot,
        vial_expiry=body.vial_expiry,
        dose_mg=body.dose_mg,
        diluent=body.diluent,
        volume_ml=body.volume_ml,
        diluted_at=diluted_at,
        prepared_by=caller.username,
        checked_by=bag_checker(
            request, body.checked_by, body.checker_password.get_secret_value(), visit_id
        ).username,
        location=Storage(body.location),
        checked_at=aware(body.checked_at),
        frozen=body.frozen,
        shaken=body.shaken,
    )
    return answer(
        lambda: clinic.infusion_day.prepare(visit_id, bag, version(if_match)), visit_id=visit_id
    )


@router.post("/visits/{visit_id}/storage-moves", response_model=VisitOut, responses=PROBLEMS)
def move_bag(
    clinic: ClinicDep,
    visit_id: str,
    body: StorageMoveIn,
    caller: BagHandler,
    if_match: IfMatch = None,
) -> JSONResponse:
    """The bag went into the refrigerator or out to room temperature (now, or ``at``)."""
    return answer(
        lambda: clinic.infusion_day.move(
            visit_id, Storage(body.location), aware(body.at), version(if_match)
        ),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/start", response_model=VisitOut, responses=PROBLEMS)
def start_infusion(
    clinic: ClinicDep,
    visit_id: str,
    body: StartIn,
    caller: Infuser,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Start the infusion; the assessment is run again now."""
    minutes = body.planned_duration_minutes
    pump = PumpSetting(
        rate_ml_per_hour=body.rate_ml_per_hour,
        planned_duration=None if minutes is None else timedelta(minutes=minutes),
        method=Method(body.method),
        found_frozen=body.found_frozen,
        found_shaken=body.found_shaken,
    )
    return answer(
        lambda: clinic.infusion_day.start(visit_id, caller.username, pump, version(if_match)),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/end", response_model=VisitOut, responses=PROBLEMS)
def end_infusion(
    clinic: ClinicDep,
    visit_id: str,
    caller: Infuser,
    body: Moment = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    """The infusion ended; the administration goes into the record as completed."""
    at = aware(body.at) if body else None
    return answer(
        lambda: clinic.infusion_day.end(visit_id, caller.username, at, version(if_match)),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/reaction", response_model=VisitOut, responses=PROBLEMS)
def record_reaction(
    clinic: ClinicDep,
    visit_id: str,
    body: ReactionIn,
    caller: Responder,
    if_match: IfMatch = None,
) -> JSONResponse:
    """A reaction: the infusion stops and natalizumab goes into the patient's allergies."""
    report = ReactionReport(
        symptoms=frozenset(Symptom(s) for s in body.symptoms),
        severity=ReactionSeverity(body.severity),
        treatment=body.treatment,
        description=body.description,
        at=aware(body.at),
    )
    return answer(
        lambda: clinic.infusion_day.react(visit_id, caller.username, report, version(if_match)),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/discharge", response_model=VisitOut, responses=PROBLEMS)
def discharge_patient(
    clinic: ClinicDep,
    visit_id: str,
    caller: Observer,
    body: Moment = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Discharge after the observation period (or once a reaction is treated)."""
    at = aware(body.at) if body else None
    return answer(
        lambda: clinic.infusion_day.discharge(visit_id, caller.username, at, version(if_match)),
        visit_id=visit_id,
    )


@router.post("/visits/{visit_id}/cancel", response_model=VisitOut, responses=PROBLEMS)
def cancel_visit(
    clinic: ClinicDep,
    visit_id: str,
    body: CancelIn,
    caller: Screener,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Call the visit off before the infusion starts."""
    return answer(
        lambda: clinic.infusion_day.cancel(
            visit_id, caller.username, body.reason, version(if_match)
        ),
        visit_id=visit_id,
    )
