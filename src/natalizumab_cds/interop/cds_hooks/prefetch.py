"""The patient's record gathered from a hook call's prefetch, and what is still missing.

A prefetch key counts as missing when it is absent, null, or holds an
OperationOutcome (the EHR could not run the query). A searchset with a ``next``
link is incomplete: its remaining pages are still to be fetched. A value of the
wrong FHIR type is refused, naming the key; it is never silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from natalizumab_cds.domain.errors import NtzError
from natalizumab_cds.interop.cds_hooks.discovery import (
    PREFETCH,
    PREFETCH_TYPES,
    SINGLE_RESOURCE_KEYS,
)
from natalizumab_cds.interop.cds_hooks.errors import BadHookRequest
from natalizumab_cds.interop.fhir.fields import show

JsonObject = Mapping[str, Any]
ErrorType = Callable[[str], NtzError]
#: Besides the key's own type, a searchset may carry included Medications and
#: OperationOutcomes (search warnings); nothing else.
COMPANION_TYPES = frozenset({"Medication", "OperationOutcome"})


class Record:
    """A patient's resources by reference; the same resource from two queries counts once."""

    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self._resources: dict[str, JsonObject] = {}

    def add(self, resource: JsonObject) -> None:
        identity = resource.get("id")
        ref = (
            f"{resource.get('resourceType')}/{identity}"
            if isinstance(identity, str)
            else f"#{len(self._resources)}"
        )
        self._resources.setdefault(ref, resource)

    def resources(self) -> list[JsonObject]:
        return list(self._resources.values())


def render(template: str, patient_id: str) -> str:
    """A prefetch template with the hook context filled in (patientId is a checked FHIR id)."""
    return template.replace("{{context.patientId}}", patient_id)


def read_prefetch(
    prefetch: Mapping[str, JsonObject | None] | None, record: Record
) -> dict[str, str]:
    """Add every usable prefetched value to ``record``; return key → query still to run.

    The query is the rendered template (relative to fhirServer) for a missing key,
    or the absolute ``next`` link of an incomplete searchset.
    """
    values = prefetch or {}
    pending: dict[str, str] = {}
    for key, template in PREFETCH.items():
        value = values.get(key)
        if value is None or value.get("resourceType") == "OperationOutcome":
            pending[key] = render(template, record.patient_id)
            continue
        next_page = add_value(record, key, value, f"prefetch.{key}", BadHookRequest)
        if next_page is not None:
            pending[key] = next_page
    return pending


def add_value(
    record: Record, key: str, value: JsonObject, where: str, error: ErrorType
) -> str | None:
    """Check one prefetch value (or fetched page), add its resources; return its next link."""
    expected = PREFETCH_TYPES[key]
    kind = value.get("resourceType")
    if key in SINGLE_RESOURCE_KEYS:
        if kind != expected:
            raise error(f"{where}: expected a {expected} resource, got {_kind(kind)}")
        if value.get("id") != record.patient_id:
            raise error(
                f"{where}: {expected}/{show(value.get('id'))} is not the context's "
                f"patient {expected}/{record.patient_id}"
            )
        record.add(value)
        return None
    if kind != "Bundle":
        raise error(f"{where}: expected a Bundle of {expected} resources, got {_kind(kind)}")
    for index, resource in _entries(value, where, error):
        resource_kind = resource.get("resourceType")
        if resource_kind != expected and resource_kind not in COMPANION_TYPES:
            raise error(f"{where}: entry[{index}] has {_kind(resource_kind)}, expected {expected}")
        record.add(resource)
    return next_link(value, where, error)


def _entries(bundle: JsonObject, where: str, error: ErrorType) -> Iterator[tuple[int, JsonObject]]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise error(f"{where}: Bundle.entry must be a list, got {show(entries)}")
    for index, entry in enumerate(entries):
        # ``type(...) is dict`` first: parsed JSON is dicts, and the ABC check is slow.
        if type(entry) is not dict and not isinstance(entry, Mapping):
            raise error(f"{where}: entry[{index}] must be an object, got {show(entry)}")
        resource = entry.get("resource")
        if resource is None:
            continue
        if type(resource) is not dict and not isinstance(resource, Mapping):
            raise error(f"{where}: entry[{index}].resource must be an object, got {show(resource)}")
        yield index, resource


def next_link(bundle: JsonObject, where: str, error: ErrorType) -> str | None:
    links = bundle.get("link", [])
    if not isinstance(links, list):
        raise error(f"{where}: Bundle.link must be a list, got {show(links)}")
    for link in links:
        if isinstance(link, Mapping) and link.get("relation") == "next":
            url = link.get("url")
            if not isinstance(url, str) or not url:
                raise error(f"{where}: the next link has no url")
            return url
    return None


def _kind(kind: object) -> str:
    return "no resourceType" if kind is None else f"resourceType {show(kind)}"
