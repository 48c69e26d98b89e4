"""A FHIR Bundle or single resource, sorted into patients' records for storage.

Each resource is tied to its patient: a Patient to itself, anything else to the
Patient its ``subject`` (or ``patient``) names. Resources that belong to no
patient (Practitioner, Organization ...) are not kept; a resource the reader
uses that names no patient belongs to the bundle's only Patient. References to an entry's
``fullUrl`` (``urn:uuid:...``) are rewritten to ``Type/id``, as a FHIR server
does for a transaction, so the stored resources read the same on their own; so
are conditional references to a Patient of the bundle by identifier
(``Patient?identifier=system|value``), when exactly one of its Patients has it.

Transaction and batch entries are stored as sent when they are ``POST`` or
``PUT``; any other request (``DELETE``, ``PATCH``, ``GET`` ...) refuses the bundle
with a message saying so, rather than being passed over: a sender must never
believe a deletion was applied that was not. A resource recorded in error is
withdrawn by sending it again with status ``entered-in-error``.

The content hash covers everything but ``meta``: a resource sent again with a
new ``meta.lastUpdated`` and the same content is the same resource.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from natalizumab_cds.application.records import IncomingRecord, IncomingResource
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.dates import parse_datetime
from natalizumab_cds.interop.fhir.fields import JsonObject, get_object, get_str, show
from natalizumab_cds.interop.fhir.reader import BUNDLE_TYPES, MAPPERS

#: Elements whose reference names the patient a resource belongs to, in order.
PATIENT_ELEMENTS = ("subject", "patient")
#: Elements holding the clinical date that orders a timeline, in order of preference.
DATE_ELEMENTS = (
    ("effectiveDateTime", None),
    ("effectivePeriod", "start"),
    ("effectiveInstant", None),
    ("occurrenceDateTime", None),
    ("onsetDateTime", None),
    ("onsetPeriod", "start"),
    ("identifiedDateTime", None),
    ("authoredOn", None),
    ("dateAsserted", None),
    ("recordedDate", None),
    ("issued", None),
    ("period", "start"),
)

_Entry = tuple[dict[str, Any], str]  # (resource, where it sits)
#: Requests of transaction / batch entries that are applied (the resource stored as sent).
APPLIED_METHODS = frozenset({"POST", "PUT"})
WITHDRAW = "to withdraw a resource recorded in error, PUT it with status entered-in-error"
#: FHIR's rules for a logical id and a resource type name.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")


def split_record(data: bytes | str | Mapping[str, Any]) -> list[IncomingRecord]:
    """The resources of a bundle (or one resource), grouped by patient, bundle order kept."""
    root = _parse(data)
    entries, aliases = _entries(root)
    patients = [resource["id"] for resource, _ in entries if resource["resourceType"] == "Patient"]
    grouped: dict[str, list[IncomingResource]] = {}
    seen: set[str] = set()
    for original, where in entries:
        ref = f"{original['resourceType']}/{original['id']}"
        if ref in seen:
            raise InvalidInput(f"{ref}: appears more than once ({where})")
        seen.add(ref)
        resource = _rewritten(original, aliases) if aliases else original
        patient_id = _patient_of(resource, ref, patients)
        if patient_id is not None:
            grouped.setdefault(patient_id, []).append(incoming(resource, ref))
    return [IncomingRecord(pid, tuple(resources)) for pid, resources in grouped.items()]


def incoming(resource: dict[str, Any], ref: str) -> IncomingResource:
    """A resource ready to store: its identity, content hash and dates."""
    meta = get_object(ref, resource, "meta")
    raw_updated = meta.get("lastUpdated") if meta else None
    updated = None if raw_updated is None else parse_datetime(ref, "meta.lastUpdated", raw_updated)
    clinical = {key: value for key, value in resource.items() if key != "meta"}
    canonical = orjson.dumps(clinical, option=orjson.OPT_SORT_KEYS)
    if b"\\u0000" in canonical:
        raise InvalidInput(f"{ref}: holds a NUL character, which no FHIR string may contain")
    digest = hashlib.sha256(canonical).hexdigest()
    return IncomingResource(
        resource_type=resource["resourceType"],
        resource_id=resource["id"],
        content=resource,
        content_hash=digest,
        last_updated=updated,
        occurred_at=_occurred(resource),
    )


def _parse(data: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, bytes | bytearray | memoryview | str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"body: not valid JSON ({error})") from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"body: expected a FHIR resource (a JSON object), got {show(data)}")
    return dict(data)


def _entries(root: dict[str, Any]) -> tuple[list[_Entry], dict[str, str]]:
    """The resources with where each sits, and the bundle's fullUrl aliases."""
    if root.get("resourceType") != "Bundle":
        _identify(root, "resource")
        return [(root, "resource")], {}
    if root.get("type") not in BUNDLE_TYPES:
        raise InvalidInput(
            f"Bundle: type {show(root.get('type'))} is not one of {', '.join(BUNDLE_TYPES)}"
        )
    items = root.get("entry") or []
    if not isinstance(items, list):
        raise InvalidInput(f"Bundle: entry must be a list, got {show(items)}")
    entries: list[_Entry] = []
    aliases: dict[str, str] = {}
    for index, entry in enumerate(items):
        where = f"Bundle: entry[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"{where} must be an object, got {show(entry)}")
        request = get_object("Bundle", entry, "request", f"entry[{index}]")
        method = (
            get_str("Bundle", request, "method", f"entry[{index}].request") if request else None
        )
        if method is not None and method not in APPLIED_METHODS:
            raise InvalidInput(
                f"{where}.request.method: {method} is not applied here, only POST and PUT "
                f"entries are ({WITHDRAW})"
            )
        resource = get_object("Bundle", entry, "resource", f"entry[{index}]")
        if resource is None:
            raise InvalidInput(f"{where}: has no resource, so nothing to store ({WITHDRAW})")
        resource = dict(resource)
        ref = _identify(resource, f"{where}.resource")
        full_url = get_str("Bundle", entry, "fullUrl", f"entry[{index}]")
        if full_url and not full_url.endswith("/" + ref) and full_url != ref:
            aliases[full_url] = ref
        entries.append((resource, f"{where}.resource"))
    if any(_names_patient_by_search(resource) for resource, _ in entries):
        aliases |= _by_identifier(entries)
    return entries, aliases


def _names_patient_by_search(resource: JsonObject) -> bool:
    for element in PATIENT_ELEMENTS:
        target = resource.get(element)
        if isinstance(target, Mapping) and str(target.get("reference", "")).startswith("Patient?"):
            return True
    return False


def _by_identifier(entries: list[_Entry]) -> dict[str, str]:
    """``Patient?identifier=system|value`` (and ``=value``) → ``Patient/id``, where unique.

    A search that would match two of the bundle's Patients stays as written and is
    then refused like any reference that names no Patient.
    """
    found: dict[str, set[str]] = {}
    for resource, _ in entries:
        if resource["resourceType"] != "Patient" or not isinstance(
            resource.get("identifier"), list
        ):
            continue
        for identifier in resource["identifier"]:
            value = identifier.get("value") if isinstance(identifier, Mapping) else None
            if not isinstance(value, str) or not value:
                continue
            system = identifier.get("system")
            tokens = [value]
            if isinstance(system, str) and system:
                tokens += [f"{system}|{value}", f"{system}%7C{value}"]
            for token in tokens:
                found.setdefault(f"Patient?identifier={token}", set()).add(resource["id"])
    return {search: f"Patient/{ids.pop()}" for search, ids in found.items() if len(ids) == 1}


def _identify(resource: Mapping[str, Any], where: str) -> str:
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not RESOURCE_TYPE.fullmatch(kind):
        raise InvalidInput(f"{where}.resourceType is missing or not a FHIR type, got {show(kind)}")
    identity = resource.get("id")
    if not isinstance(identity, str) or not identity:
        raise InvalidInput(f"{where}.id is missing or not a string ({kind} needs an id)")
    if not FHIR_ID.fullmatch(identity):
        raise InvalidInput(f"{kind}/{identity}: id must be 1-64 of A-Z a-z 0-9 - . ({where}.id)")
    return f"{kind}/{identity}"


def _patient_of(resource: JsonObject, ref: str, patients: list[str]) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    for element in PATIENT_ELEMENTS:
        target = get_object(ref, resource, element)
        reference = get_str(ref, target, "reference", element) if target else None
        if reference:
            return _patient_id(reference, ref, element)
    kind = resource["resourceType"]
    if kind not in MAPPERS and kind != "Medication":
        return None  # not patient data: not kept
    if len(patients) == 1:
        return patients[0]
    raise InvalidInput(
        f"{ref}: {'/'.join(PATIENT_ELEMENTS)} is missing and the bundle has "
        f"{len(patients)} Patients: cannot tell whose record it belongs to"
    )


def _patient_id(reference: str, ref: str, element: str) -> str:
    path = reference.split("/_history/", 1)[0].rstrip("/").split("/")
    if len(path) >= 2 and path[-2] == "Patient" and FHIR_ID.fullmatch(path[-1]):
        return path[-1]
    raise InvalidInput(f"{ref}: {element}.reference {reference!r} does not name a Patient")


def _rewritten(node: Any, aliases: Mapping[str, str]) -> Any:
    """A copy of ``node`` with every reference to a bundle fullUrl made ``Type/id``."""
    if isinstance(node, dict):
        return {
            key: aliases.get(value, value)
            if key == "reference" and isinstance(value, str)
            else _rewritten(value, aliases)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewritten(item, aliases) for item in node]
    return node


def _occurred(resource: JsonObject) -> datetime | None:
    """The clinical date, for ordering only: an unreadable one is left to the reader."""
    for element, part in DATE_ELEMENTS:
        value = resource.get(element)
        if isinstance(value, Mapping) and part is not None:
            value = value.get(part)
        if isinstance(value, str):
            try:
                return parse_datetime("", element, value)
            except InvalidInput:
                return None
    return None
