"""Render a synthetic ``Plan`` as a FHIR R4 ``Bundle`` (plain JSON-able dicts).

Codes follow INTERFACES.md section 1; every date-time is a full ISO date-time in
UTC ("+00:00"). Resource ids are ``{kind}-{index}-{n}``, numbered in date order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from natalizumab_cds.domain.protocol import LOCAL, LOINC, RXNORM, SNOMED, UCUM
from natalizumab_cds.interop.fhir.synthetic_plan import LABS, Lab, Mri, Plan, Status

JSON = dict[str, Any]

BASE_URL = "https://example.org/fhir"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
MRN_SYSTEM = "urn:natalizumab-cds:synthetic-mrn"
SYNTHETIC_TAG = {"system": LOCAL, "code": "synthetic", "display": "Synthetic test record"}
SCENARIO_SYSTEM = "urn:natalizumab-cds:synthetic-scenario"

POSITIVE = (SNOMED, "10828004", "Positive")
NEGATIVE = (SNOMED, "260385009", "Negative")
PREGNANT = (SNOMED, "77386006", "Pregnant")
NOT_PREGNANT = (SNOMED, "60001007", "Not pregnant")


# key: (prefix, code system, code, display, category, coded answers or None for yes/no)
_STATUSES: dict[str, tuple[str, str, str, str, str, dict[str, tuple[str, str, str]] | None]] = {
    "pregnancy": (
        "preg",
        LOINC,
        "82810-3",
        "Pregnancy status",
        "social-history",
        {"pregnant": PREGNANT, "not-pregnant": NOT_PREGNANT},
    ),
    "breastfeeding": ("bf", LOINC, "63895-7", "Breastfeeding status", "social-history", None),
    "antibody": (
        "ab",
        LOCAL,
        "anti-natalizumab-antibody",
        "Anti-natalizumab antibodies",
        "laboratory",
        {"positive": POSITIVE, "negative": NEGATIVE},
    ),
    "screen-neuro": (
        "screen-neuro",
        LOCAL,
        "screen-new-neurological-symptoms",
        "Pre-infusion screening: new or worsening neurological symptoms",
        "survey",
        None,
    ),
    "screen-infection": (
        "screen-infection",
        LOCAL,
        "screen-active-infection",
        "Pre-infusion screening: active infection",
        "survey",
        None,
    ),
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def concept(system: str, code: str, display: str) -> JSON:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def quantity(value: float, unit: str, code: str) -> JSON:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def patient_ref(plan: Plan) -> JSON:
    return {"reference": f"Patient/{plan.patient_id}"}


def render_bundle(plan: Plan, seed: int, scenario: str) -> JSON:
    """The plan as a ``collection`` Bundle; ``scenario`` is tagged on Bundle and Patient."""
    tags = [dict(SYNTHETIC_TAG), {"system": SCENARIO_SYSTEM, "code": scenario}]
    resources = [
        _patient(plan, tags),
        *(_administration(plan, infusion.start, infusion.end) for infusion in plan.infusions),
        *_observations(plan),
        *plan.extras,
    ]
    return {
        "resourceType": "Bundle",
        "id": f"synthetic-{seed}-p{plan.index}",
        "meta": {"tag": tags},
        "type": "collection",
        "timestamp": iso(plan.anchor),
        "entry": [
            {"fullUrl": f"{BASE_URL}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def _patient(plan: Plan, tags: list[JSON]) -> JSON:
    mr = concept(IDENTIFIER_TYPE, "MR", "Medical record number")
    return {
        "resourceType": "Patient",
        "id": plan.patient_id,
        "meta": {"tag": [dict(tag) for tag in tags]},
        "identifier": [
            {"use": "usual", "type": mr, "system": MRN_SYSTEM, "value": f"MRN{plan.index:07d}"}
        ],
        "active": True,
        "name": [{"use": "official", "family": plan.family, "given": [plan.given]}],
        "gender": plan.gender,
        "birthDate": plan.birth_date.isoformat(),
    }


def _administration(plan: Plan, start: datetime, end: datetime) -> JSON:
    return {
        "resourceType": "MedicationAdministration",
        "id": plan.new_id("inf"),
        "status": "completed",
        "medicationCodeableConcept": concept(RXNORM, "354770", "natalizumab"),
        "subject": patient_ref(plan),
        "effectivePeriod": {"start": iso(start), "end": iso(end)},
        "dosage": {
            "text": "300 mg natalizumab in 100 mL sodium chloride 0.9 % IV over 1 hour",
            "route": concept(SNOMED, "47625008", "Intravenous route"),
            "dose": quantity(300, "mg", "mg"),
        },
    }


def _observations(plan: Plan) -> list[JSON]:
    """All observations in date order; ids within a kind are numbered in date order."""
    dated = [(lab.at, lab_observation(plan, lab)) for lab in sorted(plan.labs, key=_lab_at)]
    dated += [(s.at, status_observation(plan, s)) for s in sorted(plan.statuses, key=_status_at)]
    dated += [(m.at, mri_observation(plan, m)) for m in sorted(plan.mris, key=_mri_at)]
    dated += [(onset, relapse_observation(plan, onset)) for onset in sorted(plan.relapses)]
    dated.sort(key=lambda item: item[0])
    return [resource for _, resource in dated]


def _lab_at(lab: Lab) -> datetime:
    return lab.at


def _status_at(status: Status) -> datetime:
    return status.at


def _mri_at(mri: Mri) -> datetime:
    return mri.at


def _observation(plan: Plan, prefix: str, category: str, code: JSON, at: datetime) -> JSON:
    return {
        "resourceType": "Observation",
        "id": plan.new_id(prefix),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, category, category.replace("-", " ").title())],
        "code": code,
        "subject": patient_ref(plan),
        "effectiveDateTime": iso(at),
    }


def lab_observation(plan: Plan, lab: Lab) -> JSON:
    spec = LABS[lab.key]
    code = concept(spec.system, spec.code, spec.display)
    resource = _observation(plan, spec.prefix, spec.category, code, lab.at)
    value: float = int(lab.value) if spec.digits == 0 else lab.value
    resource["valueQuantity"] = quantity(value, spec.unit, spec.ucum)
    if spec.low is not None and spec.high is not None:
        resource["referenceRange"] = [
            {
                "low": quantity(spec.low, spec.unit, spec.ucum),
                "high": quantity(spec.high, spec.unit, spec.ucum),
            }
        ]
    return resource


def status_observation(plan: Plan, status: Status) -> JSON:
    prefix, system, code, display, category, answers = _STATUSES[status.key]
    resource = _observation(plan, prefix, category, concept(system, code, display), status.at)
    if answers is None:
        resource["valueBoolean"] = bool(status.value)
    else:
        resource["valueCodeableConcept"] = concept(*answers[str(status.value)])
    return resource


def mri_observation(plan: Plan, mri: Mri) -> JSON:
    code = concept(LOCAL, "mri-brain", "MRI brain with gadolinium, MS protocol: read")
    resource = _observation(plan, "mri", "imaging", code, mri.at)
    resource["component"] = [
        _count(LOCAL, "gd-enhancing-lesions", "Gadolinium-enhancing lesions", mri.gd),
        _count(LOCAL, "new-or-enlarging-t2-lesions", "New or enlarging T2 lesions", mri.t2),
    ]
    return resource


def _count(system: str, code: str, display: str, count: int) -> JSON:
    return {"code": concept(system, code, display), "valueInteger": count}


def relapse_observation(plan: Plan, onset: datetime) -> JSON:
    code = concept(LOCAL, "ms-relapse", "Multiple sclerosis relapse (onset)")
    return _observation(plan, "relapse", "exam", code, onset)


def clinical_status(system_name: str, code: str) -> JSON:
    system = f"http://terminology.hl7.org/CodeSystem/{system_name}"
    return concept(system, code, code.title())


def author(name: str) -> JSON:
    return {"reference": "Practitioner/synthetic-neurologist", "display": name}
