"""An ORU^R01 message (bytes, ER7 encoding) → ``LabMessage``, or ``Hl7Rejected``.

The profile accepted (INTERFACES.md §4; docs/hl7.md says it for lab vendors):

- UTF-8 text (or ISO 8859-1 when MSH-18 says ``8859/1``); segments end in CR,
  and a bare LF or CR LF is taken as CR (files and HTTP clients often turn
  CRs into LFs).
- Exactly one MSH, first, with field separator ``|`` and encoding characters
  ``^~\\&``; MSH-9 ``ORU^R01``; MSH-10 present; MSH-11 processing id ``P``
  unless the caller allows others (a training or debugging message must not
  change a patient's record).
- Exactly one PID (one patient per message) whose PID-3 holds the medical
  record number: the repetition typed ``MR``, else the first.
- Every OBX follows an OBR; OBR-7 is the time of the OBX results under it.

``segments.py`` does the splitting (why not python-hl7: see there). A caller
sees a ``LabMessage`` or ``Hl7Rejected`` and nothing else (a Hypothesis test
holds us to that).

Observation ids are ``hl7-<hash of sender and MSH-10>-<OBX ordinal>``: the
same message always gives the same ids, so storing it twice changes nothing.
The OBX's position is used beside its set id because set ids repeat in real
feeds (the NIST ELR sample 6 has three ``OBX|1``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from natalizumab_cds.application.lab_messages import (
    AckCode,
    ErrorCode,
    LabMessage,
    MessageHeader,
)
from natalizumab_cds.interop.hl7v2.errors import Hl7Rejected, in_error, rejected
from natalizumab_cds.interop.hl7v2.header import guess_header, header_of
from natalizumab_cds.interop.hl7v2.outline import medical_record_number
from natalizumab_cds.interop.hl7v2.results import ResultContext, read_result
from natalizumab_cds.interop.hl7v2.segments import Segment, split_segments

ENCODING_CHARACTERS = "^~\\&"
MESSAGE_START = "MSH|" + ENCODING_CHARACTERS + "|"
#: Longest MSH-10 (HL7 v2.7 ST) and MSH-3 + "|" + MSH-4 namespace ids the log keeps.
MAX_CONTROL_ID = 199
MAX_SENDER = 500


class OruReader:
    """The ``LabMessageReader`` port for HL7 v2 ORU^R01 messages."""

    def __init__(self, clinic_tz: tzinfo, processing_ids: Iterable[str] = ("P",)) -> None:
        self.clinic_tz = clinic_tz
        self.processing_ids = frozenset(processing_ids)

    def __call__(self, raw: bytes) -> LabMessage:
        return read_oru(raw, self.clinic_tz, self.processing_ids)


def read_oru(
    raw: bytes, clinic_tz: tzinfo, processing_ids: frozenset[str] = frozenset({"P"})
) -> LabMessage:
    """The lab results of one ORU^R01 message; see the module docstring."""
    text = normalise(decode(raw))
    guessed = guess_header(text)
    if not text.startswith("MSH"):
        raise rejected(
            "the message does not start with an MSH segment", ErrorCode.SEGMENT_SEQUENCE, "MSH"
        )
    if not text.startswith(MESSAGE_START):
        raise rejected(
            f"MSH must start {MESSAGE_START!r} (field separator | and encoding characters "
            f"^~\\&), got {text[:9]!r}",
            ErrorCode.DATA_TYPE,
            "MSH^1^2",
            guessed,
        )
    segments = split_segments(text)
    header = _check_header(segments, guessed, processing_ids)
    mrn = _mrn(segments, header)
    observations: list[dict[str, Any]] = []
    notes: list[str] = []
    for item in _results(segments, header, clinic_tz):
        if isinstance(item, str):
            notes.append(item)
        else:
            observations.append(item)
    return LabMessage(header, mrn, tuple(observations), tuple(notes))


def decode(raw: bytes) -> str:
    """UTF-8, or ISO 8859-1 when the message says so in MSH-18."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        latin = raw.decode("latin-1")
        msh = latin.split("\r", 1)[0].split("\n", 1)[0]
        fields = msh.split("|")
        if len(fields) > 17 and fields[17].upper().startswith("8859/1"):
            return latin
        raise rejected(
            f"the message is not UTF-8 text (byte {problem.start}) and MSH-18 does not "
            "name ISO 8859-1",
            ErrorCode.DATA_TYPE,
            "MSH^1^18",
            guess_header(normalise(latin)),
        ) from None


def normalise(text: str) -> str:
    """Segments separated by single CRs, without surrounding whitespace or empty lines."""
    text = text.strip(" \t\r\n\x0b\x1c\x00")
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    while "\r\r" in text:
        text = text.replace("\r\r", "\r")
    return text


def _check_header(
    segments: list[Segment], guessed: MessageHeader | None, processing_ids: frozenset[str]
) -> MessageHeader:
    msh_count = sum(1 for segment in segments if segment.name == "MSH")
    if msh_count != 1:
        raise rejected(
            f"one message per frame or request, found {msh_count} MSH segments",
            ErrorCode.SEGMENT_SEQUENCE,
            "MSH",
            guessed,
        )
    msh = segments[0]
    header = header_of(msh)
    if not header.control_id:
        raise rejected(
            "MSH-10 message control id is missing",
            ErrorCode.REQUIRED_FIELD_MISSING,
            "MSH^1^10",
            header,
        )
    if len(header.control_id) > MAX_CONTROL_ID or len(header.sender) > MAX_SENDER:
        raise rejected(
            f"MSH-10 (at most {MAX_CONTROL_ID} characters) or MSH-3/MSH-4 are too long",
            ErrorCode.DATA_TYPE,
            "MSH^1^10",
            header,
        )
    kind, event = msh.value(9, 1), msh.value(9, 2)
    if kind != "ORU":
        shown = msh.field_text(9) or "missing"
        raise rejected(
            f"message type {shown} is not supported; only ORU^R01 lab results are accepted",
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE if kind else ErrorCode.REQUIRED_FIELD_MISSING,
            "MSH^1^9",
            header,
        )
    if event != "R01":
        raise rejected(
            f"trigger event {event or 'missing'} is not supported; only ORU^R01 is accepted",
            ErrorCode.UNSUPPORTED_EVENT,
            "MSH^1^9",
            header,
        )
    if msh.value(11, 1) not in processing_ids:
        raise rejected(
            f"processing id {msh.value(11, 1) or 'missing'!s} is not accepted here "
            f"(accepted: {', '.join(sorted(processing_ids))})",
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
            "MSH^1^11",
            header,
        )
    return header


def _mrn(segments: list[Segment], header: MessageHeader) -> str:
    pids = [segment for segment in segments if segment.name == "PID"]
    if len(pids) != 1:
        raise rejected(
            f"exactly one PID segment (one patient per message) is required, found {len(pids)}",
            ErrorCode.SEGMENT_SEQUENCE,
            "PID",
            header,
        )
    mrn = medical_record_number(pids[0])
    if not mrn:
        raise rejected(
            "PID-3 patient identifier (MRN) is missing",
            ErrorCode.REQUIRED_FIELD_MISSING,
            "PID^1^3",
            header,
        )
    return mrn


def _results(
    segments: list[Segment], header: MessageHeader, clinic_tz: tzinfo
) -> list[dict[str, Any] | str]:
    digest = hashlib.sha256(f"{header.sender}\x1f{header.control_id}".encode()).hexdigest()
    prefix = f"hl7-{digest[:20]}"
    context: ResultContext | None = None
    orders = results = 0
    found: list[dict[str, Any] | str] = []
    problems: list[Hl7Rejected] = []
    for segment in segments:
        if segment.name == "OBR":
            orders += 1
            context = ResultContext(header, prefix, segment.value(7), orders, clinic_tz)
        elif segment.name == "OBX":
            results += 1
            if context is None:
                raise rejected(
                    f"OBX {results} comes before any OBR (ORU^R01 needs OBR first)",
                    ErrorCode.SEGMENT_SEQUENCE,
                    f"OBX^{results}",
                    header,
                )
            try:
                found.append(read_result(segment, results, context))
            except Hl7Rejected as problem:
                if problem.code is not AckCode.ERROR:
                    raise
                problems.append(problem)  # read on: the sender learns every result's problem
    if orders == 0:
        raise rejected("the message has no OBR segment", ErrorCode.SEGMENT_SEQUENCE, "OBR", header)
    if problems:
        raise _all_of(problems, header)
    return found


def _all_of(problems: list[Hl7Rejected], header: MessageHeader) -> Hl7Rejected:
    """One AE naming every result that cannot be applied, with an ERR for each."""
    if len(problems) == 1:
        return problems[0]
    first = problems[0]
    return in_error(
        f"{len(problems)} results cannot be applied: " + "; ".join(p.reason for p in problems),
        first.error,
        first.location,
        header,
        problems=tuple(e for p in problems for e in p.ack_errors()),
    )
