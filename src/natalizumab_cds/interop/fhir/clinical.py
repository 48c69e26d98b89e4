"""FHIR ``Patient``, ``Condition``, ``AllergyIntolerance`` and ``DetectedIssue``.

Conditions and allergies are kept only when a rule can use them: a condition
coded in one of the protocol's infection value sets, an allergy to natalizumab
(by its code or by a reaction's substance). Anything else in the problem or
allergy list is not read, so a malformed unrelated entry cannot block an
assessment. A DetectedIssue is an override only when it is final and names a
rule in ``urn:natalizumab-cds:rule``.
"""

from __future__ import annotations

from natalizumab_cds.domain.findings import Override
from natalizumab_cds.domain.protocol import RULE_SYSTEM
from natalizumab_cds.domain.timeline import Allergy, Coding, Condition, Patient
from natalizumab_cds.interop.fhir.context import Context
from natalizumab_cds.interop.fhir.dates import optional_datetime, parse_date_span, read_period
from natalizumab_cds.interop.fhir.fields import (
    JsonObject,
    codings,
    concept_text,
    get_list,
    get_object,
    get_str,
    invalid,
    item_object,
    status_code,
)


def read_patient(resource: JsonObject, ref: str) -> Patient:
    """The patient; a partial birth date (YYYY, YYYY-MM) keeps its first and last day."""
    raw = resource.get("birthDate")
    first, last = (None, None) if raw is None else parse_date_span(ref, "birthDate", raw)
    return Patient(ref, first, _name(ref, resource), _mrn(ref, resource), last)


def _name(ref: str, resource: JsonObject) -> str:
    """Given names and family name of ``name[0]``, else its text."""
    names = get_list(ref, resource, "name")
    if not names:
        return ""
    name = item_object(ref, names, 0, "name")
    given = get_list(ref, name, "given", "name[0]")
    parts = [part for part in given if isinstance(part, str)]
    if len(parts) != len(given):
        raise invalid(ref, "name[0].given", "must be a list of strings")
    family = get_str(ref, name, "family", "name[0]")
    if family:
        parts.append(family)
    return " ".join(parts) or get_str(ref, name, "text", "name[0]") or ""


def _mrn(ref: str, resource: JsonObject) -> str | None:
    """The identifier typed MR (medical record number), else the first identifier."""
    identifiers = get_list(ref, resource, "identifier")
    values: list[str | None] = []
    for index in range(len(identifiers)):
        identifier = item_object(ref, identifiers, index, "identifier")
        path = f"identifier[{index}]"
        value = get_str(ref, identifier, "value", path)
        type_codes = codings(ref, get_object(ref, identifier, "type", path), f"{path}.type")
        if value and any(coding.code == "MR" for coding in type_codes):
            return value
        values.append(value)
    return values[0] if values else None


def read_condition(resource: JsonObject, ref: str, context: Context) -> Condition | None:
    """An infection the rules ask about, dated by onset, else by when it was recorded."""
    concept = get_object(ref, resource, "code")
    codes = codings(ref, concept, "code")
    if not context.is_infection(codes):
        return None
    onset = optional_datetime(ref, resource, "onsetDateTime")
    if onset is None:
        onset = read_period(ref, resource, "onsetPeriod")[0]
    if onset is None:
        onset = optional_datetime(ref, resource, "recordedDate")
    return Condition(
        id=ref,
        codes=codes,
        clinical_status=status_code(ref, resource, "clinicalStatus"),
        verification_status=status_code(ref, resource, "verificationStatus"),
        at=onset,
        abatement=optional_datetime(ref, resource, "abatementDateTime"),
        name=concept_text(ref, concept, "code"),
    )


def read_allergy(resource: JsonObject, ref: str, context: Context) -> Allergy | None:
    """A recorded allergy or intolerance to natalizumab, with what the reaction was."""
    codes = codings(ref, get_object(ref, resource, "code"), "code")
    substances: list[Coding] = []
    described: list[str] = []
    reactions = get_list(ref, resource, "reaction")
    for index in range(len(reactions)):
        reaction = item_object(ref, reactions, index, "reaction")
        path = f"reaction[{index}]"
        substance = get_object(ref, reaction, "substance", path)
        substances.extend(codings(ref, substance, f"{path}.substance"))
        described.append(_described(ref, reaction, path))
    codes += tuple(substances)
    if not context.is_natalizumab(codes):
        return None
    onset = optional_datetime(ref, resource, "onsetDateTime")
    return Allergy(
        id=ref,
        codes=codes,
        verification_status=status_code(ref, resource, "verificationStatus"),
        at=onset if onset is not None else optional_datetime(ref, resource, "recordedDate"),
        reaction="; ".join(text for text in described if text),
        severe=_is_severe(resource),
    )


def _is_severe(resource: JsonObject) -> bool:
    """Criticality high, or any reaction graded severe (the safety report counts these)."""
    if resource.get("criticality") == "high":
        return True
    reactions = resource.get("reaction")
    return isinstance(reactions, list) and any(
        isinstance(r, dict) and r.get("severity") == "severe" for r in reactions
    )


def _described(ref: str, reaction: JsonObject, path: str) -> str:
    """The reaction in words: its ``description`` (ours carries the grade and the
    treatment), else its manifestations with the grade, "Urticaria, Dyspnea (moderate)"."""
    description = get_str(ref, reaction, "description", path)
    if description and description.strip():
        return description.strip()
    text = ", ".join(t for t in _manifestations(ref, reaction, path) if t)
    severity = get_str(ref, reaction, "severity", path)
    return f"{text} ({severity})" if text and severity else text


def _manifestations(ref: str, reaction: JsonObject, path: str) -> list[str]:
    items = get_list(ref, reaction, "manifestation", path)
    where = f"{path}.manifestation"
    return [
        concept_text(ref, item_object(ref, items, index, where), f"{where}[{index}]")
        for index in range(len(items))
    ]


def read_override(resource: JsonObject, ref: str, context: Context) -> Override | None:
    """A clinician's override of one rule, recorded as a final DetectedIssue."""
    if get_str(ref, resource, "status") != "final":
        return None
    rule = next(
        (
            c.code
            for c in codings(ref, get_object(ref, resource, "code"), "code")
            if c.system == RULE_SYSTEM
        ),
        None,
    )
    if rule is None:
        return None
    at = optional_datetime(ref, resource, "identifiedDateTime")
    if at is None:
        at = read_period(ref, resource, "identifiedPeriod")[0]
    if at is None:
        raise invalid(ref, "identifiedDateTime", "is missing; an override needs its time")
    return Override(ref, rule, _author(ref, resource), at, _reason(ref, resource))


def _author(ref: str, resource: JsonObject) -> str:
    author = get_object(ref, resource, "author")
    if author is not None:
        who = get_str(ref, author, "display", "author") or get_str(
            ref, author, "reference", "author"
        )
        if who:
            return who
    raise invalid(ref, "author", "is missing; an override needs its author")


def _reason(ref: str, resource: JsonObject) -> str:
    """mitigation[0].action: its text, else its first coding's display."""
    mitigations = get_list(ref, resource, "mitigation")
    if mitigations:
        mitigation = item_object(ref, mitigations, 0, "mitigation")
        action = get_object(ref, mitigation, "action", "mitigation[0]")
        reason = concept_text(ref, action, "mitigation[0].action")
        if reason:
            return reason
    raise invalid(ref, "mitigation[0].action.text", "is missing; an override needs its reason")
