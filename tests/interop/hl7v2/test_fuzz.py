"""Whatever bytes arrive, the reader gives a LabMessage or Hl7Rejected - nothing else.

Random bytes, random text over the HL7 separators, and published/synthetic
messages mutated byte by byte. Bounded so it runs in CI on every push.
"""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from natalizumab_cds.application.lab_messages import LabMessage
from natalizumab_cds.interop.hl7v2 import Hl7Rejected, read_oru
from tests.interop.hl7v2.messages import an_obx, an_oru, fixture

CLINIC = ZoneInfo("America/New_York")
SEEDS = [
    fixture("nist_elr_251_case1_adapted_liver.hl7"),
    fixture("synthetic_monitoring_panel.hl7"),
    fixture("synthetic_status_x_and_d.hl7"),
    fixture("ghh_lab_glucose_v24.hl7"),
    an_oru(results=[an_obx(1, kind="SN", value="<^5"), an_obx(2, code="777-3", units="K/uL")]),
]
HL7_BYTES = st.sampled_from([b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"MSH", b"OBX", b"-"])
#: NTZ_FUZZ_EXAMPLES=20000 for a longer hunt than CI's.
EXAMPLES = int(os.environ.get("NTZ_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(raw: bytes) -> None:
    message: LabMessage | None = None
    reason = ""
    try:
        message = read_oru(raw, CLINIC)
    except Hl7Rejected as rejection:
        reason = rejection.reason
    if message is None:
        assert reason
        return
    for observation in message.observations:
        assert observation["resourceType"] == "Observation"
        assert len(observation["id"]) <= 64


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_give_a_message_or_a_rejection(raw: bytes) -> None:
    _outcome(raw)


@FUZZ
@given(st.lists(st.one_of(HL7_BYTES, st.binary(max_size=6)), max_size=80))
def test_random_text_after_a_valid_header_gives_a_message_or_a_rejection(
    parts: list[bytes],
) -> None:
    _outcome(b"MSH|^~\\&|L|F|R|C|20260101||ORU^R01|X1|P|2.5.1\r" + b"".join(parts))


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(st.one_of(HL7_BYTES, st.binary(min_size=1, max_size=3)))
        if action == "insert":
            data[position:position] = piece
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 20))]
        elif action == "replace":
            data[position : position + len(piece)] = piece
        else:
            del data[position:]
    return bytes(data)


@FUZZ
@given(_mutated())
def test_mutated_valid_messages_give_a_message_or_a_rejection(raw: bytes) -> None:
    _outcome(raw)
