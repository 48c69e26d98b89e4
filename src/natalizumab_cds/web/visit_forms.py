"""The infusion-day forms: each posts one step and calls the infusion-day use case.

Success redirects to the visit (303, so a reload never records twice). A
refusal re-renders the visit with the refusal beside the form it came from,
in words (``visit_refusals.py``): a workflow rule's id and reason (plus the
findings when the assessment refused), a visit changed by someone else, or
input that could not be read; the field it concerns is marked, and what was
typed is kept (never a password). Times typed into the forms are in the
clinic's zone; left blank they mean now. Who takes a step is the signed-in
person, as in the REST API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from natalizumab_cds.api.access import bag_checker
from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.security.errors import CoSignRefused
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.application.visit_view import Step, VisitView
from natalizumab_cds.application.visits import (
    Bag,
    PumpSetting,
    ReactionReport,
    ScreeningAnswers,
    UnknownVisit,
    VisitConflict,
)
from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.infusion_events import ReactionSeverity, Symptom
from natalizumab_cds.domain.preparation import Storage
from natalizumab_cds.web.form_fields import choice, moment, number, text, version, yes_no
from natalizumab_cds.web.pages import PageRefused, PageRequirement, page_requires
from natalizumab_cds.web.visit_page import STEP_ACTIONS, infusion_day_page, visit_page
from natalizumab_cds.web.visit_refusals import refusal_of

router = APIRouter(include_in_schema=False)


def _as(step: Step) -> Any:
    return page_requires(STEP_ACTIONS[step])


async def _clearer(request: Request) -> Principal:
    """Acknowledging a caution is its own permission, as in the API."""
    acknowledge = (await request.form()).get("acknowledge") == "yes"
    action = Action.ACKNOWLEDGE_CAUTION if acknowledge else Action.RECORD_SCREENING
    return await PageRequirement(action)(request)


# -- running a step ------------------------------------------------------------------


async def run_step(
    request: Request,
    clinic: Clinic,
    principal: Principal,
    visit_id: str,
    step: Step,
    work: Callable[[FormData, tzinfo], VisitView],
    anchor: str = "",
) -> Response:
    form = await request.form()
    try:
        work(form, clinic.context.tz)
    except UnknownVisit as error:
        raise PageRefused(404, "Visit not on file", str(error)) from error
    except (WorkflowRefused, VisitConflict, InvalidInput) as error:
        # shown again in the form, but never a password (the bag's co-signature)
        values = {key: form.getlist(key) for key in form if not key.endswith("password")}
        conflict = isinstance(error, VisitConflict)
        now = clinic.infusion_day.show(visit_id) if conflict else None  # what changed
        return visit_page(
            request,
            clinic,
            principal,
            visit_id,
            refusal=refusal_of(step, error, form, clinic.context.tz, now),
            form=values,
            status=409 if conflict else 422,
            template="reaction.html" if step is Step.REACTION else "visit.html",
        )
    target = f"/visits/{quote(visit_id)}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


Clinician = Annotated[Principal, _as(Step.SCREENING)]


@router.post("/infusion-day/visits")
async def open_visit(request: Request, clinic: ClinicDep, principal: Clinician) -> Response:
    """Open today's visit for a patient (by id, or by MRN) and go to it."""
    form = await request.form()
    typed = form.get("patient_id")
    typed = typed.strip() if isinstance(typed, str) else ""
    try:
        view = clinic.infusion_day.open(_patient_id(clinic, typed))
    except (WorkflowRefused, UnknownPatient, InvalidInput) as error:
        refusal = refusal_of(Step.SCREENING, error, form, clinic.context.tz)
        return infusion_day_page(
            request, clinic, principal, patient_id=typed, refusal=refusal, status=422
        )
    return RedirectResponse(f"/visits/{quote(view.visit.id)}", status_code=303)


def _patient_id(clinic: Clinic, typed: str) -> str:
    """The patient's id as typed, or the id of the one patient with exactly this MRN."""
    if not typed:
        return typed
    try:
        clinic.patients.patient(typed)
        return typed
    except UnknownPatient:
        pass
    found = [
        listing.patient.id
        for listing in clinic.patients.search(typed, 1, 10).items
        if listing.patient.mrn == typed
    ]
    return found[0] if len(found) == 1 else typed


@router.post("/visits/{visit_id}/screening")
async def screening(
    request: Request, clinic: ClinicDep, visit_id: str, principal: Clinician
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        answers = ScreeningAnswers(
            neurological_symptoms=yes_no(form, "neurological_symptoms"),
            active_infection=yes_no(form, "active_infection"),
            pregnant=yes_no(form, "pregnant"),
            breastfeeding=yes_no(form, "breastfeeding"),
            new_medicines=yes_no(form, "new_medicines"),
            new_medicines_detail=text(form, "new_medicines_detail", required=False),
        )
        return clinic.infusion_day.screen(visit_id, principal, answers, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.SCREENING, work)


@router.post("/visits/{visit_id}/clearance")
async def clearance(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, Depends(_clearer)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        acknowledge = form.get("acknowledge") == "yes"
        return clinic.infusion_day.clear(
            visit_id,
            principal.username,
            acknowledge,
            version(form),
            medicines_reviewed=form.get("medicines_reviewed") == "yes",
        )

    return await run_step(request, clinic, principal, visit_id, Step.CLEARANCE, work)


@router.post("/visits/{visit_id}/preparation")
async def preparation(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.PREPARATION)],
) -> Response:
    form = await request.form()
    checker = await _bag_checker(request, form, visit_id)

    def work(form: FormData, tz: tzinfo) -> VisitView:
        diluted_at = moment(form, "diluted_at", tz, required=True)
        assert diluted_at is not None
        try:
            expiry = date.fromisoformat(text(form, "vial_expiry"))
        except ValueError:
            raise InvalidInput("vial_expiry: not a date (YYYY-MM-DD)") from None
        if isinstance(checker, InvalidInput):
            raise checker
        bag = Bag(
            vial_lot=text(form, "vial_lot"),
            vial_expiry=expiry,
            dose_mg=number(form, "dose_mg") or 0.0,
            diluent=text(form, "diluent"),
            volume_ml=number(form, "volume_ml") or 0.0,
            diluted_at=diluted_at,
            prepared_by=principal.username,
            checked_by=checker.username,
            location=choice(Storage, text(form, "location"), "location"),
            frozen=form.get("frozen") == "yes",
            shaken=form.get("shaken") == "yes",
        )
        return clinic.infusion_day.prepare(visit_id, bag, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.PREPARATION, work)


async def _bag_checker(request: Request, form: FormData, visit_id: str) -> Principal | InvalidInput:
    """The second person's co-signature (argon2 work: off the event loop), or why not."""
    username = form.get("checked_by")
    password = form.get("checker_password")
    if not isinstance(username, str) or not username.strip():
        return CoSignRefused("say who checked the bag")
    if not isinstance(password, str) or not password:
        return InvalidInput(f"checker_password: {username.strip()} must type their own password")
    try:
        return await run_in_threadpool(bag_checker, request, username, password, visit_id)
    except CoSignRefused as refused:
        return refused


@router.post("/visits/{visit_id}/storage-moves")
async def storage_move(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.STORAGE_MOVE)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        location = choice(Storage, text(form, "location"), "location")
        at = moment(form, "at", tz)
        return clinic.infusion_day.move(visit_id, location, at, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.STORAGE_MOVE, work)


@router.post("/visits/{visit_id}/start")
async def start(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.START)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        minutes = number(form, "planned_duration_minutes", required=False)
        pump = PumpSetting(
            rate_ml_per_hour=number(form, "rate_ml_per_hour", required=False),
            planned_duration=None if minutes is None else timedelta(minutes=minutes),
            found_frozen=form.get("found_frozen") == "yes",
            found_shaken=form.get("found_shaken") == "yes",
        )
        if pump.rate_ml_per_hour is None and pump.planned_duration is None:
            raise InvalidInput("rate_ml_per_hour: give the rate (mL/h) or the planned duration")
        return clinic.infusion_day.start(visit_id, principal.username, pump, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.START, work, "observation")


@router.post("/visits/{visit_id}/end")
async def end(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.END)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        at = moment(form, "at", tz)
        return clinic.infusion_day.end(visit_id, principal.username, at, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.END, work, "observation")


@router.post("/visits/{visit_id}/reaction")
async def reaction(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.REACTION)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        symptoms = [
            choice(Symptom, s, "symptoms") for s in form.getlist("symptoms") if isinstance(s, str)
        ]
        if not symptoms:
            raise InvalidInput("symptoms: tick at least one")
        report = ReactionReport(
            symptoms=frozenset(symptoms),
            severity=choice(ReactionSeverity, text(form, "severity"), "severity"),
            treatment=text(form, "treatment"),
            description=text(form, "description", required=False),
            at=moment(form, "at", tz),
        )
        return clinic.infusion_day.react(visit_id, principal.username, report, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.REACTION, work)


@router.post("/visits/{visit_id}/discharge")
async def discharge(
    request: Request,
    clinic: ClinicDep,
    visit_id: str,
    principal: Annotated[Principal, _as(Step.DISCHARGE)],
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        at = moment(form, "at", tz)
        return clinic.infusion_day.discharge(visit_id, principal.username, at, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.DISCHARGE, work)


@router.post("/visits/{visit_id}/cancel")
async def cancel(
    request: Request, clinic: ClinicDep, visit_id: str, principal: Clinician
) -> Response:
    def work(form: FormData, tz: tzinfo) -> VisitView:
        reason = text(form, "reason")
        return clinic.infusion_day.cancel(visit_id, principal.username, reason, version(form))

    return await run_step(request, clinic, principal, visit_id, Step.CANCEL, work)
