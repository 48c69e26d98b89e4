"""A patient's printable summary as a PDF (``GET /api/patients/{id}/summary.pdf``).

A read of the patient's record (``read-patient-record``), audited as one.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from natalizumab_cds.api.access import require
from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.interop.pdf.patient_summary import render_summary_pdf

router = APIRouter(prefix="/api", tags=["patients"])
PDF = "application/pdf"


def summary_pdf_response(clinic: Clinic, patient_id: str) -> Response:
    """The PDF, named after the patient id, to be shown inline (the browser's viewer)."""
    document = clinic.summaries.document(patient_id)
    body = render_summary_pdf(document)
    disposition = f'inline; filename="summary-{patient_id}.pdf"'
    return Response(body, media_type=PDF, headers={"Content-Disposition": disposition})


@router.get(
    "/patients/{patient_id}/summary.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, 404: {"description": "No such patient"}},
    dependencies=[require(Action.READ_PATIENT)],
)
async def summary_pdf(clinic: ClinicDep, patient_id: str) -> Response:
    """Decision, findings with their basis, schedule, recent results, infusions and reactions."""
    return await run_in_threadpool(summary_pdf_response, clinic, patient_id)
