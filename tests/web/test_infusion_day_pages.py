"""The infusion-day pages in process: each step through its form, refusals beside the form."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from tests.clinic_db import NOW
from tests.security.in_process import InProcessClient
from tests.web.conftest import PASSWORD, USERS, SignedIn, page_csrf
from tests.web.visit_flow import clock_at, local_input, own_patient, pass_time

NO = dict.fromkeys(
    ("neurological_symptoms", "active_infection", "pregnant", "breastfeeding", "new_medicines"),
    "no",
)


def _post(client: InProcessClient, path: str, page: str, **fields: str) -> httpx.Response:
    token = page_csrf(client, page)
    version = re.search(r'name="version" value="(\d+)"', client.get(page).text)
    data = {"csrf_token": token, **fields}
    if version:
        data["version"] = version.group(1)
    return client.post(path, data=data)


def _open(nurse: InProcessClient, patient: str) -> str:
    answer = _post(nurse, "/infusion-day/visits", "/infusion-day", patient_id=patient)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def _prepared(signed_in: SignedIn, patient: str) -> tuple[InProcessClient, str]:
    nurse, pharmacist = signed_in(Role.NURSE), signed_in(Role.PHARMACIST)
    visit = _open(nurse, patient)
    assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303
    assert _post(nurse, f"{visit}/clearance", visit).status_code == 303
    bag = {
        "vial_lot": "NTZ24A117",
        "vial_expiry": "2027-06-30",
        "dose_mg": "300",
        "diluent": "0.9% sodium chloride",
        "volume_ml": "100",
        "diluted_at": local_input(NOW - timedelta(minutes=10)),
        "checked_by": USERS[Role.NURSE],
        "checker_password": PASSWORD,
        "location": "room-temperature",
    }
    answer = _post(pharmacist, f"{visit}/preparation", visit, **bag)
    assert answer.status_code == 303, answer.text
    return nurse, visit


def test_a_visit_runs_from_screening_to_discharge_through_the_forms(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 901))
    page = nurse.get(visit).text
    assert "PREPARED" in page
    assert "Bag usable until" in page
    assert "2026-11-24 16:50" in page
    with clock_at(web_clinic) as clock:
        too_fast = _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="150")
        assert too_fast.status_code == 422
        assert "administration.too-fast" in too_fast.text
        assert 'id="refusal-start"' in too_fast.text
        assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
        assert "Reaction" in nurse.get(visit).text
        pass_time(clock, NOW + timedelta(minutes=70), lambda: nurse.get(visit))
        ended = _post(nurse, f"{visit}/end", visit, at=local_input(NOW + timedelta(minutes=65)))
        assert ended.status_code == 303
        page = nurse.get(visit).text
        assert "OBSERVING" in page
        assert "55 min remaining until discharge is allowed" in page
        early = _post(nurse, f"{visit}/discharge", visit)
        assert early.status_code == 422
        assert "observation.incomplete" in early.text
        pass_time(clock, NOW + timedelta(minutes=130), lambda: nurse.get(visit))
        assert _post(nurse, f"{visit}/discharge", visit).status_code == 303
    assert "DISCHARGED" in nurse.get(visit).text


def test_screening_has_no_default_answers_and_refuses_a_missing_one(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    visit = _open(nurse, own_patient(web_clinic, 902))
    page = nurse.get(visit).text
    assert page.count('type="radio"') >= 10
    assert " checked" not in page.split('id="screening"')[1]
    partial = dict(NO)
    del partial["pregnant"]
    answer = _post(nurse, f"{visit}/screening", visit, **partial)
    assert answer.status_code == 422
    assert "pregnant: answer yes or no" in answer.text
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_a_reaction_turns_the_patient_to_discontinue(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    patient = own_patient(web_clinic, 903)
    nurse, visit = _prepared(signed_in, patient)
    with clock_at(web_clinic) as clock:
        assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
        pass_time(clock, NOW + timedelta(minutes=15), lambda: nurse.get(visit))
        form = f"{visit}/reaction"
        token = page_csrf(nurse, form)
        version = re.search(r'name="version" value="(\d+)"', nurse.get(form).text)
        assert version is not None
        answer = nurse.post(
            form,
            data={
                "csrf_token": token,
                "version": version.group(1),
                "symptoms": ["urticaria", "hypotension"],
                "severity": "severe",
                "treatment": "infusion stopped; adrenaline 0.5 mg IM",
            },
        )
        assert answer.status_code == 303, answer.text
        assert "STOPPED-FOR-REACTION" in nurse.get(visit).text
        assert "DISCONTINUE" in nurse.get(f"/patients/{patient}").text


def test_roles_see_only_their_steps_and_are_refused_others(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, pharmacist = signed_in(Role.NURSE), signed_in(Role.PHARMACIST)
    visit = _open(nurse, own_patient(web_clinic, 904))
    assert 'action="' + visit + '/screening"' not in pharmacist.get(visit).text
    assert 'id="preparation"' in pharmacist.get(visit).text
    refused = pharmacist.post(
        f"{visit}/screening", data={"csrf_token": page_csrf(pharmacist, visit), **NO}
    )
    assert refused.status_code == 403
    admin = signed_in(Role.ADMINISTRATOR)
    assert admin.get(visit).status_code == 403
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_safety_report_page_and_summary_pdf(signed_in: SignedIn) -> None:
    nurse = signed_in(Role.NURSE)
    page = nurse.get("/safety-report")
    assert page.status_code == 200
    assert "Severe infusion reactions" in page.text
    assert "Garwood" in page.text
    pdf = nurse.get("/patients/p1/summary.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert signed_in(Role.ADMINISTRATOR).get("/patients/p1/summary.pdf").status_code == 403


def test_todays_visits_are_listed_and_an_unknown_visit_is_a_404_page(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    patient = own_patient(web_clinic, 905)
    visit = _open(nurse, patient)
    listing = nurse.get("/infusion-day").text
    assert visit in listing
    second = _post(nurse, "/infusion-day/visits", "/infusion-day", patient_id=patient)
    assert second.status_code == 422
    assert "workflow.out-of-order" in second.text
    assert nurse.get("/visits/visit-000000000000").status_code == 404
    missing = nurse.post(
        "/visits/visit-000000000000/cancel",
        data={"csrf_token": page_csrf(nurse, visit), "reason": "x"},
    )
    assert missing.status_code == 404
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def _due_rows(page: str) -> list[str]:
    table = page[page.index('id="due-today"') :]
    return re.findall(r"<tr class=.*?</tr>", table[: table.index("</table>")], re.S)


def test_the_day_lists_the_infusions_due_with_a_button_to_open_each_but_discontinued(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    page = nurse.get("/infusion-day").text
    due = web_clinic.worklist.entries(days=1, kinds=["infusion"], size=0).items
    assert due  # the synthetic clinic has infusions due today or overdue
    rows = _due_rows(page)
    assert len(rows) == len(due)
    listed = {m for row in rows for m in re.findall(r'href="/patients/([^"]+)"', row)}
    assert listed == {entry.patient_id for entry in due}
    for entry in due:  # the decision is there before anyone opens the visit
        (row,) = [r for r in rows if f'href="/patients/{entry.patient_id}"' in r]
        assert (entry.decision or "").upper() in row

    stopped = [entry for entry in due if entry.decision == "discontinue"]
    assert stopped  # the synthetic clinic has discontinued patients due
    for entry in stopped:  # no visit to open for a patient who must not be infused
        (row,) = [r for r in rows if f'href="/patients/{entry.patient_id}"' in r]
        assert "Open visit</button>" not in row
        assert "Do not infuse" in row or 'href="/visits/' in row  # or the visit that stopped

    first = next(entry for entry in due if entry.decision != "discontinue")
    patient = first.patient_id
    assert f'aria-label="Open a visit for {first.name}"' in page
    opened = _post(nurse, "/infusion-day/visits", "/infusion-day", patient_id=patient)
    assert opened.status_code == 303
    visit = str(opened.headers["location"])
    (row,) = [r for r in _due_rows(nurse.get("/infusion-day").text) if f"/patients/{patient}" in r]
    assert f'href="{visit}">SCREENING</a>' in row  # no second button for the same patient
    assert "Open visit</button>" not in row
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303

    pharmacist_view = signed_in(Role.PHARMACIST).get("/infusion-day").text
    assert "Open visit</button>" not in pharmacist_view  # sees who is due, opens nothing


def test_a_visit_opens_by_mrn_as_well_as_by_patient_id(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    patient = own_patient(web_clinic, 906)
    mrn = web_clinic.patients.patient(patient)[0].mrn
    assert mrn
    opened = _post(nurse, "/infusion-day/visits", "/infusion-day", patient_id=f" {mrn} ")
    assert opened.status_code == 303
    visit = str(opened.headers["location"])
    assert f"/patients/{patient}" in nurse.get(visit).text
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303
    unknown = _post(nurse, "/infusion-day/visits", "/infusion-day", patient_id="MRN9999999")
    assert unknown.status_code == 422
    assert "MRN9999999" in unknown.text
