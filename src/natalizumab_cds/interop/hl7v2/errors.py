"""The HL7 v2 translator's own error.

- ``Hl7Rejected``: raised by the ORU^R01 reader (``message.read_oru``) when a
  message cannot be taken as it is. ``code`` is ``AR`` when it is not a message
  of our profile (bytes not text, MSH missing or with other encoding characters,
  another message type, no control id, a required segment or field missing) and
  ``AE`` when it is readable but a value cannot be applied (a number, unit,
  reference range or time that cannot be read). Every exception python-hl7
  raises is caught in this package and re-raised as ``Hl7Rejected``.

It is a ``LabMessageRejected`` (application layer), so the lab-feed use case
handles it without knowing HL7; that in turn is an ``NtzError``.
"""

from __future__ import annotations

from natalizumab_cds.application.lab_messages import (
    AckCode,
    AckError,
    ErrorCode,
    LabMessageRejected,
    MessageHeader,
)


class Hl7Rejected(LabMessageRejected):
    """A message refused by the reader; see the module docstring."""


def rejected(
    reason: str, error: ErrorCode, location: str = "", header: MessageHeader | None = None
) -> Hl7Rejected:
    """AR: the message is not an ORU^R01 of our profile."""
    return Hl7Rejected(AckCode.REJECT, reason, error=error, location=location, header=header)


def in_error(
    reason: str,
    error: ErrorCode,
    location: str = "",
    header: MessageHeader | None = None,
    problems: tuple[AckError, ...] = (),
) -> Hl7Rejected:
    """AE: readable, but a value cannot be applied (``problems``: each of several)."""
    return Hl7Rejected(
        AckCode.ERROR, reason, error=error, location=location, header=header, problems=problems
    )
