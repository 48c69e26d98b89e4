"""Absurd lab values and dates: refused by the forms, survived by the page and the PDF.

A tester typed ALT = 1e308 U/L and a sample date of 1900-01-01 on the lab form:
the form took both, and the patient page then failed (500) while the printed
summary showed a 309-digit ALT. The forms now refuse them next to the field;
and what arrives another way (a FHIR import, the HL7 feed) is shown, charted
and printed whatever it is.

Patients used here (all synthetic, made here): p961 (refusals only), p962 (an
extreme but real ALT is recorded), p963 (absurd values imported as FHIR).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Action, Role
from natalizumab_cds.bootstrap import as_operator
from natalizumab_cds.domain.protocol import LOINC, UCUM
from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.pdf.patient_summary import render_summary_pdf
from tests.clinic_db import NOW
from tests.web.conftest import SignedIn, page_csrf
from tests.web.visit_flow import own_patient

LONG = "1" * 41
ENTRY_FIELDS = ("analyte", "value", "unit", "date", "low", "high")


@pytest.fixture(scope="module")
def refusing(web_clinic: Clinic) -> str:
    return own_patient(web_clinic, 961)  # born 1989-03-14


def lab(token: str, **fields: str) -> dict[str, str]:
    base = {"analyte": "alt", "value": "31", "unit": "U/L", "date": "2026-11-20"}
    return {"csrf_token": token, **base, **fields}


def message(page: str, form: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{form}-{field}-error">([^<]*)</p>', page)
    assert found is not None, f"no message under {form}-{field}"
    return html.unescape(found.group(1))


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"value": "1e308"}, "value", "below 1,000,000 U/L"),
        ({"value": "1000000"}, "value", "below 1,000,000 U/L"),
        ({"value": "20000", "unit": "ukat/L"}, "value", "below 16,667 ukat/L"),  # 1.2M U/L
        ({"value": "1e999"}, "value", "zero or more"),  # infinity
        ({"value": "nan"}, "value", "zero or more"),
        ({"value": "-5"}, "value", "zero or more"),
        ({"low": "-1", "high": "40"}, "low", "The lower limit must be"),
        ({"low": "7", "high": "1e308"}, "high", "The upper limit must be below 1,000,000"),
        ({"value": LONG}, "value", "at most 40 characters"),
        ({"unit": "U" * 41}, "unit", "at most 40 characters"),
        ({"high": "4" * 60}, "high", "at most 40 characters"),
        ({"date": "1900-01-01"}, "date", "before the patient's birth date, 1989-03-14"),
        ({"date": "1989-03-13"}, "date", "before the patient's birth date, 1989-03-14"),
    ],
)
def test_the_lab_form_refuses_absurd_values_next_to_the_field_and_records_nothing(
    signed_in: SignedIn,
    web_clinic: Clinic,
    refusing: str,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    before = web_clinic.patients.history_and_assessment(refusing)[0]
    client = signed_in(Role.PHYSICIAN)
    token = page_csrf(client, f"/patients/{refusing}")
    answer = client.post(f"/patients/{refusing}/labs", data=lab(token, **fields))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")  # never a JSON error
    assert words in message(answer.text, "lab", field)
    assert f'aria-describedby="lab-{field}-error"' in answer.text
    for name, value in fields.items():  # what was typed comes back
        assert f'value="{value}"' in answer.text, name
    after = web_clinic.patients.history_and_assessment(refusing)[0]
    assert after.results(Analyte.ALT, NOW) == before.results(Analyte.ALT, NOW)


def test_a_sample_date_before_1950_is_refused_for_a_patient_without_a_birth_date(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p964", "name": [{"text": "X"}]}
    as_operator(web_clinic, Action.IMPORT_RECORDS).importer.one(patient)
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p964")
    answer = client.post("/patients/p964/labs", data=lab(token, date="1949-12-31"))
    assert answer.status_code == 422
    assert "before 1950-01-01" in message(answer.text, "lab", "date")
    assert 'min="1950-01-01"' in answer.text


@pytest.mark.parametrize(
    ("kind", "fields", "field", "words"),
    [
        ("relapse", {"date": "1900-01-01"}, "date", "birth date, 1989-03-14"),
        ("relapse", {"date": "2" * 41}, "date", "at most 40 characters"),
        ("mri", {"gd": "0" * 41, "t2": "0"}, "gd", "at most 40 characters"),
        ("mri", {"gd": "²", "t2": "0"}, "gd", "not a whole number"),  # isdigit, yet not int
        ("antibody", {"result": "p" * 50}, "result", "at most 40 characters"),
    ],
)
def test_the_clinical_forms_refuse_long_values_and_old_dates_next_to_the_field(
    signed_in: SignedIn,
    refusing: str,
    kind: str,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, f"/patients/{refusing}")
    data = {"csrf_token": token, "date": "2026-11-20", **fields}
    answer = client.post(f"/patients/{refusing}/results/{kind}", data=data)
    assert answer.status_code == 422
    assert words in message(answer.text, kind, field)


def test_an_extreme_but_real_alt_is_recorded_charted_and_holds(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    patient = own_patient(web_clinic, 962)
    client = signed_in(Role.PHYSICIAN)
    token = page_csrf(client, f"/patients/{patient}")
    answer = client.post(f"/patients/{patient}/labs", data=lab(token, value="5000", high="40"))
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "5000 U/L" in page.text
    assert "chart's scale" not in page.text  # 5,000 U/L scales the chart: no point off it
    assert web_clinic.patients.assessment(patient).finding("liver.elevated") is not None


def _observation(ident: str, code: str, value: float, unit: str, when: str) -> dict[str, Any]:
    """A lab result as an EHR would send it (no check of ours in between)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p963"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


@pytest.fixture(scope="module")
def absurd(web_clinic: Clinic) -> str:
    """p963 with absurd results imported as FHIR, as a feed could send them."""
    patient = own_patient(web_clinic, 963)
    alt = _observation("absurd-alt", "1742-6", 1e308, "U/L", "2026-11-20T08:00:00Z")
    alt["referenceRange"] = [{"high": {"value": 40, "unit": "U/L"}}]  # so liver.elevated fires
    resources = [
        alt,
        # x 60 into U/L: infinite once read, which the feed does not refuse either
        _observation("absurd-alt-ukat", "1742-6", 1.7e308, "ukat/L", "2026-10-01T08:00:00Z"),
        _observation("tiny-ast", "1920-8", 1e-300, "U/L", "2026-11-20T08:00:00Z"),
        _observation("negative-neutrophils", "751-8", -3.0, "10*9/L", "2026-11-20T08:00:00Z"),
        _observation("ancient-platelets", "777-3", 250.0, "10*9/L", "1800-01-01T08:00:00Z"),
    ]
    importer = as_operator(web_clinic, Action.IMPORT_RECORDS).importer
    for resource in resources:
        importer.one(resource)
    return patient


def test_the_patient_page_shows_absurd_stored_values_without_failing(
    signed_in: SignedIn, absurd: str
) -> None:
    page = signed_in(Role.NURSE).get(f"/patients/{absurd}")
    assert page.status_code == 200, page.text[:500]
    assert "1e+308 U/L" in page.text  # six significant digits at most
    assert "0" * 12 not in page.text  # never 309 digits
    assert "1e-300 U/L" in page.text
    assert "-3 ×10⁹/L" in page.text
    assert "1800-01-01" in page.text  # the old result stays listed
    assert "ALT 1e+308 U/L on 2026-11-20 is 2.5e+306 × " in page.text  # liver.elevated
    assert "above the chart's scale" in page.text
    assert "below the chart's scale" in page.text


def test_the_printed_summary_shows_absurd_stored_values_in_significant_digits(
    signed_in: SignedIn, web_clinic: Clinic, absurd: str
) -> None:
    answer = signed_in(Role.NURSE).get(f"/patients/{absurd}/summary.pdf")
    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF")
    # Helvetica and no compression, so the text can be read in the bytes.
    text = render_summary_pdf(web_clinic.summaries.document(absurd), fonts=None, compress=False)
    assert b"ALT 1e+308 U/L on 2026-11-20 is 2.5e+306 x ULN" in text  # liver.elevated
    assert b"alt 1e+308 U/L" in text  # the recent results
    assert b"neutrophils -3 x10^9/L" in text  # the unit as written, in ASCII for Helvetica
    assert b"0" * 12 not in text
