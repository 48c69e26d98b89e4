"""The synthetic record generator: deterministic, valid FHIR, faithful scenarios.

These tests read the generated Bundles directly (no reader, no rules): they check
the facts each scenario promises, so a rule test can rely on them.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from natalizumab_cds.domain.protocol import add_months
from natalizumab_cds.interop.fhir.synthetic import (
    ROUTINE,
    SCENARIO_DECISIONS,
    SCENARIO_RULES,
    SCENARIO_SYSTEM,
    SCENARIOS,
    choose_scenario,
    demo_clinic,
    synthesize,
    synthesize_patient,
    ten_year_patient,
)
from tests.fhir_models import validate_r4_and_r4b

ANCHOR = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = ANCHOR.date()
JSON = dict[str, Any]
DATE_KEYS = ("DateTime", "Date", "start", "end", "onset", "date", "timestamp")


# --- helpers ------------------------------------------------------------------


def resources(bundle: JSON, kind: str) -> list[JSON]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def code_of(resource: JSON) -> str:
    code: str = resource["code"]["coding"][0]["code"]
    return code


def when(resource: JSON) -> datetime:
    return datetime.fromisoformat(resource["effectiveDateTime"])


def observations(bundle: JSON, code: str) -> list[JSON]:
    found = [o for o in resources(bundle, "Observation") if code_of(o) == code]
    return sorted(found, key=when)


def latest(bundle: JSON, code: str) -> JSON:
    return observations(bundle, code)[-1]


def value(observation: JSON) -> float:
    number: float = observation["valueQuantity"]["value"]
    return number


def days_before_anchor(observation: JSON, anchor: datetime = ANCHOR) -> int:
    return (anchor.date() - when(observation).date()).days


def infusion_starts(bundle: JSON) -> list[datetime]:
    return sorted(
        datetime.fromisoformat(r["effectivePeriod"]["start"])
        for r in resources(bundle, "MedicationAdministration")
    )


def age_on(bundle: JSON, day: date) -> int:
    (patient,) = resources(bundle, "Patient")
    born = date.fromisoformat(patient["birthDate"])
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def dated_values(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string) in the JSON whose key names a date or date-time."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from dated_values(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from dated_values(child, key)
    elif isinstance(node, str) and key.endswith(DATE_KEYS):
        yield key, node


def scenario(name: str, years: float | None = None, index: int = 3, seed: int = 11) -> JSON:
    return synthesize_patient(index, seed, ANCHOR, name, years)


# --- determinism --------------------------------------------------------------


@pytest.mark.parametrize("name", [ROUTINE, "restart-after-gap", "pediatric-overridden", None])
def test_same_arguments_give_byte_identical_json(name: str | None) -> None:
    first = json.dumps(synthesize_patient(5, 42, ANCHOR, name, None))
    second = json.dumps(synthesize_patient(5, 42, ANCHOR, name, None))
    assert first == second


def test_a_different_seed_or_index_gives_a_different_record() -> None:
    base = json.dumps(synthesize_patient(5, 42, ANCHOR, ROUTINE))
    assert json.dumps(synthesize_patient(5, 43, ANCHOR, ROUTINE)) != base
    assert json.dumps(synthesize_patient(6, 42, ANCHOR, ROUTINE)) != base


def test_a_naive_anchor_is_utc_and_microseconds_are_ignored() -> None:
    naive = datetime(2026, 11, 24, 9, 0)
    precise = ANCHOR.replace(microsecond=123456)
    expected = json.dumps(synthesize_patient(2, 1, ANCHOR, ROUTINE))
    assert json.dumps(synthesize_patient(2, 1, naive, ROUTINE)) == expected
    assert json.dumps(synthesize_patient(2, 1, precise, ROUTINE)) == expected


def test_synthesize_yields_one_bundle_per_index() -> None:
    bundles = list(synthesize(4, 9, ANCHOR))
    assert [resources(b, "Patient")[0]["id"] for b in bundles] == ["p0", "p1", "p2", "p3"]
    assert json.dumps(bundles[2]) == json.dumps(synthesize_patient(2, 9, ANCHOR))


# --- scenario choice ----------------------------------------------------------


def test_the_first_indexes_cover_every_scenario_and_most_later_ones_are_routine() -> None:
    first = [choose_scenario(i, 7) for i in range(len(SCENARIOS))]
    assert sorted(first) == sorted(SCENARIOS)
    later = Counter(choose_scenario(i, 7) for i in range(len(SCENARIOS), 2000))
    assert 0.6 < later[ROUTINE] / later.total() < 0.8
    assert set(later) == set(SCENARIOS)


def test_every_scenario_declares_its_rules_and_decision() -> None:
    assert SCENARIOS[0] == ROUTINE
    assert len(set(SCENARIOS)) == len(SCENARIOS)
    assert set(SCENARIO_RULES) == set(SCENARIOS) == set(SCENARIO_DECISIONS)
    assert set(SCENARIO_DECISIONS.values()) <= {"proceed", "caution", "hold", "discontinue"}


def test_an_unknown_scenario_or_negative_years_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        synthesize_patient(0, 1, ANCHOR, "no-such-thing")
    with pytest.raises(ValueError, match="years"):
        synthesize_patient(0, 1, ANCHOR, ROUTINE, years=-1)


# --- valid FHIR ---------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_is_a_valid_r4_bundle(name: str) -> None:
    bundle = scenario(name, years=1.0)
    assert validate_r4_and_r4b(bundle).type == "collection"
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    assert all(
        e["fullUrl"].endswith(f"/{kind}/{rid}")
        for e, (kind, rid) in zip(bundle["entry"], ids, strict=True)
    )
    tags = {(t["system"], t["code"]) for t in bundle["meta"]["tag"]}
    assert (SCENARIO_SYSTEM, name) in tags


@pytest.mark.parametrize("name", [ROUTINE, "overdue-mri", "edss-worsening"])
def test_a_long_history_validates(name: str) -> None:
    validate_r4_and_r4b(scenario(name, years=8.0))


def test_the_patient_is_identified_and_marked_synthetic() -> None:
    (patient,) = resources(synthesize_patient(12, 3, ANCHOR, ROUTINE), "Patient")
    assert patient["id"] == "p12"
    (mrn,) = patient["identifier"]
    assert mrn["value"] == "MRN0000012"
    assert mrn["type"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
        "code": "MR",
        "display": "Medical record number",
    }
    assert {"urn:natalizumab-cds:local": "synthetic"}.items() <= {
        t["system"]: t["code"] for t in patient["meta"]["tag"]
    }.items()
    assert patient["gender"] in ("female", "male")
    assert patient["name"][0]["family"]


@pytest.mark.parametrize(
    "anchor",
    [
        ANCHOR,
        datetime(2024, 2, 29, 0, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_nothing_is_dated_after_the_anchor(anchor: datetime) -> None:
    for index, name in enumerate(SCENARIOS):
        bundle = synthesize_patient(index, 5, anchor, name)
        for key, text in dated_values(bundle):
            if key == "birthDate":
                assert date.fromisoformat(text) <= anchor.astimezone(UTC).date()
                continue
            moment = datetime.fromisoformat(text)
            assert moment.tzinfo is not None, (name, key, text)
            assert text.endswith("+00:00"), (name, key, text)
            assert moment <= anchor, (name, key, text)


def test_the_demo_clinic_is_spread_over_the_cycle_and_never_dated_after_now() -> None:
    """A 300-patient clinic has about 11 infusions a day, not a third of it today."""
    bundles = list(demo_clinic(300, 2026, ANCHOR))
    due_on = Counter()
    for index, bundle in enumerate(bundles):
        assert bundle["timestamp"] == "2026-11-24T09:00:00+00:00"
        for key, text in dated_values(bundle["entry"]):
            if key != "birthDate":
                assert datetime.fromisoformat(text) <= ANCHOR, (index, key, text)
        if starts := infusion_starts(bundle):  # a new patient has none yet
            due_on[max(starts[-1].date() + timedelta(days=28), TODAY)] += 1
    first_of_each = len(SCENARIOS)  # each kind of finding today, on the infusion day
    assert due_on[TODAY] <= first_of_each + 15
    assert max(count for day, count in due_on.items() if day > TODAY) <= 20
    assert len([day for day in due_on if TODAY < day < TODAY + timedelta(days=28)]) == 27


# --- routine patients ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_a_routine_patient_is_well_monitored_with_results_in_range(seed: int) -> None:
    bundle = synthesize_patient(seed, seed, ANCHOR, ROUTINE)
    assert 25 <= age_on(bundle, TODAY) <= 60
    starts = infusion_starts(bundle)
    assert (TODAY - starts[-1].date()).days == 28
    assert all((b.date() - a.date()).days == 28 for a, b in itertools.pairwise(starts))
    for code in ("1742-6", "1920-8", "751-8", "731-0", "742-7", "777-3"):
        assert days_before_anchor(latest(bundle, code)) <= 61
    assert days_before_anchor(latest(bundle, "3016-3")) <= 150
    assert days_before_anchor(latest(bundle, "anti-natalizumab-antibody")) <= 70
    assert days_before_anchor(latest(bundle, "mri-brain")) <= 335
    assert days_before_anchor(latest(bundle, "edss")) <= 150
    for obs in resources(bundle, "Observation"):
        ranges = obs.get("referenceRange")
        if ranges:
            assert ranges[0]["low"]["value"] <= value(obs) <= ranges[0]["high"]["value"]
        assert obs["status"] == "final"
    answers = {
        o["valueCodeableConcept"]["coding"][0]["code"]
        for o in observations(bundle, "anti-natalizumab-antibody")
    }
    assert answers == {"260385009"}
    assert not [o for o in observations(bundle, "ms-relapse") if days_before_anchor(o) <= 366]


def test_an_infusion_lasts_an_hour_or_more_at_300_mg() -> None:
    for admin in resources(scenario(ROUTINE, years=2.0), "MedicationAdministration"):
        period = admin["effectivePeriod"]
        minutes = (
            datetime.fromisoformat(period["end"]) - datetime.fromisoformat(period["start"])
        ).total_seconds() / 60
        assert 60 <= minutes <= 75
        assert admin["status"] == "completed"
        assert admin["medicationCodeableConcept"]["coding"][0]["code"] == "354770"
        assert admin["dosage"]["dose"]["value"] == 300


def test_the_ten_year_patient_is_big_and_routine() -> None:
    bundle = ten_year_patient(1, ANCHOR)
    assert 125 <= len(resources(bundle, "MedicationAdministration")) <= 135
    assert 550 <= len(resources(bundle, "Observation")) <= 700
    starts = infusion_starts(bundle)
    assert (TODAY - starts[0].date()).days >= 9.9 * 365


# --- scenario facts -----------------------------------------------------------


def test_ages() -> None:
    assert age_on(scenario("pediatric"), TODAY) == 16
    assert age_on(scenario("pediatric-overridden"), TODAY) == 16
    assert age_on(scenario("elderly"), TODAY) == 70


def test_pregnancy_and_breastfeeding() -> None:
    pregnancy = latest(scenario("pregnant"), "82810-3")
    assert pregnancy["valueCodeableConcept"]["coding"][0]["code"] == "77386006"
    assert latest(scenario("breastfeeding"), "63895-7")["valueBoolean"] is True
    for name in ("pregnant", "breastfeeding"):
        assert resources(scenario(name), "Patient")[0]["gender"] == "female"


def test_prior_reaction_is_a_confirmed_natalizumab_allergy() -> None:
    (allergy,) = resources(scenario("prior-reaction"), "AllergyIntolerance")
    assert allergy["code"]["coding"][0]["code"] == "354770"
    assert allergy["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "126485001"


def test_concurrent_azathioprine_is_active_with_no_end() -> None:
    (statement,) = resources(scenario("concurrent-immunosuppressant"), "MedicationStatement")
    assert statement["status"] == "active"
    assert statement["medicationCodeableConcept"]["coding"][0]["code"] == "1256"
    assert "end" not in statement["effectivePeriod"]
    assert datetime.fromisoformat(statement["effectivePeriod"]["start"]) < ANCHOR


def test_infections() -> None:
    (active,) = resources(scenario("active-infection"), "Condition")
    assert code_of(active) == "233604007"
    assert active["clinicalStatus"]["coding"][0]["code"] == "active"
    assert datetime.fromisoformat(active["onsetDateTime"]) == ANCHOR - timedelta(days=5)
    (pml,) = resources(scenario("opportunistic-infection"), "Condition")
    assert code_of(pml) == "22255007"
    assert pml["clinicalStatus"]["coding"][0]["code"] == "resolved"


def test_pml_screening_answer_is_today_an_hour_before() -> None:
    answer = latest(scenario("pml-symptoms-screening"), "screen-new-neurological-symptoms")
    assert answer["valueBoolean"] is True
    assert when(answer) == ANCHOR - timedelta(hours=1)


def test_a_new_patient_has_no_infusion_and_no_liver_tests() -> None:
    bundle = scenario("new-patient-no-baseline")
    assert not resources(bundle, "MedicationAdministration")
    assert not observations(bundle, "1742-6")
    assert not observations(bundle, "1920-8")


@pytest.mark.parametrize(
    ("name", "code", "number", "high"),
    [
        ("liver-elevated", "1742-6", 150, 40),
        ("neutrophils-abnormal", "751-8", 0.9, 7.0),
        ("lymphocytes-raised", "731-0", 5.2, 4.0),
        ("platelets-low", "777-3", 90, 400),
        ("thyroid-abnormal", "3016-3", 8.5, 4.0),
    ],
)
def test_the_latest_result_is_abnormal(name: str, code: str, number: float, high: float) -> None:
    bundle = scenario(name)
    result = latest(bundle, code)
    assert value(result) == number
    assert result["referenceRange"][0]["high"]["value"] == high
    earlier = observations(bundle, code)[:-1]
    assert all(value(o) <= o["referenceRange"][0]["high"]["value"] for o in earlier)


def test_antibodies() -> None:
    def answers(name: str) -> list[str]:
        found = observations(scenario(name), "anti-natalizumab-antibody")
        return [o["valueCodeableConcept"]["coding"][0]["code"] for o in found]

    positive, negative = "10828004", "260385009"
    assert answers("antibody-positive")[-2:] == [negative, positive]
    persistent = observations(scenario("antibody-persistent"), "anti-natalizumab-antibody")
    assert answers("antibody-persistent")[-3:] == [negative, positive, positive]
    assert (when(persistent[-1]) - when(persistent[-2])).days >= 42
    assert value(latest(scenario("low-drug-level"), "natalizumab-concentration")) == 0.6


def test_dosing_scenarios() -> None:
    assert (TODAY - infusion_starts(scenario("too-soon"))[-1].date()).days == 14
    restart = infusion_starts(scenario("restart-after-gap"))
    assert len(restart) == 2
    assert restart[-1].date() == add_months(TODAY, -4)
    assert (TODAY - infusion_starts(scenario("overdue-infusion"))[-1].date()).days == 42


def test_disease_activity_scenarios() -> None:
    mri = latest(scenario("mri-activity"), "mri-brain")
    counts = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in mri["component"]}
    assert counts["gd-enhancing-lesions"] == 2
    assert when(mri).date() == add_months(TODAY, -2)
    bundle = scenario("edss-worsening")
    first_dose = infusion_starts(bundle)[0]
    scores = observations(bundle, "edss")
    baseline = [s for s in scores if when(s) <= first_dose][-1]
    assert value(baseline) == 3.0
    assert [value(s) for s in scores[-2:]] == [4.0, 4.5]
    assert (when(scores[-1]) - when(scores[-2])).days >= 84
    relapse = latest(scenario("recent-relapse"), "ms-relapse")
    assert when(relapse).date() == add_months(TODAY, -3)


def test_overdue_monitoring_dates() -> None:
    bundle = scenario("overdue-monitoring")
    for code in ("1742-6", "1920-8"):
        assert when(latest(bundle, code)).date() == add_months(TODAY, -5)
    for code in ("3016-3", "3024-7"):
        assert when(latest(bundle, code)).date() == add_months(TODAY, -9)


def test_the_pediatric_override_is_a_final_detected_issue_before_the_first_dose() -> None:
    bundle = scenario("pediatric-overridden")
    (issue,) = resources(bundle, "DetectedIssue")
    assert issue["code"]["coding"][0] == {
        "system": "urn:natalizumab-cds:rule",
        "code": "population.pediatric",
        "display": "Patient under 18 years",
    }
    assert issue["status"] == "final"
    assert issue["author"]["display"]
    assert issue["mitigation"][0]["action"]["text"]
    assert datetime.fromisoformat(issue["identifiedDateTime"]) < infusion_starts(bundle)[0]
