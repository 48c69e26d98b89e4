"""The assessment as the plain JSON object of INTERFACES.md §2 (CLI, API, exports)."""

from __future__ import annotations

from typing import Any

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Finding
from natalizumab_cds.domain.schedule import ScheduleEntry


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule,
        "effect": finding.effect.value,
        "severity": finding.severity.value,
        "summary": finding.summary,
        "basis": finding.basis,
        "evidence": list(finding.evidence),
        "overridden": finding.overridden,
    }
    if finding.suggestions:
        data["suggestions"] = list(finding.suggestions)
    if finding.override is not None:
        data["override"] = {
            "id": finding.override.id,
            "author": finding.override.author,
            "at": finding.override.at.isoformat(),
            "reason": finding.override.reason,
            "original_effect": finding.original_effect.value if finding.original_effect else None,
        }
    return data


def schedule_entry_to_dict(entry: ScheduleEntry) -> dict[str, Any]:
    return {
        "item": entry.item.value,
        "last": entry.last.isoformat() if entry.last else None,
        "due": entry.due.isoformat(),
        "status": entry.status.value,
    }


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """Exactly the documented keys, in the documented order."""
    return {
        "patient": assessment.patient,
        "at": assessment.at.isoformat(),
        "protocol": {"name": assessment.protocol_name, "version": assessment.protocol_version},
        "decision": assessment.decision.value,
        "findings": [finding_to_dict(f) for f in assessment.findings],
        "monitoring": [schedule_entry_to_dict(e) for e in assessment.monitoring],
    }
