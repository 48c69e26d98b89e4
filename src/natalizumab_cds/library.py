"""natalizumab-cds as a Python library: assess a patient's FHIR record in your own code.

The same engine as ``ntz assess``, the web app and the CDS Hooks service, with
no database and no server::

    from datetime import UTC, datetime
    from natalizumab_cds.library import assess_bundle, to_json

    assessment = assess_bundle(bundle_json, at=datetime(2026, 11, 24, 9, tzinfo=UTC))
    assessment.decision            # Decision.HOLD
    [f.rule for f in assessment.findings]
    to_json(assessment)            # the JSON object ntz assess prints (INTERFACES.md §2)

``bundle`` is one patient's FHIR R4 Bundle (INTERFACES.md §1) as bytes, text
or a parsed ``dict``. The protocol is the institution's (``NTZ_PROTOCOL_DIR``)
or the packaged default, and calendar dates are taken in the clinic's time zone
(``NTZ_TZ``), exactly as the other entry points do; pass ``tz`` to choose one.
Invalid input raises ``InvalidInput`` naming the resource and the field; a
rule that cannot be evaluated for want of data says so in the findings and
the schedule, never as normal. Everything returned is immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from natalizumab_cds.application.report import assessment_to_dict
from natalizumab_cds.bootstrap import active_protocol, clinic_tz
from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.assessment import assess as _assess
from natalizumab_cds.domain.assessment import assess_next_infusion as _next
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Decision, Effect, Finding
from natalizumab_cds.interop.fhir.reader import read_bundle
from natalizumab_cds.interop.fhir.synthetic import SCENARIOS, synthesize_patient

__all__ = [
    "SCENARIOS",
    "Assessment",
    "Decision",
    "Effect",
    "Finding",
    "InvalidInput",
    "assess_bundle",
    "assess_next_infusion",
    "synthesize_patient",
    "to_json",
]


def assess_bundle(
    bundle: bytes | str | Mapping[str, Any],
    at: datetime | None = None,
    tz: tzinfo | None = None,
) -> Assessment:
    """Proceed, caution, hold or discontinue for an infusion at ``at`` (default: now).

    ``at`` must carry a time zone: a naive moment is refused rather than guessed.
    """
    moment = _moment(at)
    protocol = active_protocol()
    return _assess(read_bundle(bundle, protocol), protocol, moment, tz or clinic_tz())


def assess_next_infusion(
    bundle: bytes | str | Mapping[str, Any],
    at: datetime | None = None,
    tz: tzinfo | None = None,
) -> Assessment:
    """The decision for the next infusion, as the worklist shows it.

    Assessed on the next infusion's due date (at ``at``'s time of day) when that
    is after ``at``'s day, with the data known at ``at``; otherwise at ``at``.
    """
    moment = _moment(at)
    protocol = active_protocol()
    zone = tz or clinic_tz()
    timeline = read_bundle(bundle, protocol)
    return _next(timeline, protocol, _assess(timeline, protocol, moment, zone), zone)


def to_json(assessment: Assessment) -> dict[str, Any]:
    """The assessment as the JSON object of INTERFACES.md §2 (what ``ntz assess`` prints)."""
    return assessment_to_dict(assessment)


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise InvalidInput(f"at: {at.isoformat()} has no time zone (give one, e.g. UTC)")
    return at
