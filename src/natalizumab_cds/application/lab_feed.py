"""Receiving lab results from a laboratory system, and the ports that needs.

Semantics (INTERFACES.md §4):

- The acknowledgment is returned only after the commit. The results and the
  message id are written in ONE transaction, so a crash can never leave results
  stored without the id (or the id without the results).
- A message whose (sender, MSH-10) was already accepted is answered ``AA`` again
  and changes nothing. HL7 makes MSH-10 unique per sending system, so the key
  includes the sender (MSH-3, MSH-4): two labs both numbering from 1 must not
  silence each other.
- Nothing is dropped: a message that is not applied (``AR`` unreadable, ``AE``
  unknown patient or a value that cannot be applied, or an internal failure) is
  kept in the dead-letter store before the answer goes out. A person resolves it
  (``retry_dead_letter`` once the patient exists, or ``discard_dead_letter``
  with a reason); a dead letter is never deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol

from natalizumab_cds.application.lab_messages import (
    AcceptedMessage,
    Ack,
    AckCode,
    DeadLetter,
    DeadLetterRefused,
    ErrorCode,
    FhirResource,
    LabMessage,
    LabMessageRejected,
    MessageAlreadyAccepted,
    MessageHeader,
    NewDeadLetter,
)
from natalizumab_cds.application.recording import with_retries
from natalizumab_cds.domain.errors import InvalidInput

log = logging.getLogger(__name__)


class LabMessageReader(Protocol):
    """Bytes of one message → ``LabMessage``; raises ``LabMessageRejected``."""

    def __call__(self, raw: bytes) -> LabMessage: ...


class PatientDirectory(Protocol):
    def patients_by_mrn(self, mrn: str) -> list[str]:
        """``Patient/<id>`` of every patient on file with this medical record number."""
        ...


class ObservationStore(Protocol):
    def store_observations(self, patient: str, resources: Sequence[FhirResource]) -> None:
        """Add to the patient's record; the same ids and content again change nothing.

        Raises ``InvalidInput`` when the record would no longer read cleanly.
        """
        ...


class MessageLog(Protocol):
    def accepted(self, sender: str, control_id: str) -> AcceptedMessage | None: ...

    def record_accepted(self, entry: AcceptedMessage) -> None:
        """Raises ``MessageAlreadyAccepted`` if another writer got there first."""
        ...


class DeadLetters(Protocol):
    def keep(self, letter: NewDeadLetter) -> int:
        """Store a letter and return its id (an open letter with the same bytes is reused)."""
        ...

    def get(self, letter_id: int) -> DeadLetter | None: ...

    def listed(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        """Letters with this status (None: all), newest first."""
        ...

    def record_attempt(self, letter_id: int, code: AckCode, reason: str) -> None: ...

    def close(self, letter_id: int, status: str, resolution: str, at: datetime) -> None: ...


class LabFeedUnitOfWork(Protocol):
    """The four stores, all inside one transaction."""

    @property
    def patients(self) -> PatientDirectory: ...

    @property
    def observations(self) -> ObservationStore: ...

    @property
    def messages(self) -> MessageLog: ...

    @property
    def dead_letters(self) -> DeadLetters: ...


class LabFeedDatabase(Protocol):
    def writing(self) -> AbstractContextManager[LabFeedUnitOfWork]:
        """A transaction committed when the block ends without an error, else rolled back."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LabFeed:
    """The lab-results feed: receive, retry and discard messages."""

    def __init__(
        self,
        read: LabMessageReader,
        database: LabFeedDatabase,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._read = read
        self._database = database
        self._clock = clock

    def receive_lab_message(self, raw: bytes) -> Ack:
        """Apply one message and say how it went; never raises for a bad message."""
        header: MessageHeader | None = None
        try:
            message = self._read(raw)
            header = message.header
            return self._apply(message)
        except LabMessageRejected as rejection:
            return self._keep(raw, rejection)
        except Exception:  # the sender must always get an answer; see _internal_error
            log.exception("lab message could not be applied")
            return self._keep(raw, _internal_error(header))

    def refuse(self, raw: bytes, rejection: LabMessageRejected) -> Ack:
        """Keep bytes that never reached the reader (e.g. an oversized frame) and answer."""
        return self._keep(raw, rejection)

    def retry_dead_letter(self, letter_id: int) -> Ack:
        """Apply a kept message again; on success the letter is closed as resolved."""
        letter = self._open_letter(letter_id)
        try:
            ack = self._apply(self._read(letter.raw))
        except LabMessageRejected as rejection:
            with self._database.writing() as uow:
                uow.dead_letters.record_attempt(letter_id, rejection.code, rejection.reason)
            return _rejected_ack(rejection, letter_id)
        with self._database.writing() as uow:
            uow.dead_letters.close(letter_id, "resolved", f"retried: {ack.text}", self._clock())
        return ack

    def discard_dead_letter(self, letter_id: int, reason: str) -> None:
        """A person decided the message needs no action; the letter stays, closed."""
        if not reason.strip():
            raise DeadLetterRefused("say why the dead letter is discarded")
        self._open_letter(letter_id)
        with self._database.writing() as uow:
            uow.dead_letters.close(letter_id, "discarded", reason.strip(), self._clock())

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        with self._database.writing() as uow:
            return uow.dead_letters.listed(status, limit)

    def dead_letter(self, letter_id: int) -> DeadLetter | None:
        with self._database.writing() as uow:
            return uow.dead_letters.get(letter_id)

    def _open_letter(self, letter_id: int) -> DeadLetter:
        letter = self.dead_letter(letter_id)
        if letter is None:
            raise DeadLetterRefused(f"dead letter {letter_id} does not exist")
        if letter.status != "open":
            raise DeadLetterRefused(f"dead letter {letter_id} is already {letter.status}")
        return letter

    def _apply(self, message: LabMessage) -> Ack:
        header = message.header
        try:
            return with_retries(lambda: self._transaction(message))
        except MessageAlreadyAccepted:
            with self._database.writing() as uow:
                earlier = uow.messages.accepted(header.sender, header.control_id)
            if earlier is None:  # the racing writer rolled back after all: let the sender resend
                raise
            return _repeated(message, earlier)

    def _transaction(self, message: LabMessage) -> Ack:
        header = message.header
        with self._database.writing() as uow:
            earlier = uow.messages.accepted(header.sender, header.control_id)
            if earlier is not None:
                return _repeated(message, earlier)
            patient = _one_patient(uow.patients.patients_by_mrn(message.mrn), message)
            subject = {"reference": patient}
            resources = [
                {**observation, "subject": subject} for observation in message.observations
            ]
            try:
                uow.observations.store_observations(patient, resources)
            except InvalidInput as problem:
                raise LabMessageRejected(
                    AckCode.ERROR,
                    f"the results cannot be added to {patient}'s record: {problem}",
                    error=ErrorCode.DATA_TYPE,
                    header=header,
                ) from None
            note = _accepted_note(message)
            uow.messages.record_accepted(
                AcceptedMessage(
                    header.sender, header.control_id, patient, self._clock(), len(resources), note
                )
            )
        return Ack(AckCode.ACCEPT, header, note, stored=len(resources))

    def _keep(self, raw: bytes, rejection: LabMessageRejected) -> Ack:
        header = rejection.header
        letter = NewDeadLetter(
            received_at=self._clock(),
            code=rejection.code,
            reason=rejection.reason,
            raw=raw,
            control_id=header.control_id if header else "",
            sender=header.sender if header else "",
        )
        try:
            with self._database.writing() as uow:
                letter_id = uow.dead_letters.keep(letter)
        except Exception:  # even the dead-letter store failed: answer so the sender resends
            log.exception("dead letter could not be kept; the sender is asked to resend")
            return _rejected_ack(_internal_error(header), None)
        return _rejected_ack(rejection, letter_id)


def _internal_error(header: MessageHeader | None = None) -> LabMessageRejected:
    return LabMessageRejected(
        AckCode.ERROR,
        "the message could not be stored because of an internal error; it was not applied",
        error=ErrorCode.INTERNAL_ERROR,
        header=header,
    )


def _one_patient(found: list[str], message: LabMessage) -> str:
    if len(found) == 1:
        return found[0]
    if not found:
        reason = (
            f"no patient with MRN {message.mrn!r}; the message is kept and can be "
            "retried once the patient is registered"
        )
    else:
        reason = f"MRN {message.mrn!r} belongs to {len(found)} patients ({', '.join(found)})"
    raise LabMessageRejected(
        AckCode.ERROR,
        reason,
        error=ErrorCode.UNKNOWN_KEY,
        location="PID^1^3",
        header=message.header,
    )


def _rejected_ack(rejection: LabMessageRejected, letter_id: int | None) -> Ack:
    text = rejection.reason
    if letter_id is not None:
        text = f"{text} (kept as dead letter {letter_id})"
    return Ack(
        rejection.code, rejection.header, text, error=rejection.ack_error(), dead_letter=letter_id
    )


def _accepted_note(message: LabMessage) -> str:
    stored = len(message.observations)
    summary = f"{stored} result{'' if stored == 1 else 's'} stored"
    return "; ".join((summary, *message.notes))


def _repeated(message: LabMessage, earlier: AcceptedMessage) -> Ack:
    text = (
        f"already accepted at {earlier.accepted_at.isoformat(timespec='seconds')}; "
        f"nothing stored again ({earlier.note})"
    )
    return Ack(AckCode.ACCEPT, message.header, text, duplicate=True)
