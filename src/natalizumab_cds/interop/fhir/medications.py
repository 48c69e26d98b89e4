"""FHIR ``MedicationStatement``, ``MedicationRequest`` and ``MedicationAdministration``.

Statements and requests become ``Medication`` facts whatever the medicine (the
concurrent-immunosuppression rule matches the codes; natalizumab is excluded
there, not here). Administrations matter only for natalizumab: they are the
infusion history. A medicine named by ``medicationReference`` is resolved to the
``Medication`` resource in the record (or contained in the resource); one that
cannot be resolved is an input error, because an unidentified medicine must not
read as "no immunosuppressant".
"""

from __future__ import annotations

from collections.abc import Mapping

from natalizumab_cds.domain.timeline import Coding, Infusion, Medication
from natalizumab_cds.interop.fhir.context import Context
from natalizumab_cds.interop.fhir.dates import optional_datetime, read_period
from natalizumab_cds.interop.fhir.fields import (
    JsonObject,
    codings,
    concept_text,
    get_list,
    get_object,
    invalid,
    require_str,
)


def read_medication_statement(resource: JsonObject, ref: str, context: Context) -> Medication:
    """effectivePeriod, else effectiveDateTime as the start of an open period."""
    codes, name = _medicine(ref, resource, context)
    start, end = read_period(ref, resource, "effectivePeriod")
    if start is None and end is None:
        start = optional_datetime(ref, resource, "effectiveDateTime")
    status = require_str(ref, resource, "status")
    return Medication(ref, codes, status, start, end, name)


def read_medication_request(resource: JsonObject, ref: str, context: Context) -> Medication:
    """dispenseRequest.validityPeriod, else an open period from authoredOn."""
    codes, name = _medicine(ref, resource, context)
    status = require_str(ref, resource, "status")
    dispense = get_object(ref, resource, "dispenseRequest")
    if dispense is not None and dispense.get("validityPeriod") is not None:
        start, end = read_period(ref, dispense, "validityPeriod")
        return Medication(ref, codes, status, start, end, name)
    return Medication(
        ref, codes, status, optional_datetime(ref, resource, "authoredOn"), None, name
    )


def read_administration(resource: JsonObject, ref: str, context: Context) -> Infusion | None:
    """A natalizumab infusion; administrations of other medicines are not read."""
    codes, _ = _medicine(ref, resource, context)
    if not context.is_natalizumab(codes):
        return None
    status = require_str(ref, resource, "status")
    at = optional_datetime(ref, resource, "effectiveDateTime")
    start, end = read_period(ref, resource, "effectivePeriod")
    at = at if at is not None else start
    if at is None:
        raise invalid(ref, "effectiveDateTime", "is missing (and so is effectivePeriod.start)")
    return Infusion(ref, at, end, status)


def _medicine(ref: str, resource: JsonObject, context: Context) -> tuple[tuple[Coding, ...], str]:
    """Codes and name of medication[x]: a CodeableConcept or a resolved reference."""
    path = "medicationCodeableConcept"
    concept = get_object(ref, resource, path)
    if concept is None:
        reference = get_object(ref, resource, "medicationReference")
        if reference is None:
            raise invalid(ref, path, "is missing (and so is medicationReference)")
        target = require_str(ref, reference, "reference", "medicationReference")
        medication = _resolve(ref, resource, target, context)
        if medication is None:
            raise invalid(
                ref,
                "medicationReference.reference",
                f"{target!r} is not a Medication in the record",
            )
        concept = get_object(ref, medication, "code", f"medicationReference({target})")
        path = f"medicationReference({target}).code"
    return codings(ref, concept, path), concept_text(ref, concept, path)


def _resolve(ref: str, resource: JsonObject, target: str, context: Context) -> JsonObject | None:
    """A ``#id`` points into ``contained``; anything else into the record's Medications."""
    if not target.startswith("#"):
        return context.medications.get(target)
    contained = get_list(ref, resource, "contained")
    for index, item in enumerate(contained):
        if not isinstance(item, Mapping):
            raise invalid(ref, f"contained[{index}]", "must be an object")
        if item.get("resourceType") == "Medication" and item.get("id") == target[1:]:
            return item
    return None
