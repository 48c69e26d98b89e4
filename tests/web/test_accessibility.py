"""Every page through axe-core (the accessibility engine) in headless Chromium.

axe-core comes with the ``axe-playwright-python`` test dependency (no download
at run time); it is injected into each page as the real server answered it and
run with its WCAG 2.0 / 2.1 / 2.2 A and AA rules plus its best practices. Any
violation fails the test with the rule, its impact and the elements it found.
Pages are read as the people who use them: the worklist, a patient with a hold
and charts, the infusion day, a visit's forms as the nurse and the pharmacist
(also with a refusal beside a form), the reaction form, the antibody / MRI /
relapse forms with a refusal, the lab messages not filed, the safety report,
the administrator's accounts page (with a refusal and a new token) and the
sign-in page. Patients
(synthetic): p33 pediatric (read only), p913 (this module's own visit), p914
(gets an MRI read).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.bootstrap import lab_feed
from tests.interop.hl7v2.messages import an_obx, an_oru
from tests.web.conftest import USERS, scenario_patient, sign_in_page
from tests.web.test_infusion_day_browser import open_and_clear
from tests.web.visit_flow import own_patient

pytestmark = pytest.mark.browser
PEDIATRIC = scenario_patient("pediatric", 1)
#: WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices.
RULES = {
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22aa",
            "best-practice",
        ],
    },
    "resultTypes": ["violations"],
}


def violations(page: Any) -> list[str]:
    """What axe finds wrong on the page as it stands: one line per rule and element."""
    found = Axe().run(page, options=RULES).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}"
        for v in found
        for node in v["nodes"]
    ]


def accessible(page: Any, path: str) -> None:
    page.goto(path)
    assert violations(page) == [], path


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (Role.NURSE, ["/", "/?window=today&show=monitoring", "/infusion-day"]),
        (Role.PHYSICIAN, [f"/patients/{PEDIATRIC}", "/safety-report"]),
        (Role.PHARMACIST, ["/", f"/patients/{PEDIATRIC}"]),
    ],
)
def test_reading_pages_have_no_accessibility_violations(
    page: Any, role: Role, paths: list[str]
) -> None:
    sign_in_page(page, role)
    for path in paths:
        accessible(page, path)


def test_the_error_pages_have_no_violations(page: Any) -> None:
    """What a person sees when something is wrong: an unknown address, a refused value."""
    accessible(page, "/no-such-page")  # signed out
    sign_in_page(page, Role.NURSE)
    for path in ("/no-such-page", "/?q=" + "x" * 201):
        accessible(page, path)
    assert "longer than 200 characters" in page.content()


def test_the_sign_in_page_and_its_refusal_have_no_violations(page: Any) -> None:
    accessible(page, "/login")
    page.get_by_label("Username").fill(USERS[Role.NURSE])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong password" in page.content()
    assert violations(page) == []


def test_a_visits_forms_and_refusals_have_no_violations(
    page: Any, browser: Any, live_server: str, web_clinic: Clinic
) -> None:
    visit = open_and_clear(page, own_patient(web_clinic, 913))
    assert violations(page) == []  # the nurse's view: steps so far, the forms left
    page.goto(f"{visit}/reaction")
    assert violations(page) == []
    context = browser.new_context(base_url=live_server)
    pharmacy = context.new_page()
    try:
        sign_in_page(pharmacy, Role.PHARMACIST, next_=visit)
        assert violations(pharmacy) == []  # the preparation form and its co-signature
        pharmacy.get_by_label("Vial lot").fill("NTZ24A117")
        pharmacy.get_by_label("Vial expiry date").fill("2027-06-30")
        pharmacy.get_by_label("Their username").fill(USERS[Role.NURSE])
        pharmacy.get_by_label("Their password").fill("not the nurse's password")
        pharmacy.get_by_role("button", name="Record preparation").click()
        assert re.search("second person was not accepted", pharmacy.content())
        assert violations(pharmacy) == []  # the refusal beside the form
    finally:
        context.close()


def test_recording_an_mri_read_in_the_browser_refusal_first(page: Any, web_clinic: Clinic) -> None:
    patient = own_patient(web_clinic, 914)
    sign_in_page(page, Role.PHYSICIAN, next_=f"/patients/{patient}")
    form = page.locator("#mri-entry")
    form.get_by_label("Scan date").fill("2026-11-02")
    form.get_by_label("New or enlarging T2 lesions").fill("3")
    form.get_by_role("button", name="Record MRI read").click()
    gd = page.locator("#mri-entry").get_by_label("Gadolinium-enhancing lesions")
    assert gd.get_attribute("aria-invalid") == "true"
    assert "0 if none" in page.locator("#mri-gd-error").inner_text()
    assert violations(page) == []  # the refusal beside the field
    assert page.locator("#mri-entry").get_by_label("Scan date").input_value() == "2026-11-02"
    gd.fill("0")
    page.locator("#mri-entry").get_by_role("button", name="Record MRI read").click()
    page.wait_for_url(re.compile(f"/patients/{patient}[?]done=mri"))
    assert "MRI read recorded" in page.content()
    assert "mri.activity" in page.content()  # 3 new T2 lesions: disease activity
    assert violations(page) == []


def test_resolving_an_unfiled_lab_message_in_the_browser(page: Any, web_clinic: Clinic) -> None:
    message = an_oru("SYN-AXE-1", mrn="MRN0009998", results=[an_obx(1, value="160")])
    letter = lab_feed(web_clinic).receive_lab_message(message).dead_letter
    assert letter is not None
    sign_in_page(page, Role.NURSE)
    page.get_by_role("link", name="review and resolve").click()
    page.wait_for_url(re.compile("/lab-messages$"))
    assert violations(page) == []
    row = page.locator(f"#letter-{letter}")
    row.get_by_text("Message as received").click()
    assert "OBX|1|NM|1742-6" in row.locator("pre").inner_text()
    row.get_by_label("Reason to discard").fill("test message from the new analyser")
    row.get_by_role("button", name=f"Discard message {letter}").click()
    page.wait_for_url(re.compile(f"discarded={letter}"))
    assert "stays on file with the reason" in page.content()
    assert violations(page) == []


def test_managing_accounts_and_tokens_in_the_browser(page: Any) -> None:
    sign_in_page(page, Role.ADMINISTRATOR, next_="/accounts")  # the administrator's home
    assert violations(page) == []
    form = page.locator("#add-account")
    form.get_by_label("Username").fill("axe-nurse")
    form.get_by_label("First password (at least 12 characters)").fill("a long enough passphrase")
    form.get_by_label("The same again").fill("a long enough passphrase!")
    form.get_by_role("button", name="Add the account").click()
    again = page.locator("#add-account").get_by_label("The same again")
    assert again.get_attribute("aria-invalid") == "true"
    assert page.locator("#add-account").get_by_label("Username").input_value() == "axe-nurse"
    assert violations(page) == []  # the refusal beside the field
    form = page.locator("#add-account")
    form.get_by_label("First password (at least 12 characters)").fill("a long enough passphrase")
    form.get_by_label("The same again").fill("a long enough passphrase")
    form.get_by_role("radio", name="nurse").check()
    form.get_by_role("button", name="Add the account").click()
    page.wait_for_url(re.compile("done=added"))
    assert page.locator("#account-axe-nurse").is_visible()
    token = page.locator("#new-token")
    token.get_by_label("Acts as").select_option("axe-nurse")
    token.get_by_label("Which system uses it").fill("axe lab interface")
    token.get_by_role("button", name="Issue the token").click()
    assert page.locator("#issued-secret").input_value().startswith("ntz_")
    assert violations(page) == []


def test_the_check_itself_finds_a_violation(page: Any) -> None:
    """Guards the harness: axe really runs in these pages (a blocked script would pass all)."""
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert any(line.startswith("image-alt (critical)") for line in violations(page))
