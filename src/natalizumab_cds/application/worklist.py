"""The clinic worklist and the daily refresh of the summaries it reads.

The worklist is one SQL query over the summary rows (see ``worklist_query``);
no patient's record is read at request time. The summaries are rebuilt when a
record changes and, for a new day or a new protocol version, by ``refresh``.

Lab results from the HL7 feed raise a record's version without rebuilding its
summary in the same transaction (``lab_records.py``); the listener's
``SummaryCatchUp`` rebuilds it soon after the commit (``catch_up``). So that a
worklist is never answered from a summary older than its record - even if the
listener stopped between its commit and its catch-up - ``entries`` first
rebuilds the summaries whose record has moved on, and ``refresh`` picks them up
too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.patients import MAX_PAGE_SIZE
from natalizumab_cds.application.ports import Database, UnitOfWork
from natalizumab_cds.application.recording import with_retries
from natalizumab_cds.application.records import Page, Summary
from natalizumab_cds.application.worklist_query import (
    EntryKind,
    SortKey,
    WorklistEntry,
    WorklistQuery,
)
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.schedule import DueStatus, Item

#: Patients refreshed per transaction: short enough not to hold up importers.
REFRESH_BATCH = 200
#: Patients assessed per read when records changed (see ``refresh_records``).
RECORDS_BATCH = 50
#: At most this many summaries behind their records are rebuilt before a worklist
#: is answered (normally none: the refresher got there first).
CATCH_UP = 1000


def _words(parameter: str, given: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    for word in given:
        if word not in allowed:
            raise InvalidInput(f"{parameter}: {word!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(given))


class ClinicWorklist:
    def __init__(
        self, database: Database, context: ClinicContext, snapshot: UnitOfWork | None = None
    ) -> None:
        self._database = database
        self._context = context
        self._snapshot = snapshot

    @contextmanager
    def snapshot(self) -> Iterator[ClinicWorklist]:
        """A worklist whose ``entries`` all read one transaction: a page of several
        lists is read from one state of the clinic (and audited as one read)."""
        self.catch_up()
        with self._database.reading() as uow:
            yield ClinicWorklist(self._database, self._context, uow)

    def entries(
        self,
        *,
        days: int = 7,
        today: date | None = None,
        kinds: Sequence[str] = (),
        decisions: Sequence[str] = (),
        items: Sequence[str] = (),
        statuses: Sequence[str] = (),
        due_from: date | None = None,
        due_to: date | None = None,
        text: str | None = None,
        sort: Sequence[tuple[str, bool]] = (("due", False), ("name", False)),
        page: int = 1,
        size: int = 50,
    ) -> Page[WorklistEntry]:
        """Infusions due within ``days`` (1 = today), every monitoring item overdue
        or due soon, and every hold or discontinue; ``size`` 0 returns every row."""
        if not 1 <= days <= 366:
            raise InvalidInput(f"days: must be from 1 to 366, got {days}")
        if page < 1:
            raise InvalidInput(f"page: must be 1 or more, got {page}")
        if not 0 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"size: must be from 0 to {MAX_PAGE_SIZE}, got {size}")
        if due_from and due_to and due_from > due_to:
            raise InvalidInput(f"due_from: {due_from} is after due_to {due_to}")
        day = today or self._context.today()
        query = WorklistQuery(
            today=day,
            window_end=day + timedelta(days=days - 1),
            soon_end=self._context.protocol.interval("due_soon_window").after(day),
            kinds=tuple(EntryKind(k) for k in _words("kind", kinds, list(EntryKind))),
            decisions=_words("decision", decisions, list(Decision)),
            items=_words("item", items, list(Item)),
            statuses=_words("status", statuses, list(DueStatus)),
            due_from=due_from,
            due_to=due_to,
            text=text.strip() or None if text else None,
            sort=tuple((SortKey(k), descending) for k, descending in _sort(sort)),
            page=page,
            size=size,
        )
        if self._snapshot is not None:
            return self._snapshot.summaries.worklist(query)
        self.catch_up()
        with self._database.reading() as uow:
            return uow.summaries.worklist(query)

    def catch_up(self, limit: int = CATCH_UP) -> int:
        """Rebuild the summaries (up to ``limit``) whose record has moved on since.

        Returns how many were behind; 0 means every summary was current.
        """
        with self._database.reading() as uow:
            behind = uow.summaries.behind_records(limit)
        if behind:
            self.refresh_records(behind)
        return len(behind)

    def refresh_records(self, patient_ids: Sequence[str]) -> int:
        """Rebuild the summaries of these patients now (their records just changed).

        The records are read and assessed outside any write transaction; the write
        only saves the summaries whose record has not moved on meanwhile (one that
        has is still behind and is rebuilt by the next refresh). So a writer - the
        lab feed - waits for a few rows, never for the assessments.
        """
        ordered = sorted(set(patient_ids))
        done = 0
        for start in range(0, len(ordered), RECORDS_BATCH):
            part = ordered[start : start + RECORDS_BATCH]
            with self._database.reading() as uow:
                versions = uow.records.versions(part)
                records = uow.records.resources(list(versions))
            summaries = [
                self._context.summarise(pid, version, records.get(pid, []))
                for pid, version in versions.items()
            ]
            done += with_retries(partial(self._save_current, summaries))
        return done

    def _save_current(self, summaries: Sequence[Summary]) -> int:
        with self._database.writing() as uow:
            current = uow.records.lock([s.patient_id for s in summaries])
            fresh = [s for s in summaries if current.get(s.patient_id) == s.record_version]
            uow.summaries.save(fresh)
            return len(fresh)

    def refresh(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Reassess every patient whose summary is from an earlier day or protocol.

        Returns how many were refreshed. Safe to run while others write: each
        batch locks its patients like any other writer.
        """
        today = self._context.today()
        version = self._context.protocol.version
        done = 0
        while True:
            refreshed = with_retries(lambda: self._refresh_batch(today, version))
            if not refreshed:
                return done
            done += refreshed
            if on_progress is not None:
                on_progress(refreshed)

    def _refresh_batch(self, today: date, protocol_version: str) -> int:
        with self._database.writing() as uow:
            patient_ids = uow.summaries.outdated(today, protocol_version, REFRESH_BATCH)
            return self._save_summaries(uow, patient_ids)

    def _save_summaries(self, uow: UnitOfWork, patient_ids: Sequence[str]) -> int:
        versions = uow.records.lock(patient_ids)
        records = uow.records.resources(list(versions))
        uow.summaries.save(
            [
                self._context.summarise(pid, version, records.get(pid, []))
                for pid, version in versions.items()
            ]
        )
        return len(versions)


def _sort(sort: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    allowed = list(SortKey)
    for key, _ in sort:
        if key not in allowed:
            raise InvalidInput(f"sort: {key!r} is not one of {', '.join(allowed)}")
    return list(sort)
