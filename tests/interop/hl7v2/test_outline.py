"""Whom a kept message is about and which tests it carries, read without refusing.

All messages are synthetic (tests/interop/hl7v2/messages.py).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.hl7v2.outline import NamedTest, outline
from tests.interop.hl7v2.messages import an_obx, an_oru


def test_names_the_mrn_and_each_test_with_the_analyte_the_feed_files_it_under() -> None:
    message = an_oru(
        mrn="MRN0000042",
        results=[an_obx(1), an_obx(2, code="2345-7"), an_obx(3, code="777-3", units="x")],
    )
    seen = outline(message)
    assert seen.mrn == "MRN0000042"
    assert seen.tests == (
        NamedTest("1742-6", "LN", "Synthetic test", Analyte.ALT),
        NamedTest("2345-7", "LN", "Synthetic test", None),
        NamedTest("777-3", "LN", "Synthetic test", Analyte.PLATELETS),
    )


def test_takes_the_mrn_typed_mr_and_a_loinc_code_sent_as_the_alternate() -> None:
    message = an_oru(results=[an_obx(1, code="ALT-LOCAL^Local ALT^L^1742-6")])
    text = message.decode().replace(
        "PID|1||MRN0000001^^^SYNTH-HOSP^MR|", "PID|1||X9^^^OTHER^PI~MRN0000007^^^SYNTH-HOSP^MR|"
    )
    seen = outline(text.encode())
    assert seen.mrn == "MRN0000007"
    assert seen.tests == (NamedTest("1742-6", "LN", "Synthetic test", Analyte.ALT),)


def test_a_message_without_a_pid_or_an_obx_code_has_neither() -> None:
    lines = [line for line in an_oru().split(b"\r") if not line.startswith(b"PID")]
    lines.append(b"OBX|2|NM|||1")
    seen = outline(b"\r".join(lines))
    assert seen.mrn == ""
    assert [test.code for test in seen.tests] == ["1742-6"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_never_refuses_whatever_bytes_were_kept(raw: bytes) -> None:
    outline(raw)
    outline(b"MSH|^~\\&|\rPID|1||" + raw + b"\rOBX|1|NM|" + raw)
