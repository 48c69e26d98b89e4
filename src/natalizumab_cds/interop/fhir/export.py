"""One patient's record and assessment as a FHIR R4 ``Bundle`` of type ``collection``.

The bundle holds, in this order (docs/fhir-export.md describes each resource):

1. the patient's record as received: every resource unchanged, the Patient
   first (previous exports' derived resources are left out: they are rebuilt);
2. a ``GuidanceResponse``: the decision at the moment assessed, which protocol
   gave it, with a contained ``Parameters`` listing the decision and the findings;
3. one ``DetectedIssue`` per finding (``export_issues``);
4. the monitoring schedule as a ``CarePlan`` and a proposed ``ServiceRequest``
   per lab test overdue or due soon (``export_plan``).

A ``collection``, not a ``document``: there is no Composition to attest, and the
reader (``read_bundle``) takes collections, so an export reads back into the
same assessment. Ids of derived resources are name-based, so the same record
and moment always export the same bundle, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.interop.fhir.export_issues import detected_issues, issue_id
from natalizumab_cds.interop.fhir.export_plan import care_plan, care_plan_id, service_requests
from natalizumab_cds.interop.fhir.export_terms import (
    JSON,
    PROTOCOL_PREFIX,
    SOFTWARE,
    derived_id,
    derived_meta,
    is_derived,
    name_uuid,
    reference,
)

#: What each decision means at the bedside (GuidanceResponse.note).
DECISION_MEANING = {
    Decision.PROCEED: "no finding stands in the way of today's infusion",
    Decision.CAUTION: "proceed after a clinician acknowledges the cautions",
    Decision.HOLD: "do not infuse today; resolvable",
    Decision.DISCONTINUE: "stop natalizumab; do not re-treat",
}
_OUTPUT = "output"  # the contained Parameters' local id

# (resource, the fullUrl it came with)
_RecordEntry = tuple[Mapping[str, Any], str | None]


class FhirExporter:
    """The application's ``RecordExporter`` port, in FHIR R4."""

    def bundle(self, record: Sequence[Mapping[str, Any]], assessment: Assessment) -> JSON:
        return export_bundle(record, assessment)


def export_bundle(record: Iterable[Mapping[str, Any]], assessment: Assessment) -> JSON:
    """The bundle of a stored record (resources one by one) and its assessment."""
    return _assemble([(resource, None) for resource in record], assessment)


def export_received_bundle(bundle: Mapping[str, Any], assessment: Assessment) -> JSON:
    """The bundle of a record that arrived as a Bundle, keeping each entry's fullUrl.

    ``bundle`` must already have been read (``read_bundle``), which checked its shape.
    """
    entries: list[_RecordEntry] = []
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource")
        if isinstance(resource, Mapping):
            full_url = entry.get("fullUrl")
            entries.append((resource, full_url if isinstance(full_url, str) else None))
    return _assemble(entries, assessment)


def _assemble(record: Sequence[_RecordEntry], assessment: Assessment) -> JSON:
    patient, at = assessment.patient, assessment.at
    kept = [(resource, url) for resource, url in record if not is_derived(resource)]
    kept.sort(key=lambda item: item[0].get("resourceType") != "Patient")  # stable
    plan = care_plan(assessment)
    derived = [
        guidance_response(assessment),
        *detected_issues(assessment, f"CarePlan/{plan['id']}"),
        plan,
        *service_requests(assessment),
    ]
    return {
        "resourceType": "Bundle",
        "id": derived_id("export", patient, at),
        "meta": derived_meta(),
        "type": "collection",
        "entry": [
            *(_entry(resource, url, index) for index, (resource, url) in enumerate(kept)),
            *(_entry(resource, None, 0) for resource in derived),
        ],
    }


def guidance_response(assessment: Assessment) -> JSON:
    """The decision: the outcome of evaluating the protocol for this patient at ``at``."""
    patient, at = assessment.patient, assessment.at
    decision = assessment.decision
    return {
        "resourceType": "GuidanceResponse",
        "id": derived_id("guidance", patient, at),
        "meta": derived_meta(),
        "contained": [_parameters(assessment)],
        "moduleUri": protocol_uri(assessment),
        "status": "success",
        "subject": reference(patient),
        "occurrenceDateTime": at.isoformat(),
        "performer": dict(SOFTWARE),
        "note": [
            {
                "text": (
                    f"Decision at {at.isoformat()}: {decision.value} - {DECISION_MEANING[decision]}"
                )
            }
        ],
        "outputParameters": reference(f"#{_OUTPUT}"),
        "result": reference(f"CarePlan/{care_plan_id(patient, at)}"),
    }


def protocol_uri(assessment: Assessment) -> str:
    """``urn:natalizumab-cds:protocol:{name}:{version}``, each part percent-encoded."""
    name, version = assessment.protocol_name, assessment.protocol_version
    return f"{PROTOCOL_PREFIX}{quote(name, safe='')}:{quote(version, safe='')}"


def _parameters(assessment: Assessment) -> JSON:
    patient, at = assessment.patient, assessment.at
    findings = [
        {
            "name": "finding",
            "valueReference": reference(f"DetectedIssue/{issue_id(patient, at, finding.rule)}"),
        }
        for finding in assessment.findings
    ]
    return {
        "resourceType": "Parameters",
        "id": _OUTPUT,
        "parameter": [
            {"name": "decision", "valueCode": assessment.decision.value},
            {"name": "at", "valueDateTime": at.isoformat()},
            {"name": "protocol-name", "valueString": assessment.protocol_name},
            {"name": "protocol-version", "valueString": assessment.protocol_version},
            *findings,
        ],
    }


def _entry(resource: Mapping[str, Any], full_url: str | None, index: int) -> JSON:
    """An entry; without a fullUrl, a URN from the resource's type and id (else position)."""
    if full_url is None:
        kind, identity = resource.get("resourceType"), resource.get("id")
        key = f"{kind}/{identity}" if isinstance(identity, str) and identity else f"#{index}"
        full_url = f"urn:uuid:{name_uuid('resource', key)}"
    return {"fullUrl": full_url, "resource": dict(resource)}
