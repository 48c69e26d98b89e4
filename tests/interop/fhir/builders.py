"""Builders of synthetic FHIR R4 resources as plain dicts (INTERFACES.md §1).

``a_bundle(an_alt(150, high=40))`` is a readable record; every builder takes an
explicit ``id`` when a test needs to name the fact, and otherwise numbers ids.
All records here are synthetic.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.protocol import (
    LOCAL,
    LOINC,
    RULE_SYSTEM,
    RXNORM,
    SNOMED,
    UCUM,
)
from natalizumab_cds.domain.timeline import Timeline
from natalizumab_cds.interop.fhir.reader import read_bundle

JSON = dict[str, Any]

PATIENT_ID = "p1"
PATIENT_REF = f"Patient/{PATIENT_ID}"
WHEN = "2026-11-01T08:00:00+00:00"
NATALIZUMAB_RXNORM = "354770"
AZATHIOPRINE_RXNORM = "1256"
PNEUMONIA = "233604007"
PML = "22255007"
PREGNANT, NOT_PREGNANT, PREGNANCY_UNKNOWN = "77386006", "60001007", "261665006"
ANTIBODY_POSITIVE, ANTIBODY_NEGATIVE = "10828004", "260385009"

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def concept(system: str, code: str, display: str = "") -> JSON:
    coding: JSON = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def a_quantity(value: Any, code: str | None = None, unit: str | None = None) -> JSON:
    """A Quantity; ``code`` is a UCUM code, ``unit`` the human-readable text."""
    quantity: JSON = {"value": value}
    if unit is not None:
        quantity["unit"] = unit
    if code is not None:
        quantity["system"] = UCUM
        quantity["code"] = code
    return quantity


def a_bundle(
    *resources: JSON, patient: JSON | None = None, bundle_type: str = "collection"
) -> JSON:
    """A Bundle holding ``patient`` (a default one if not given) and ``resources``."""
    everything = [patient if patient is not None else a_patient(), *resources]
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [
            {
                "fullUrl": f"https://example.org/fhir/{r.get('resourceType')}/{r.get('id')}",
                "resource": r,
            }
            for r in everything
        ],
    }


def a_patient(
    id: str = PATIENT_ID,
    birth_date: Any = "1980-05-01",
    given: tuple[str, ...] = ("Synthetic",),
    family: str = "Patient",
    mrn: str | None = "MRN0000001",
) -> JSON:
    patient: JSON = {
        "resourceType": "Patient",
        "id": id,
        "name": [{"given": list(given), "family": family}],
    }
    if birth_date is not None:
        patient["birthDate"] = birth_date
    if mrn is not None:
        mr_type = concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")
        patient["identifier"] = [
            {"system": "urn:example:national-id", "value": "NID-1"},
            {"type": mr_type, "system": "urn:example:mrn", "value": mrn},
        ]
    return patient


def an_observation(
    system: str,
    code: str,
    *,
    id: str | None = None,
    at: Any = WHEN,
    status: str = "final",
    **value: Any,
) -> JSON:
    """An Observation with ``value`` given as FHIR keys (``valueBoolean=True``)."""
    observation: JSON = {
        "resourceType": "Observation",
        "id": id or _id(code),
        "status": status,
        "code": concept(system, code),
        "subject": {"reference": PATIENT_REF},
    }
    if at is not None:
        observation["effectiveDateTime"] = at
    observation.update(value)
    return observation


def a_lab(
    loinc: str,
    value: Any,
    unit: str | None,
    *,
    low: float | None = None,
    high: float | None = None,
    range_unit: str | None = None,
    system: str = LOINC,
    **options: Any,
) -> JSON:
    """A numeric result; the reference range is written in ``range_unit`` (default: none)."""
    lab = an_observation(system, loinc, valueQuantity=a_quantity(value, unit), **options)
    bounds = {
        side: a_quantity(bound, range_unit)
        for side, bound in (("low", low), ("high", high))
        if bound is not None
    }
    if bounds:
        lab["referenceRange"] = [bounds]
    return lab


def an_alt(value: Any, unit: str = "U/L", **options: Any) -> JSON:
    return a_lab("1742-6", value, unit, **options)


def an_ast(value: Any, unit: str = "U/L", **options: Any) -> JSON:
    return a_lab("1920-8", value, unit, **options)


def a_neutrophil_count(value: Any, unit: str = "10*9/L", **options: Any) -> JSON:
    return a_lab("751-8", value, unit, **options)


def a_drug_level(value: Any, unit: str = "ug/mL", **options: Any) -> JSON:
    return a_lab("natalizumab-concentration", value, unit, system=LOCAL, **options)


def an_edss(value: Any, unit: str | None = "{score}", **options: Any) -> JSON:
    return a_lab("edss", value, unit, system=LOCAL, **options)


def a_pregnancy_status(answer: str = PREGNANT, **options: Any) -> JSON:
    return an_observation(LOINC, "82810-3", valueCodeableConcept=concept(SNOMED, answer), **options)


def an_antibody_result(answer: str = ANTIBODY_POSITIVE, **options: Any) -> JSON:
    return an_observation(
        LOCAL, "anti-natalizumab-antibody", valueCodeableConcept=concept(SNOMED, answer), **options
    )


def a_breastfeeding_status(value: Any = True, **options: Any) -> JSON:
    return an_observation(LOINC, "63895-7", valueBoolean=value, **options)


def a_screening_answer(code: str, value: Any = True, **options: Any) -> JSON:
    return an_observation(LOCAL, code, valueBoolean=value, **options)


def a_lesion_count(code: str, count: Any) -> JSON:
    return {"code": concept(LOCAL, code), "valueInteger": count}


def an_mri(gd: Any = 0, t2: Any = 0, **options: Any) -> JSON:
    components = [
        a_lesion_count("gd-enhancing-lesions", gd),
        a_lesion_count("new-or-enlarging-t2-lesions", t2),
    ]
    return an_observation(LOCAL, "mri-brain", component=components, **options)


def a_relapse(**options: Any) -> JSON:
    return an_observation(LOCAL, "ms-relapse", **options)


def a_condition(
    code: str = PNEUMONIA,
    system: str = SNOMED,
    *,
    id: str | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    onset: Any = WHEN,
    **extra: Any,
) -> JSON:
    condition: JSON = {
        "resourceType": "Condition",
        "id": id or _id("condition"),
        "code": concept(system, code, "Pneumonia" if code == PNEUMONIA else ""),
        "subject": {"reference": PATIENT_REF},
    }
    if clinical is not None:
        condition["clinicalStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", clinical
        )
    if verification is not None:
        condition["verificationStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification
        )
    if onset is not None:
        condition["onsetDateTime"] = onset
    condition.update(extra)
    return condition


def an_allergy(
    code: str = NATALIZUMAB_RXNORM,
    system: str = RXNORM,
    *,
    id: str | None = None,
    verification: str = "confirmed",
    manifestation: str = "Urticaria",
    **extra: Any,
) -> JSON:
    allergy: JSON = {
        "resourceType": "AllergyIntolerance",
        "id": id or _id("allergy"),
        "code": concept(system, code),
        "patient": {"reference": PATIENT_REF},
        "verificationStatus": concept(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", verification
        ),
        "recordedDate": WHEN,
        "reaction": [{"manifestation": [{"text": manifestation}]}],
    }
    allergy.update(extra)
    return allergy


def a_medication_statement(
    code: str = AZATHIOPRINE_RXNORM,
    system: str = RXNORM,
    *,
    id: str | None = None,
    status: str = "active",
    start: str | None = "2026-01-01",
    end: str | None = None,
    **extra: Any,
) -> JSON:
    period = {key: value for key, value in (("start", start), ("end", end)) if value}
    statement: JSON = {
        "resourceType": "MedicationStatement",
        "id": id or _id("statement"),
        "status": status,
        "medicationCodeableConcept": concept(system, code, "azathioprine"),
        "subject": {"reference": PATIENT_REF},
        "effectivePeriod": period,
    }
    statement.update(extra)
    return statement


def a_medication_request(
    code: str = AZATHIOPRINE_RXNORM,
    *,
    id: str | None = None,
    status: str = "active",
    authored: str = "2026-01-01T10:00:00+00:00",
    **extra: Any,
) -> JSON:
    request: JSON = {
        "resourceType": "MedicationRequest",
        "id": id or _id("request"),
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": concept(RXNORM, code),
        "subject": {"reference": PATIENT_REF},
        "authoredOn": authored,
    }
    request.update(extra)
    return request


def an_infusion(
    at: str = "2026-10-27T09:00:00+00:00",
    end: str | None = "2026-10-27T10:00:00+00:00",
    *,
    id: str | None = None,
    status: str = "completed",
    code: str = NATALIZUMAB_RXNORM,
    system: str = RXNORM,
) -> JSON:
    period = {"start": at, **({"end": end} if end else {})}
    return {
        "resourceType": "MedicationAdministration",
        "id": id or _id("infusion"),
        "status": status,
        "medicationCodeableConcept": concept(system, code, "natalizumab"),
        "subject": {"reference": PATIENT_REF},
        "effectivePeriod": period,
    }


def an_override(
    rule: str = "population.pediatric",
    *,
    id: str | None = None,
    status: str = "final",
    author: JSON | None = None,
    at: Any = "2026-11-20T10:00:00+00:00",
    reason: str | None = "Benefit outweighs risk after discussion",
) -> JSON:
    issue: JSON = {
        "resourceType": "DetectedIssue",
        "id": id or _id("override"),
        "status": status,
        "code": concept(RULE_SYSTEM, rule),
        "patient": {"reference": PATIENT_REF},
        "author": author
        if author is not None
        else {"reference": "Practitioner/dr-1", "display": "Dr A. Neuro"},
    }
    if at is not None:
        issue["identifiedDateTime"] = at
    if reason is not None:
        issue["mitigation"] = [{"action": {"text": reason}}]
    return issue


AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def read_record(*resources: JSON, patient: JSON | None = None) -> Timeline:
    """The Timeline read from a Bundle of ``resources`` with the packaged protocol."""
    return read_bundle(a_bundle(*resources, patient=patient), packaged_protocol())


def refusal(*resources: JSON, patient: JSON | None = None) -> str:
    """The InvalidInput message a Bundle of ``resources`` is refused with."""
    try:
        read_record(*resources, patient=patient)
    except InvalidInput as error:
        return str(error)
    raise AssertionError("the record was read, but it should have been refused")
