"""``/audit``: administrators read the audit trail newest first, filter it and verify its chain.

The web clinic's trail holds what the web tests did before (account creation,
sign-ins, page reads); each test here does something audited first and looks
for it. Patients read here (all synthetic, read only): p3, p4, p5.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.audit_verify import (
    AuditTrailQueries,
    BrokenLink,
    Verification,
)
from natalizumab_cds.application.security.permissions import Principal, Role, operator
from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.web import audit_page
from tests.clinic_db import NOW
from tests.security.in_process import InProcessClient
from tests.web.conftest import USERS, SignedIn

ADMIN = operator("audit-page-test")
NURSE, PHARMACIST = USERS[Role.NURSE], USERS[Role.PHARMACIST]
OTHERS = [Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST, Role.READ_ONLY]
_ROW = re.compile(r'<tr id="record-(\d+)">(.*?)</tr>', re.DOTALL)
_CELL = re.compile(r'<td data-label="([^"]+)">(.*?)</td>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_OLDER = re.compile(r'href="([^"]+)">Older records</a>')
_NEWEST = re.compile(r'href="([^"]+)">Newest records</a>')


def rows(page: str) -> list[dict[str, str]]:
    """The table's rows, each cell's text by its label (``User``: "web-nurse nurse")."""
    found = []
    for sequence, row in _ROW.findall(page):
        cells = {"sequence": sequence}
        for label, cell in _CELL.findall(row):
            cells[label] = " ".join(html.unescape(_TAG.sub(" ", cell)).split())
        found.append(cells)
    return found


def sequences(page: str) -> list[int]:
    return [int(row["sequence"]) for row in rows(page)]


def html_page(answer: httpx.Response, status: int) -> str:
    """The answer's HTML, checked to be a page (never a JSON problem) with that status."""
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


def read_patient(client: InProcessClient, patient: str) -> None:
    assert client.get(f"/patients/{patient}").status_code == 200


def test_the_trail_lists_the_newest_record_first(signed_in: SignedIn) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    read_patient(signed_in(Role.NURSE), "p3")

    page = html_page(admin.get("/audit"), 200)
    listed = rows(page)
    top = listed[0]
    assert top["User"] == f"{NURSE} nurse"
    assert (top["Action"], top["Operation"], top["Patient"]) == (
        "read-patient-record",
        "read",
        "p3",
    )
    assert (top["Entity"], top["Outcome"]) == ("Patient/p3", "success")
    numbers = sequences(page)
    assert numbers == sorted(numbers, reverse=True)
    assert len(numbers) == len(set(numbers)) <= audit_page.SHOWN
    assert 'href="/patients/' not in page  # administrators may not read patient pages
    assert any(r["Action"] == "sign-in" and r["Operation"] == "execute" for r in listed)


def test_the_recorded_time_is_shown_in_the_clinics_zone(
    signed_in: SignedIn, web_clinic: Clinic
) -> None:
    page = html_page(signed_in(Role.ADMINISTRATOR).get("/audit"), 200)
    local = NOW.astimezone(web_clinic.context.tz)
    assert rows(page)[0]["Recorded"] == local.strftime("%Y-%m-%d %H:%M:%S %Z")
    assert f"time zone, {web_clinic.context.tz}:" in page


def test_filtering_by_user_and_by_patient_narrows_the_rows(signed_in: SignedIn) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    read_patient(signed_in(Role.PHARMACIST), "p4")
    read_patient(signed_in(Role.NURSE), "p5")
    everyone = rows(admin.get("/audit").text)
    assert {r["User"].split()[0] for r in everyone} >= {NURSE, PHARMACIST}

    theirs = rows(html_page(admin.get(f"/audit?user={PHARMACIST}"), 200))
    assert theirs
    assert {r["User"] for r in theirs} == {f"{PHARMACIST} pharmacist"}
    assert theirs[0]["Patient"] == "p4"

    about = rows(html_page(admin.get("/audit?patient=p5"), 200))
    assert about
    assert {r["Patient"] for r in about} == {"p5"}
    assert about[0]["User"] == f"{NURSE} nurse"

    both = admin.get(f"/audit?patient=p5&user={PHARMACIST}")
    assert rows(html_page(both, 200)) == []
    assert "No audit record matches these filters." in both.text
    assert 'value="p5"' in both.text  # the filters stay in the form
    assert rows(admin.get("/audit?user=web-nurs").text) == []  # exact username only


def test_days_are_whole_days_in_the_clinics_zone(signed_in: SignedIn, web_clinic: Clinic) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    today = NOW.astimezone(web_clinic.context.tz).date()  # the test clinic's clock stands still
    that_day = rows(html_page(admin.get(f"/audit?from={today}&to={today}"), 200))
    assert that_day
    after = admin.get(f"/audit?from={today + timedelta(days=1)}")
    assert rows(html_page(after, 200)) == []
    assert "No audit record matches these filters." in after.text
    assert rows(admin.get(f"/audit?to={today - timedelta(days=1)}").text) == []


def test_older_records_page_back_without_a_row_twice(
    signed_in: SignedIn, web_security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_page, "SHOWN", 3)
    admin = signed_in(Role.ADMINISTRATOR)
    nurse = signed_in(Role.NURSE)
    read_patient(nurse, "p3")  # a sign-in and reads: more than two pages
    read_patient(nurse, "p4")
    expected = web_security.audit.records(ADMIN, AuditQuery(actor=NURSE, limit=1000))
    assert len(expected) > 6

    first = html_page(admin.get(f"/audit?user={NURSE}"), 200)
    assert _NEWEST.search(first) is None
    seen = sequences(first)
    assert len(seen) == 3
    link = _OLDER.search(first)
    pages = 1
    while link is not None:
        address = html.unescape(link.group(1))
        assert f"user={NURSE}" in address
        assert f"before={seen[-1]}" in address
        older = html_page(admin.get(address), 200)
        assert {r["User"] for r in rows(older)} == {f"{NURSE} nurse"}
        newest = _NEWEST.search(older)
        assert newest is not None
        assert html.unescape(newest.group(1)) == f"/audit?user={NURSE}"
        got = sequences(older)
        assert 0 < len(got) <= 3
        assert max(got) < seen[-1]  # older than every row before, so none twice
        seen += got
        pages += 1
        link = _OLDER.search(older)
    assert seen == [r.sequence for r in reversed(expected)]
    assert pages == -(-len(expected) // 3)  # the last page is not an empty one


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=24/11/2026", "from", "Give the day as YYYY-MM-DD"),
        ("to=2026-02-30", "to", "There is no day 2026-02-30."),
        ("from=2026-11-25&to=2026-11-24", "to", "This day is before the first day, 2026-11-25"),
        ("from=0001-01-01", "from", "Give a day from 1900-01-01"),
        ("from=2026-11-24T09:00", "from", "Give the day as YYYY-MM-DD"),  # FastAPI's limit
        ("patient=" + "x" * 10_000, "patient", "A patient id has at most 64 characters."),
        ("user=" + "y" * 65, "user", "A username has at most 64 characters."),
        ("patient=p%00", "patient", "A patient id has no control characters."),
    ],
)
def test_a_bad_filter_is_refused_beside_its_field(
    signed_in: SignedIn, query: str, field: str, message: str
) -> None:
    page = html_page(signed_in(Role.ADMINISTRATOR).get(f"/audit?{query}"), 422)
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert error is not None
    assert html.unescape(error.group(1)).startswith(message)
    field_input = re.search(rf'<input [^>]*id="{field}"[^>]*>', page)
    assert field_input is not None
    assert 'aria-invalid="true"' in field_input.group(0)
    assert f'aria-describedby="{field}-error' in field_input.group(0)
    assert rows(page) == []
    assert "No record is shown until the filters are corrected." in page


def test_two_wrong_filters_are_named_at_once(signed_in: SignedIn) -> None:
    page = html_page(signed_in(Role.ADMINISTRATOR).get("/audit?patient=p%01&from=soon"), 422)
    assert 'id="patient-error"' in page
    assert 'id="from-error"' in page


@pytest.mark.parametrize("before", ["0", "-1", str(2**62 + 1), "ten", "1" * 400])
def test_a_page_of_the_trail_that_cannot_exist_is_refused_in_words(
    signed_in: SignedIn, before: str
) -> None:
    page = html_page(signed_in(Role.ADMINISTRATOR).get(f"/audit?before={before}"), 422)
    assert "No such page of the trail" in page
    assert 'role="alert"' in page
    assert rows(page) == []


def test_the_oldest_page_is_reachable_by_number(signed_in: SignedIn) -> None:
    page = html_page(signed_in(Role.ADMINISTRATOR).get("/audit?before=3"), 200)
    assert sequences(page) == [2, 1]
    assert "Older records" not in page
    assert 'href="/audit">Newest records</a>' in page


def test_verifying_says_the_chain_is_intact_and_names_its_last_link(
    signed_in: SignedIn, web_security: Security
) -> None:
    admin = signed_in(Role.ADMINISTRATOR)
    assert 'action="/audit/verify"' in admin.get("/audit").text
    page = html_page(admin.get("/audit/verify"), 200)
    said = re.search(
        r'role="status" id="verification">The chain is intact: (\d+) records checked, '
        r"the last is No\. (\d+) \(hash <code>([0-9a-f]{16})</code>…\)\.",
        page,
    )
    assert said is not None, page
    checked, last, start = int(said.group(1)), int(said.group(2)), said.group(3)
    assert checked == last
    (record,) = web_security.audit.records(ADMIN, AuditQuery(after_sequence=last - 1, limit=1))
    assert record.hash.startswith(start)
    top = rows(page)[0]  # the check itself, recorded
    assert (top["Action"], top["Operation"]) == ("verify-audit", "execute")
    assert top["Detail"] == f"{checked} records checked; intact"


def test_a_broken_chain_is_an_alert_naming_the_first_broken_record(
    signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "record 12 does not match its hash: it was edited"

    def broken(self: AuditTrailQueries, actor: Principal) -> Verification:
        return Verification(11, 11, "ab" * 32, BrokenLink(12, reason))

    monkeypatch.setattr(AuditTrailQueries, "verify", broken)
    page = html_page(signed_in(Role.ADMINISTRATOR).get("/audit/verify"), 200)
    alert = re.search(
        r'<p class="notice notice-refused" role="alert" id="verification">(.*?)</p>',
        page,
        re.DOTALL,
    )
    assert alert is not None
    assert "The chain is broken at record No. 12:" in alert.group(1)
    assert reason in alert.group(1)
    assert "intact:" not in page


@pytest.mark.parametrize("path", ["/audit", "/audit/verify", "/audit?user=web-nurse"])
@pytest.mark.parametrize("role", OTHERS)
def test_no_other_role_reads_or_verifies_the_trail(
    signed_in: SignedIn, role: Role, path: str
) -> None:
    page = html_page(signed_in(role).get(path), 403)
    assert "verify-audit" in page or "read-audit" in page
    assert "<table" not in page


def test_a_refused_parameter_does_not_open_the_page_to_other_roles(signed_in: SignedIn) -> None:
    page = html_page(signed_in(Role.NURSE).get("/audit?before=0&patient=" + "x" * 100), 403)
    assert "No such page" not in page


def test_signed_out_visitors_are_sent_to_sign_in(web_app: object) -> None:
    with InProcessClient(web_app) as client:  # type: ignore[arg-type]
        answer = client.get("/audit/verify")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/audit/verify"


def test_only_the_administrators_header_links_to_the_trail(signed_in: SignedIn) -> None:
    nurse = html_page(signed_in(Role.NURSE).get("/"), 200)
    assert "Audit trail" not in nurse
    assert 'href="/audit"' not in nurse
    admin = html_page(signed_in(Role.ADMINISTRATOR).get("/audit"), 200)
    assert '<a href="/audit" aria-current="page">Audit trail</a>' in admin
