"""Our field splitter reads every value exactly as python-hl7 does.

python-hl7 is the independent reference: for the published sample messages and
for generated segments over the HL7 separators, every (field, component,
repetition) read through ``Segment`` equals the first leaf python-hl7 puts at
the same place, and the number of repetitions agrees.
"""

from __future__ import annotations

from typing import Any

import hl7
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.interop.hl7v2.message import decode, normalise
from natalizumab_cds.interop.hl7v2.segments import Segment, split_segments
from tests.interop.hl7v2.messages import fixture

SAMPLES = [
    "nist_elr_251_case1.hl7",
    "nist_elr_251_case6.hl7",
    "nist_elr_251_case1_adapted_liver.hl7",
    "ghh_lab_glucose_v24.hl7",
    "ghh_lab_adapted_adt_a01.hl7",
    "synthetic_monitoring_panel.hl7",
    "synthetic_status_x_and_d.hl7",
]


def _leaf(node: Any) -> str:
    while not isinstance(node, str):
        if not node:
            return ""
        node = node[0]
    return node


def _reference_raw(node: Any, field: int, component: int, repetition: int) -> str:
    """What python-hl7's tree holds at MSH-style HL7 numbering (its nesting varies)."""
    if field >= len(node):
        return ""
    value = node[field]
    if isinstance(value, str):
        return value if component == 1 and repetition == 1 else ""
    if repetition > len(value):
        return ""
    rep = value[repetition - 1]
    if isinstance(rep, str):
        return rep if component == 1 else ""
    if component > len(rep):
        return ""
    return _leaf(rep[component - 1])


def _reference_repetitions(node: Any, field: int) -> int:
    if field >= len(node):
        return 0
    value = node[field]
    if isinstance(value, str):
        return 1 if value else 0
    if len(value) == 1 and _leaf(value) == "" and isinstance(value[0], str):
        return 0
    return len(value)


def _agree(ours: Segment, reference: Any) -> None:
    for field in range(3 if ours.name == "MSH" else 1, len(reference) + 2):
        assert ours.repetitions(field) == _reference_repetitions(reference, field), (
            f"{ours.name}-{field} repetitions"
        )
        for repetition in range(1, 4):
            for component in range(1, 12):
                assert ours.raw(field, component, repetition) == _reference_raw(
                    reference, field, component, repetition
                ), f"{ours.name}-{field}.{component} repetition {repetition}"
        values = ours.values(field)  # all components at once: the same as one by one
        assert values == [ours.value(field, c) for c in range(1, len(values) + 1)]
        assert ours.value(field, len(values) + 1) == ""


@pytest.mark.parametrize("name", SAMPLES)
def test_published_samples_read_the_same_as_python_hl7(name: str) -> None:
    text = normalise(decode(fixture(name)))
    ours = split_segments(text)
    reference = hl7.parse(text)
    assert [segment.name for segment in ours] == [str(s[0]) for s in reference]
    for segment, node in zip(ours, reference, strict=True):
        _agree(segment, node)


def test_msh_numbers_follow_the_standard() -> None:
    msh = split_segments("MSH|^~\\&|LIS^1.2^ISO|LAB|||20261124||ORU^R01^ORU_R01|42|P|2.5.1")[0]
    assert msh.raw(1) == "|"
    assert msh.raw(2) == "^~\\&"
    assert (msh.value(3, 1), msh.value(3, 2)) == ("LIS", "1.2")
    assert (msh.value(9, 1), msh.value(9, 2), msh.value(10)) == ("ORU", "R01", "42")


def test_escaped_separators_come_back_after_splitting() -> None:
    obx = split_segments("OBX|1|ST|1742-6^ALT^LN||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f")[0]
    assert obx.value(5) == "a|b^c&d~e\\f"
    assert obx.value(3, 3) == "LN"


FIELD_TEXT = st.text(alphabet="ab1.^~&", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(FIELD_TEXT, min_size=1, max_size=8))
def test_generated_segments_read_the_same_as_python_hl7(fields: list[str]) -> None:
    text = "MSH|^~\\&|A|B|||20261124||ORU^R01|1|P|2.5.1\rOBX|" + "|".join(fields)
    ours = split_segments(text)
    reference = hl7.parse(text)
    _agree(ours[1], reference[1])
