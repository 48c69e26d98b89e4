"""What an infusion visit writes into the patient's record, as FHIR R4 resources.

- The screening answers become Observations (INTERFACES §1): the local
  ``screen-new-neurological-symptoms`` and ``screen-active-infection`` yes/no
  answers, the pregnancy status (LOINC 82810-3) and the breastfeeding status
  (LOINC 63895-7), dated at the screening, so the assessment behind the
  clearance sees them. An answer that takes back an earlier "yes" at the same
  visit says so in its ``note`` (who asked, who answered no, when).
- The administration becomes a MedicationAdministration of natalizumab (RxNorm
  354770): ``in-progress`` from the start, ``completed`` once it has ended (the
  next assessment's dosing rules count it) or ``stopped`` when a reaction
  stopped it. Dose 300 mg in 100 mL 0.9 % sodium chloride at the pump's rate.
- A reaction becomes a confirmed AllergyIntolerance to natalizumab with its
  manifestations (SNOMED) and severity, so ``hypersensitivity.prior-reaction``
  fires at every later assessment.

Each resource's id is derived from the visit's, so recording a step again
(new screening answers, the end after the start) writes a new version of the
same resource instead of a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from natalizumab_cds.application.records import IncomingResource
from natalizumab_cds.domain.infusion_events import Reaction, ReactionSeverity, Symptom
from natalizumab_cds.domain.infusion_visit import Visit
from natalizumab_cds.domain.protocol import LOCAL, LOINC, RXNORM, SNOMED, UCUM, Protocol
from natalizumab_cds.interop.fhir.ingest import incoming

JSON = dict[str, Any]

VISIT_SYSTEM = "urn:natalizumab-cds:visit"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
INTRAVENOUS = (SNOMED, "47625008", "Intravenous route")
PREGNANT = (SNOMED, "77386006", "Pregnant")
NOT_PREGNANT = (SNOMED, "60001007", "Not pregnant")

#: SNOMED CT codes of the reaction's manifestations; ``other`` is described in words.
MANIFESTATIONS: dict[Symptom, tuple[str, str]] = {
    Symptom.URTICARIA: ("126485001", "Urticaria"),
    Symptom.HYPOTENSION: ("45007003", "Hypotension"),
    Symptom.DYSPNEA: ("267036007", "Dyspnea"),
    Symptom.ANAPHYLAXIS: ("39579001", "Anaphylaxis"),
}
#: FHIR's reaction severity has three words; a life-threatening reaction is severe.
SEVERITY = {
    ReactionSeverity.MILD: "mild",
    ReactionSeverity.MODERATE: "moderate",
    ReactionSeverity.SEVERE: "severe",
    ReactionSeverity.LIFE_THREATENING: "severe",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def concept(system: str, code: str, display: str) -> JSON:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _visit_identifier(visit: Visit) -> list[JSON]:
    return [{"system": VISIT_SYSTEM, "value": visit.id}]


class FhirInfusionRecords:
    """The infusion-day part of ``FhirRecordFormat`` (the ``RecordFormat`` port)."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol

    def screening(self, visit: Visit) -> list[IncomingResource]:
        """The four answers the assessment reads, as Observations dated at the screening."""
        screening = visit.screening
        if screening is None:
            return []
        answers: list[tuple[str, str, tuple[str, str, str], str, JSON]] = [
            (
                "screen-neuro",
                "neurological_symptoms",
                (
                    LOCAL,
                    "screen-new-neurological-symptoms",
                    "New or worsening neurological symptoms",
                ),
                "survey",
                {"valueBoolean": screening.neurological_symptoms},
            ),
            (
                "screen-infection",
                "active_infection",
                (LOCAL, "screen-active-infection", "Active infection"),
                "survey",
                {"valueBoolean": screening.active_infection},
            ),
            (
                "pregnancy",
                "pregnant",
                (LOINC, "82810-3", "Pregnancy status"),
                "social-history",
                {
                    "valueCodeableConcept": concept(
                        *(PREGNANT if screening.pregnant else NOT_PREGNANT)
                    )
                },
            ),
            (
                "breastfeeding",
                "breastfeeding",
                (LOINC, "63895-7", "Breastfeeding status"),
                "social-history",
                {"valueBoolean": screening.breastfeeding},
            ),
        ]
        resources = []
        for suffix, question, code, category, value in answers:
            resource: JSON = {
                "resourceType": "Observation",
                "id": f"{visit.id}-{suffix}",
                "identifier": _visit_identifier(visit),
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
                "code": concept(*code),
                "subject": {"reference": f"Patient/{visit.patient}"},
                "effectiveDateTime": iso(screening.at),
                "performer": [{"display": screening.screened_by}],
                **value,
            }
            notes = [
                {
                    "text": (
                        f"Withdraws the earlier answer yes (asked {iso(w.answered_at)} by "
                        f"{w.answered_by}): answered no {iso(w.withdrawn_at)} by {w.withdrawn_by}"
                    )
                }
                for w in screening.withdrawn
                if w.question == question
            ]
            if notes:
                resource["note"] = notes
            resources.append(incoming(resource, f"Observation/{resource['id']}"))
        return resources

    def administration(self, visit: Visit) -> IncomingResource | None:
        """The natalizumab administration of the visit; ``None`` before the start."""
        start, preparation = visit.start, visit.preparation
        status = visit.administration_status
        if start is None or preparation is None or status is None:
            return None
        period: JSON = {"start": iso(start.at)}
        if visit.end is not None:
            period["end"] = iso(visit.end.at)
        elif visit.reaction is not None:
            period["end"] = iso(visit.reaction.at)
        rate = start.rate_ml_per_hour
        if rate is None and start.planned_duration is not None:
            rate = round(preparation.volume_ml * 3600 / start.planned_duration.total_seconds(), 1)
        dosage: JSON = {
            "text": (
                f"{preparation.dose_mg:g} mg natalizumab in {preparation.volume_ml:g} mL "
                f"0.9 % sodium chloride, IV infusion at {rate:g} mL/h"
            ),
            "route": concept(*INTRAVENOUS),
            "dose": {"value": preparation.dose_mg, "unit": "mg", "system": UCUM, "code": "mg"},
            "rateQuantity": {"value": rate, "unit": "mL/h", "system": UCUM, "code": "mL/h"},
        }
        resource: JSON = {
            "resourceType": "MedicationAdministration",
            "id": f"{visit.id}-administration",
            "identifier": _visit_identifier(visit),
            "status": status,
            "medicationCodeableConcept": concept(RXNORM, "354770", "natalizumab"),
            "subject": {"reference": f"Patient/{visit.patient}"},
            "effectivePeriod": period,
            "performer": [{"actor": {"display": start.started_by}}],
            "note": [
                {
                    "text": (
                        f"Vial lot {preparation.vial_lot} (expires "
                        f"{preparation.vial_expiry.isoformat()}); diluted "
                        f"{iso(preparation.diluted_at)} by {preparation.prepared_by}, "
                        f"checked by {preparation.checked_by}"
                    )
                }
            ],
            "dosage": dosage,
        }
        if status == "stopped" and visit.reaction is not None:
            resource["statusReason"] = [{"text": f"Reaction: {visit.reaction.summary}"}]
        return incoming(resource, f"MedicationAdministration/{resource['id']}")

    def reaction(self, visit: Visit) -> IncomingResource | None:
        """The confirmed allergy to natalizumab a reaction at the visit establishes."""
        reaction = visit.reaction
        if reaction is None:
            return None
        ident = f"{visit.id}-reaction"
        allergy = reaction.as_allergy(f"AllergyIntolerance/{ident}", self._protocol)
        code: JSON = {
            "coding": [
                {"system": c.system, "code": c.code, "display": c.display} for c in allergy.codes
            ],
            "text": "natalizumab",
        }
        resource: JSON = {
            "resourceType": "AllergyIntolerance",
            "id": ident,
            "identifier": _visit_identifier(visit),
            "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
            "verificationStatus": {
                "coding": [{"system": ALLERGY_VERIFICATION, "code": allergy.verification_status}]
            },
            "type": "allergy",
            "category": ["medication"],
            "criticality": _criticality(reaction),
            "code": code,
            "patient": {"reference": f"Patient/{visit.patient}"},
            "onsetDateTime": iso(reaction.at),
            "recordedDate": iso(reaction.at),
            "recorder": {"display": reaction.recorded_by},
            "reaction": [_reaction(reaction)],
        }
        return incoming(resource, f"AllergyIntolerance/{ident}")


def _criticality(reaction: Reaction) -> str:
    grave = reaction.severity in (ReactionSeverity.SEVERE, ReactionSeverity.LIFE_THREATENING)
    return "high" if grave or Symptom.ANAPHYLAXIS in reaction.symptoms else "low"


def _reaction(reaction: Reaction) -> JSON:
    manifestations = [
        concept(SNOMED, *MANIFESTATIONS[symptom])
        for symptom in Symptom
        if symptom in MANIFESTATIONS and symptom in reaction.symptoms
    ]
    if Symptom.OTHER in reaction.symptoms:
        manifestations.append({"text": reaction.description.strip()})
    return {
        "substance": concept(RXNORM, "354770", "natalizumab"),
        "manifestation": manifestations,
        "description": reaction.summary,
        "onset": iso(reaction.at),
        "severity": SEVERITY[reaction.severity],
        "exposureRoute": concept(*INTRAVENOUS),
        "note": [{"text": f"Emergency treatment: {reaction.treatment.strip()}"}],
    }
