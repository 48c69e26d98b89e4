"""ACK messages: framing characters, the original control id, ERR for AE/AR."""

from __future__ import annotations

from datetime import UTC, datetime

import hl7

from natalizumab_cds.application.lab_messages import (
    Ack,
    AckCode,
    AckError,
    ErrorCode,
    MessageHeader,
)
from natalizumab_cds.interop.hl7v2 import encode_ack

NOW = datetime(2026, 11, 24, 9, 0, 5, tzinfo=UTC)
HEADER = MessageHeader(
    control_id="SYN-0001",
    sending_application="SYNTH-LIS",
    sending_facility="SYNTH-LAB",
    receiving_application="NTZ-CDS",
    receiving_facility="NEURO-CLINIC",
    processing_id="P",
    version="2.5.1",
)


def _segments(text: str) -> list[str]:
    assert text.endswith("\r")
    assert "\n" not in text
    return text.rstrip("\r").split("\r")


def test_an_aa_answers_the_sender_with_its_own_control_id() -> None:
    text = encode_ack(Ack(AckCode.ACCEPT, HEADER, "2 results stored"), NOW, "ACK-1")

    msh, msa = _segments(text)
    assert msh == (
        "MSH|^~\\&|NTZ-CDS|NEURO-CLINIC|SYNTH-LIS|SYNTH-LAB|20261124090005+0000||"
        "ACK^R01^ACK|ACK-1|P|2.5.1"
    )
    assert msa == "MSA|AA|SYN-0001|2 results stored"


def test_an_ar_carries_an_err_segment_with_the_hl7_error_code_and_location() -> None:
    error = AckError(ErrorCode.UNSUPPORTED_MESSAGE_TYPE, "only ORU^R01", "MSH^1^9")
    text = encode_ack(Ack(AckCode.REJECT, HEADER, "only ORU^R01", error), NOW, "ACK-2")

    parsed = hl7.parse(text)
    assert str(parsed.segment("MSA")(1)) == "AR"
    err = parsed.segment("ERR")
    assert str(err(2)) == "MSH^1^9"
    assert str(err(3)) == "200^Unsupported message type^HL70357"
    assert str(err(4)) == "E"


def test_separators_in_a_reason_are_escaped_and_read_back_unchanged() -> None:
    reason = "value 'a|b^c~d&e\\f' is\nnot a number"
    text = encode_ack(Ack(AckCode.ERROR, HEADER, reason), NOW)

    msa = hl7.parse(text).segment("MSA")
    assert len(msa) == 4  # MSA, MSA-1..3: nothing split off
    assert msa.extract_field(1, 3) == "value 'a|b^c~d&e\\f' is not a number"


def test_an_ack_for_a_message_without_a_readable_header_has_an_empty_msa_2() -> None:
    text = encode_ack(Ack(AckCode.REJECT, None, "not HL7"), NOW)

    msh, msa = _segments(text)
    assert msh.startswith("MSH|^~\\&|NATALIZUMAB-CDS|||")
    assert msa == "MSA|AR||not HL7"


def test_each_ack_has_a_fresh_control_id() -> None:
    first = _segments(encode_ack(Ack(AckCode.ACCEPT, HEADER, ""), NOW))[0].split("|")[9]
    second = _segments(encode_ack(Ack(AckCode.ACCEPT, HEADER, ""), NOW))[0].split("|")[9]

    assert first != second
    assert len(first) == 20
