"""Receiving lab results from a laboratory system, and the ports that needs.

Semantics (INTERFACES.md §4):

- The acknowledgment is returned only after the commit. The results and the
  message id are written in ONE transaction, so a crash can never leave results
  stored without the id (or the id without the results).
- A message whose (sender, MSH-10) was already accepted is answered ``AA`` again
  and changes nothing. HL7 makes MSH-10 unique per sending system, so the key
  includes the sender (MSH-3, MSH-4): two labs both numbering from 1 must not
  silence each other.
- Messages that arrive together (several lab connections at once) are
  applied together: ``receive_many`` reads them, then writes all of them in
  one transaction and answers each only after that commit (group commit). A
  message that cannot be applied gets its own answer and dead letter; it never
  costs the others theirs. Should the shared transaction fail for any other
  reason, each message is applied again on its own.
- The records changed are reported to ``on_changed`` after the commit, which
  brings their worklist summaries up to date (``lab_records.py`` says why
  that is not done inside the transaction).
- Nothing is dropped: a message that is not applied (``AR`` unreadable, ``AE``
  unknown patient or a value that cannot be applied, or an internal failure) is
  kept in the dead-letter store before the answer goes out. A person resolves it
  (``retry_dead_letter`` once the patient exists, or ``discard_dead_letter``
  with a reason); a dead letter is never deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from natalizumab_cds.application.lab_messages import (
    AcceptedMessage,
    Ack,
    AckCode,
    DeadLetter,
    DeadLetterClosed,
    DeadLetterRefused,
    ErrorCode,
    FhirResource,
    LabMessage,
    LabMessageRejected,
    MessageAlreadyAccepted,
    MessageHeader,
    NewDeadLetter,
    UnknownDeadLetter,
)
from natalizumab_cds.application.recording import with_retries
from natalizumab_cds.application.security.audit import Operation
from natalizumab_cds.domain.errors import InvalidInput

log = logging.getLogger(__name__)


class LabMessageReader(Protocol):
    """Bytes of one message → ``LabMessage``; raises ``LabMessageRejected``."""

    def __call__(self, raw: bytes) -> LabMessage: ...


class PatientDirectory(Protocol):
    def patients_by_mrns(self, mrns: Collection[str]) -> dict[str, list[str]]:
        """``Patient/<id>`` of every patient on file with each of these medical record
        numbers (numbers nobody has are left out)."""
        ...


class ObservationStore(Protocol):
    def store_observations(self, patient: str, resources: Sequence[FhirResource]) -> None:
        """Add to the patient's record; the same ids and content again change nothing.

        Raises ``InvalidInput`` when the record would no longer read cleanly.
        """
        ...

    def store_many(
        self, batch: Sequence[tuple[str, Sequence[FhirResource]]]
    ) -> list[InvalidInput | None]:
        """``store_observations`` for many items; per item None, or why none of it was stored."""
        ...


class MessageLog(Protocol):
    def accepted(self, sender: str, control_id: str) -> AcceptedMessage | None: ...

    def accepted_many(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], AcceptedMessage]:
        """The entries among these (sender, control id) keys that are in the log."""
        ...

    def record_accepted_many(self, entries: Sequence[AcceptedMessage]) -> None:
        """Raises ``MessageAlreadyAccepted`` if another writer got to one of them first."""
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

    def open_count(self) -> int: ...


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

    def note(self, operation: Operation, entity: str, detail: str) -> None:
        """Record in the audit trail (when audited) what a person did with a dead letter."""
        ...


class LabFeedDatabase(Protocol):
    def writing(self) -> AbstractContextManager[LabFeedUnitOfWork]:
        """A transaction committed when the block ends without an error, else rolled back."""
        ...

    def reading(self) -> AbstractContextManager[LabFeedUnitOfWork]:
        """A read-only transaction: it never waits for the feed's writer (nothing is noted)."""
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
        on_changed: Callable[[Sequence[str]], object] | None = None,
    ) -> None:
        """``on_changed`` gets the ids of the patients whose records a commit changed."""
        self._read = read
        self._database = database
        self._clock = clock
        self._on_changed = on_changed

    def receive_lab_message(self, raw: bytes) -> Ack:
        """Apply one message and say how it went; never raises for a bad message."""
        return self.receive_many([raw])[0]

    def receive_many(self, raws: Sequence[bytes]) -> list[Ack]:
        """Apply messages together (one commit) and say how each went; never raises."""
        acks: list[Ack | None] = [None] * len(raws)
        readable: list[tuple[int, LabMessage]] = []
        refused: list[tuple[int, LabMessageRejected]] = []
        for index, raw in enumerate(raws):
            try:
                readable.append((index, self._read(raw)))
            except LabMessageRejected as rejection:
                refused.append((index, rejection))
            except Exception:  # the sender must always get an answer; see _internal_error
                log.exception("lab message could not be read")
                refused.append((index, _internal_error()))
        if readable:
            try:
                outcome = with_retries(lambda: self._transaction(readable, raws))
            except Exception:
                if len(readable) > 1:
                    log.exception("a batch of lab messages failed; applying them one by one")
                for index, message in readable:
                    acks[index] = self._alone(raws[index], message)
            else:
                for index, ack in outcome.acks.items():
                    acks[index] = ack
                refused += outcome.refused
                self._changed(outcome.changed)
        for index, refusal in refused:
            acks[index] = self._keep(raws[index], refusal)
        return [ack for ack in acks if ack is not None]

    def _alone(self, raw: bytes, message: LabMessage) -> Ack:
        try:
            return self._apply(message)
        except LabMessageRejected as rejection:
            return self._keep(raw, rejection)
        except Exception:  # the sender must always get an answer; see _internal_error
            log.exception("lab message could not be applied")
            return self._keep(raw, _internal_error(message.header))

    def _changed(self, patients: Sequence[str]) -> None:
        if not patients or self._on_changed is None:
            return
        try:
            self._on_changed([patient.removeprefix("Patient/") for patient in patients])
        except Exception:  # committed and answered already; the next refresh catches up
            log.exception("refreshing the summaries of changed records failed")

    def refuse(self, raw: bytes, rejection: LabMessageRejected) -> Ack:
        """Keep bytes that never reached the reader (e.g. an oversized frame) and answer."""
        return self._keep(raw, rejection)

    def retry_dead_letter(self, letter_id: int) -> Ack:
        """Apply a kept message again; on success the letter is closed as resolved."""
        letter = self._open_letter(letter_id)
        entity = f"DeadLetter/{letter_id}"
        try:
            ack = self._apply(self._read(letter.raw))
        except LabMessageRejected as rejection:
            with self._database.writing() as uow:
                uow.dead_letters.record_attempt(letter_id, rejection.code, rejection.reason)
                uow.note(Operation.EXECUTE, entity, f"retried: {rejection.code} {rejection.reason}")
            return _rejected_ack(rejection, letter_id)
        with self._database.writing() as uow:
            uow.dead_letters.close(letter_id, "resolved", f"retried: {ack.text}", self._clock())
            uow.note(Operation.UPDATE, entity, f"retried and resolved: {ack.text}")
        return ack

    def discard_dead_letter(self, letter_id: int, reason: str) -> None:
        """A person decided the message needs no action; the letter stays, closed."""
        if not reason.strip():
            raise DeadLetterRefused("say why the dead letter is discarded")
        self._open_letter(letter_id)
        with self._database.writing() as uow:
            uow.dead_letters.close(letter_id, "discarded", reason.strip(), self._clock())
            uow.note(Operation.UPDATE, f"DeadLetter/{letter_id}", f"discarded: {reason.strip()}")

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        """Kept messages with this status (None: all), newest first; the reading is audited."""
        with self._database.writing() as uow:
            letters = uow.dead_letters.listed(status, limit)
            uow.note(Operation.READ, "DeadLetter", f"listed {len(letters)} ({status or 'all'})")
            return letters

    def dead_letter(self, letter_id: int) -> DeadLetter | None:
        """One kept message, bytes and all; the reading is audited."""
        with self._database.writing() as uow:
            letter = uow.dead_letters.get(letter_id)
            if letter is not None:
                uow.note(Operation.READ, f"DeadLetter/{letter_id}", "shown")
            return letter

    def patients_with_mrns(self, mrns: Collection[str]) -> dict[str, list[str]]:
        """The ids of the patients on file with each MRN (MRNs nobody has are left out).

        Whose the kept messages are, for the page that lists them; not audited (ids,
        no record data: whoever then shows a name reads the patient's entry).
        """
        if not mrns:
            return {}
        with self._database.reading() as uow:
            found = uow.patients.patients_by_mrns(mrns)
        return {mrn: [ref.removeprefix("Patient/") for ref in refs] for mrn, refs in found.items()}

    def open_letters(self) -> int:
        """How many kept messages wait for a person (not audited: a number, no data)."""
        with self._database.reading() as uow:
            return uow.dead_letters.open_count()

    def _open_letter(self, letter_id: int) -> DeadLetter:
        with self._database.reading() as uow:  # the check only; the change writes after it
            letter = uow.dead_letters.get(letter_id)
        if letter is None:
            raise UnknownDeadLetter(f"dead letter {letter_id} does not exist")
        if letter.status != "open":
            raise DeadLetterClosed(f"dead letter {letter_id} is already {letter.status}")
        return letter

    def _apply(self, message: LabMessage) -> Ack:
        """One message in its own transaction; ``LabMessageRejected`` if it cannot be applied."""
        header = message.header
        try:
            outcome = with_retries(lambda: self._transaction([(0, message)], None))
        except MessageAlreadyAccepted:
            with self._database.writing() as uow:
                earlier = uow.messages.accepted(header.sender, header.control_id)
            if earlier is None:  # the racing writer rolled back after all: let the sender resend
                raise
            return _repeated(message, earlier)
        if outcome.refused:
            raise outcome.refused[0][1]
        self._changed(outcome.changed)
        return outcome.acks[0]

    def _transaction(
        self, messages: Sequence[tuple[int, LabMessage]], raws: Sequence[bytes] | None
    ) -> _Outcome:
        """Apply readable messages in one transaction.

        With ``raws`` a message that cannot be applied is kept as a dead letter in the
        same transaction; without, it is returned in ``refused`` for the caller.
        """
        outcome = _Outcome()
        with self._database.writing() as uow:
            earlier = uow.messages.accepted_many({m.header.key for _, m in messages})
            owners = uow.patients.patients_by_mrns({m.mrn for _, m in messages})
            pending: list[tuple[int, LabMessage, str]] = []
            copies: list[tuple[int, LabMessage]] = []  # the same message again in this batch
            first_seen: set[tuple[str, str]] = set()
            for index, message in messages:
                key = message.header.key
                if key in earlier:
                    outcome.acks[index] = _repeated(message, earlier[key])
                    continue
                if key in first_seen:
                    copies.append((index, message))
                    continue
                try:
                    patient = _one_patient(owners.get(message.mrn, []), message)
                except LabMessageRejected as rejection:
                    outcome.refused.append((index, rejection))
                    continue
                first_seen.add(key)
                pending.append((index, message, patient))
            batch = [
                (patient, [{**o, "subject": {"reference": patient}} for o in message.observations])
                for _, message, patient in pending
            ]
            problems = uow.observations.store_many(batch)
            accepted: list[AcceptedMessage] = []
            unstorable: dict[tuple[str, str], tuple[str, InvalidInput]] = {}
            for (index, message, patient), problem in zip(pending, problems, strict=True):
                if problem is not None:
                    unstorable[message.header.key] = (patient, problem)
                    outcome.refused.append((index, _unstorable(message, patient, problem)))
                    continue
                note = _accepted_note(message)
                entry = AcceptedMessage(
                    message.header.sender,
                    message.header.control_id,
                    patient,
                    self._clock(),
                    len(message.observations),
                    note,
                )
                accepted.append(entry)
                earlier[message.header.key] = entry
                outcome.acks[index] = Ack(
                    AckCode.ACCEPT, message.header, note, stored=len(message.observations)
                )
                if message.observations:
                    outcome.changed.append(patient)
            for index, message in copies:  # answered as the first copy was
                key = message.header.key
                if key in earlier:
                    outcome.acks[index] = _repeated(message, earlier[key])
                else:
                    outcome.refused.append((index, _unstorable(message, *unstorable[key])))
            uow.messages.record_accepted_many(accepted)
            if raws is not None:
                for index, refusal in outcome.refused:
                    letter = _letter(raws[index], refusal, self._clock())
                    outcome.acks[index] = _rejected_ack(refusal, uow.dead_letters.keep(letter))
                outcome.refused = []
        return outcome

    def _keep(self, raw: bytes, rejection: LabMessageRejected) -> Ack:
        header = rejection.header
        letter = _letter(raw, rejection, self._clock())
        try:
            with self._database.writing() as uow:
                letter_id = uow.dead_letters.keep(letter)
        except Exception:  # even the dead-letter store failed: answer so the sender resends
            log.exception("dead letter could not be kept; the sender is asked to resend")
            return _rejected_ack(_internal_error(header), None)
        return _rejected_ack(rejection, letter_id)


@dataclass(slots=True)
class _Outcome:
    """What one transaction did: answers by position, refusals, records changed."""

    acks: dict[int, Ack] = field(default_factory=dict)
    refused: list[tuple[int, LabMessageRejected]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _letter(raw: bytes, rejection: LabMessageRejected, at: datetime) -> NewDeadLetter:
    header = rejection.header
    return NewDeadLetter(
        received_at=at,
        code=rejection.code,
        reason=rejection.reason,
        raw=raw,
        control_id=header.control_id if header else "",
        sender=header.sender if header else "",
    )


def _unstorable(message: LabMessage, patient: str, problem: InvalidInput) -> LabMessageRejected:
    return LabMessageRejected(
        AckCode.ERROR,
        f"the results cannot be added to {patient}'s record: {problem}",
        error=ErrorCode.DATA_TYPE,
        header=message.header,
    )


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
    first, *more = rejection.ack_errors()
    return Ack(
        rejection.code,
        rejection.header,
        text,
        error=first,
        more_errors=tuple(more),
        dead_letter=letter_id,
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
