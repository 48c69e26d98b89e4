"""Edits that turn a routine synthetic history into one clinical situation.

Each function changes a ``Plan`` (built by ``build_history``) so that one rule of
CLINICAL_RULES.md fires at the plan's anchor. Dates are counted back from the
anchor's UTC calendar day; nothing is placed after the anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from natalizumab_cds.domain.protocol import RULE_SYSTEM, RXNORM, SNOMED, add_months
from natalizumab_cds.interop.fhir.synthetic_fhir import (
    JSON,
    author,
    clinical_status,
    concept,
    iso,
    patient_ref,
)
from natalizumab_cds.interop.fhir.synthetic_plan import (
    BLOOD,
    LIVER,
    THYROID,
    Lab,
    Mri,
    Plan,
    Status,
    at_time,
)

Edit = Callable[[Plan], None]


def months_ago(plan: Plan, months: int, hour: int = 10, minute: int = 0) -> datetime:
    return at_time(add_months(plan.today, -months), hour, minute)


def set_latest(key: str, value: float) -> Edit:
    """The latest result of ``key`` gets ``value`` (one is added a week ago if none)."""

    def edit(plan: Plan) -> None:
        latest = plan.latest_lab(key)
        if latest is None:
            plan.labs.append(Lab(key, plan.days_ago(7, 9), value))
        else:
            latest.value = value

    return edit


def latest_statuses(plan: Plan, key: str, count: int) -> list[Status]:
    ordered = sorted((s for s in plan.statuses if s.key == key), key=lambda s: s.at)
    return ordered[-count:]


def antibody_positive(plan: Plan) -> None:
    for status in latest_statuses(plan, "antibody", 1):
        status.value = "positive"


def antibody_persistent(plan: Plan) -> None:
    """The last two antibody results positive; from the first of them on, the serum
    level is below 1 µg/mL, as the protocol says persistent antibodies bring it."""
    positives = latest_statuses(plan, "antibody", 2)
    for status in positives:
        status.value = "positive"
    for lab in plan.labs:
        if lab.key == "natalizumab-concentration" and lab.at >= positives[0].at:
            lab.value = round(plan.rng.uniform(0.2, 0.9), 1)


def low_drug_level(plan: Plan) -> None:
    (last_test,) = latest_statuses(plan, "antibody", 1)
    plan.drop_labs(("natalizumab-concentration",), last_test.at - timedelta(seconds=1))
    plan.labs.append(Lab("natalizumab-concentration", last_test.at, 0.6))


def pregnant(plan: Plan) -> None:
    plan.statuses.append(
        Status("pregnancy", plan.days_ago(plan.rng.randint(3, 10), 11), "pregnant")
    )


def breastfeeding(plan: Plan) -> None:
    at = plan.days_ago(plan.rng.randint(2, 7), 11)
    plan.statuses.append(Status("pregnancy", at, "not-pregnant"))
    plan.statuses.append(Status("breastfeeding", at, True))


def pml_screening(plan: Plan) -> None:
    """Screening answers on the anchor's day, an hour before it (never the day before)."""
    at = max(plan.anchor - timedelta(hours=1), at_time(plan.today, 0))
    plan.statuses.append(Status("screen-neuro", at, True))
    plan.statuses.append(Status("screen-infection", at, False))


def recent_relapse(plan: Plan) -> None:
    plan.relapses.append(months_ago(plan, 3, 11))


def mri_activity(plan: Plan) -> None:
    at = months_ago(plan, 2, 14)
    plan.mris = [mri for mri in plan.mris if mri.at < at]
    plan.mris.append(Mri(at, gd=2, t2=2))


def edss_worsening(plan: Plan) -> None:
    """Baseline 3.0, then 3.0–3.5 on treatment, then 4.0 and 4.5 ≥ 12 weeks apart."""
    scores = sorted((lab for lab in plan.labs if lab.key == "edss"), key=lambda lab: lab.at)
    plan.edss_baseline = 3.0
    for lab in scores:
        lab.value = plan.rng.choice((3.0, 3.5))
    scores[0].value = 3.0
    scores[-2].value = 4.0
    scores[-1].value = 4.5


def retake(keys: Iterable[str], months: int) -> Edit:
    """The last results of ``keys`` were taken ``months`` ago (nothing since)."""
    names = tuple(keys)

    def edit(plan: Plan) -> None:
        plan.drop_labs(names, at_time(add_months(plan.today, -months), 0))
        plan.add_panel(names, months_ago(plan, months, 9, 30))

    return edit


def antibody_overdue(plan: Plan) -> None:
    cutoff = at_time(add_months(plan.today, -4), 0)
    plan.statuses = [s for s in plan.statuses if s.key != "antibody" or s.at <= cutoff]
    plan.drop_labs(("natalizumab-concentration",), cutoff)
    plan.statuses.append(Status("antibody", months_ago(plan, 4, 9, 30), "negative"))


def mri_overdue(plan: Plan) -> None:
    at = months_ago(plan, 14, 14)
    plan.mris = [mri for mri in plan.mris if mri.at < at]
    plan.mris.append(Mri(at))


def edss_overdue(plan: Plan) -> None:
    cutoff = at_time(add_months(plan.today, -8), 0)
    plan.drop_labs(("edss",), cutoff)
    plan.labs.append(Lab("edss", months_ago(plan, 8, 10), plan.edss_baseline))


def restart_labs(plan: Plan) -> None:
    """Liver tests, CBC and antibodies drawn a few days before the restart."""
    at = plan.days_ago(plan.rng.randint(3, 7), 9)
    plan.add_panel((*LIVER, *BLOOD), at)
    plan.statuses.append(Status("antibody", at, "negative"))


def new_patient_workup(plan: Plan) -> None:
    """Work-up before a first dose: MRI, EDSS, CBC, thyroid — but no ALT/AST."""
    rng = plan.rng
    plan.mris.append(Mri(plan.days_ago(rng.randint(21, 60), 14)))
    plan.edss_baseline = rng.choice((2.0, 2.5, 3.0, 3.5))
    plan.labs.append(Lab("edss", plan.days_ago(rng.randint(14, 40), 10), plan.edss_baseline))
    plan.add_panel((*BLOOD, *THYROID), plan.days_ago(rng.randint(5, 30), 9))
    plan.relapses.append(plan.days_ago(rng.randint(420, 700), 11))
    if plan.gender == "female":
        plan.statuses.append(
            Status("pregnancy", plan.days_ago(rng.randint(5, 20), 9), "not-pregnant")
        )


# --- other resources -----------------------------------------------------------


def prior_reaction(plan: Plan) -> None:
    """Urticaria 40 minutes after the last infusion ended, confirmed."""
    onset = plan.infusions[-1].end + timedelta(minutes=40)
    reaction = {
        "manifestation": [concept(SNOMED, "126485001", "Urticaria")],
        "onset": iso(onset),
        "severity": "moderate",
        "description": "Generalised urticaria 40 minutes after the natalizumab infusion",
    }
    plan.extras.append(
        {
            "resourceType": "AllergyIntolerance",
            "id": plan.new_id("allergy"),
            "clinicalStatus": clinical_status("allergyintolerance-clinical", "active"),
            "verificationStatus": clinical_status("allergyintolerance-verification", "confirmed"),
            "type": "allergy",
            "category": ["medication"],
            "criticality": "high",
            "code": concept(RXNORM, "354770", "natalizumab"),
            "patient": patient_ref(plan),
            "onsetDateTime": iso(onset),
            "recordedDate": iso(onset + timedelta(hours=1)),
            "reaction": [reaction],
        }
    )


def concurrent_immunosuppressant(plan: Plan) -> None:
    start = plan.days_ago(plan.rng.randint(30, 90), 12)
    plan.extras.append(
        {
            "resourceType": "MedicationStatement",
            "id": plan.new_id("medstmt"),
            "status": "active",
            "medicationCodeableConcept": concept(RXNORM, "1256", "azathioprine"),
            "subject": patient_ref(plan),
            "effectivePeriod": {"start": iso(start)},
            "dateAsserted": iso(plan.days_ago(2, 12)),
            "dosage": [{"text": "azathioprine 50 mg by mouth twice daily"}],
        }
    )


def _condition(plan: Plan, code: JSON, status: str, onset: datetime) -> JSON:
    return {
        "resourceType": "Condition",
        "id": plan.new_id("condition"),
        "clinicalStatus": clinical_status("condition-clinical", status),
        "verificationStatus": clinical_status("condition-ver-status", "confirmed"),
        "category": [
            concept(
                "http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis",
                "Encounter Diagnosis",
            )
        ],
        "code": code,
        "subject": patient_ref(plan),
        "onsetDateTime": iso(onset),
    }


def active_infection(plan: Plan) -> None:
    onset = plan.anchor - timedelta(days=5)
    condition = _condition(plan, concept(SNOMED, "233604007", "Pneumonia"), "active", onset)
    condition["recordedDate"] = iso(onset + timedelta(days=1))
    plan.extras.append(condition)


def opportunistic_infection(plan: Plan) -> None:
    """PML on an earlier therapy, resolved, recorded before natalizumab was started."""
    first = plan.infusions[0].start if plan.infusions else plan.anchor
    onset = first - timedelta(days=plan.rng.randint(400, 900))
    code = concept(SNOMED, "22255007", "Progressive multifocal leukoencephalopathy")
    condition = _condition(plan, code, "resolved", onset)
    condition["abatementDateTime"] = iso(onset + timedelta(days=180))
    condition["recordedDate"] = iso(onset + timedelta(days=14))
    plan.extras.append(condition)


def pediatric_override(plan: Plan) -> None:
    """The neurologist's documented benefit-risk decision before the first dose."""
    first = plan.infusions[0].start if plan.infusions else plan.anchor
    at = first - timedelta(hours=2)
    neurologist = author("Dr. Synthetic Neurologist")
    reason = (
        "Benefit-risk reviewed by the MS team: highly active paediatric-onset MS, "
        "other therapies failed; parents' informed consent documented"
    )
    plan.extras.append(
        {
            "resourceType": "DetectedIssue",
            "id": plan.new_id("override"),
            "status": "final",
            "code": concept(RULE_SYSTEM, "population.pediatric", "Patient under 18 years"),
            "patient": patient_ref(plan),
            "identifiedDateTime": iso(at),
            "author": neurologist,
            "detail": "Natalizumab for a patient under 18 years",
            "mitigation": [{"action": {"text": reason}, "date": iso(at), "author": neurologist}],
        }
    )
