"""Findings that call for a test, turned into draft ``ServiceRequest`` suggestions.

The domain says "Order ALT and AST" in words; here each such rule is mapped to
the codes an EHR can order, one ``create`` action per test, so the clinician
can accept the order from the card. A retest that must wait (antibodies, at
least the persistence gap after the positive result) carries that date.
"""

from __future__ import annotations

import uuid
from datetime import date, tzinfo

from natalizumab_cds.domain.findings import Finding
from natalizumab_cds.domain.protocol import LOCAL, LOINC, Protocol
from natalizumab_cds.interop.cds_hooks.wire import Action, JsonObject, Suggestion

Test = tuple[str, str, str]  # system, code, display

ALT: Test = (LOINC, "1742-6", "ALT")
AST: Test = (LOINC, "1920-8", "AST")
CBC: Test = (LOINC, "57021-8", "CBC with automated differential")
TSH: Test = (LOINC, "3016-3", "TSH")
FREE_T4: Test = (LOINC, "3024-7", "Free T4")
ANTIBODY: Test = (LOCAL, "anti-natalizumab-antibody", "Anti-natalizumab antibodies")
MRI: Test = (LOCAL, "mri-brain", "Brain MRI")
EDSS: Test = (LOCAL, "edss", "EDSS assessment")

#: Rule id → what to order (and a label for the suggestion).
ORDERS: dict[str, tuple[str, tuple[Test, ...]]] = {
    "liver.baseline-missing": ("Order baseline ALT and AST", (ALT, AST)),
    "liver.elevated": ("Repeat ALT and AST", (ALT, AST)),
    "monitoring.liver-overdue": ("Order ALT and AST", (ALT, AST)),
    "blood.neutrophils-abnormal": ("Repeat CBC with differential", (CBC,)),
    "blood.platelets-low": ("Repeat CBC with differential", (CBC,)),
    "monitoring.blood-overdue": ("Order CBC with differential", (CBC,)),
    "thyroid.abnormal": ("Repeat TSH and free T4", (TSH, FREE_T4)),
    "monitoring.thyroid-overdue": ("Order TSH and free T4", (TSH, FREE_T4)),
    "antibody.positive-unconfirmed": ("Retest anti-natalizumab antibodies", (ANTIBODY,)),
    "antibody.low-drug-level": ("Test anti-natalizumab antibodies", (ANTIBODY,)),
    "mri.activity": ("Test anti-natalizumab antibodies", (ANTIBODY,)),
    "monitoring.antibody-overdue": ("Order anti-natalizumab antibodies", (ANTIBODY,)),
    "monitoring.mri-overdue": ("Order a brain MRI", (MRI,)),
    "monitoring.edss-overdue": ("Record an EDSS assessment", (EDSS,)),
}
#: Rules whose retest must wait the protocol's persistence gap after the result.
RETEST_AFTER_GAP = frozenset({"antibody.positive-unconfirmed"})


def order_suggestions(
    finding: Finding, card_uuid: str, patient: str, protocol: Protocol, tz: tzinfo
) -> list[Suggestion]:
    """The order a finding calls for, as one suggestion (none if it calls for no test)."""
    if finding.rule not in ORDERS:
        return []
    label, tests = ORDERS[finding.rule]
    earliest = None
    if finding.rule in RETEST_AFTER_GAP and finding.data_at is not None:
        gap = protocol.interval("antibody_persistence_gap")
        earliest = gap.after(finding.data_at.astimezone(tz).date())
        label = f"{label} on or after {earliest.isoformat()}"
    actions = [
        Action(
            type="create",
            description=f"Order {test[2]}",
            resource=service_request(patient, test, earliest),
        )
        for test in tests
    ]
    return [
        Suggestion(
            label=label,
            uuid=str(uuid.uuid5(uuid.UUID(card_uuid), label)),
            is_recommended=True,
            actions=actions,
        )
    ]


def service_request(patient: str, test: Test, earliest: date | None) -> JsonObject:
    system, code, display = test
    request: JsonObject = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": patient},
    }
    if earliest is not None:
        request["occurrencePeriod"] = {"start": earliest.isoformat()}
    return request
