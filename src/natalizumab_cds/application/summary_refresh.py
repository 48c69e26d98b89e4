"""Rebuilding worklist summaries soon after records change, off the writer's path.

The HL7 feed commits results without rebuilding the patients' summaries
(``lab_records.py``); it hands the patient ids to a ``SummaryRefresher``,
whose own thread waits a moment so that results arriving together are
summarised together, then rebuilds them. Under a flood of results it keeps to
about a third of the process's time (it waits twice as long as its last
round took, or until changes stop coming), so the feed's throughput is not
spent re-assessing the same patients again and again; the summaries then
trail the records by a few seconds at most. If that fails (say the database is
briefly unreachable) the ids are kept and tried again. Nothing depends on this
thread for correctness: a summary behind its record is also rebuilt before any
worklist is answered, by the nightly refresh and by ``ntz refresh``
(``worklist.py``), so a crash between the commit and the refresh loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence

log = logging.getLogger(__name__)


class SummaryRefresher:
    """``changed(ids)`` from any thread; ``refresh(ids)`` runs in the refresher's thread."""

    def __init__(
        self,
        refresh: Callable[[Sequence[str]], object],
        gather_seconds: float = 0.05,
        retry_seconds: float = 1.0,
    ) -> None:
        self._refresh = refresh
        self._gather = gather_seconds
        self._retry = retry_seconds
        self._pending: set[str] = set()
        self._busy = False
        self._stopping = False
        self._reports = 0  # calls of ``changed``, to tell a flood from a lull
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="summary-refresh", daemon=True)
        self._thread.start()

    def changed(self, patient_ids: Collection[str]) -> None:
        """These records changed: rebuild their summaries soon."""
        if not patient_ids:
            return
        with self._condition:
            self._pending.update(patient_ids)
            self._reports += 1
            self._condition.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every change reported so far is summarised; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Summarise what is pending, then stop the thread."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                self._busy = True
                if not self._stopping:  # let results arriving together be summarised together
                    self._condition.wait_for(lambda: self._stopping, self._gather)
                batch, self._pending = self._pending, set()
            failed = False
            started = time.monotonic()
            try:
                self._refresh(sorted(batch))
            except Exception:
                log.exception("rebuilding %d summaries failed; trying again", len(batch))
                failed = True
            with self._condition:
                if failed:
                    self._pending |= batch
                    if self._stopping:
                        self._busy = False
                        self._condition.notify_all()
                        return  # the worklist and the next refresh catch up
                    self._condition.wait(self._retry)
                self._busy = False
                self._condition.notify_all()
                took = time.monotonic() - started
                if took > self._gather / 2:
                    self._back_off(2 * took)

    def _back_off(self, seconds: float) -> None:
        """After a long round, leave the process to the writers while changes keep coming.

        Ends early once a gathering window passes without a change (the flood is
        over) or the refresher is stopping. Called holding the condition.
        """
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            before = self._reports
            self._condition.wait_for(lambda: self._stopping, min(self._gather, seconds))
            if self._reports == before:
                return
