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
