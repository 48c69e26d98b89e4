"""The patient page ``/patients/{id}`` and its forms: acknowledge, override, results.

The page reads through the same use cases as ``GET /api/patients/{id}/…``; the
forms post to the decisions and import use cases under their own actions, so a
nurse who forges the override form is refused by the server exactly as by the
REST API. A refusal (a rule that no longer fires, a missing reason) is shown on
the page, next to the field when it is about one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.errors import DecisionRefused, NotOverridable, UnknownPatient
from natalizumab_cds.application.records import DecisionKind
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.web import clinical_entry, lab_entry
from natalizumab_cds.web.pages import PageRefused, page_requires, render
from natalizumab_cds.web.patient_view import charts_of, finding_views

router = APIRouter(prefix="/patients", include_in_schema=False)
READ = page_requires(Action.READ_PATIENT)
Reader = Annotated[Principal, READ]
#: A form field, any length: the form says when one is too long, next to it,
#: and keeps what was typed (``lab_entry.MAX_LENGTH``), never a bare 422.
Typed = Annotated[str, Form()]
NOTICES = {
    "acknowledged": "Caution acknowledged for today.",
    "overridden": "Override recorded: the finding stays visible, marked overridden.",
    "lab": "Lab result recorded; the assessment below includes it.",
    **{key: kind.notice for key, kind in clinical_entry.KINDS.items()},
}


def _page(
    request: Request,
    clinic: Clinic,
    patient_id: str,
    principal: Principal,
    *,
    status: int = 200,
    lab: lab_entry.LabForm | None = None,
    clinical: clinical_entry.ClinicalForm | None = None,
    refusal: str = "",
    override_errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    try:
        view = clinic.patients.view(patient_id)
    except UnknownPatient as error:
        raise PageRefused(404, "Patient not on file", str(error)) from error
    entry, summary, timeline, assessment = view.entry, view.summary, view.timeline, view.assessment
    uln = clinic.context.protocol.number("default_uln_alt")
    ahead = clinic.context.assess_next_infusion(timeline, assessment)
    clinical_forms = clinical_entry.blank_forms(clinic.context.today())
    if clinical is not None:
        clinical_forms[clinical.kind.key] = clinical
    context: dict[str, Any] = {
        "entry": entry,
        "summary": summary,
        "assessment": assessment,
        "ahead": ahead if ahead is not assessment else None,
        "findings": finding_views(assessment),
        "charts": charts_of(timeline, assessment.at, uln),
        "decisions": view.decisions,
        "acknowledged": summary.acknowledged if summary else (),
        "lab": lab or lab_entry.LabForm.blank(clinic.context.today()),
        "analytes": lab_entry.ANALYTES,
        "units": lab_entry.unit_choices(),
        "may_acknowledge": principal.may(Action.ACKNOWLEDGE_CAUTION),
        "may_override": principal.may(Action.OVERRIDE_FINDING),
        "may_record_labs": principal.may(Action.RECORD_LAB_RESULTS),
        "clinical_forms": clinical_forms,
        "may_record_clinical": principal.may(Action.RECORD_CLINICAL_RESULTS),
        "refusal": refusal,
        "override_errors": override_errors or {},
        "notice": NOTICES.get(notice, ""),
        "today": clinic.context.today(),
        "earliest": lab_entry.earliest_day(entry.birth_date),
    }
    return render(request, "patient.html", context, status=status, active="worklist")


@router.get("/{patient_id}", response_class=HTMLResponse)
def patient(
    request: Request, clinic: ClinicDep, patient_id: str, principal: Reader, done: str = ""
) -> HTMLResponse:
    """The decision, its findings and protocol text, the schedule, charts and forms."""
    return _page(request, clinic, patient_id, principal, notice=done)


def _done(patient_id: str, what: str, anchor: str) -> RedirectResponse:
    target = f"/patients/{quote(patient_id)}?done={what}#{anchor}"
    return RedirectResponse(target, status_code=303)


@router.post("/{patient_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    request: Request,
    clinic: ClinicDep,
    patient_id: str,
    principal: Annotated[Principal, page_requires(Action.ACKNOWLEDGE_CAUTION)],
    rule: Annotated[str, Form(max_length=200)],
) -> Response:
    """Acknowledge a caution for today (nurses and physicians)."""
    try:
        clinic.decisions.record(patient_id, DecisionKind.ACKNOWLEDGE, rule, principal.username)
    except (DecisionRefused, InvalidInput) as error:
        return _page(request, clinic, patient_id, principal, status=409, refusal=str(error))
    return _done(patient_id, "acknowledged", f"finding-{rule}")


@router.post("/{patient_id}/override", response_class=HTMLResponse)
def override(
    request: Request,
    clinic: ClinicDep,
    patient_id: str,
    principal: Annotated[Principal, page_requires(Action.OVERRIDE_FINDING)],
    rule: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Override an overridable rule (physicians only), with a mandatory reason."""
    if not reason.strip():
        errors = {rule: "Give the reason this infusion is safe despite the finding."}
        return _page(request, clinic, patient_id, principal, status=422, override_errors=errors)
    try:
        clinic.decisions.record(patient_id, DecisionKind.OVERRIDE, rule, principal.username, reason)
    except (DecisionRefused, NotOverridable, InvalidInput) as error:
        return _page(request, clinic, patient_id, principal, status=409, refusal=str(error))
    return _done(patient_id, "overridden", f"finding-{rule}")


def _imported(clinic: Clinic, resource: dict[str, Any]) -> str:
    """Import a form's Observation; the reader's refusal ("" if none), for its field."""
    try:
        clinic.importer.one(resource)
    except UnknownPatient as error:
        raise PageRefused(404, "Patient not on file", str(error)) from error
    except InvalidInput as error:
        return str(error)
    return ""


def _born(clinic: Clinic, patient_id: str) -> dt.date | None:
    """The patient's birth date if known (a result cannot be older); 404 if not on file."""
    try:
        return clinic.patients.patient(patient_id)[0].birth_date
    except UnknownPatient as error:
        raise PageRefused(404, "Patient not on file", str(error)) from error


@router.post("/{patient_id}/labs", response_class=HTMLResponse)
def record_lab_result(
    request: Request,
    clinic: ClinicDep,
    patient_id: str,
    principal: Annotated[Principal, page_requires(Action.RECORD_LAB_RESULTS)],
    analyte: Typed = "",
    value: Typed = "",
    unit: Typed = "",
    date: Typed = "",
    low: Typed = "",
    high: Typed = "",
) -> Response:
    """Record one lab result (nurses and physicians); messages next to wrong fields."""
    form = lab_entry.LabForm.typed(
        {"analyte": analyte, "value": value, "unit": unit, "date": date, "low": low, "high": high}
    )
    lab_entry.check(form, clinic.context.today(), _born(clinic, patient_id))
    if not form.errors:
        refused = _imported(clinic, lab_entry.observation(form, patient_id, clinic.context.tz))
        if refused:
            form.errors[lab_entry.field_of(refused)] = lab_entry.plain(refused)
    if form.errors:
        return _page(request, clinic, patient_id, principal, status=422, lab=form)
    return _done(patient_id, "lab", "lab-entry")


@router.post("/{patient_id}/results/{kind}", response_class=HTMLResponse)
def record_clinical_result(
    request: Request,
    clinic: ClinicDep,
    patient_id: str,
    kind: str,
    principal: Annotated[Principal, page_requires(Action.RECORD_CLINICAL_RESULTS)],
    date: Typed = "",
    result: Typed = "",
    gd: Typed = "",
    t2: Typed = "",
) -> Response:
    """Record an antibody result, an MRI read or a relapse; messages next to wrong fields."""
    known = clinical_entry.KINDS.get(kind)
    if known is None:
        raise PageRefused(404, "No such form", f"there is no form for {kind!r} results")
    typed = {"date": date, "result": result, "gd": gd, "t2": t2}
    form = clinical_entry.ClinicalForm.typed(known, typed)
    clinical_entry.check(form, clinic.context.today(), _born(clinic, patient_id))
    if not form.errors:
        resource = clinical_entry.observation(form, patient_id, clinic.context.tz)
        refused = _imported(clinic, resource)
        if refused:
            form.errors[clinical_entry.field_of(form, refused)] = lab_entry.plain(refused)
    if form.errors:
        return _page(request, clinic, patient_id, principal, status=422, clinical=form)
    return _done(patient_id, known.key, f"{known.key}-entry")
