"""Each finding of an assessment as a FHIR ``DetectedIssue``.

The rule id is the code, in ``urn:natalizumab-cds:finding`` (never in
``urn:natalizumab-cds:rule``, which marks a clinician's override when the issue
is final). The catalogue's effect, the basis text and the suggestions, which
DetectedIssue has no element for, ride in extensions. A finding lowered by an
override carries it as a mitigation: the reason, who, when, and a reference to
the override's own DetectedIssue, which travels unchanged with the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from natalizumab_cds.application.records import DecisionKind
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Effect, Finding, Override, Severity
from natalizumab_cds.domain.rule_specs import rule_title
from natalizumab_cds.interop.fhir.decisions import DECISION_SYSTEM
from natalizumab_cds.interop.fhir.export_terms import (
    BASIS_EXTENSION,
    BASIS_PREFIX,
    EFFECT_EXTENSION,
    FINDING_SYSTEM,
    JSON,
    ORIGINAL_EFFECT_EXTENSION,
    OVERRIDE_EXTENSION,
    SOFTWARE,
    SUGGESTION_EXTENSION,
    coding,
    concept,
    derived_id,
    derived_meta,
    reference,
)

#: DetectedIssue.severity (high | moderate | low) for the catalogue's severities.
SEVERITY = {Severity.CRITICAL: "high", Severity.WARNING: "moderate", Severity.INFO: "low"}
#: A mitigation's author must be a Practitioner or PractitionerRole when referenced.
_PRACTITIONER = re.compile(r"(Practitioner|PractitionerRole)/[A-Za-z0-9\-.]{1,64}")


def issue_id(patient: str, at: datetime, rule: str) -> str:
    return derived_id("issue", patient, at, rule)


def detected_issues(assessment: Assessment, care_plan: str) -> list[JSON]:
    """One DetectedIssue per finding, in the assessment's order (worst first)."""
    return [detected_issue(assessment, finding, care_plan) for finding in assessment.findings]


def detected_issue(assessment: Assessment, finding: Finding, care_plan: str) -> JSON:
    """``care_plan`` is the exported plan's reference: what a finding that acts implicates."""
    at = assessment.at.isoformat()
    issue: JSON = {
        "resourceType": "DetectedIssue",
        "id": issue_id(assessment.patient, assessment.at, finding.rule),
        "meta": derived_meta(),
        "extension": _extensions(finding),
        "status": "final",
        "code": concept(FINDING_SYSTEM, finding.rule, rule_title(finding.rule)),
        "severity": SEVERITY[finding.severity],
        "patient": reference(assessment.patient),
        "identifiedDateTime": at,
        "author": dict(SOFTWARE),
    }
    if finding.effect.rank >= Effect.CAUTION.rank:
        # The issue bears on the plan's next natalizumab infusion.
        issue["implicated"] = [reference(care_plan)]
    evidence = _unique(finding.evidence)
    if evidence:
        issue["evidence"] = [{"detail": [reference(ref) for ref in evidence]}]
    issue["detail"] = finding.summary
    issue["reference"] = BASIS_PREFIX + finding.rule
    if finding.override is not None:
        issue["mitigation"] = [_mitigation(finding.override)]
    return issue


def _extensions(finding: Finding) -> list[JSON]:
    found: list[JSON] = [{"url": EFFECT_EXTENSION, "valueCode": finding.effect.value}]
    if finding.original_effect is not None:
        found.append({"url": ORIGINAL_EFFECT_EXTENSION, "valueCode": finding.original_effect.value})
    found.append({"url": BASIS_EXTENSION, "valueString": finding.basis})
    found.extend({"url": SUGGESTION_EXTENSION, "valueString": text} for text in finding.suggestions)
    return found


def _mitigation(override: Override) -> JSON:
    return {
        "extension": [{"url": OVERRIDE_EXTENSION, "valueReference": reference(override.id)}],
        "action": {
            "coding": [coding(DECISION_SYSTEM, DecisionKind.OVERRIDE.value, "Override")],
            "text": override.reason,
        },
        "date": override.at.isoformat(),
        "author": _author(override.author),
    }


def _author(author: str) -> JSON:
    """The override's author as the reader kept it: a reference if it was one, else a name."""
    if _PRACTITIONER.fullmatch(author):
        return reference(author)
    return {"display": author}


def _unique(refs: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(refs))
