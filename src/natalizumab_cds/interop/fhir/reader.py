"""A patient's FHIR R4 record (INTERFACES.md §1) read into a ``Timeline``.

``read_bundle`` takes a Bundle as JSON bytes, text or an already-parsed mapping;
``read_resources`` takes the same resources as a flat list (the persistence layer
stores them one by one). Both need exactly one Patient; every fact is named by
its resource reference ("Observation/alt-1").

The reader works on plain parsed JSON (orjson), not on a FHIR object model: the
record is read once per assessment and must cost little more than parsing it.
Dispatch is by dicts built at import. Any malformed structure ends as
``InvalidInput`` naming the resource and the field, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import orjson

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Override
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.timeline import (
    Allergy,
    Condition,
    Infusion,
    Medication,
    MriRead,
    Patient,
    Relapse,
    Result,
    StatusObservation,
    Timeline,
)
from natalizumab_cds.interop.fhir.clinical import (
    read_allergy,
    read_condition,
    read_override,
    read_patient,
)
from natalizumab_cds.interop.fhir.context import Context
from natalizumab_cds.interop.fhir.fields import MALFORMED, JsonObject, get_object, get_str, show
from natalizumab_cds.interop.fhir.medications import (
    read_administration,
    read_medication_request,
    read_medication_statement,
)
from natalizumab_cds.interop.fhir.observations import ObservationFact, read_observation

BUNDLE_TYPES = ("collection", "transaction", "batch", "searchset")

Fact = ObservationFact | Condition | Allergy | Medication | Infusion | Override
Mapper = Callable[[JsonObject, str, Context], Fact | None]

#: Resource types read into facts, and the element naming their patient.
MAPPERS: dict[str, tuple[Mapper, str]] = {
    "Observation": (read_observation, "subject"),
    "Condition": (read_condition, "subject"),
    "AllergyIntolerance": (read_allergy, "patient"),
    "MedicationStatement": (read_medication_statement, "subject"),
    "MedicationRequest": (read_medication_request, "subject"),
    "MedicationAdministration": (read_administration, "subject"),
    "DetectedIssue": (read_override, "patient"),
}

T = TypeVar("T")

# (resource, where it sits, the entry's fullUrl)
_Entry = tuple[JsonObject, str, str | None]


def read_bundle(data: bytes | str | Mapping[str, Any], protocol: Protocol) -> Timeline:
    """The Timeline of the one patient in a FHIR Bundle."""
    return _read(_bundle_entries(_parse_bundle(data)), protocol, "Bundle")


def read_resources(resources: Iterable[Mapping[str, Any]], protocol: Protocol) -> Timeline:
    """The Timeline of the one patient among individually stored resources."""
    entries: list[_Entry] = []
    for index, resource in enumerate(resources):
        if type(resource) is not dict and not isinstance(resource, Mapping):
            raise InvalidInput(
                f"resources[{index}]: expected a resource object, got {show(resource)}"
            )
        entries.append((resource, f"resources[{index}]", None))
    return _read(entries, protocol, "resources")


def check_joining(
    resources: Iterable[Mapping[str, Any]], protocol: Protocol, patient_ref: str
) -> None:
    """Raise ``InvalidInput`` unless each resource reads as it would in ``patient_ref``'s record.

    For new resources joining a record that already reads cleanly (lab results):
    each is read alone with the same mapper and the same subject check as a
    whole record, which is what adding it could change. Patients and
    Medications are not taken this way (they change how the rest reads).
    """
    context = Context.for_protocol(protocol, {})
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping):
            raise InvalidInput(
                f"resources[{index}]: expected a resource object, got {show(resource)}"
            )
        where = f"resources[{index}]"
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            raise InvalidInput(f"{where}.resourceType must be a string, got {show(kind)}")
        if kind not in MAPPERS:
            raise InvalidInput(f"{where}: a {kind} cannot be added to a record on its own")
        ref = _reference(kind, resource, where)
        mapper, subject_field = MAPPERS[kind]
        if _guarded(mapper, resource, ref, context) is not None:
            _check_subject(resource, ref, subject_field, patient_ref, None)


def _parse_bundle(data: bytes | str | Mapping[str, Any]) -> JsonObject:
    if isinstance(data, bytes | bytearray | memoryview | str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"Bundle: not valid JSON ({error})") from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"Bundle: expected a JSON object, got {show(data)}")
    kind = data.get("resourceType")
    if kind != "Bundle":
        got = "no resourceType" if kind is None else f"resourceType {show(kind)}"
        raise InvalidInput(f"expected a FHIR Bundle, got {got}")
    return data


def _bundle_entries(bundle: JsonObject) -> list[_Entry]:
    kind = bundle.get("type")
    if kind not in BUNDLE_TYPES:
        raise InvalidInput(f"Bundle: type {show(kind)} is not one of {', '.join(BUNDLE_TYPES)}")
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list | tuple):
        raise InvalidInput(f"Bundle: entry must be a list, got {show(entries)}")
    found: list[_Entry] = []
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        if type(entry) is not dict and not isinstance(entry, Mapping):
            raise InvalidInput(f"Bundle: {where} must be an object, got {show(entry)}")
        full_url = get_str("Bundle", entry, "fullUrl", where)
        resource = get_object("Bundle", entry, "resource", where)
        if resource is not None:  # a transaction's DELETE entry has no resource
            found.append((resource, f"Bundle: {where}.resource", full_url))
    return found


class _Record:
    """The record's resources sorted out: its patient, its Medications, the rest."""

    def __init__(self, entries: Iterable[_Entry], scope: str) -> None:
        self.patients: list[tuple[JsonObject, str, str | None]] = []
        self.medications: dict[str, JsonObject] = {}
        self.listed: list[tuple[JsonObject, str, str]] = []
        seen: set[str] = set()
        for resource, where, full_url in entries:
            kind = resource.get("resourceType")
            if not isinstance(kind, str):
                raise InvalidInput(f"{where}.resourceType must be a string, got {show(kind)}")
            if kind not in MAPPERS and kind not in ("Patient", "Medication"):
                continue  # not part of the profile
            ref = _reference(kind, resource, where)
            if ref in seen:
                raise InvalidInput(f"{ref}: appears more than once in the {scope}")
            seen.add(ref)
            if kind == "Patient":
                self.patients.append((resource, ref, full_url))
            elif kind == "Medication":
                self.medications[ref] = resource
                if full_url:
                    self.medications[full_url] = resource
            else:
                self.listed.append((resource, kind, ref))
        if len(self.patients) != 1:
            raise InvalidInput(f"{scope}: expected exactly one Patient, found {len(self.patients)}")


def _reference(kind: str, resource: JsonObject, where: str) -> str:
    identity = resource.get("id")
    if not isinstance(identity, str) or not identity:
        raise InvalidInput(f"{where}.id is missing or not a string ({kind} needs an id)")
    return f"{kind}/{identity}"


def _read(entries: Iterable[_Entry], protocol: Protocol, scope: str) -> Timeline:
    record = _Record(entries, scope)
    resource, patient_ref, full_url = record.patients[0]
    context = Context.for_protocol(protocol, record.medications)
    patient = _guarded(_read_patient, resource, patient_ref, context)
    facts: dict[type, list[Any]] = {}
    for item, kind, ref in record.listed:
        mapper, subject_field = MAPPERS[kind]
        fact = _guarded(mapper, item, ref, context)
        if fact is not None:
            _check_subject(item, ref, subject_field, patient_ref, full_url)
            facts.setdefault(type(fact), []).append(fact)
    return _timeline(patient, facts)


def _read_patient(resource: JsonObject, ref: str, context: Context) -> Patient:
    return read_patient(resource, ref)


def _guarded(
    mapper: Callable[[JsonObject, str, Context], T],
    resource: JsonObject,
    ref: str,
    context: Context,
) -> T:
    """Run a mapper; a structure it did not expect becomes InvalidInput, not a traceback."""
    try:
        return mapper(resource, ref, context)
    except MALFORMED as error:
        raise InvalidInput(f"{ref}: malformed resource ({type(error).__name__}: {error})") from None


def _check_subject(
    resource: JsonObject, ref: str, field: str, patient_ref: str, full_url: str | None
) -> None:
    """A fact that names another patient must not enter this patient's timeline."""
    subject = resource.get(field)
    if type(subject) is dict and subject.get("reference") in (patient_ref, full_url or patient_ref):
        return  # the usual case: the record's own patient, named as the record names it
    subject = get_object(ref, resource, field)
    if subject is None:
        return
    target = get_str(ref, subject, "reference", field)
    if target is None:
        return
    target = target.split("/_history/", 1)[0]
    if target in (patient_ref, full_url) or target.endswith("/" + patient_ref):
        return
    raise InvalidInput(f"{ref}: {field}.reference {target!r} is not this record's {patient_ref}")


def _timeline(patient: Patient, facts: dict[type, list[Any]]) -> Timeline:
    return Timeline(
        patient,
        results=facts.get(Result, ()),
        statuses=facts.get(StatusObservation, ()),
        mris=facts.get(MriRead, ()),
        relapses=facts.get(Relapse, ()),
        infusions=facts.get(Infusion, ()),
        medications=facts.get(Medication, ()),
        conditions=facts.get(Condition, ()),
        allergies=facts.get(Allergy, ()),
        overrides=facts.get(Override, ()),
    )
