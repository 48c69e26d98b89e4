"""A patient's serum level in the safety report: the latest one on treatment, or none."""

from __future__ import annotations

from datetime import UTC, datetime

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.safety import safety_facts
from tests.interop.fhir.builders import a_drug_level, an_infusion, read_record

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FIRST_DOSE = ("2026-10-27T09:00:00+00:00", "2026-10-27T10:00:00+00:00")


def _level(*resources: dict[str, object]) -> float | None:
    return safety_facts(read_record(*resources), packaged_protocol(), AT, UTC).serum_level


def test_the_latest_level_on_treatment_counts() -> None:
    before = a_drug_level(25.0, at="2026-10-01T08:00:00+00:00")
    first = a_drug_level(0.9, at="2026-11-01T08:00:00+00:00")
    latest = a_drug_level(4.2, at="2026-11-20T08:00:00+00:00")
    assert _level(an_infusion(*FIRST_DOSE), before, first, latest) == 4.2


def test_a_level_from_before_the_first_infusion_is_not_a_level_on_treatment() -> None:
    before = a_drug_level(25.0, at="2026-10-01T08:00:00+00:00")
    assert _level(an_infusion(*FIRST_DOSE), before) is None


def test_an_untreated_patient_has_no_level_on_treatment() -> None:
    assert _level(a_drug_level(12.0, at="2026-11-01T08:00:00+00:00")) is None


def test_a_level_after_the_moment_assessed_is_not_seen() -> None:
    later = a_drug_level(3.0, at="2026-12-01T08:00:00+00:00")
    assert _level(an_infusion(*FIRST_DOSE), later) is None
