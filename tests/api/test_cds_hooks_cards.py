"""CDS Hooks over HTTP, as an EHR calls it: discovery, and the cards each hook gets back.

Synthetic patients (tests/interop/cds_hooks/hooks.py) are made so that one rule
fires at the planned infusion time; the service runs under uvicorn on loopback
and every call carries a JWT signed by the test EHR's key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from natalizumab_cds.interop.cds_hooks.discovery import PREFETCH, SERVICE_ID
from tests.fhir_models import validate_r4
from tests.interop.cds_hooks.harness import Cds, running_cds
from tests.interop.cds_hooks.hooks import (
    ANCHOR,
    a_hook_call,
    a_patient_view,
    a_record,
    an_appointment_book,
    an_order_sign,
    an_unrelated_order,
    patient_of,
)
from tests.interop.cds_hooks.signing import EhrKeys

PROFILE_TYPES = {
    "Patient",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "DetectedIssue",
}


@pytest.fixture(scope="module")
def cds() -> Iterator[Cds]:
    with running_cds(EhrKeys()) as harness:
        yield harness


def cards_for(cds: Cds, call: dict[str, Any]) -> list[dict[str, Any]]:
    response = cds.call(call)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def card_of(cards: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    return next(c for c in cards if c["source"].get("topic", {}).get("code") == rule)


def summary_of(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in cards if c["source"]["topic"]["system"].endswith("infusion-decision"))


def test_discovery_lists_the_service_for_each_hook_with_prefetch_for_every_profile_resource(
    cds: Cds,
) -> None:
    response = cds.client.get(cds.url + "/cds-services")

    assert response.status_code == 200
    services = response.json()["services"]
    hooks = {s["hook"] for s in services}
    assert hooks == {"order-sign", "patient-view", "appointment-book", "medication-prescribe"}
    assert {s["id"] for s in services} == {SERVICE_ID}
    for service in services:
        assert service["prefetch"] == PREFETCH
        queried = {
            template.split("?")[0].split("/")[0] for template in service["prefetch"].values()
        }
        assert queried == PROFILE_TYPES
    assert "code=http://loinc.org|1742-6" in services[0]["prefetch"]["observations"]


def test_discovery_marks_medication_prescribe_as_a_deprecated_alias(cds: Cds) -> None:
    services = cds.client.get(cds.url + "/cds-services").json()["services"]

    alias = next(s for s in services if s["hook"] == "medication-prescribe")
    assert alias["extension"]["natalizumab-cds.deprecated"] is True
    assert "deprecated" in alias["title"].lower()


def test_signing_an_order_for_a_child_gives_a_critical_card_naming_the_rule_and_its_basis(
    cds: Cds,
) -> None:
    cards = cards_for(cds, an_order_sign(a_record("pediatric")))

    card = card_of(cards, "population.pediatric")
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Patient under 18")
    assert len(card["summary"]) <= 140
    assert "natalizumab-institutional 2026.11.0" in card["source"]["label"]
    assert "High-Risk Populations" in card["source"]["label"]
    assert card["source"]["topic"]["system"] == "urn:natalizumab-cds:rule"
    assert "**Basis:** Protocol text, High-Risk Populations" in card["detail"]


def test_a_held_patient_gets_a_critical_summary_card_with_the_decision(cds: Cds) -> None:
    cards = cards_for(cds, an_order_sign(a_record("liver-elevated")))

    summary = summary_of(cards)
    assert cards[0] == summary
    assert summary["indicator"] == "critical"
    assert summary["summary"].startswith("Natalizumab hold")
    assert summary["source"]["topic"]["code"] == "hold"
    assert "liver.elevated" in summary["detail"]
    assert "| liver |" in summary["detail"]


def test_a_patient_with_nothing_against_the_infusion_gets_only_an_info_summary(cds: Cds) -> None:
    cards = cards_for(cds, an_order_sign(a_record("routine-proceed")))

    assert len(cards) == 1
    assert cards[0]["indicator"] == "info"
    assert cards[0]["summary"].startswith("Natalizumab proceed")


@pytest.mark.parametrize(
    ("scenario", "rule"),
    [("neutrophils-abnormal", "blood.neutrophils-abnormal"), ("elderly", "population.elderly")],
)
def test_a_caution_finding_is_a_warning_card_without_override_reasons(
    cds: Cds, scenario: str, rule: str
) -> None:
    cards = cards_for(cds, an_order_sign(a_record(scenario)))

    card = card_of(cards, rule)
    assert card["indicator"] == "warning"
    assert "overrideReasons" not in card
    assert summary_of(cards)["indicator"] == "warning"


@pytest.mark.parametrize(
    ("scenario", "rule", "overridable"),
    [
        ("pediatric", "population.pediatric", True),
        ("pregnant", "population.pregnancy", True),
        ("breastfeeding", "population.lactation", False),
        ("liver-elevated", "liver.elevated", False),
        ("active-infection", "infection.active", False),
        ("prior-reaction", "hypersensitivity.prior-reaction", False),
    ],
)
def test_override_reasons_are_offered_only_on_rules_the_catalogue_marks_overridable(
    cds: Cds, scenario: str, rule: str, overridable: bool
) -> None:
    cards = cards_for(cds, an_order_sign(a_record(scenario)))

    card = card_of(cards, rule)
    assert ("overrideReasons" in card) is overridable
    if overridable:
        codes = {reason["code"] for reason in card["overrideReasons"]}
        assert "benefit-risk-evaluated" in codes
    assert all("overrideReasons" not in c for c in cards if c is not card)


def test_an_overridden_child_is_shown_as_a_caution_with_the_override_and_no_second_override(
    cds: Cds,
) -> None:
    cards = cards_for(cds, an_order_sign(a_record("pediatric-overridden")))

    card = card_of(cards, "population.pediatric")
    assert card["indicator"] == "warning"
    assert "**Overridden** by Dr. Synthetic Neurologist" in card["detail"]
    assert "overrideReasons" not in card


def test_the_same_call_twice_gives_the_same_card_ids(cds: Cds) -> None:
    record = a_record("pregnant")

    first = [c["uuid"] for c in cards_for(cds, an_order_sign(record))]
    second = [c["uuid"] for c in cards_for(cds, an_order_sign(record))]

    assert first == second
    assert len(set(first)) == len(first)


def test_a_missing_baseline_suggests_ordering_alt_and_ast_as_service_requests(cds: Cds) -> None:
    record = a_record("new-patient-no-baseline")
    cards = cards_for(cds, an_order_sign(record))

    card = card_of(cards, "liver.baseline-missing")
    assert card["indicator"] == "critical"
    assert card["selectionBehavior"] == "any"
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is True
    resources = [action["resource"] for action in suggestion["actions"]]
    assert all(action["type"] == "create" for action in suggestion["actions"])
    assert {r["resourceType"] for r in resources} == {"ServiceRequest"}
    assert {r["code"]["coding"][0]["code"] for r in resources} == {"1742-6", "1920-8"}
    assert {r["subject"]["reference"] for r in resources} == {f"Patient/{patient_of(record)}"}
    for resource in resources:
        validate_r4(resource)


def test_a_positive_antibody_suggests_the_retest_no_earlier_than_the_persistence_gap(
    cds: Cds,
) -> None:
    cards = cards_for(cds, an_order_sign(a_record("antibody-positive")))

    card = card_of(cards, "antibody.positive-unconfirmed")
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    assert action["resource"]["code"]["coding"][0]["code"] == "anti-natalizumab-antibody"
    assert "occurrencePeriod" in action["resource"]
    validate_r4(action["resource"])
    assert suggestion["label"].startswith("Retest anti-natalizumab antibodies on or after")


def test_patient_view_shows_overdue_monitoring_as_info_cards_and_order_sign_does_not(
    cds: Cds,
) -> None:
    record = a_record("overdue-monitoring")

    viewed = cards_for(cds, a_patient_view(record))
    signed = cards_for(cds, an_order_sign(record))

    overdue = card_of(viewed, "monitoring.liver-overdue")
    assert overdue["indicator"] == "info"
    assert overdue["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "ServiceRequest"
    assert "overdue" in summary_of(viewed)["summary"]
    assert [c["uuid"] for c in signed] == [summary_of(viewed)["uuid"]]


def test_an_order_for_another_medicine_gets_no_cards(cds: Cds) -> None:
    record = a_record("pediatric")
    draft = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": an_unrelated_order(patient_of(record))}],
    }

    cards = cards_for(cds, a_hook_call("order-sign", record, context={"draftOrders": draft}))

    assert cards == []


def test_an_order_is_assessed_at_its_planned_time(cds: Cds) -> None:
    record = a_record("pediatric")  # the patient turns 18 within three years
    later = ANCHOR + timedelta(days=3 * 366)

    cards = cards_for(cds, an_order_sign(record, planned=later))

    assert later.isoformat() in summary_of(cards)["detail"]
    assert all(c["source"].get("topic", {}).get("code") != "population.pediatric" for c in cards)


def test_an_order_without_a_planned_time_is_assessed_now(cds: Cds) -> None:
    cards = cards_for(cds, an_order_sign(a_record("pediatric"), planned=None))

    assert ANCHOR.isoformat() in summary_of(cards)["detail"]
    assert card_of(cards, "population.pediatric")["indicator"] == "critical"


def test_booking_an_appointment_assesses_at_its_start(cds: Cds) -> None:
    record = a_record("too-soon")

    at_anchor = cards_for(cds, an_appointment_book(record))
    a_week_later = cards_for(cds, an_appointment_book(record, start=ANCHOR + timedelta(days=14)))

    assert card_of(at_anchor, "dosing.too-soon")["indicator"] == "critical"
    assert all(c["source"].get("topic", {}).get("code") != "dosing.too-soon" for c in a_week_later)


def test_the_deprecated_medication_prescribe_hook_answers_as_order_sign(cds: Cds) -> None:
    record = a_record("pregnant")
    signed = an_order_sign(record)
    prescribed = a_hook_call(
        "medication-prescribe", record, context={"medications": signed["context"]["draftOrders"]}
    )

    assert cards_for(cds, prescribed) == cards_for(cds, signed)


def test_a_chart_opened_between_infusions_is_assessed_for_the_next_one(cds: Cds) -> None:
    """Not "on hold: too soon" on every chart opened mid-cycle: "fine for the next one"."""
    record = a_record("too-soon")

    ordered_now = cards_for(cds, an_order_sign(record, planned=None))
    opened = cards_for(cds, a_patient_view(record))

    assert card_of(ordered_now, "dosing.too-soon")["indicator"] == "critical"
    assert all(c["source"].get("topic", {}).get("code") != "dosing.too-soon" for c in opened)
    found = re.search(r"assessed at (\S+)", summary_of(opened)["detail"])
    assert found is not None
    assessed = datetime.fromisoformat(found.group(1))
    assert ANCHOR + timedelta(days=1) <= assessed <= ANCHOR + timedelta(days=28)
    assert assessed.time() == ANCHOR.time()  # the due date, at the time of the call
