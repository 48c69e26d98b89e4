"""The infusion-day pages in process: each step through its form, refusals beside the form."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.web.visit_refusals import in_clinic_time
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


def _a_bag(diluted_at: datetime, location: str) -> dict[str, str]:
    """The preparation form as a pharmacist fills it, checked by the web nurse."""
    return {
        "vial_lot": "NTZ24A117",
        "vial_expiry": "2027-06-30",
        "dose_mg": "300",
        "diluent": "0.9% sodium chloride",
        "volume_ml": "100",
        "diluted_at": local_input(diluted_at),
        "checked_by": USERS[Role.NURSE],
        "checker_password": PASSWORD,
        "location": location,
    }


def _prepared(signed_in: SignedIn, patient: str) -> tuple[InProcessClient, str]:
    nurse, pharmacist = signed_in(Role.NURSE), signed_in(Role.PHARMACIST)
    visit = _open(nurse, patient)
    assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303
    assert _post(nurse, f"{visit}/clearance", visit).status_code == 303
    bag = _a_bag(NOW - timedelta(minutes=10), "room-temperature")
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
    assert "7 h 50 min at room temperature left" in page  # 8 h from dilution, 10 min ago
    assert "kept: room temperature from" in page
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


def test_the_co_signature_of_a_bag_is_audited_with_the_visit_it_checked(
    signed_in: SignedIn, web_clinic: Clinic, web_security: Security
) -> None:
    _, visit = _prepared(signed_in, own_patient(web_clinic, 907))
    query = AuditQuery(actor=USERS[Role.NURSE], limit=20, newest_first=True)
    records = web_security.audit.records(operator("pages-test"), query)
    co_sign = next(r for r in records if r.action == "co-sign")
    visit_id = visit.rsplit("/", 1)[-1]
    assert f"double check of the bag prepared at visit {visit_id}" in co_sign.detail
    assert co_sign.outcome == "0"  # success


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
    assert "Pregnant? Answer yes or no" in answer.text  # the question, as the form asks it
    unanswered = re.findall(r'<input type="radio" name="pregnant"[^>]*>', answer.text)
    assert len(unanswered) == 2
    assert all('aria-describedby="screening-pregnant-error"' in tag for tag in unanswered)
    assert 'aria-invalid="true"' not in _tag(answer.text, "new_medicines_detail")
    assert 'value="no" required checked' in answer.text  # the answers given are kept
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


def _recorded(page: str) -> str:
    """The visit page's "Recorded" part."""
    return page[page.index('id="h-recorded"') : page.index("</dl>")]


def test_a_yes_to_neurological_symptoms_is_shown_and_taken_back_only_by_a_physician(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, physician = signed_in(Role.NURSE), signed_in(Role.PHYSICIAN)
    visit = _open(nurse, own_patient(web_clinic, 931))
    neuro = NO | {"neurological_symptoms": "yes"}
    assert _post(nurse, f"{visit}/screening", visit, **neuro).status_code == 303
    page = nurse.get(visit).text
    assert "<strong>Neurological symptoms: yes</strong>" in _recorded(page)
    assert "Active infection: no" in _recorded(page)
    assert "Only a physician who has evaluated the patient may answer No" in page

    refused = _post(nurse, f"{visit}/screening", visit, **NO)
    assert refused.status_code == 422
    beside = refused.text[refused.text.index('id="h-screening"') :]
    assert 'id="refusal-screening"' in beside
    assert "(pml.suspected)" in beside
    assert "a physician must re-screen the patient" in beside
    assert "<strong>Neurological symptoms: yes</strong>" in _recorded(nurse.get(visit).text)

    assert _post(physician, f"{visit}/screening", visit, **NO).status_code == 303
    recorded = _recorded(nurse.get(visit).text)
    assert "Neurological symptoms: no" in recorded
    assert "Withdrawn: Neurological symptoms: yes" in recorded
    assert f"asked by {USERS[Role.NURSE]}" in recorded
    assert f"by {USERS[Role.PHYSICIAN]}</span>" in recorded
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_new_medicines_need_a_review_and_an_immunosuppressant_named_refuses_the_clearance(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    visit = _open(nurse, own_patient(web_clinic, 932))
    azathioprine = NO | {"new_medicines": "yes", "new_medicines_detail": "Azathioprine 50 mg daily"}
    assert _post(nurse, f"{visit}/screening", visit, **azathioprine).status_code == 303
    page = nurse.get(visit).text
    assert "New medicines: yes (Azathioprine 50 mg daily)" in _recorded(page)
    assert 'id="prohibited-named"' in page  # said before anyone presses the button

    refused = _post(nurse, f"{visit}/clearance", visit, medicines_reviewed="yes")
    assert refused.status_code == 422
    beside = refused.text[refused.text.index('id="h-clearance"') :]
    assert 'id="refusal-clearance"' in beside
    assert "(immunosuppression.concurrent)" in beside
    assert "Azathioprine (azathioprine, 1256)" in beside
    assert "medication list" in beside

    vitamin = azathioprine | {"new_medicines_detail": "vitamin D 1000 IU"}
    assert _post(nurse, f"{visit}/screening", visit, **vitamin).status_code == 303
    page = nurse.get(visit).text
    assert 'id="prohibited-named"' not in page
    assert 'name="medicines_reviewed"' in page
    unreviewed = _post(nurse, f"{visit}/clearance", visit)
    assert unreviewed.status_code == 422
    assert "(administration.requires-clearance)" in unreviewed.text
    assert "reviewed against the prohibited list" in unreviewed.text
    assert _post(nurse, f"{visit}/clearance", visit, medicines_reviewed="yes").status_code == 303
    assert "new medicines reviewed against the prohibited list" in _recorded(nurse.get(visit).text)
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def _clocks(page: str) -> str:
    """The visit page's clocks (empty when it shows none)."""
    if 'class="clocks"' not in page:
        return ""
    part = page[page.index('class="clocks"') :]
    return part[: part.index("</section>")]


def test_an_infusing_visit_says_when_it_started_and_when_it_may_end(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 933))
    with clock_at(web_clinic) as clock:
        clock.moment = NOW + timedelta(minutes=5)
        assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
        clock.moment = NOW + timedelta(minutes=25)
        clocks = _clocks(nurse.get(visit).text)
        assert "Infusion started at" in clocks
        assert ">2026-11-24 09:05</time>" in clocks
        assert "it may be ended from" in clocks
        assert ">2026-11-24 10:05</time>" in clocks
        assert "it must run at least 60 minutes" in clocks
        assert "40 min to go" in clocks
        assert "Bag usable until" not in clocks  # the bag is in the patient now
        pass_time(clock, NOW + timedelta(minutes=70), lambda: nurse.get(visit))
        assert "it may be ended now" in _clocks(nurse.get(visit).text)
        assert _post(nurse, f"{visit}/end", visit).status_code == 303


def test_a_discharged_visit_runs_no_clock_and_says_when_observation_ended(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 934))
    with clock_at(web_clinic) as clock:
        assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
        pass_time(clock, NOW + timedelta(minutes=60), lambda: nurse.get(visit))
        assert _post(nurse, f"{visit}/end", visit).status_code == 303
        pass_time(clock, NOW + timedelta(minutes=125), lambda: nurse.get(visit))
        assert _post(nurse, f"{visit}/discharge", visit).status_code == 303
        pass_time(clock, NOW + timedelta(minutes=140), lambda: nurse.get(visit))
        page = nurse.get(visit).text
    clocks = _clocks(page)
    assert "DISCHARGED" in page
    assert "data-countdown" not in page
    assert "discharge is allowed now" not in page
    assert "Observation until" not in page
    assert "Observation ended at" in clocks
    assert ">2026-11-24 11:00</time>; discharged at" in clocks
    assert ">2026-11-24 11:05</time>" in clocks


def test_a_cancelled_visit_with_a_bag_shows_no_clock(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 935))
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303
    page = nurse.get(visit).text
    assert "CANCELLED" in page
    assert _clocks(page) == ""
    assert "data-countdown" not in page


def test_the_visit_says_what_it_waits_for_when_the_role_has_no_form_for_the_next_step(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, pharmacist = signed_in(Role.NURSE), signed_in(Role.PHARMACIST)
    visit = _open(nurse, own_patient(web_clinic, 936))
    assert 'id="waiting-for"' not in nurse.get(visit).text  # the nurse screens
    assert "Waiting for a nurse or physician to screen the patient" in pharmacist.get(visit).text
    assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303
    assert "Waiting for a nurse or physician to clear" in pharmacist.get(visit).text
    assert _post(nurse, f"{visit}/clearance", visit).status_code == 303

    cleared = nurse.get(visit).text
    assert "CLEARED" in cleared
    assert "Waiting for the pharmacy to prepare the bag" in cleared
    assert 'id="waiting-for"' not in pharmacist.get(visit).text  # the pharmacist prepares
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303
    assert "The visit is over." in nurse.get(visit).text
    assert 'id="waiting-for"' not in nurse.get(visit).text


def test_a_prepared_or_running_visit_tells_the_pharmacist_who_acts_next(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 937))
    pharmacist = signed_in(Role.PHARMACIST)
    assert "Waiting for a nurse or physician to start the infusion" in pharmacist.get(visit).text
    assert 'id="waiting-for"' not in nurse.get(visit).text
    assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
    assert "Waiting for the infusion to run" in pharmacist.get(visit).text


def test_the_acknowledge_box_appears_only_for_a_caution(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    routine = _open(nurse, own_patient(web_clinic, 938))
    elderly = _open(nurse, own_patient(web_clinic, 939, "elderly"))
    for visit in (routine, elderly):
        assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303

    proceed = nurse.get(routine).text
    assert "PROCEED" in proceed
    assert 'name="acknowledge"' not in proceed
    assert "I acknowledge the caution findings above" not in proceed
    caution = nurse.get(elderly).text
    assert "population.elderly" in caution
    assert 'name="acknowledge"' in caution
    for visit in (routine, elderly):
        assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_a_warning_at_clearance_is_not_read_as_none(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    """MRI activity at clearance: a warning that does not stop the infusion, said so."""
    nurse = signed_in(Role.NURSE)
    visit = _open(nurse, own_patient(web_clinic, 945, "mri-activity"))
    assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303
    page = nurse.get(visit).text
    assert "mri.activity</span> (warning, does not stop the infusion)" in page
    assert "(none)" not in page
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


# -- refusals in words, under the field they concern ---------------------------------

#: A moment as code writes it: ISO 8601 (``2026-11-24T23:00``), an offset, microseconds.
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[+-]\d{2}:\d{2}\b|\d{2}:\d{2}:\d{2}")


def _box(page: str, step: str) -> str:
    """The refusal beside the ``step`` form, as text with its markup."""
    part = page[page.index(f'id="refusal-{step}"') :]
    return html.unescape(part[: part.index("</div>")])


def _tag(page: str, element_id: str) -> str:
    """The opening tag of the element with ``element_id``."""
    found = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


def _marked(page: str, element_id: str, message_id: str) -> str:
    """Assert the field is marked invalid and described by its message; the message."""
    tag = _tag(page, element_id)
    assert 'aria-invalid="true"' in tag
    assert f'aria-describedby="{message_id}' in tag
    message = re.search(rf'<p class="field-error" id="{message_id}">(.*?)</p>', page, re.S)
    assert message is not None, message_id
    # the message is under the field: after its tag, before the next field or the form's end
    assert page.index(tag) < message.start()
    after = page[page.index(tag) : message.start()]
    assert 'class="field"' not in after
    assert "</form>" not in after
    return message.group(1)


def _in_words(text: str) -> None:
    """No code in a message: no dotted field name, no ISO moment, no microseconds."""
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|\b[a-z_]+\.[a-z_]+:", text), text
    assert not ISO_MOMENT.search(text), text


def test_a_future_dilution_is_refused_under_diluted_at_in_clinic_time(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, pharmacist = signed_in(Role.NURSE), signed_in(Role.PHARMACIST)
    visit = _open(nurse, own_patient(web_clinic, 940))
    bag = _a_bag(NOW + timedelta(hours=14), "refrigerator")  # 23:00, a slip of the hour
    with clock_at(web_clinic) as clock:
        clock.moment = NOW + timedelta(seconds=17, microseconds=79708)
        refused = _post(pharmacist, f"{visit}/preparation", visit, **bag)
    assert refused.status_code == 422
    page = refused.text
    box = _box(page, "preparation")
    assert "Diluted at: 2026-11-24 23:00 is in the future (now is 2026-11-24 09:00)" in box
    _in_words(box)
    message = _marked(page, "diluted_at", "preparation-diluted_at-error")
    assert "2026-11-24 23:00 is in the future" in message
    _in_words(message)
    assert 'aria-invalid="true"' not in _tag(page, "vial_lot")  # only the field concerned
    assert 'value="NTZ24A117"' in _tag(page, "vial_lot")  # what was typed is kept
    assert f'value="{bag["diluted_at"]}"' in _tag(page, "diluted_at")
    assert 'value="refrigerator" checked' in page
    assert PASSWORD not in page  # but never the password
    assert "PREPARED" not in page  # nothing recorded
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_a_pump_rate_refused_names_and_marks_the_pump_rate_field(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 941))
    negative = _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="-5")
    assert negative.status_code == 422
    box = _box(negative.text, "start")
    assert "Pump rate (mL/h): must be positive" in box
    _in_words(box)
    _marked(negative.text, "rate_ml_per_hour", "start-rate_ml_per_hour-error")
    assert 'value="-5"' in _tag(negative.text, "rate_ml_per_hour")

    too_fast = _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="150")
    assert too_fast.status_code == 422
    assert "(administration.too-fast)" in _box(too_fast.text, "start")  # the rule stays
    message = _marked(too_fast.text, "rate_ml_per_hour", "start-rate_ml_per_hour-error")
    assert "150 mL/h runs 100 mL in under 60 minutes" in message
    assert "administration.too-fast" in message

    no_pump = _post(nurse, f"{visit}/start", visit)
    assert "Pump rate (mL/h): give the rate (mL/h) or the planned duration" in no_pump.text
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303


def test_a_reaction_and_a_discharge_refused_name_their_fields_and_times_in_words(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, visit = _prepared(signed_in, own_patient(web_clinic, 942))
    form = f"{visit}/reaction"
    with clock_at(web_clinic) as clock:
        assert _post(nurse, f"{visit}/start", visit, rate_ml_per_hour="100").status_code == 303
        other = _post(
            nurse, form, form, symptoms="other", severity="mild", treatment="antihistamine"
        )
        assert other.status_code == 422
        box = _box(other.text, "reaction")
        assert "Description: describe the reaction when a symptom is 'other'" in box
        _in_words(box)
        _marked(other.text, "description", "reaction-description-error")
        assert ">antihistamine</textarea>" in other.text

        pass_time(clock, NOW + timedelta(minutes=60, seconds=8), lambda: nurse.get(visit))
        assert _post(nurse, f"{visit}/end", visit).status_code == 303
        early = _post(nurse, f"{visit}/discharge", visit)
        assert early.status_code == 422
        box = _box(early.text, "discharge")
        assert "(observation.incomplete)" in box
        assert "60 minutes of observation remain (until 2026-11-24 11:00)" in box
        _in_words(box)
        assert 'aria-invalid="true"' not in _tag(early.text, "discharge-at")  # left blank: now
        future = _post(nurse, f"{visit}/discharge", visit, at="2026-11-24T23:00")
        box = _box(future.text, "discharge")
        assert "Discharged at: 2026-11-24 23:00 is in the future" in box
        _in_words(box)
        _marked(future.text, "discharge-at", "discharge-at-error")
        assert 'value="2026-11-24T23:00"' in _tag(future.text, "discharge-at")


def _stale_post(client: InProcessClient, path: str, page: str, version: str, **fields: str) -> str:
    data = {"csrf_token": page_csrf(client, page), "version": version, **fields}
    answer = client.post(path, data=data)
    assert answer.status_code == 409, answer.text
    return answer.text


def test_a_visit_changed_meanwhile_keeps_the_cancel_reason_and_says_what_changed(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse, physician = signed_in(Role.NURSE), signed_in(Role.PHYSICIAN)
    visit = _open(nurse, own_patient(web_clinic, 943))
    assert _post(nurse, f"{visit}/screening", visit, **NO).status_code == 303
    seen = re.search(r'name="version" value="(\d+)"', nurse.get(visit).text)
    assert seen is not None
    assert _post(physician, f"{visit}/clearance", visit).status_code == 303  # meanwhile

    reason = "feels feverish, back next week"
    page = _stale_post(nurse, f"{visit}/cancel", visit, seen.group(1), reason=reason)
    box = _box(page, "cancel")
    assert "Changed by someone else" in box
    assert "your cancellation was not recorded" in box
    assert "someone else changed this visit after you opened it (version 2)" in box
    assert "It is now at version 3, CLEARED" in box
    physician_name = USERS[Role.PHYSICIAN]
    assert f"the patient was cleared (proceed) at 2026-11-24 09:00 by {physician_name}" in box
    _in_words(box)
    assert f'value="{reason}"' in _tag(page, "cancel-reason")  # kept, to send again
    assert "CLEARED" in nurse.get(visit).text  # and nothing was cancelled


def test_a_form_gone_after_a_change_meanwhile_lists_what_was_typed(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    nurse = signed_in(Role.NURSE)
    visit = _open(nurse, own_patient(web_clinic, 944))
    seen = re.search(r'name="version" value="(\d+)"', nurse.get(visit).text)
    assert seen is not None
    assert _post(nurse, f"{visit}/cancel", visit, reason="test over").status_code == 303

    page = _stale_post(nurse, f"{visit}/cancel", visit, seen.group(1), reason="second thoughts")
    assert 'action="' + visit + '/cancel"' not in page  # a cancelled visit has no cancel form
    box = _box(page, "cancel")
    assert "the latest step: the visit was cancelled (“test over”)" in box
    assert "What you typed, not recorded" in box
    assert "<dt>Reason</dt><dd>second thoughts</dd>" in box


def test_moments_in_refusals_are_written_in_the_clinics_zone_to_the_minute() -> None:
    paris = ZoneInfo("Europe/Paris")
    said = in_clinic_time(
        "at: 2026-11-25 23:00 UTC is in the future (now is 2026-11-25T04:50:17.079708+00:00)",
        paris,
    )
    assert said == "at: 2026-11-26 00:00 is in the future (now is 2026-11-25 05:50)"
