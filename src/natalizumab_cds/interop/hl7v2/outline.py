"""Whom a kept lab message is about and which tests it carries, for the person resolving it.

A dead letter is a message the reader refused, so this never refuses: it reads
what it can and leaves out the rest. The MRN is PID-3 as the reader chooses it
(the repetition typed ``MR``, else the first); each OBX names its test by OBX-3,
the LOINC coding the feed files (main or alternate, ``results.LOINC_ANALYTES``)
with its analyte, else the coding as sent with no analyte.
"""

from __future__ import annotations

from dataclasses import dataclass

from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.interop.hl7v2.results import LOINC_ANALYTES
from natalizumab_cds.interop.hl7v2.segments import Segment, split_segments


@dataclass(frozen=True, slots=True)
class NamedTest:
    """One OBX's test: its code and coding system as sent, the lab's text, our analyte."""

    code: str
    system: str
    text: str
    analyte: Analyte | None


@dataclass(frozen=True, slots=True)
class MessageOutline:
    """``mrn`` is "" when no PID-3 could be read; ``tests`` in OBX order."""

    mrn: str
    tests: tuple[NamedTest, ...]


def medical_record_number(pid: Segment) -> str:
    """PID-3's repetition typed ``MR``, else its first ("" when there is none)."""
    chosen = 1
    for repetition in range(1, pid.repetitions(3) + 1):
        if pid.value(3, 5, repetition).upper() == "MR":
            chosen = repetition
            break
    return pid.value(3, 1, chosen)


def outline(raw: bytes) -> MessageOutline:
    """What can be read of ``raw``; never raises for a malformed message."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\r").replace("\n", "\r")
    segments = split_segments(text)
    pids = [segment for segment in segments if segment.name == "PID"]
    mrn = medical_record_number(pids[0]) if len(pids) == 1 else ""
    tests = (_test(segment) for segment in segments if segment.name == "OBX")
    return MessageOutline(mrn, tuple(test for test in tests if test is not None))


def _test(obx: Segment) -> NamedTest | None:
    for first in (1, 4):
        code, system = obx.value(3, first), obx.value(3, first + 2)
        if system.upper() == "LN" and code in LOINC_ANALYTES:
            return NamedTest(code, system, obx.value(3, first + 1), LOINC_ANALYTES[code])
    code = obx.value(3, 1)
    if not code:
        return None
    return NamedTest(code, obx.value(3, 3), obx.value(3, 2), None)
