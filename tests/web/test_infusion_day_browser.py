"""Infusion day in headless Chromium: a nurse and a pharmacist take a visit through its forms.

Patients p911 and p912 are this module's own (synthetic, routine). The server's
clock is moved forward (``pass_time``) so the hour of infusion and the hour of
observation pass without waiting; the forms' explicit times do the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Role
from tests.clinic_db import NOW
from tests.web.conftest import PASSWORD, SCREENSHOTS, USERS, VIEWPORT, sign_in_page
from tests.web.visit_flow import clock_at, local_input, own_patient, pass_time

pytestmark = pytest.mark.browser
QUESTIONS = 5


@pytest.fixture
def pharmacy(browser: Any, live_server: str) -> Iterator[Any]:
    """A second browser (the pharmacy's workstation)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def open_and_clear(page: Any, patient: str) -> str:
    sign_in_page(page, Role.NURSE, next_="/infusion-day")
    page.get_by_label("Patient id").fill(patient)
    page.get_by_role("button", name="Open visit").click()
    page.wait_for_url(re.compile(r"/visits/visit-[0-9a-f]+$"))
    questions = page.locator("fieldset.question")
    assert questions.count() == QUESTIONS
    for index in range(QUESTIONS):
        radios = questions.nth(index).locator("input[type=radio]")
        assert not radios.nth(0).is_checked()
        assert not radios.nth(1).is_checked()
        questions.nth(index).get_by_label("No").check()
    page.get_by_role("button", name="Record screening").click()
    page.get_by_role("button", name="Clear for infusion").click()
    assert "no concerns" in page.locator("#steps").inner_text()
    found = re.search(r"/visits/visit-[0-9a-f]+", page.url)
    assert found is not None
    return found.group(0)


def prepare(pharmacy: Any, visit_path: str) -> None:
    sign_in_page(pharmacy, Role.PHARMACIST, next_=visit_path)
    pharmacy.get_by_label("Vial lot").fill("NTZ24A117")
    pharmacy.get_by_label("Vial expiry date").fill("2027-06-30")
    pharmacy.get_by_label("Diluted at").fill(local_input(NOW - timedelta(minutes=10)))
    pharmacy.get_by_label("Their username").fill(USERS[Role.NURSE])
    pharmacy.get_by_label("Their password").fill("not the nurse's password")
    pharmacy.get_by_role("button", name="Record preparation").click()
    refusal = pharmacy.locator("#refusal-preparation").inner_text()
    assert "the second person was not accepted" in refusal  # and no bag recorded:
    assert not pharmacy.locator("#bag-clock").count()
    assert pharmacy.get_by_label("Vial lot").input_value() == "NTZ24A117"  # the form is kept,
    assert pharmacy.get_by_label("Their password").input_value() == ""  # never the password
    pharmacy.get_by_label("Their password").fill(PASSWORD)  # the nurse signs at the pharmacy
    pharmacy.get_by_role("button", name="Record preparation").click()
    clock = pharmacy.locator("#bag-clock")
    assert "Bag usable until 2026-11-24 16:50" in clock.inner_text()


def start(page: Any, visit: str) -> None:
    page.goto(visit)
    page.get_by_label("Pump rate (mL/h)").fill("150")
    page.get_by_role("button", name="Start infusion").click()
    refusal = page.locator("#refusal-start")
    assert "administration.too-fast" in refusal.inner_text()  # beside the form, rule id shown
    page.get_by_label("Pump rate (mL/h)").fill("100")
    page.get_by_role("button", name="Start infusion").click()
    assert page.locator("#visit-state").inner_text() == "INFUSING"
    assert page.locator("#reaction-button").is_visible()


def test_an_infusion_runs_from_screening_to_discharge(
    page: Any, pharmacy: Any, web_clinic: Clinic
) -> None:
    visit = open_and_clear(page, own_patient(web_clinic, 911))
    prepare(pharmacy, visit)
    with clock_at(web_clinic) as clock:
        start(page, visit)
        pass_time(clock, NOW + timedelta(minutes=70), lambda: page.goto(visit))
        page.get_by_label("Ended at (blank: now)").fill(local_input(NOW + timedelta(minutes=65)))
        page.get_by_role("button", name="End infusion").click()
        assert page.locator("#visit-state").inner_text() == "OBSERVING"
        observation = page.locator("#observation-clock").inner_text()
        assert "55 min remaining until discharge is allowed" in observation
        assert page.locator("#reaction-button").is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "infusion-day.png"))
        page.get_by_role("button", name="Discharge").click()
        assert "observation.incomplete" in page.locator("#refusal-discharge").inner_text()
        pass_time(clock, NOW + timedelta(minutes=130), lambda: page.goto(visit))
        page.get_by_role("button", name="Discharge").click()
        assert page.locator("#visit-state").inner_text() == "DISCHARGED"
        assert not page.locator("#reaction-button").count()


def test_a_reaction_is_recorded_and_the_patient_turns_to_discontinue(
    page: Any, pharmacy: Any, web_clinic: Clinic
) -> None:
    patient = own_patient(web_clinic, 912)
    visit = open_and_clear(page, patient)
    prepare(pharmacy, visit)
    with clock_at(web_clinic) as clock:
        start(page, visit)
        pass_time(clock, NOW + timedelta(minutes=15), lambda: page.goto(visit))
        page.locator("#reaction-button").click()
        page.wait_for_url(re.compile(r"/reaction$"))
        page.get_by_label("urticaria").check()
        page.get_by_label("hypotension").check()
        page.get_by_label("severe", exact=True).check()
        page.get_by_label("Treatment given").fill("infusion stopped; adrenaline 0.5 mg IM")
        page.get_by_role("button", name="Record reaction").click()
        page.wait_for_url(re.compile(r"/visits/visit-[0-9a-f]+$"))
        assert page.locator("#visit-state").inner_text() == "STOPPED-FOR-REACTION"
        page.goto(f"/patients/{patient}")
        assert "DISCONTINUE" in page.locator("#decision").inner_text()
