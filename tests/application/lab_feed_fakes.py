"""In-memory fakes of the lab feed's ports (tests only).

``FakeLabDatabase.writing()`` behaves like a transaction: changes made inside
a block that raises are undone.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from natalizumab_cds.application.lab_messages import (
    AcceptedMessage,
    AckCode,
    DeadLetter,
    FhirResource,
    MessageAlreadyAccepted,
    NewDeadLetter,
)
from natalizumab_cds.domain.errors import InvalidInput


@dataclass
class LabState:
    mrns: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    accepted: dict[tuple[str, str], AcceptedMessage] = field(default_factory=dict)
    letters: dict[int, DeadLetter] = field(default_factory=dict)
    store_calls: int = 0
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # what the audit would get


class FakeLabUnitOfWork:
    def __init__(self, database: FakeLabDatabase) -> None:
        self.database = database
        self.state = database.state
        self.failure = database.failure

    @property
    def patients(self) -> FakeLabUnitOfWork:
        return self

    @property
    def observations(self) -> FakeLabUnitOfWork:
        return self

    @property
    def messages(self) -> FakeLabUnitOfWork:
        return self

    @property
    def dead_letters(self) -> FakeLabUnitOfWork:
        return self

    # PatientDirectory
    def patients_by_mrns(self, mrns: Collection[str]) -> dict[str, list[str]]:
        return {mrn: list(self.state.mrns[mrn]) for mrn in mrns if mrn in self.state.mrns}

    # ObservationStore
    def store_many(
        self, batch: Sequence[tuple[str, Sequence[FhirResource]]]
    ) -> list[InvalidInput | None]:
        outcomes: list[InvalidInput | None] = []
        for patient, resources in batch:
            for resource in resources:
                if resource.get("subject") != {"reference": patient}:
                    problem = InvalidInput(
                        f"Observation/{resource['id']}: subject is not {patient}"
                    )
                    outcomes.append(problem)
                    break
            else:
                try:
                    self.store_observations(patient, resources)
                except InvalidInput as problem:
                    outcomes.append(problem)
                else:
                    outcomes.append(None)
        return outcomes

    def store_observations(self, patient: str, resources: Sequence[FhirResource]) -> None:
        if self.failure is not None:
            raise self.failure
        if patient in self.database.failing_patients:
            raise RuntimeError(f"a bug that only {patient}'s results meet")
        self.state.store_calls += 1
        record = self.state.records.setdefault(patient, {})
        for resource in resources:
            if resource.get("subject") != {"reference": patient}:
                raise InvalidInput(f"Observation/{resource['id']}: subject is not {patient}")
            record[str(resource["id"])] = dict(resource)

    # MessageLog
    def accepted(self, sender: str, control_id: str) -> AcceptedMessage | None:
        return self.state.accepted.get((sender, control_id))

    def accepted_many(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], AcceptedMessage]:
        return {key: self.state.accepted[key] for key in keys if key in self.state.accepted}

    def record_accepted_many(self, entries: Sequence[AcceptedMessage]) -> None:
        for entry in entries:
            self._record_accepted(entry)

    def _record_accepted(self, entry: AcceptedMessage) -> None:
        key = (entry.sender, entry.control_id)
        if self.database.race:  # another process commits the same id just before us
            self.database.race = False
            self.database.committed_by_others[key] = entry
            raise MessageAlreadyAccepted(str(key))
        if key in self.state.accepted:
            raise MessageAlreadyAccepted(str(key))
        self.state.accepted[key] = entry

    # DeadLetters
    def keep(self, letter: NewDeadLetter) -> int:
        for kept in self.state.letters.values():
            if kept.status == "open" and kept.raw == letter.raw:
                self.state.letters[kept.id] = replace(
                    kept, attempts=kept.attempts + 1, code=letter.code, reason=letter.reason
                )
                return kept.id
        letter_id = len(self.state.letters) + 1
        self.state.letters[letter_id] = DeadLetter(
            letter_id,
            letter.received_at,
            letter.code,
            letter.reason,
            letter.raw,
            letter.control_id,
            letter.sender,
        )
        return letter_id

    def get(self, letter_id: int) -> DeadLetter | None:
        return self.state.letters.get(letter_id)

    def listed(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        found = [x for x in self.state.letters.values() if status is None or x.status == status]
        return sorted(found, key=lambda x: x.id, reverse=True)[:limit]

    def record_attempt(self, letter_id: int, code: AckCode, reason: str) -> None:
        kept = self.state.letters[letter_id]
        self.state.letters[letter_id] = replace(
            kept, attempts=kept.attempts + 1, code=code, reason=reason
        )

    def close(self, letter_id: int, status: str, resolution: str, at: datetime) -> None:
        kept = self.state.letters[letter_id]
        self.state.letters[letter_id] = replace(kept, status=status, resolution=resolution)

    def open_count(self) -> int:
        return sum(1 for letter in self.state.letters.values() if letter.status == "open")

    def note(self, operation: str, entity: str, detail: str) -> None:
        self.state.notes.append((str(operation), entity, detail))


class FakeLabDatabase:
    """Transactions over a ``LabState``.

    ``failure`` makes storing results raise it; ``broken`` makes every
    transaction fail; ``race`` makes another process record the same message id
    just before this one does.
    """

    def __init__(self, state: LabState | None = None) -> None:
        self.state = state or LabState()
        self.failure: Exception | None = None
        self.broken = False
        self.race = False
        self.failing_patients: set[str] = set()
        self.committed_by_others: dict[tuple[str, str], AcceptedMessage] = {}
        self.commits = 0
        self._lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[FakeLabUnitOfWork]:
        if self.broken:
            raise ConnectionError("database unreachable")
        yield FakeLabUnitOfWork(self)

    @contextmanager
    def writing(self) -> Iterator[FakeLabUnitOfWork]:
        if self.broken:
            raise ConnectionError("database unreachable")
        with self._lock:  # one writer at a time, as SQLite's BEGIN IMMEDIATE
            before = copy.deepcopy(self.state)
            try:
                yield FakeLabUnitOfWork(self)
            except BaseException:
                self.state.__dict__.update(before.__dict__)
                self.state.accepted.update(self.committed_by_others)
                raise
            self.commits += 1

    def register(self, mrn: str, patient: str) -> None:
        self.state.mrns.setdefault(mrn, []).append(patient)
