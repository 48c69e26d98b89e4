"""The FHIR export's own vocabulary: code systems, extension URLs, ids and tags.

Everything the exporter adds to a patient's record is derived from the record
and the protocol at one moment, so its ids are name-based UUIDs (uuid5) of the
patient, the moment and what the resource is about: the same record exported
for the same moment always gets the same ids, and a re-export replaces rather
than duplicates. Derived resources carry ``DERIVED_TAG`` in ``meta.tag`` so
that a record that went out and came back is told apart from what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from natalizumab_cds.domain.protocol import LOCAL

JSON = dict[str, Any]

#: A finding's rule id. Not ``urn:natalizumab-cds:rule``: a final DetectedIssue
#: coded there is a clinician's override (INTERFACES.md section 1), and an
#: exported finding must never read back as one.
FINDING_SYSTEM = "urn:natalizumab-cds:finding"
#: Where a finding's basis points (``DetectedIssue.reference``), one URN per rule.
BASIS_PREFIX = "urn:natalizumab-cds:rule:"
#: The protocol that was applied (``GuidanceResponse.moduleUri``).
PROTOCOL_PREFIX = "urn:natalizumab-cds:protocol:"
#: Prefix of every extension the export defines (documented in docs/fhir-export.md).
EXTENSION_PREFIX = "urn:natalizumab-cds:extension:"
EFFECT_EXTENSION = EXTENSION_PREFIX + "effect"
ORIGINAL_EFFECT_EXTENSION = EXTENSION_PREFIX + "original-effect"
BASIS_EXTENSION = EXTENSION_PREFIX + "basis"
SUGGESTION_EXTENSION = EXTENSION_PREFIX + "suggestion"
OVERRIDE_EXTENSION = EXTENSION_PREFIX + "override"
ITEM_EXTENSION = EXTENSION_PREFIX + "monitoring-item"
DUE_STATUS_EXTENSION = EXTENSION_PREFIX + "due-status"
LAST_DONE_EXTENSION = EXTENSION_PREFIX + "last-done"
#: The monitoring item as a code (``liver``, ``blood`` ... the catalogue's words).
ITEM_SYSTEM = "urn:natalizumab-cds:monitoring-item"

#: Marks a resource the exporter derived; it is not part of the patient's record.
DERIVED_TAG: JSON = {
    "system": LOCAL,
    "code": "cds-derived",
    "display": "Derived by natalizumab-cds from the record at the moment assessed",
}
#: Who derived it: the software (a Reference to a Device, by display only).
SOFTWARE: JSON = {"display": "natalizumab-cds"}

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:natalizumab-cds:fhir-export")


def derived_id(kind: str, patient: str, at: datetime, *about: str) -> str:
    """``{kind}-{uuid5}`` of the patient, the moment (in UTC) and what it is about."""
    return f"{kind}-{name_uuid(patient, moment(at), *about)}"


def name_uuid(*parts: str) -> UUID:
    return uuid5(_NAMESPACE, "|".join(parts))


def moment(at: datetime) -> str:
    """One spelling per instant, whatever offset it was given in."""
    return at.astimezone(UTC).isoformat()


def reference(ref: str) -> JSON:
    return {"reference": ref}


def coding(system: str, code: str, display: str) -> JSON:
    return {"system": system, "code": code, "display": display}


def concept(system: str, code: str, display: str, text: str | None = None) -> JSON:
    return {"coding": [coding(system, code, display)], "text": text or display}


def derived_meta() -> JSON:
    return {"tag": [dict(DERIVED_TAG)]}


def is_derived(resource: Mapping[str, Any]) -> bool:
    """Whether a resource carries the exporter's tag (a previous export's output)."""
    meta = resource.get("meta")
    tags = meta.get("tag") if isinstance(meta, Mapping) else None
    if not isinstance(tags, list):
        return False
    return any(
        isinstance(tag, Mapping)
        and tag.get("system") == DERIVED_TAG["system"]
        and tag.get("code") == DERIVED_TAG["code"]
        for tag in tags
    )
