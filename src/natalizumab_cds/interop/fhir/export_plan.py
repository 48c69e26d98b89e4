"""The monitoring schedule as a FHIR ``CarePlan``, with a ``ServiceRequest`` per lab due.

One activity per schedule item, in the catalogue's order. A lab item that is
overdue or due soon gets a proposed ServiceRequest, and its activity refers to
it; every other item is described inline (``activity.detail``). R4 allows one
or the other, never both (invariant cpl-3), so the item's code, due date and
status sit in the ServiceRequest or in the detail. Every activity carries the
item, its due status and the day it was last done as extensions, whichever
form it takes. The next infusion's activity follows the decision: on hold
under a hold, cancelled under a discontinue, with the rules that stop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.protocol import LOCAL, LOINC, RXNORM, SNOMED
from natalizumab_cds.domain.schedule import OVERDUE_SPECS, DueStatus, Item, ScheduleEntry
from natalizumab_cds.interop.fhir.export_issues import issue_id
from natalizumab_cds.interop.fhir.export_terms import (
    DUE_STATUS_EXTENSION,
    FINDING_SYSTEM,
    ITEM_EXTENSION,
    ITEM_SYSTEM,
    JSON,
    LAST_DONE_EXTENSION,
    SOFTWARE,
    concept,
    derived_id,
    derived_meta,
    reference,
)

LAB_CATEGORY = concept(SNOMED, "108252007", "Laboratory procedure")


@dataclass(frozen=True, slots=True)
class ItemCode:
    """How an item is coded and ordered; ``tests`` names what the reader counts as done."""

    system: str
    code: str
    display: str
    text: str
    kind: str  # CarePlan activity kind: the request resource that would carry it out
    lab: bool
    tests: str = ""


ITEM_CODES: dict[Item, ItemCode] = {
    Item.LIVER: ItemCode(
        LOINC,
        "24325-3",
        "Hepatic function 2000 panel - Serum or Plasma",
        "ALT and AST",
        "ServiceRequest",
        lab=True,
        tests="ALT (LOINC 1742-6) and AST (LOINC 1920-8)",
    ),
    Item.BLOOD: ItemCode(
        LOINC,
        "57021-8",
        "CBC W Auto Differential panel - Blood",
        "CBC with differential",
        "ServiceRequest",
        lab=True,
        tests=(
            "neutrophils (LOINC 751-8), lymphocytes (731-0), monocytes (742-7) "
            "and platelets (777-3)"
        ),
    ),
    Item.THYROID: ItemCode(
        LOINC,
        "24348-5",
        "Free T4 and TSH panel - Serum or Plasma",
        "TSH and free T4",
        "ServiceRequest",
        lab=True,
        tests="TSH (LOINC 3016-3) and free T4 (LOINC 3024-7)",
    ),
    Item.ANTIBODY: ItemCode(
        LOCAL,
        "anti-natalizumab-antibody",
        "Anti-natalizumab antibodies",
        "Anti-natalizumab antibodies",
        "ServiceRequest",
        lab=True,
    ),
    Item.MRI: ItemCode(LOCAL, "mri-brain", "Brain MRI", "Brain MRI", "ServiceRequest", lab=False),
    Item.EDSS: ItemCode(
        LOCAL, "edss", "EDSS", "EDSS (Expanded Disability Status Scale)", "ServiceRequest", False
    ),
    Item.INFUSION: ItemCode(
        RXNORM, "354770", "natalizumab", "Natalizumab infusion", "MedicationRequest", False
    ),
}
#: The next infusion's activity status under a decision that stops it.
INFUSION_STATUS = {Decision.HOLD: "on-hold", Decision.DISCONTINUE: "cancelled"}
#: Items that get a proposed order when they are overdue or due soon.
ORDERED = frozenset({DueStatus.OVERDUE, DueStatus.DUE_SOON})


def care_plan_id(patient: str, at: datetime) -> str:
    return derived_id("careplan", patient, at)


def request_id(patient: str, at: datetime, item: Item) -> str:
    return derived_id("request", patient, at, item.value)


def is_ordered(entry: ScheduleEntry) -> bool:
    return ITEM_CODES[entry.item].lab and entry.status in ORDERED


def care_plan(assessment: Assessment) -> JSON:
    at = assessment.at.isoformat()
    return {
        "resourceType": "CarePlan",
        "id": care_plan_id(assessment.patient, assessment.at),
        "meta": derived_meta(),
        "status": "active",
        "intent": "plan",
        "title": "Natalizumab monitoring schedule",
        "description": (
            f"Monitoring and dosing schedule under protocol {assessment.protocol_name} "
            f"{assessment.protocol_version}, as assessed at {at}"
        ),
        "subject": reference(assessment.patient),
        "period": {"start": at},
        "created": at,
        "author": dict(SOFTWARE),
        "activity": [_activity(assessment, entry) for entry in assessment.monitoring],
    }


def service_requests(assessment: Assessment) -> list[JSON]:
    """A proposed order for each lab item overdue or due soon, in the schedule's order."""
    return [
        service_request(assessment, entry) for entry in assessment.monitoring if is_ordered(entry)
    ]


def service_request(assessment: Assessment, entry: ScheduleEntry) -> JSON:
    code = ITEM_CODES[entry.item]
    patient, at = assessment.patient, assessment.at
    request: JSON = {
        "resourceType": "ServiceRequest",
        "id": request_id(patient, at, entry.item),
        "meta": derived_meta(),
        "basedOn": [reference(f"CarePlan/{care_plan_id(patient, at)}")],
        "status": "active",
        "intent": "proposal",
        "category": [LAB_CATEGORY],
        "code": concept(code.system, code.code, code.display, code.text),
        "subject": reference(patient),
        "occurrenceDateTime": entry.due.isoformat(),
        "authoredOn": at.isoformat(),
        "requester": dict(SOFTWARE),
        "reasonCode": [_reason(entry)],
    }
    if entry.status is DueStatus.OVERDUE:
        overdue = OVERDUE_SPECS[entry.item].id
        request["supportingInfo"] = [reference(f"DetectedIssue/{issue_id(patient, at, overdue)}")]
    request["note"] = [{"text": _note(entry, code)}]
    return request


def _activity(assessment: Assessment, entry: ScheduleEntry) -> JSON:
    activity: JSON = {"extension": _extensions(entry)}
    if is_ordered(entry):
        ref = f"ServiceRequest/{request_id(assessment.patient, assessment.at, entry.item)}"
        activity["progress"] = [{"text": _description(entry)}]
        activity["reference"] = reference(ref)
        return activity
    code = ITEM_CODES[entry.item]
    detail: JSON = {
        "kind": code.kind,
        "code": concept(code.system, code.code, code.display, code.text),
        "status": "not-started" if entry.status is DueStatus.OVERDUE else "scheduled",
        "scheduledPeriod": {"start": entry.due.isoformat(), "end": entry.due.isoformat()},
        "description": _description(entry),
    }
    if entry.item is Item.INFUSION:
        detail["productCodeableConcept"] = concept(code.system, code.code, code.display)
        detail.update(_infusion_decision(assessment))
    activity["detail"] = detail
    return activity


def _infusion_decision(assessment: Assessment) -> JSON:
    """A hold puts the next infusion on hold, a discontinue cancels it, and says why."""
    status = INFUSION_STATUS.get(assessment.decision)
    if status is None:
        return {}
    rules = ", ".join(
        f.rule for f in assessment.findings if f.effect.value == assessment.decision.value
    )
    reason = f"Decision {assessment.decision.value} at {assessment.at.isoformat()}: {rules}"
    return {"status": status, "statusReason": {"text": reason}}


def _extensions(entry: ScheduleEntry) -> list[JSON]:
    found: list[JSON] = [
        {
            "url": ITEM_EXTENSION,
            "valueCoding": {"system": ITEM_SYSTEM, "code": entry.item.value},
        },
        {"url": DUE_STATUS_EXTENSION, "valueCode": entry.status.value},
    ]
    if entry.last is not None:
        found.append({"url": LAST_DONE_EXTENSION, "valueDate": entry.last.isoformat()})
    return found


def _description(entry: ScheduleEntry) -> str:
    last = f"last done {entry.last.isoformat()}" if entry.last else "never done"
    basis = OVERDUE_SPECS[entry.item].citation.basis
    return f"{ITEM_CODES[entry.item].text}: {entry.status.value}, due {entry.due}, {last} ({basis})"


def _reason(entry: ScheduleEntry) -> JSON:
    spec = OVERDUE_SPECS[entry.item]
    if entry.status is DueStatus.OVERDUE:
        return concept(FINDING_SYSTEM, spec.id, spec.title, f"{spec.title} ({spec.citation.basis})")
    return {"text": f"{ITEM_CODES[entry.item].text} due on {entry.due} ({spec.citation.basis})"}


def _note(entry: ScheduleEntry, code: ItemCode) -> str:
    last = f"Last done {entry.last.isoformat()}." if entry.last else "Never done."
    tests = (
        f" Counts as done when {code.tests} have a result on the same day." if code.tests else ""
    )
    return f"{code.text} {entry.status.value}, due {entry.due}. {last}{tests}"
