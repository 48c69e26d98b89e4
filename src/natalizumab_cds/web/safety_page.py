"""The safety report page and the printable summary (``/patients/{id}/summary.pdf``).

The report is the ``clinic.safety`` use case (one SQL aggregate; definitions in
docs/safety-report.md), shown as a table: observed, its 95 % interval and the
protocol's expected rate. The PDF is the same document as the REST API's.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.api.summary_pdf import summary_pdf_response
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.web.pages import PageRefused, page_requires, render

router = APIRouter(include_in_schema=False)


def _figure(value: float, decimals: int) -> str:
    """``value`` to ``decimals`` places, or to two significant digits if it is smaller.

    A rare event (5 infections in 1,190 patient-years) must not print as
    "0.00", which a reader takes for none at all: it prints as 0.0042.
    """
    if value != 0:
        decimals = max(decimals, 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{_figure(100 * value, 1)} %"


def rate(value: float | None) -> str:
    return "—" if value is None else _figure(value, 2)


@router.get(
    "/safety-report",
    response_class=HTMLResponse,
    dependencies=[page_requires(Action.READ_WORKLIST)],
)
def safety_report(request: Request, clinic: ClinicDep) -> HTMLResponse:
    """What the clinic observes beside what the protocol expects, with 95 % intervals."""
    report = clinic.safety.report()
    context = {"report": report, "percent": percent, "rate": rate}
    return render(request, "safety_report.html", context, active="safety")


@router.get("/safety", include_in_schema=False)
def safety_short() -> RedirectResponse:
    return RedirectResponse("/safety-report", status_code=307)


@router.get("/patients/{patient_id}/summary.pdf", dependencies=[page_requires(Action.READ_PATIENT)])
def summary_pdf(clinic: ClinicDep, patient_id: str) -> Response:
    """The printable patient summary (PDF), as ``/api/patients/{id}/summary.pdf``."""
    try:
        return summary_pdf_response(clinic, patient_id)
    except UnknownPatient as error:
        raise PageRefused(404, "Patient not on file", str(error)) from error
