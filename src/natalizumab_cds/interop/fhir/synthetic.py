"""Deterministic synthetic patient records as FHIR R4 Bundles (plain dicts).

``synthesize_patient(index, seed, anchor, scenario, years)`` builds one
``collection`` Bundle: a Patient tagged synthetic, natalizumab infusions every
28 days, the monitoring results of CLINICAL_RULES.md, and whatever the scenario
adds so that its rule fires at ``anchor``. Dates are counted back from the
anchor (the moment assessed, usually now), so a demo never goes stale, and
nothing is dated after it. The same arguments always give byte-identical output:
every draw comes from a ``random.Random`` seeded from (seed, index).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from natalizumab_cds.domain.protocol import add_months
from natalizumab_cds.interop.fhir.synthetic_fhir import SCENARIO_SYSTEM, iso, render_bundle
from natalizumab_cds.interop.fhir.synthetic_plan import Plan
from natalizumab_cds.interop.fhir.synthetic_scenarios import SCENARIO_TABLE, Scenario

__all__ = [
    "ROUTINE",
    "SCENARIOS",
    "SCENARIO_DECISIONS",
    "SCENARIO_RULES",
    "SCENARIO_SYSTEM",
    "choose_scenario",
    "demo_clinic",
    "synthesize",
    "synthesize_patient",
    "ten_year_patient",
]

ROUTINE = "routine-proceed"
#: Every situation the generator can produce; the routine one comes first.
SCENARIOS: tuple[str, ...] = tuple(SCENARIO_TABLE)
#: Rule ids each scenario is made to fire at the anchor (besides monitoring items due).
SCENARIO_RULES: dict[str, tuple[str, ...]] = {s.name: s.rules for s in SCENARIO_TABLE.values()}
#: The decision each scenario should lead to.
SCENARIO_DECISIONS: dict[str, str] = {s.name: s.decision for s in SCENARIO_TABLE.values()}
#: Share of routine patients among indexes past the first cycle through SCENARIOS.
ROUTINE_SHARE = 0.7
TEN_YEARS = 10.0

_GIVEN = {
    "female": (
        "Anna",
        "Sofia",
        "Maria",
        "Laura",
        "Emma",
        "Julia",
        "Clara",
        "Elena",
        "Nora",
        "Ines",
        "Hanna",
        "Lea",
        "Mira",
        "Sara",
        "Eva",
        "Lena",
        "Marta",
        "Ida",
        "Zoe",
        "Alba",
    ),
    "male": (
        "Lukas",
        "David",
        "Jonas",
        "Marco",
        "Tomas",
        "Elias",
        "Paul",
        "Hugo",
        "Noah",
        "Felix",
        "Adam",
        "Leon",
        "Ivan",
        "Oscar",
        "Samuel",
        "Theo",
        "Mateo",
        "Jan",
        "Aron",
        "Emil",
    ),
}
_FAMILY = (
    "Testperson",
    "Synthwell",
    "Demoford",
    "Samplebury",
    "Mockridge",
    "Fauxley",
    "Placeholm",
    "Trialson",
    "Dummling",
    "Fictova",
    "Exemplar",
    "Modelski",
    "Simulatti",
    "Proberg",
    "Specimena",
    "Caseworth",
    "Fabriano",
    "Inventa",
    "Pseudova",
    "Artifex",
)


def synthesize_patient(
    index: int,
    seed: int,
    anchor: datetime,
    scenario: str | None = None,
    years: float | None = None,
) -> dict[str, Any]:
    """One patient's Bundle; ``anchor`` without a time zone is taken as UTC.

    ``years`` is the length of the treatment history (drawn per patient when
    None, within the scenario's range); it is raised to the scenario's minimum
    when the scenario needs a longer history to be faithful.
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    name = scenario if scenario is not None else choose_scenario(index, seed)
    if name not in SCENARIO_TABLE:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    if years is not None and years < 0:
        raise ValueError(f"years must be >= 0, got {years}")
    spec = SCENARIO_TABLE[name]
    rng = random.Random(f"natalizumab-cds:synthetic:{seed}:{index}")
    plan = _new_plan(index, _normalize(anchor), rng, spec)
    if years is None:
        years = round(rng.uniform(spec.min_years, max(spec.min_years, spec.max_years)), 2)
    spec.build(plan, max(years, spec.min_years))
    return render_bundle(plan, seed, name)


def synthesize(patients: int, seed: int, anchor: datetime) -> Iterator[dict[str, Any]]:
    """The Bundles of patients 0 .. ``patients`` - 1, scenarios chosen by index and seed."""
    for index in range(patients):
        yield synthesize_patient(index, seed, anchor)


#: Days of the infusion cycle over which the demo clinic's routine patients are spread.
CYCLE_DAYS = 28


def demo_clinic(patients: int, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """The demo clinic: ``synthesize`` with its patients spread over the cycle.

    With every patient anchored at ``now`` the whole clinic would be due for an
    infusion today. Patient ``i`` is anchored ``i mod 28`` days ahead instead:
    their last infusion was ``28 - i mod 28`` days ago and the next is due that
    many days from today, so each day has its handful, as in a real infusion
    centre. Nothing is dated after ``now``: a routine record's events all fall on
    infusion days, the latest a day or more ago, and a patient with a problem
    is moved ahead no further than the day before their scenario's latest event
    allows (a pregnancy test three days before the anchor keeps that patient
    within two days of today). The first patient of each scenario stays at
    ``now``, so every kind of finding shows on today's infusion day.
    """
    for index in range(patients):
        scenario = choose_scenario(index, seed)
        days_ahead = index % CYCLE_DAYS if index >= len(SCENARIOS) else 0
        if days_ahead and scenario != ROUTINE:
            at_now = synthesize_patient(index, seed, now, scenario)
            days_ahead = min(days_ahead, (now.date() - _latest_event(at_now)).days - 1)
        bundle = synthesize_patient(index, seed, now + timedelta(days=max(days_ahead, 0)), scenario)
        bundle["timestamp"] = iso(_normalize(now))  # assembled now, whatever its anchor
        yield bundle


def _latest_event(bundle: dict[str, Any]) -> date:
    """The latest date in the record's clinical resources (the Patient's birth date aside)."""
    latest = date.min
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Patient":
            for text in _strings(resource):
                if _DATE.match(text):
                    latest = max(latest, date.fromisoformat(text[:10]))
    return latest


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T|$)")


def ten_year_patient(seed: int, anchor: datetime) -> dict[str, Any]:
    """A routine patient with ten years of history (about 130 infusions, 600 results)."""
    return synthesize_patient(0, seed, anchor, ROUTINE, years=TEN_YEARS)


def choose_scenario(index: int, seed: int) -> str:
    """The first len(SCENARIOS) indexes cycle through all; later ones are mostly routine."""
    if index < len(SCENARIOS):
        return SCENARIOS[index]
    rng = random.Random(f"natalizumab-cds:scenario:{seed}:{index}")
    if rng.random() < ROUTINE_SHARE:
        return ROUTINE
    return rng.choice([name for name in SCENARIOS if name != ROUTINE])


def _normalize(anchor: datetime) -> datetime:
    """The anchor in UTC, whole seconds (truncating never moves it later)."""
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    return anchor.astimezone(UTC).replace(microsecond=0)


def _new_plan(index: int, anchor: datetime, rng: random.Random, spec: Scenario) -> Plan:
    female = spec.female if spec.female is not None else rng.random() < 0.7
    gender = "female" if female else "male"
    age = rng.randint(*spec.ages)
    birth = add_months(anchor.date(), -12 * age) - timedelta(days=rng.randint(0, 360))
    return Plan(
        index=index,
        anchor=anchor,
        rng=rng,
        gender=gender,
        birth_date=birth,
        given=rng.choice(_GIVEN[gender]),
        family=rng.choice(_FAMILY),
    )
