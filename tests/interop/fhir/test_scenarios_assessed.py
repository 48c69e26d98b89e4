"""Every synthetic scenario, read and assessed for real, fires the rule it was built for.

This is what makes the demo clinic and the benchmarks exercise the whole catalogue.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.domain.rules.catalogue import SPECS
from natalizumab_cds.interop.fhir.reader import read_bundle
from natalizumab_cds.interop.fhir.synthetic import (
    SCENARIO_DECISIONS,
    SCENARIO_RULES,
    SCENARIOS,
    synthesize_patient,
)

ANCHOR = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_scenario_fires_its_rule_and_reaches_its_decision(scenario: str) -> None:
    bundle = synthesize_patient(7, seed=3, anchor=ANCHOR, scenario=scenario)
    result = assess(read_bundle(bundle, packaged_protocol()), packaged_protocol(), ANCHOR)
    assert set(SCENARIO_RULES[scenario]) <= result.rules_fired
    assert result.decision.value == str(SCENARIO_DECISIONS[scenario])


def test_the_scenarios_together_cover_every_rule_of_the_catalogue() -> None:
    covered = {rule for rules in SCENARIO_RULES.values() for rule in rules}
    assert set(SPECS) <= covered
