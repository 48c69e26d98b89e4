"""``Ack`` → an HL7 v2 ACK message (MSH, MSA and, for AE/AR, ERR) in ER7.

The ACK answers the sender: MSH-3/4 are the original MSH-5/6 and MSH-5/6 the
original MSH-3/4; MSA-2 is the original MSH-10 (empty only when no control id
could be read at all); MSH-11 and MSH-12 echo the original. MSA-3 carries the
text (what was stored, what was not and why); ERR-3 the HL7 table 0357 code,
ERR-2 the location and ERR-8 the reason, one ERR per problem when a message
has several (each result that cannot be applied). Segments end in CR; the text is
escaped so a reason can never break the message apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from natalizumab_cds.application.lab_messages import ERROR_NAMES, Ack, MessageHeader

#: Our name in MSH-3 when the message we answer did not say what it sent to.
RECEIVER_NAME = "NATALIZUMAB-CDS"
ENCODING = "^~\\&"

_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str) -> str:
    """Text safe inside one ER7 component (separators escaped, line breaks as spaces)."""
    for plain, escaped in _ESCAPES:
        text = text.replace(plain, escaped)
    return " ".join(text.replace("\r", "\n").split("\n"))


def new_control_id() -> str:
    """A fresh, unique control id for an ACK's MSH-10 (20 characters)."""
    return uuid.uuid4().hex[:20].upper()


def encode_ack(ack: Ack, now: datetime, control_id: str | None = None) -> str:
    """The ACK message as ER7 text (segments end in CR)."""
    header = ack.header or MessageHeader(control_id="")
    fields = [
        "MSH",
        ENCODING,
        escape(header.receiving_application or RECEIVER_NAME),
        escape(header.receiving_facility),
        escape(header.sending_application),
        escape(header.sending_facility),
        now.strftime("%Y%m%d%H%M%S%z"),
        "",
        "ACK^R01^ACK",
        control_id or new_control_id(),
        escape(header.processing_id or "P"),
        escape(header.version or "2.5.1"),
    ]
    segments = ["|".join(fields), f"MSA|{ack.code}|{escape(header.control_id)}|{escape(ack.text)}"]
    errors = (ack.error, *ack.more_errors) if ack.error is not None else ()
    for error in errors:
        name = ERROR_NAMES[error.code]
        segments.append(
            f"ERR||{error.location}|{error.code}^{escape(name)}^HL70357|E||||{escape(error.reason)}"
        )
    return "\r".join(segments) + "\r"
