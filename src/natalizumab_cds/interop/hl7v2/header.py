"""The message header (MSH) as the acknowledgment needs it.

``header_of`` reads it from a parsed MSH segment. ``guess_header`` reads what it
can from raw text by plain splitting, so that even a message we reject (wrong
encoding characters, another message type) is answered with its own control id
and routed back to its sender.
"""

from __future__ import annotations

from natalizumab_cds.application.lab_messages import MessageHeader
from natalizumab_cds.interop.hl7v2.segments import Segment, unescape

DEFAULT_VERSION = "2.5.1"


def header_of(msh: Segment) -> MessageHeader:
    """The MSH fields an ACK echoes (MSH-3..6 namespace ids, MSH-10, -11, -12)."""
    return MessageHeader(
        control_id=msh.value(10),
        sending_application=_namespace(msh, 3),
        sending_facility=_namespace(msh, 4),
        receiving_application=_namespace(msh, 5),
        receiving_facility=_namespace(msh, 6),
        processing_id=msh.value(11) or "P",
        version=msh.value(12) or DEFAULT_VERSION,
    )


def _namespace(msh: Segment, field: int) -> str:
    """An HD's namespace id, else its universal id."""
    return msh.value(field, 1) or msh.value(field, 2)


def guess_header(text: str) -> MessageHeader | None:
    """Best-effort header of a message that could not be parsed; None without MSH."""
    first_segment = text.split("\r", 1)[0]
    if len(first_segment) < 4 or not first_segment.startswith("MSH"):
        return None
    separator = first_segment[3]
    fields = first_segment.split(separator)
    encoding = fields[1] if len(fields) > 1 else ""
    component = encoding[0] if encoding and encoding[0] != separator else "^"

    def field(number: int) -> str:
        # fields[0] is "MSH" and fields[1] is MSH-2, so MSH-n is fields[n - 1].
        if number - 1 >= len(fields):
            return ""
        parts = fields[number - 1].split(component)
        return unescape(parts[0] or (parts[1] if len(parts) > 1 else "")).strip()

    control_id = field(10)
    return MessageHeader(
        control_id=control_id,
        sending_application=field(3),
        sending_facility=field(4),
        receiving_application=field(5),
        receiving_facility=field(6),
        processing_id=field(11) or "P",
        version=field(12) or DEFAULT_VERSION,
    )
