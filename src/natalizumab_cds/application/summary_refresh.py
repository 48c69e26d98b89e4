"""Rebuilding worklist summaries soon after records change, off the writers' path.

The HL7 feed commits results without rebuilding the patients' summaries
(``lab_records.py``): reassessing a record means reading all of it, about 2 ms,
and a flood of results would spend the feed's time re-assessing the same
patients again and again. Instead the ``ntz mllp`` parent process runs a
``SummaryCatchUp``: a thread that looks for summaries behind their records
(``ClinicWorklist.catch_up``: an indexed query for records whose version moved
past the summarised one) and rebuilds them, again at once while it finds some,
else after ``interval``. It finds the changes of every listener process in the
database, so nothing has to tell it about them, and a change committed just
before a crash is found as well.

Run as a background task (``background=True``), its thread asks the operating
system for the lowest CPU priority: under a flood of results the listeners get
the processor and the summaries trail the records by the time a round takes;
once the flood stops, it catches up within a round. Nothing depends on this
thread for correctness: a summary behind its record is also rebuilt before any
worklist is answered, by the nightly refresh and by ``ntz refresh``
(``worklist.py``). If a round fails (say the database is briefly unreachable)
it is tried again after ``retry`` seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: The nice value of a background catch-up thread (19: the lowest priority on Linux).
BACKGROUND_NICENESS = 19


class SummaryCatchUp:
    """``catch_up()`` rebuilds what is behind and says how many were; run in a thread."""

    def __init__(
        self,
        catch_up: Callable[[], int],
        interval: float = 0.2,
        retry: float = 1.0,
        background: bool = False,
    ) -> None:
        self._catch_up = catch_up
        self._interval = interval
        self._retry = retry
        self._background = background
        self._stopping = threading.Event()
        self._rounds = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="summary-catch-up", daemon=True)

    @property
    def native_id(self) -> int | None:
        """The operating system's id of the thread (for its priority), once started."""
        return self._thread.native_id

    def start(self) -> SummaryCatchUp:
        self._thread.start()
        return self

    def wait_rounds(self, rounds: int, timeout: float | None = None) -> bool:
        """Wait until ``rounds`` rounds in all found nothing behind; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._rounds >= rounds, timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop after the round under way and one more (changes made just before stopping)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._background:
            _lowest_priority()
        while not self._stopping.is_set():
            found = self._round()
            if found is None:
                self._stopping.wait(self._retry)
            elif found == 0:
                self._stopping.wait(self._interval)
        self._round()

    def _round(self) -> int | None:
        try:
            found = self._catch_up()
        except Exception:
            log.exception("rebuilding the summaries behind their records failed; trying again")
            return None
        if found == 0:
            with self._idle:
                self._rounds += 1
                self._idle.notify_all()
        return found


def _lowest_priority() -> None:
    """This thread only (Linux gives each thread its own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
    except (AttributeError, OSError) as problem:  # not Linux, or not allowed
        log.info("summary catch-up keeps its priority (%s)", problem)
