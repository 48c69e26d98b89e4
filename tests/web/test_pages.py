"""The web pages in process: who may see them, who may post, and the CSRF rule.

Patients used here (all synthetic): p0 routine, p2 elderly (a caution), p33 a
second pediatric hold (never overridden here), p34 routine (gets a lab result),
p35 a liver hold (gets a positive antibody result), p36 routine (gets an MRI
read), p37 routine (gets a relapse).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Action, Role, operator
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.bootstrap import as_operator
from natalizumab_cds.domain.rule_specs import rule_title
from natalizumab_cds.interop.fhir.synthetic import ROUTINE, synthesize_patient
from natalizumab_cds.web import worklist_page
from tests.clinic_db import NOW, SEED
from tests.security.in_process import InProcessClient
from tests.web.conftest import SignedIn, page_csrf, scenario_patient

READERS = [Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST, Role.READ_ONLY]
PEDIATRIC = scenario_patient("pediatric", 1)


@pytest.mark.parametrize("path", ["/", "/patients/p0", "/?q=MRN00&decision=hold"])
def test_signed_out_visitors_are_sent_to_sign_in_and_back(web_app: object, path: str) -> None:
    with InProcessClient(web_app) as client:  # type: ignore[arg-type]
        answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/")
    assert "patients" not in answer.text


@pytest.mark.parametrize("role", READERS)
def test_every_reading_role_sees_the_worklist_and_a_patient(
    signed_in: SignedIn, role: Role
) -> None:
    client = signed_in(role)
    worklist = client.get("/")
    patient = client.get("/patients/p0")
    assert worklist.status_code == 200
    assert "Holds and discontinues" in worklist.text
    assert f"web-{role.value}" in worklist.text
    assert patient.status_code == 200
    assert "Monitoring schedule" in patient.text


def test_an_administrator_may_not_read_patients(signed_in: SignedIn) -> None:
    client = signed_in(Role.ADMINISTRATOR)
    answer = client.get("/patients/p0")
    assert answer.status_code == 403
    assert "read-patient-record" in answer.text
    assert "text/html" in answer.headers["content-type"]


def test_an_unknown_patient_is_a_page_saying_so(signed_in: SignedIn) -> None:
    answer = signed_in(Role.NURSE).get("/patients/nobody")
    assert answer.status_code == 404
    assert "Patient not on file" in answer.text


def test_the_worklist_puts_holds_and_discontinues_first_with_words(signed_in: SignedIn) -> None:
    text = signed_in(Role.NURSE).get("/").text
    first_section = text[text.index('id="list-decisions"') : text.index('id="h-infusions"')]
    assert "DISCONTINUE" in first_section
    assert "HOLD" in first_section
    assert "PROCEED" not in first_section


def test_the_worklist_says_what_needs_attention_in_words_with_the_rule_id_beside(
    signed_in: SignedIn,
) -> None:
    liver = scenario_patient("liver-elevated")
    text = signed_in(Role.NURSE).get("/").text
    row = text[text.index(f'href="/patients/{liver}"') :].split("</tr>", 1)[0]
    assert f'title="liver.elevated">{rule_title("liver.elevated")}</span>' in row
    assert rule_title("liver.elevated") != "liver.elevated"


def test_an_item_due_today_reads_due_today_not_due_soon(signed_in: SignedIn) -> None:
    text = signed_in(Role.NURSE).get("/?show=infusions").text
    today = f'<time datetime="{NOW.date().isoformat()}">'
    rows = [row for row in text.split("<tr")[1:] if today in row]
    assert rows, "no infusion due today in the web clinic"
    for row in rows:
        assert "due today</span>" in row
        assert "due soon" not in row


def test_the_worklist_search_finds_a_patient_by_mrn(signed_in: SignedIn) -> None:
    text = signed_in(Role.NURSE).get("/?q=MRN0000033").text
    assert 'href="/patients/p33"' in text
    assert 'href="/patients/p1"' not in text


def test_the_worklist_filters_by_decision_and_window(signed_in: SignedIn) -> None:
    client = signed_in(Role.NURSE)
    text = client.get("/?decision=discontinue&window=today").text
    assert "DISCONTINUE" in text
    for other in ("PROCEED</span>", "CAUTION</span>", "HOLD</span>"):
        assert other not in text
    assert "today (and overdue)</option>" in text


def test_a_nurse_forging_the_override_form_is_refused(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, f"/patients/{PEDIATRIC}")
    form = {"csrf_token": token, "rule": "population.pediatric", "reason": "forged"}
    answer = client.post(f"/patients/{PEDIATRIC}/override", data=form)
    assert answer.status_code == 403
    assert "override-finding" in answer.text
    assert web_clinic.patients.assessment(PEDIATRIC).decision.value == "hold"


def test_an_override_without_a_reason_is_refused_next_to_the_field(signed_in: SignedIn) -> None:
    client = signed_in(Role.PHYSICIAN)
    token = page_csrf(client, f"/patients/{PEDIATRIC}")
    form = {"csrf_token": token, "rule": "population.pediatric", "reason": "  "}
    answer = client.post(f"/patients/{PEDIATRIC}/override", data=form)
    assert answer.status_code == 422
    assert 'id="reason-population.pediatric-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_forms_need_the_sessions_csrf_token(signed_in: SignedIn, token: str | None) -> None:
    client = signed_in(Role.PHYSICIAN)
    form = {"rule": "population.elderly"} | ({"csrf_token": token} if token else {})
    answer = client.post("/patients/p2/acknowledge", data=form)
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_read_only_users_may_not_acknowledge(signed_in: SignedIn) -> None:
    client = signed_in(Role.READ_ONLY)
    token = page_csrf(client, "/patients/p2")
    answer = client.post(
        "/patients/p2/acknowledge", data={"csrf_token": token, "rule": "population.elderly"}
    )
    assert answer.status_code == 403
    assert "acknowledge-caution" in answer.text


def test_a_nurse_acknowledges_a_caution(signed_in: SignedIn) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p2")
    answer = client.post(
        "/patients/p2/acknowledge", data={"csrf_token": token, "rule": "population.elderly"}
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "Caution acknowledged" in page.text
    assert "web-nurse" in page.text.split("Clinicians' decisions")[1]
    assert "Acknowledged today" in page.text


def test_acknowledging_a_rule_that_does_not_fire_is_shown_as_refused(signed_in: SignedIn) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p0")
    answer = client.post(
        "/patients/p0/acknowledge", data={"csrf_token": token, "rule": "population.elderly"}
    )
    assert answer.status_code == 409
    assert "Refused:" in answer.text


def lab(token: str, **fields: str) -> dict[str, str]:
    base = {"analyte": "alt", "value": "31", "unit": "U/L", "date": "2026-11-20"}
    return {"csrf_token": token, **base, **fields}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": "abc"}, "value"),
        ({"analyte": "sodium"}, "analyte"),
        ({"unit": ""}, "unit"),
        ({"date": "2027-01-01"}, "date"),
        ({"low": "50", "high": "10"}, "high"),
        ({"unit": "furlongs"}, "unit"),  # refused by the FHIR reader on import
    ],
)
def test_lab_entry_shows_each_message_next_to_its_field(
    signed_in: SignedIn, fields: dict[str, str], field: str
) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p34")
    answer = client.post("/patients/p34/labs", data=lab(token, **fields))
    assert answer.status_code == 422
    assert f'id="lab-{field}-error"' in answer.text
    assert f'aria-describedby="lab-{field}-error"' in answer.text


def test_a_lab_result_entered_on_the_page_is_in_the_record(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p34")
    answer = client.post("/patients/p34/labs", data=lab(token, value="987", low="7", high="56"))
    assert answer.status_code == 303, answer.text
    assert "987 U/L" in client.get(answer.headers["location"]).text
    assert web_clinic.patients.assessment("p34").finding("liver.elevated") is not None


def test_pharmacists_may_read_but_not_record_lab_results(signed_in: SignedIn) -> None:
    client = signed_in(Role.PHARMACIST)
    assert "Record a lab result" not in client.get("/patients/p0").text
    token = page_csrf(client, "/patients/p0")
    answer = client.post("/patients/p0/labs", data=lab(token))
    assert answer.status_code == 403


def clinical(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, "date": "2026-11-20", **fields}


def test_a_positive_antibody_result_entered_on_the_page_asks_for_a_retest(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    assert web_clinic.patients.assessment("p35").finding("antibody.positive-unconfirmed") is None
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p35")
    answer = client.post("/patients/p35/results/antibody", data=clinical(token, result="positive"))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].endswith("#antibody-entry")
    page = client.get(answer.headers["location"]).text
    assert "Antibody result recorded" in page
    assert "anti-natalizumab antibody positive" in page
    finding = web_clinic.patients.assessment("p35").finding("antibody.positive-unconfirmed")
    assert finding is not None
    assert finding.effect.value == "caution"


def test_an_mri_read_entered_on_the_page_counts_as_disease_activity(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    client = signed_in(Role.PHYSICIAN)
    token = page_csrf(client, "/patients/p36")
    answer = client.post("/patients/p36/results/mri", data=clinical(token, gd="2", t2="0"))
    assert answer.status_code == 303, answer.text
    assessment = web_clinic.patients.assessment("p36")
    assert assessment.finding("mri.activity") is not None
    mri = next(m for m in assessment.monitoring if m.item.value == "mri")
    assert mri.last is not None
    assert mri.last.isoformat() == "2026-11-20"


def test_a_relapse_entered_on_the_page_is_in_the_assessment(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p37")
    answer = client.post("/patients/p37/results/relapse", data=clinical(token, date="2026-10-02"))
    assert answer.status_code == 303, answer.text
    finding = web_clinic.patients.assessment("p37").finding("relapse.recent")
    assert finding is not None
    assert "2026-10-02" in finding.summary


@pytest.mark.parametrize(
    ("kind", "fields", "field", "words"),
    [
        ("mri", {"gd": "", "t2": "0"}, "gd", "0 if none"),  # blank is never read as 0
        ("mri", {"gd": "1", "t2": "two"}, "t2", "not a whole number"),
        ("mri", {"gd": "-1", "t2": "0"}, "gd", "not a whole number"),
        ("mri", {"gd": "900", "t2": "0"}, "gd", "check the number"),
        ("antibody", {}, "result", "positive or negative"),  # never assumed negative
        ("antibody", {"result": "weak"}, "result", "positive or negative"),
        ("relapse", {"date": "2027-01-01"}, "date", "in the future"),
        ("relapse", {"date": "last week"}, "date", "YYYY-MM-DD"),
    ],
)
def test_clinical_entry_refuses_what_it_cannot_record_and_records_nothing(
    signed_in: SignedIn,
    web_clinic: Clinic,
    kind: str,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    before = web_clinic.patients.history_and_assessment("p38")[0]
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/patients/p38")
    answer = client.post(f"/patients/p38/results/{kind}", data=clinical(token, **fields))
    assert answer.status_code == 422
    error = rf'<p class="field-error" id="{kind}-{field}-error">([^<]*)</p>'
    message = re.search(error, answer.text)
    assert message is not None
    assert words in message.group(1)
    assert f'aria-describedby="{kind}-{field}-error"' in answer.text
    for name, value in fields.items():  # what was typed comes back
        if name != "result" and value:
            assert f'value="{value}"' in answer.text
    after = web_clinic.patients.history_and_assessment("p38")[0]
    assert after.mris(NOW) == before.mris(NOW)
    assert after.relapses(NOW) == before.relapses(NOW)


def test_only_clinicians_may_record_clinical_results(signed_in: SignedIn) -> None:
    client = signed_in(Role.PHARMACIST)
    assert "Record an antibody test" not in client.get("/patients/p0").text
    token = page_csrf(client, "/patients/p0")
    answer = client.post("/patients/p0/results/relapse", data=clinical(token))
    assert answer.status_code == 403
    nurse = signed_in(Role.NURSE)
    token = page_csrf(nurse, "/patients/p0")
    assert nurse.post("/patients/p0/results/sodium", data=clinical(token)).status_code == 404


def test_pages_carry_no_inline_script_or_style(signed_in: SignedIn) -> None:
    client = signed_in(Role.PHYSICIAN)
    for path in ("/", f"/patients/{PEDIATRIC}", "/patients/p11"):
        answer = client.get(path)
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert "<script>" not in answer.text
        assert "style=" not in answer.text
        assert answer.headers["cache-control"] == "no-store"


def test_reading_a_patient_page_is_one_audit_record(
    signed_in: SignedIn, web_security: Security
) -> None:
    """One reading, one snapshot: the version, findings and decisions shown agree."""

    def trail() -> list[tuple[str, str, str]]:
        query = AuditQuery(patient_id="p2", limit=1000)
        found = web_security.audit.records(operator("pages-test"), query)
        return [(r.actor, r.action, r.entity) for r in found]

    before = trail()
    page = signed_in(Role.PHARMACIST).get("/patients/p2")
    assert page.status_code == 200
    added = trail()[len(before) :]
    assert added == [("web-pharmacist", "read-patient-record", "Patient/p2")]


def test_reading_the_worklist_page_is_one_audit_record(
    signed_in: SignedIn, web_security: Security
) -> None:
    """Its three lists come from one snapshot: one read-worklist record naming each list."""
    reader = operator("pages-test")
    client = signed_in(Role.READ_ONLY)
    newest = web_security.audit.records(reader, AuditQuery(limit=1, newest_first=True))
    page = client.get("/")
    assert page.status_code == 200
    query = AuditQuery(actor="web-read-only", after_sequence=newest[0].sequence)
    added = [(r.action, r.entity, r.detail) for r in web_security.audit.records(reader, query)]
    assert len(added) == 1, added
    action, entity, detail = added[0]
    assert (action, entity) == ("read-worklist", "Worklist")
    assert re.fullmatch(r"worklist: \d+ rows in 3 lists \(\d+, \d+, \d+\)", detail), detail


def test_a_warning_that_does_not_stop_the_infusion_looks_unlike_good_news(
    signed_in: SignedIn,
) -> None:
    """MRI activity (effect none, severity warning) is badged WARNING, never INFO."""
    text = signed_in(Role.NURSE).get(f"/patients/{scenario_patient('mri-activity')}").text
    finding = text[text.index('id="finding-mri.activity"') :].split("</li>", 1)[0]
    assert "WARNING" in finding
    assert "INFO" not in finding
    assert "badge-warning" in finding


def test_charts_are_accessible_images_with_a_data_table(signed_in: SignedIn) -> None:
    text = signed_in(Role.NURSE).get("/patients/p11").text
    assert text.count('role="img"') == 7
    assert "3 × ULN" in text
    assert text.count("data table</summary>") == 7


def test_signing_out_ends_the_session(signed_in: SignedIn) -> None:
    client = signed_in(Role.NURSE)
    token = page_csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303


def test_the_stylesheet_and_script_are_served_from_this_origin(signed_in: SignedIn) -> None:
    client = signed_in(Role.NURSE)
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def _rows(text: str, key: str) -> list[str]:
    table = text[text.index(f'id="list-{key}"') :]
    return re.findall(r"<tr class=.*?</tr>", table[: table.index("</table>")], re.S)


def test_a_long_list_is_read_page_by_page_with_its_filters_kept(
    signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worklist_page, "SHOWN", 3)
    client = signed_in(Role.NURSE)
    home = client.get("/?window=today").text
    found = re.search(r'id="h-monitoring">[^(]*\((\d+)\)', home)
    assert found is not None
    total = int(found.group(1))
    assert total > 6  # the synthetic clinic has more monitoring due than three rows
    assert len(_rows(home, "monitoring")) == 3
    assert f"Showing 3 of {total}" in home
    assert 'href="/?window=today&amp;show=monitoring">read the whole list page by page' in home

    last = -(-total // 3)
    first = client.get("/?window=today&show=monitoring").text
    assert f"Rows 1–3 of {total} (page 1 of {last})" in first
    assert 'id="list-decisions"' not in first  # the list alone
    assert 'rel="next" href="/?window=today&amp;show=monitoring&amp;page=2"' in first
    assert 'rel="prev"' not in first
    second = client.get("/?window=today&show=monitoring&page=2").text
    assert f"Rows 4–6 of {total} (page 2 of {last})" in second
    assert 'rel="prev" href="/?window=today&amp;show=monitoring"' in second
    seen: list[str] = []
    for number in range(1, last + 1):
        seen += _rows(
            client.get(f"/?window=today&show=monitoring&page={number}").text, "monitoring"
        )
    assert len(seen) == len(set(seen)) == total  # every row once, none twice

    beyond = client.get("/?window=today&show=monitoring&page=999").text
    assert f"(page {last} of {last})" in beyond
    assert 'rel="next"' not in beyond
    assert f"(page 1 of {last})" in client.get("/?window=today&show=monitoring&page=x").text


def test_a_patient_mid_cycle_shows_the_decision_now_and_for_the_next_infusion(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    bundle = synthesize_patient(907, SEED, NOW + timedelta(days=18), ROUTINE)  # infused 10 days ago
    as_operator(web_clinic, Action.IMPORT_RECORDS).importer.one(bundle)
    text = signed_in(Role.NURSE).get("/patients/p907").text
    banner = text[
        text.index('id="decision"') : text.index("</section>", text.index('id="decision"'))
    ]
    now = banner.split('id="next-infusion"')[0]
    assert "Infusion now:" in now
    assert "HOLD" in now  # too soon for an infusion today
    assert "dosing.too-soon" in text
    due = (NOW + timedelta(days=18)).date().isoformat()
    nxt = banner.split('id="next-infusion"')[1]
    assert f"Next infusion, due {due}:" in nxt
    assert "PROCEED" in nxt
    assert "the worklist shows this decision" in nxt
    routine = signed_in(Role.NURSE).get("/patients/p0").text  # due today: one decision only
    assert 'id="next-infusion"' not in routine
