"""The audit trail as FHIR R4 AuditEvent resources (and Bundles of them).

Mapping of one ``AuditRecord``:

- ``type``: DICOM ``110110`` Patient Record for reads and changes of a
  patient's record, ``110114`` User Authentication for sign-in/out, else
  ``rest`` (RESTful operation) from the audit-event-type code system;
- ``subtype``: the permission table's action word (``urn:natalizumab-cds:action``);
- ``action`` C/R/U/D/E, ``recorded``, ``outcome`` 0/4/8 as stored;
- ``agent``: the user (``who.identifier`` in ``urn:natalizumab-cds:user``) with
  their role as text, ``requestor`` true;
- ``source.observer``: this service;
- ``entity``: the patient (``what`` = ``Patient/<id>``, role 1 Patient) or the
  thing acted on, with before/after (canonical JSON) as ``detail`` entries;
- the chain (sequence, previous hash, hash) in the extension
  ``urn:natalizumab-cds:audit-chain``, so an export can be checked offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from natalizumab_cds.application.security.audit import AuditRecord, instant

EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ACTION_SYSTEM = "urn:natalizumab-cds:action"
USER_SYSTEM = "urn:natalizumab-cds:user"
CHAIN_EXTENSION = "urn:natalizumab-cds:audit-chain"
SIGN_IN_ACTIONS = frozenset({"sign-in", "sign-out"})


def _type(record: AuditRecord) -> dict[str, str]:
    if record.patient_id:
        return {"system": DICOM, "code": "110110", "display": "Patient Record"}
    if record.action in SIGN_IN_ACTIONS:
        return {"system": DICOM, "code": "110114", "display": "User Authentication"}
    return {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}


def _entity(record: AuditRecord) -> dict[str, Any]:
    entity: dict[str, Any]
    if record.patient_id:
        entity = {
            "what": {"reference": f"Patient/{record.patient_id}"},
            "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
            "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
        }
    else:
        entity = {
            "what": {"display": record.entity or "natalizumab-cds"},
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        }
    details = [
        {"type": name, "valueString": value}
        for name, value in (("before", record.before), ("after", record.after))
        if value
    ]
    if record.detail:
        details.append({"type": "detail", "valueString": record.detail})
    if details:
        entity["detail"] = details
    return entity


def audit_event(record: AuditRecord) -> dict[str, Any]:
    """One record as an R4 AuditEvent (id = its sequence number)."""
    return {
        "resourceType": "AuditEvent",
        "id": str(record.sequence),
        "extension": [
            {
                "url": CHAIN_EXTENSION,
                "extension": [
                    {"url": "sequence", "valueInteger": record.sequence},
                    {"url": "previousHash", "valueString": record.previous_hash},
                    {"url": "hash", "valueString": record.hash},
                ],
            }
        ],
        "type": _type(record),
        "subtype": [{"system": ACTION_SYSTEM, "code": record.action}],
        "action": record.operation,
        "recorded": instant(record.recorded),
        "outcome": record.outcome,
        "agent": [
            {
                "who": {
                    "identifier": {"system": USER_SYSTEM, "value": record.actor},
                    "display": record.actor,
                },
                "role": [{"text": record.role or "unknown"}],
                "requestor": True,
            }
        ],
        "source": {
            "observer": {"display": "natalizumab-cds"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": [_entity(record)],
    }


def audit_bundle(records: Iterable[AuditRecord], kind: str = "searchset") -> dict[str, Any]:
    """A Bundle of AuditEvents (``searchset`` for the API, ``collection`` for an export)."""
    entries = [{"resource": audit_event(r)} for r in records]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": kind, "entry": entries}
    if kind == "searchset":
        bundle["total"] = len(entries)
    return bundle
