"""What the rule tests check on an assessment: a finding a clinician can act on.

Synthetic records only. ``assessed_with(...)`` is the well-monitored reference
record (which proceeds) plus the facts under test, assessed at ``AT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Finding
from natalizumab_cds.domain.timeline import Patient
from tests.domain.builders import AT, a_timeline, a_well_monitored_record, assess_at, with_facts


def assessed_with(
    patient: Patient | None = None, at: datetime = AT, **extra: Iterable[Any]
) -> Assessment:
    """The reference record (assessed at ``at``) with ``extra`` facts added."""
    return assess_at(a_timeline(patient, **with_facts(a_well_monitored_record(at), **extra)), at)


def the_finding(assessment: Assessment, rule: str) -> Finding:
    """The finding of ``rule``; fails, naming what did fire, if it is absent."""
    finding = assessment.finding(rule)
    assert finding is not None, f"{rule} did not fire; fired: {sorted(assessment.rules_fired)}"
    assert finding.basis.strip(), f"{rule} fired without a basis"
    assert finding.summary.strip(), f"{rule} fired without a summary"
    return finding


def assert_not_fired(assessment: Assessment, rule: str) -> None:
    finding = assessment.finding(rule)
    assert finding is None, f"{rule} fired: {finding.summary if finding else ''}"
