"""``/lab-messages`` in process: results nobody's record took, shown, retried and discarded.

The web clinic's lab feed gets synthetic messages for an MRN no patient has
(tests/interop/hl7v2/messages.py); patient p915 is registered with it midway.
Every letter this module makes is closed before it ends, so no other page test
sees the worklist's notice.
"""

from __future__ import annotations

import re

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.bootstrap import lab_feed
from tests.interop.hl7v2.messages import a_patient_resource, an_obx, an_oru
from tests.web.conftest import SignedIn, page_csrf

MRN = "MRN0009150"


def _kept(clinic: Clinic, control_id: str, mrn: str = MRN) -> int:
    ack = lab_feed(clinic).receive_lab_message(
        an_oru(control_id, mrn=mrn, results=[an_obx(1, value="160")])
    )
    assert ack.dead_letter is not None
    return ack.dead_letter


def test_a_nurse_sees_unfiled_results_retries_one_and_discards_another(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    first, second = _kept(web_clinic, "SYN-WEB-1"), _kept(web_clinic, "SYN-WEB-2")
    nurse = signed_in(Role.NURSE)

    worklist = nurse.get("/").text
    assert re.search(r"<strong>2 lab messages not filed</strong>", worklist)
    assert 'href="/lab-messages">Lab messages</a>' in worklist
    page = nurse.get("/lab-messages").text
    assert f'id="letter-{first}"' in page
    assert f"no patient with MRN &#39;{MRN}&#39;" in page
    assert "OBX|1|NM|1742-6^Synthetic test^LN||160" in page  # the message as received

    token = page_csrf(nurse, "/lab-messages")
    early = nurse.post(f"/lab-messages/{first}/retry", data={"csrf_token": token})
    assert early.status_code == 303
    assert "still could not be applied" in nurse.get(early.headers["location"]).text

    web_clinic.importer.one(a_patient_resource("p915", MRN))
    applied = nurse.post(f"/lab-messages/{first}/retry", data={"csrf_token": token})
    assert "applied: its results are in the patient" in nurse.get(applied.headers["location"]).text
    assert web_clinic.patients.assessment("p915").finding("liver.elevated") is not None

    blank = nurse.post(f"/lab-messages/{second}/discard", data={"csrf_token": token, "reason": " "})
    assert blank.status_code == 422
    assert f'id="reason-{second}-error"' in blank.text
    reason = {"csrf_token": token, "reason": "sent twice by the analyser"}
    assert nurse.post(f"/lab-messages/{second}/discard", data=reason).status_code == 303

    assert "lab message" not in nurse.get("/").text.split("</h1>")[1].split("<form")[0]
    everything = nurse.get("/lab-messages?show=all").text
    assert "sent twice by the analyser" in everything
    assert "retried: " in everything  # the first one, resolved


def test_pharmacists_neither_see_nor_resolve_lab_messages(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    letter = _kept(web_clinic, "SYN-WEB-3", mrn="MRN0009999")  # nobody's, ever
    try:
        pharmacist = signed_in(Role.PHARMACIST)
        worklist = pharmacist.get("/").text
        assert "Lab messages" not in worklist
        assert "not filed" not in worklist
        assert pharmacist.get("/lab-messages").status_code == 403
        token = page_csrf(pharmacist, "/")
        refused = pharmacist.post(f"/lab-messages/{letter}/retry", data={"csrf_token": token})
        assert refused.status_code == 403
    finally:
        lab_feed(web_clinic).discard_dead_letter(letter, "test over")


def _row(page: str, letter: int) -> str:
    start = page.index(f'<tr id="letter-{letter}">')
    return page[start : page.index("</tr>", start)]


def test_each_kept_message_names_its_patient_and_its_tests_by_name(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    entry, _ = web_clinic.patients.patient("p21")
    assert entry.mrn == "MRN0000021"
    results = [
        an_obx(1),  # ALT, readable
        an_obx(2, code="2345-7"),  # not a test of the profile
        an_obx(3, code="1920-8", units="furlongs^^UCUM"),  # AST in a unit nobody converts
    ]
    known = lab_feed(web_clinic).receive_lab_message(
        an_oru("SYN-WEB-4", mrn=entry.mrn, results=results)
    )
    unknown = _kept(web_clinic, "SYN-WEB-5", mrn="MRN0009998")
    no_pid = lab_feed(web_clinic).receive_lab_message(
        b"\r".join(s for s in an_oru("SYN-WEB-6").split(b"\r") if not s.startswith(b"PID"))
    )
    assert known.dead_letter is not None
    assert no_pid.dead_letter is not None
    try:
        page = signed_in(Role.NURSE).get("/lab-messages").text

        row = _row(page, known.dead_letter)
        assert "MRN <strong>MRN0000021</strong>" in row
        assert f'<a href="/patients/p21">{entry.name}</a>' in row
        assert 'ALT <span class="hint">(LOINC 1742-6)</span>' in row
        assert 'AST <span class="hint">(LOINC 1920-8)</span>' in row
        assert 'Synthetic test <span class="hint">(LOINC 2345-7, not a test the feed files)' in row
        assert "OBX 3: 1920-8 unit &#39;furlongs&#39; cannot be converted" in row

        assert "MRN <strong>MRN0009998</strong>" in _row(page, unknown)
        assert "No patient on file with this MRN" in _row(page, unknown)
        assert "No MRN could be read (PID-3)" in _row(page, no_pid.dead_letter)
        assert "the feed stops reading at the first" in page  # one problem kept per message
    finally:
        feed = lab_feed(web_clinic)
        for letter in (known.dead_letter, unknown, no_pid.dead_letter):
            feed.discard_dead_letter(letter, "test over")
