"""A small synthetic clinic whose safety counts are known by hand (tests/api/test_safety_report.py).

At ``NOW`` (2026-11-24 09:00 UTC):

- p1 treated 2025-11-24 … 2026-10-27: 365 days on treatment (last dose + 4 weeks
  reaches NOW); two pneumonias on treatment, one before it (not counted); TSH 8
  (range up to 4): abnormal; antibodies positive 2026-02-01 and 2026-04-01 (59
  days apart): persistent; serum natalizumab 0.6 then 0.8 µg/mL on treatment.
- p2 one infusion 2026-10-27: 28 days; a severe (criticality high) reaction;
  TSH normal; antibodies negative; serum natalizumab 25 before treatment, 18
  on it.
- p3 never treated: an infection (not counted: not on treatment), a serum level
  (not counted: not treated), no other tests.
"""

from __future__ import annotations

import json
from typing import Any

from tests.interop.fhir.builders import (
    ANTIBODY_NEGATIVE,
    a_bundle,
    a_condition,
    a_drug_level,
    a_lab,
    a_patient,
    an_allergy,
    an_antibody_result,
    an_infusion,
)

JSON = dict[str, Any]
EXPOSURE_DAYS = 365 + 28


def _tsh(value: float, at: str) -> JSON:
    return a_lab("3016-3", value, "m[IU]/L", low=0.4, high=4.0, range_unit="m[IU]/L", at=at)


def for_patient(patient_id: str, mrn: str, *resources: JSON) -> JSON:
    bundle = a_bundle(*resources, patient=a_patient(id=patient_id, mrn=mrn))
    text = json.dumps(bundle).replace('"Patient/p1"', f'"Patient/{patient_id}"')
    loaded: JSON = json.loads(text)
    return loaded


def safety_bundles() -> list[JSON]:
    p1 = for_patient(
        "p1",
        "MRN-S1",
        an_infusion("2025-11-24T09:00:00+00:00", "2025-11-24T10:00:00+00:00"),
        an_infusion("2026-10-27T09:00:00+00:00", "2026-10-27T10:00:00+00:00"),
        a_condition(clinical="resolved", onset="2026-03-01T08:00:00+00:00"),
        a_condition(clinical="resolved", onset="2026-06-01T08:00:00+00:00"),
        a_condition(clinical="resolved", onset="2025-01-01T08:00:00+00:00"),
        _tsh(8.0, "2026-05-01T08:00:00+00:00"),
        an_antibody_result(at="2026-02-01T08:00:00+00:00"),
        an_antibody_result(at="2026-04-01T08:00:00+00:00"),
        a_drug_level(0.6, at="2026-05-01T08:00:00+00:00"),
        a_drug_level(0.8, at="2026-09-01T08:00:00+00:00"),
    )
    p2 = for_patient(
        "p2",
        "MRN-S2",
        an_infusion("2026-10-27T09:00:00+00:00", "2026-10-27T10:00:00+00:00"),
        an_allergy(criticality="high", recordedDate="2026-10-27T09:30:00+00:00"),
        _tsh(2.0, "2026-11-01T08:00:00+00:00"),
        an_antibody_result(ANTIBODY_NEGATIVE, at="2026-11-01T08:00:00+00:00"),
        a_drug_level(25.0, at="2026-10-01T08:00:00+00:00"),
        a_drug_level(18.0, at="2026-11-01T08:00:00+00:00"),
    )
    p3 = for_patient(
        "p3",
        "MRN-S3",
        a_condition(clinical="resolved", onset="2026-05-01T08:00:00+00:00"),
        a_drug_level(12.0, at="2026-05-01T08:00:00+00:00"),
    )
    return [p1, p2, p3]
