"""Test messages: the fixtures in tests/fixtures/hl7 and synthetic ORU^R01 builders.

Everything built here is synthetic (no real patient, lab or clinic).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "hl7"

SYNTHETIC_MRN = "MRN0000001"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def fixture(name: str) -> bytes:
    """A fixture message as sent on the wire: segments separated by CR."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return "\r".join(line for line in text.splitlines() if line).encode("utf-8") + b"\r"


def an_obx(
    set_id: int,
    code: str = "1742-6",
    value: str = "35",
    units: str = "U/L^^UCUM",
    reference: str = "10-40",
    status: str = "F",
    *,
    kind: str = "NM",
    system: str = "LN",
    time: str = "",
) -> str:
    fields = [
        "OBX",
        str(set_id),
        kind,
        f"{code}^Synthetic test^{system}",
        "",
        value,
        units,
        reference,
        "",
        "",
        "",
        status,
        "",
        "",
        time,
    ]
    return "|".join(fields)


def an_oru(
    control_id: str = "SYN-0001",
    mrn: str = SYNTHETIC_MRN,
    results: Sequence[str] = (),
    *,
    order_time: str = "20261101083000+0100",
    message_type: str = "ORU^R01^ORU_R01",
    processing_id: str = "P",
    sender: str = "SYNTH-LIS|SYNTH-LAB",
) -> bytes:
    """A synthetic ORU^R01; results default to one ALT of 35 U/L."""
    segments = [
        f"MSH|^~\\&|{sender}|NTZ-CDS|NEURO-CLINIC|20261101101500+0100||{message_type}"
        f"|{control_id}|{processing_id}|2.5.1",
        f"PID|1||{mrn}^^^SYNTH-HOSP^MR||Synthetic^Patient||19800101|F",
        f"OBR|1||LAB-{control_id}^SYNTH-LAB|24325-3^Hepatic function panel^LN|||{order_time}",
        *(results or [an_obx(1)]),
    ]
    return ("\r".join(segments) + "\r").encode("utf-8")


def a_patient_resource(patient_id: str = "p1", mrn: str = SYNTHETIC_MRN) -> dict[str, object]:
    """The synthetic patient the messages are about, as a FHIR Patient."""
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [
            {
                "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                "value": mrn,
            }
        ],
        "name": [{"family": "Synthetic", "given": ["Patient"]}],
        "birthDate": "1980-01-01",
    }
