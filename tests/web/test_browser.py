"""The clinician web app in headless Chromium, against the real server.

Patients (all synthetic): p1 pediatric (overridden by the physician test),
p33 pediatric (only read), p11 liver-elevated hold, p0 routine.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from tests.web.conftest import SCREENSHOTS, scenario_patient, sign_in_page

pytestmark = pytest.mark.browser
OVERRIDDEN = scenario_patient("pediatric", 0)
PEDIATRIC_READ_ONLY = scenario_patient("pediatric", 1)
LIVER = scenario_patient("liver-elevated", 0)


def test_a_nurse_signs_in_and_finds_a_patient_from_the_worklist(
    page: Any, web_clinic: Clinic
) -> None:
    page.goto("/")
    assert "/login?next=/" in page.url  # signed out: sent to sign in first
    sign_in_page(page, Role.NURSE)
    assert page.get_by_role("heading", name=re.compile("Worklist")).is_visible()
    assert page.get_by_text("web-nurse").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "worklist.png"))

    entry, _ = web_clinic.patients.patient(LIVER)
    page.get_by_label("Search by name or MRN").fill(entry.name.split()[-1])
    page.get_by_role("button", name="Apply").click()
    holds = page.locator("#list-decisions")
    holds.get_by_role("link", name=entry.name).click()
    page.wait_for_url(re.compile(f"/patients/{LIVER}$"))
    assert page.get_by_role("heading", level=1).inner_text() == entry.name


def test_a_clinician_reads_why_an_infusion_is_held(page: Any) -> None:
    sign_in_page(page, Role.PHARMACIST, next_=f"/patients/{LIVER}")
    banner = page.locator("#decision")
    assert "HOLD" in banner.inner_text()  # the word, not only the colour
    finding = page.locator("#finding-liver\\.elevated")
    assert "liver.elevated" in finding.inner_text()
    assert re.search(r"\d", finding.locator(".finding-summary").inner_text())  # values and dates
    quote = finding.locator("details.protocol-text blockquote")
    assert not quote.is_visible()
    finding.get_by_text("Protocol text for liver.elevated").click()  # one click
    assert quote.is_visible()
    assert "upper limit of normal" in quote.inner_text()
    finding.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "patient.png"))


def test_a_nurse_is_refused_a_physician_only_override(page: Any, web_clinic: Clinic) -> None:
    sign_in_page(page, Role.NURSE, next_=f"/patients/{PEDIATRIC_READ_ONLY}")
    finding = page.locator("#finding-population\\.pediatric")
    assert "only a physician may override" in finding.inner_text()
    assert finding.get_by_role("button", name=re.compile("Override")).count() == 0

    # A forged form, posted from the nurse's own signed-in page, is refused by the server.
    page.evaluate(
        """(patient) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = `/patients/${patient}/override`;
            const token = document.querySelector('input[name="csrf_token"]').value;
            for (const [name, value] of Object.entries({csrf_token: token,
                    rule: "population.pediatric", reason: "forged by a test"})) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.append(input);
            }
            document.body.append(form);
            form.submit();
        }""",
        PEDIATRIC_READ_ONLY,
    )
    page.wait_for_load_state()
    refusal = page.get_by_role("alert")
    assert "Refused" in refusal.inner_text()
    assert "override-finding" in refusal.inner_text()
    assert web_clinic.patients.assessment(PEDIATRIC_READ_ONLY).decision.value == "hold"


def test_a_physician_overrides_a_pediatric_hold_and_it_stays_visible(page: Any) -> None:
    sign_in_page(page, Role.PHYSICIAN, next_=f"/patients/{OVERRIDDEN}")
    finding = page.locator("#finding-population\\.pediatric")
    assert "HOLD" in page.locator("#decision").inner_text()
    reason = finding.get_by_label(re.compile("Reason for overriding"))
    reason.fill("Weight-based dosing agreed with paediatric neurology; benefits outweigh risks.")
    finding.get_by_role("button", name="Override population.pediatric").click()
    page.wait_for_url(re.compile(r"done=overridden"))
    assert "Override recorded" in page.get_by_role("status").inner_text()
    finding = page.locator("#finding-population\\.pediatric")
    text = finding.inner_text()
    assert "Overridden (was HOLD) by web-physician" in text
    assert "paediatric neurology" in text
    assert "CAUTION" in page.locator("#decision").inner_text()


def test_lab_entry_shows_the_validation_message_next_to_the_field(page: Any) -> None:
    sign_in_page(page, Role.NURSE, next_="/patients/p0")
    form = page.locator("#lab-entry")
    form.get_by_label("Test").select_option("alt")
    form.get_by_label("Value").fill("twelve")
    form.get_by_label("Unit").fill("U/L")
    form.get_by_role("button", name="Record result").click()
    page.wait_for_load_state()
    value = page.locator("#lab-value")
    assert value.get_attribute("aria-invalid") == "true"
    message = page.locator("#lab-value-error")
    assert "is not a number" in message.inner_text()
    field = page.locator(".field", has=value)
    assert field.locator(".field-error").inner_text() == message.inner_text()  # next to it
    page.wait_for_function("document.activeElement.id === 'lab-value'")  # focus sent there


def test_keyboard_users_can_skip_to_the_content(page: Any) -> None:
    sign_in_page(page, Role.NURSE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_worklist_fits_a_tablet(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, base_url=live_server)
    tab = context.new_page()
    try:
        sign_in_page(tab, Role.NURSE)
        overflow = tab.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
    finally:
        context.close()


def test_on_a_phone_the_worklist_fits_the_screen(page: Any) -> None:
    """390 px wide: every list row stacks and wraps; nothing needs scrolling sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_page(page, Role.NURSE)
    cells = page.locator("#list-decisions td[data-label='Needs attention']")
    assert cells.count() > 0
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main td, main .table-wrap')]
              .filter(e => e.scrollWidth > e.clientWidth + 1).length"""
    )
    assert overflowing == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
