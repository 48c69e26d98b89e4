"""Partial or bounded data is read the safe way: never as older, never as in range."""

from __future__ import annotations

from datetime import date

from natalizumab_cds.domain.findings import Decision, Effect
from natalizumab_cds.domain.timeline import Analyte, Patient
from tests.domain.builders import (
    a_result,
    a_timeline,
    a_well_monitored_record,
    assess_at,
    day,
    with_facts,
)


def _born(first: date, last: date) -> Patient:
    return Patient("Patient/p1", first, "Synthetic Patient", "MRN1", last)


def test_holds_when_a_year_only_birth_date_allows_the_patient_to_be_under_18() -> None:
    # Born "2008": 18 if born in January, 17 if born in December (at = 2026-11-24).
    record = a_timeline(_born(date(2008, 1, 1), date(2008, 12, 31)), **a_well_monitored_record())
    result = assess_at(record)
    finding = result.finding("population.pediatric")
    assert result.decision is Decision.HOLD
    assert finding is not None
    assert "Age 17" in finding.summary
    assert "youngest age used" in finding.summary


def test_a_year_only_birth_date_fully_past_18_does_not_hold() -> None:
    record = a_timeline(_born(date(2007, 1, 1), date(2007, 12, 31)), **a_well_monitored_record())
    assert assess_at(record).finding("population.pediatric") is None


def test_cautions_when_a_year_only_birth_date_allows_the_patient_to_be_65() -> None:
    record = a_timeline(_born(date(1961, 1, 1), date(1961, 12, 31)), **a_well_monitored_record())
    finding = assess_at(record).finding("population.elderly")
    assert finding is not None
    assert finding.effect is Effect.CAUTION
    assert "recorded only from 1961-01-01" in finding.summary


def test_a_drug_level_reported_as_below_1_is_low() -> None:
    level = a_result(Analyte.NATALIZUMAB, 1.0, day(3), unit="ug/mL", comparator="<")
    result = assess_at(a_timeline(**with_facts(a_well_monitored_record(), results=[level])))
    finding = result.finding("antibody.low-drug-level")
    assert finding is not None
    assert finding.summary.startswith("Serum natalizumab <1 µg/mL on 2026-11-21")


def test_a_drug_level_reported_as_above_1_is_not_low() -> None:
    level = a_result(Analyte.NATALIZUMAB, 1.0, day(3), unit="ug/mL", comparator=">")
    result = assess_at(a_timeline(**with_facts(a_well_monitored_record(), results=[level])))
    assert result.finding("antibody.low-drug-level") is None
