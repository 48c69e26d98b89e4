"""hypersensitivity.prior-reaction: a reaction to natalizumab ends treatment (synthetic)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.protocol import ATC, RXNORM, SNOMED
from tests.domain.builders import AT, an_allergy, an_override, day, on
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

RULE = "hypersensitivity.prior-reaction"


def test_discontinues_after_a_recorded_reaction_to_natalizumab_by_rxnorm_code() -> None:
    allergy = an_allergy("354770", RXNORM, at=on(date(2025, 3, 14)), reaction="anaphylaxis")
    result = assessed_with(allergies=[allergy])

    finding = the_finding(result, RULE)
    assert result.decision is Decision.DISCONTINUE
    assert finding.effect is Effect.DISCONTINUE
    assert finding.severity is Severity.CRITICAL
    assert "2025-03-14" in finding.summary
    assert "anaphylaxis" in finding.summary
    assert finding.evidence == (allergy.id,)


def test_discontinues_after_a_recorded_reaction_to_natalizumab_by_snomed_code() -> None:
    allergy = an_allergy("414804006", SNOMED, at=day(100))
    result = assessed_with(allergies=[allergy])

    assert the_finding(result, RULE).evidence == (allergy.id,)
    assert result.decision is Decision.DISCONTINUE


@pytest.mark.parametrize("code", ["L04AA23", "L04AG03"])
def test_discontinues_after_a_reaction_coded_with_a_natalizumab_atc_code(code: str) -> None:
    result = assessed_with(allergies=[an_allergy(code, ATC, at=day(100))])

    assert the_finding(result, RULE).effect is Effect.DISCONTINUE


@pytest.mark.parametrize("verification", ["confirmed", "unconfirmed", "presumed", None])
def test_any_reaction_that_is_not_refuted_counts(verification: str | None) -> None:
    result = assessed_with(allergies=[an_allergy(at=day(100), verification=verification)])

    assert the_finding(result, RULE).effect is Effect.DISCONTINUE


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_mistaken_reaction_does_not_count(verification: str) -> None:
    result = assessed_with(allergies=[an_allergy(at=day(100), verification=verification)])

    assert_not_fired(result, RULE)
    assert result.decision is Decision.PROCEED


@pytest.mark.parametrize(
    ("code", "system"),
    [("7980", RXNORM), ("764146007", SNOMED), ("1256", RXNORM)],
    ids=["penicillin-rxnorm", "penicillin-snomed", "azathioprine"],
)
def test_an_allergy_to_another_substance_does_not_count(code: str, system: str) -> None:
    result = assessed_with(allergies=[an_allergy(code, system, at=day(100))])

    assert_not_fired(result, RULE)


def test_no_allergy_recorded_does_not_fire() -> None:
    assert_not_fired(assessed_with(), RULE)


def test_a_reaction_recorded_after_the_assessed_moment_does_not_count() -> None:
    result = assessed_with(allergies=[an_allergy(at=AT + timedelta(hours=1))])

    assert_not_fired(result, RULE)


def test_a_reaction_recorded_at_the_assessed_moment_counts() -> None:
    assert the_finding(assessed_with(allergies=[an_allergy(at=AT)]), RULE)


def test_a_reaction_years_ago_still_discontinues() -> None:
    result = assessed_with(allergies=[an_allergy(at=on(date(2012, 1, 5)))])

    finding = the_finding(result, RULE)
    assert "2012-01-05" in finding.summary
    assert result.decision is Decision.DISCONTINUE


def test_an_undated_reaction_counts_and_says_the_date_is_not_recorded() -> None:
    result = assessed_with(allergies=[an_allergy(at=None)])

    finding = the_finding(result, RULE)
    assert finding.effect is Effect.DISCONTINUE
    assert "date not recorded" in finding.summary


def test_every_counted_reaction_is_cited_as_evidence() -> None:
    first = an_allergy("354770", RXNORM, at=on(date(2024, 2, 1)), reaction="urticaria")
    second = an_allergy("414804006", SNOMED, at=on(date(2025, 6, 9)), reaction="hypotension")
    refuted = an_allergy(at=day(10), verification="refuted")
    result = assessed_with(allergies=[first, second, refuted])

    finding = the_finding(result, RULE)
    assert set(finding.evidence) == {first.id, second.id}
    assert "2024-02-01" in finding.summary
    assert "2025-06-09" in finding.summary


def test_a_prior_reaction_cannot_be_overridden() -> None:
    result = assessed_with(
        allergies=[an_allergy(at=day(100))], overrides=[an_override(RULE, day(1))]
    )

    finding = the_finding(result, RULE)
    assert result.decision is Decision.DISCONTINUE
    assert finding.effect is Effect.DISCONTINUE
    assert not finding.overridden
