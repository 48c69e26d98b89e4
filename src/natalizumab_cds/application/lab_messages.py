"""What the lab feed use case reads and answers, independent of HL7 v2 syntax.

A lab message arrives as bytes; a reader (``interop.hl7v2``) turns it into a
``LabMessage`` holding FHIR Observation resources ready to store, or raises
``LabMessageRejected``. The use case answers with an ``Ack`` that the adapter
encodes as an HL7 ACK (INTERFACES.md §4).

Errors raised here:

- ``LabMessageRejected``: the message cannot be taken as it is. ``code`` says
  how the sender should react: ``AR`` (reject: not a message of our profile -
  framing, header, message type, a required field missing; resending the same
  bytes will not help) or ``AE`` (error: readable, but a value cannot be
  applied - unknown unit, unreadable number or time, unknown patient).
- ``DeadLetterRefused``: a dead-letter action that cannot be done (no such
  letter, already closed, a discard without a reason).
- ``MessageAlreadyAccepted``: raised by a ``MessageLog`` adapter when another
  process recorded the same message id first (a race the use case turns into a
  repeated ``AA``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from natalizumab_cds.domain.errors import NtzError

FhirResource = Mapping[str, Any]


class AckCode(StrEnum):
    """HL7 table 0008 acknowledgment codes (original mode)."""

    ACCEPT = "AA"
    ERROR = "AE"
    REJECT = "AR"


class ErrorCode(StrEnum):
    """HL7 table 0357 message error condition codes used in ERR-3."""

    SEGMENT_SEQUENCE = "100"
    REQUIRED_FIELD_MISSING = "101"
    DATA_TYPE = "102"
    TABLE_VALUE_NOT_FOUND = "103"
    UNSUPPORTED_MESSAGE_TYPE = "200"
    UNSUPPORTED_EVENT = "201"
    UNSUPPORTED_PROCESSING_ID = "202"
    UNKNOWN_KEY = "204"
    INTERNAL_ERROR = "207"


ERROR_NAMES: dict[ErrorCode, str] = {
    ErrorCode.SEGMENT_SEQUENCE: "Segment sequence error",
    ErrorCode.REQUIRED_FIELD_MISSING: "Required field missing",
    ErrorCode.DATA_TYPE: "Data type error",
    ErrorCode.TABLE_VALUE_NOT_FOUND: "Table value not found",
    ErrorCode.UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ErrorCode.UNSUPPORTED_EVENT: "Unsupported event code",
    ErrorCode.UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    ErrorCode.UNKNOWN_KEY: "Unknown key identifier",
    ErrorCode.INTERNAL_ERROR: "Application internal error",
}


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """The MSH fields an acknowledgment echoes; empty strings when absent."""

    control_id: str
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    processing_id: str = "P"
    version: str = "2.5.1"

    @property
    def sender(self) -> str:
        """Who guarantees the control id is unique (HL7: MSH-10 is unique per sender)."""
        return f"{self.sending_application}|{self.sending_facility}"

    @property
    def key(self) -> tuple[str, str]:
        """(sender, control id): what makes a message the same message."""
        return (self.sender, self.control_id)


@dataclass(frozen=True, slots=True)
class LabMessage:
    """An ORU^R01 read into Observation resources (no ``subject`` yet) and notes.

    ``notes`` lists what was deliberately not stored (codes outside the
    profile, results with status X or D) so the sender learns it in the ACK.
    """

    header: MessageHeader
    mrn: str
    observations: tuple[FhirResource, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AckError:
    """One ERR segment: condition code, where (``OBX-6``, ``PID-3``) and why."""

    code: ErrorCode
    reason: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to one message; ``header`` is None when no MSH could be read."""

    code: AckCode
    header: MessageHeader | None
    text: str
    error: AckError | None = None
    duplicate: bool = False
    #: Further problems of the same message (one ERR segment each) after ``error``.
    more_errors: tuple[AckError, ...] = ()
    dead_letter: int | None = None
    stored: int = 0

    @property
    def control_id(self) -> str:
        return self.header.control_id if self.header else ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that was not applied, kept for a person to resolve."""

    id: int
    received_at: datetime
    code: AckCode
    reason: str
    raw: bytes
    control_id: str = ""
    sender: str = ""
    attempts: int = 1
    status: str = "open"  # open | resolved | discarded
    resolution: str = ""


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    """What the use case hands the dead-letter store."""

    received_at: datetime
    code: AckCode
    reason: str
    raw: bytes
    control_id: str = ""
    sender: str = ""


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """An entry of the message log: a message id that was applied."""

    sender: str
    control_id: str
    patient: str
    accepted_at: datetime
    stored: int
    note: str = ""


class LabMessageRejected(NtzError):
    """The message cannot be applied as it is; see the module docstring."""

    def __init__(
        self,
        code: AckCode,
        reason: str,
        *,
        error: ErrorCode = ErrorCode.DATA_TYPE,
        location: str = "",
        header: MessageHeader | None = None,
        problems: tuple[AckError, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.error = error
        self.location = location
        self.header = header
        #: Each problem on its own when ``reason`` sums up several (one ERR each).
        self.problems = problems

    def ack_errors(self) -> tuple[AckError, ...]:
        """The ERR segments: one per problem, at least one."""
        return self.problems or (AckError(self.error, self.reason, self.location),)


class MessageAlreadyAccepted(NtzError):
    """Another writer recorded this (sender, control id) first."""


class DeadLetterRefused(NtzError):
    """A dead-letter action that cannot be done; the message says why."""


class UnknownDeadLetter(DeadLetterRefused):
    """No dead letter has this number."""


class DeadLetterClosed(DeadLetterRefused):
    """The letter was already resolved or discarded."""
