"""What ``GET /cds-services`` advertises: one service, the hooks it answers, its prefetch.

The prefetch templates ask for every resource of the FHIR profile
(INTERFACES.md §1). Every key is needed: an assessment on part of the record
could read as all-clear, so a key the EHR leaves out is fetched from its FHIR
server, and if that fails the call is refused with 412.
"""

from __future__ import annotations

from natalizumab_cds.domain.protocol import RULE_SYSTEM
from natalizumab_cds.interop.cds_hooks.wire import Discovery, Hook, ServiceDescription
from natalizumab_cds.interop.fhir.observations import (
    ANALYTE_CODES,
    BOOLEAN_STATUS_CODES,
    CODED_STATUS_CODES,
    MRI_CODE,
    RELAPSE_CODE,
)

SERVICE_ID = "natalizumab-infusion-safety"
PATIENT = "{{context.patientId}}"

#: Observation codes the reader recognises, as a FHIR token list ``system|code,...``.
OBSERVATION_CODES = ",".join(
    f"{system}|{code}"
    for system, code in (
        *ANALYTE_CODES,
        *CODED_STATUS_CODES,
        *BOOLEAN_STATUS_CODES,
        MRI_CODE,
        RELAPSE_CODE,
    )
)

#: Prefetch key → FHIR query template; every key is needed for an assessment.
PREFETCH: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "observations": f"Observation?patient={PATIENT}&code={OBSERVATION_CODES}",
    "conditions": f"Condition?patient={PATIENT}",
    "allergies": f"AllergyIntolerance?patient={PATIENT}",
    "medicationStatements": (
        f"MedicationStatement?patient={PATIENT}&_include=MedicationStatement:medication"
    ),
    "medicationRequests": (
        f"MedicationRequest?patient={PATIENT}&_include=MedicationRequest:medication"
    ),
    "medicationAdministrations": (
        f"MedicationAdministration?patient={PATIENT}&_include=MedicationAdministration:medication"
    ),
    "detectedIssues": f"DetectedIssue?patient={PATIENT}&code={RULE_SYSTEM}|",
}

#: The resource type each key holds: a single resource, or a searchset of this type.
PREFETCH_TYPES: dict[str, str] = {
    key: template.split("?")[0].split("/")[0] for key, template in PREFETCH.items()
}
SINGLE_RESOURCE_KEYS = frozenset({"patient"})

_DESCRIPTIONS = {
    Hook.ORDER_SIGN: (
        "Natalizumab infusion safety check",
        "When a natalizumab order is signed: whether the infusion may proceed under the "
        "institutional protocol (hold, discontinue, caution or proceed), with one card per "
        "finding and a summary card.",
    ),
    Hook.PATIENT_VIEW: (
        "Natalizumab monitoring and safety",
        "When a patient's chart is opened: the natalizumab decision for now, findings that "
        "need attention and overdue monitoring.",
    ),
    Hook.APPOINTMENT_BOOK: (
        "Natalizumab infusion appointment check",
        "When an infusion appointment is booked: the decision at the appointment's start.",
    ),
    Hook.MEDICATION_PRESCRIBE: (
        "Natalizumab infusion safety check (deprecated hook)",
        "Deprecated alias of order-sign for CDS clients still on the CDS Hooks 1.x "
        "medication-prescribe hook; answers exactly as order-sign.",
    ),
}


def discovery() -> Discovery:
    """One entry per hook, all under the one service id (the endpoint reads ``hook``)."""
    services = []
    for hook, (title, description) in _DESCRIPTIONS.items():
        extension = (
            {"natalizumab-cds.deprecated": True, "natalizumab-cds.replacedBy": "order-sign"}
            if hook is Hook.MEDICATION_PRESCRIBE
            else None
        )
        services.append(
            ServiceDescription(
                hook=hook,
                id=SERVICE_ID,
                title=title,
                description=description,
                prefetch=dict(PREFETCH),
                usage_requirements=(
                    "Register the EHR's JWT issuer and JWK Set with the service "
                    "(NTZ_CDS_HOOKS_TRUSTED_ISSUERS); send every prefetch key or a "
                    "reachable fhirServer with fhirAuthorization."
                ),
                extension=extension,
            )
        )
    return Discovery(services=services)
