"""Clinicians' decisions as FHIR ``DetectedIssue`` resources (INTERFACES.md §1).

An override names its rule in ``urn:natalizumab-cds:rule``, so the reader
applies it to the next assessment. An acknowledgement of a caution names its
rule in ``urn:natalizumab-cds:acknowledged-rule`` instead: it must never act as
an override (an acknowledgement made today would otherwise lower a hold that
newer data brings later). Both say which decision they are in
``mitigation[0].action.coding`` (``urn:natalizumab-cds:decision``) and carry the
reason in ``mitigation[0].action.text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from natalizumab_cds.application.records import ClinicianDecision, DecisionKind
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.protocol import RULE_SYSTEM
from natalizumab_cds.interop.fhir.dates import parse_datetime
from natalizumab_cds.interop.fhir.fields import (
    codings,
    get_list,
    get_object,
    get_str,
    item_object,
)

ACKNOWLEDGED_RULE_SYSTEM = "urn:natalizumab-cds:acknowledged-rule"
DECISION_SYSTEM = "urn:natalizumab-cds:decision"
_RULE_SYSTEMS = {
    RULE_SYSTEM: DecisionKind.OVERRIDE,
    ACKNOWLEDGED_RULE_SYSTEM: DecisionKind.ACKNOWLEDGE,
}
_SYSTEM_OF = {kind: system for system, kind in _RULE_SYSTEMS.items()}
_DETAIL = {
    DecisionKind.OVERRIDE: "Clinician's override of rule {rule}",
    DecisionKind.ACKNOWLEDGE: "Clinician's acknowledgement of the caution from rule {rule}",
}


def detected_issue(decision: ClinicianDecision) -> dict[str, Any]:
    """The DetectedIssue that keeps a decision in the patient's record."""
    moment = decision.at.isoformat()
    action: dict[str, Any] = {
        "coding": [{"system": DECISION_SYSTEM, "code": decision.kind.value}],
    }
    if decision.reason:
        action["text"] = decision.reason
    return {
        "resourceType": "DetectedIssue",
        "id": decision.id,
        "status": "final",
        "code": {
            "coding": [{"system": _SYSTEM_OF[decision.kind], "code": decision.rule}],
            "text": decision.rule,
        },
        "patient": {"reference": f"Patient/{decision.patient_id}"},
        "author": {"display": decision.author},
        "identifiedDateTime": moment,
        "detail": _DETAIL[decision.kind].format(rule=decision.rule),
        "mitigation": [{"action": action, "date": moment, "author": {"display": decision.author}}],
    }


def decision_of(patient_id: str, resource: Mapping[str, Any]) -> ClinicianDecision | None:
    """The decision a DetectedIssue records; None for anything else or a malformed one."""
    if resource.get("resourceType") != "DetectedIssue" or resource.get("status") != "final":
        return None
    ref = f"DetectedIssue/{resource.get('id')}"
    try:
        found = [
            (coding.code, _RULE_SYSTEMS[coding.system])
            for coding in codings(ref, get_object(ref, resource, "code"), "code")
            if coding.system in _RULE_SYSTEMS
        ]
        if not found:
            return None
        rule, kind = found[0]
        raw_at = resource.get("identifiedDateTime")
        if raw_at is None:
            return None
        return ClinicianDecision(
            id=str(resource.get("id")),
            patient_id=patient_id,
            kind=kind,
            rule=rule,
            author=_author(ref, resource),
            at=parse_datetime(ref, "identifiedDateTime", raw_at),
            reason=_reason(ref, resource),
        )
    except InvalidInput:
        return None


def _author(ref: str, resource: Mapping[str, Any]) -> str:
    author = get_object(ref, resource, "author")
    if author is None:
        return ""
    return get_str(ref, author, "display", "author") or get_str(ref, author, "reference") or ""


def _reason(ref: str, resource: Mapping[str, Any]) -> str:
    mitigations = get_list(ref, resource, "mitigation")
    if not mitigations:
        return ""
    action = get_object(ref, item_object(ref, mitigations, 0, "mitigation"), "action")
    return get_str(ref, action, "text", "mitigation[0].action") or "" if action else ""
