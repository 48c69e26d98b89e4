"""One writer at a time on an SQLite file, across processes, without sleeping in turns.

SQLite lets one transaction write at a time. A writer that finds the database
locked is retried by SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20,
25 ... ms between tries. Two processes that both write continuously - two MLLP
listeners, or a listener and the summary catch-up - then spend most of their
time asleep: the lock was free again after 3 ms, but the waiter looks only
after 18 ms. Measured with two listeners on one database: each listener's
writer thread waited in the busy handler most of the run, and the two together
answered about 870 messages a second, less than one alone.

So the program's own write transactions on an SQLite file first take their
turn: an exclusive ``flock`` on ``<database>-writer.lock`` beside the database
(and, inside a process, a lock for its threads), held until the transaction
has committed or rolled back. A writer waiting for its turn is woken by the
kernel the moment the previous one ends. SQLite's lock and busy timeout stay as
they were underneath, for writers that do not take turns (another program, the
replay cache's single statements); a turn is therefore held at most for one
transaction, which that busy timeout bounds. A process that dies loses its
``flock`` with it. A thread already holding the turn (a transaction inside a
transaction) goes on without taking it again, exactly as before.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_turns: dict[str, WriterTurn] = {}
_registry = threading.Lock()


class WriterTurn:
    """The turn to write to one SQLite file (one per file and process: ``for_file``)."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._descriptor: int | None = None
        self._pid = 0

    @classmethod
    def for_file(cls, database: Path) -> WriterTurn:
        key = str(database.resolve())
        with _registry:
            turn = _turns.get(key)
            if turn is None:
                turn = _turns[key] = cls(Path(key + "-writer.lock"))
            return turn

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold the turn for the ``with`` block."""
        me = threading.get_ident()
        if self._owner == me:  # nested in this thread's own transaction
            yield
            return
        with self._threads:  # the GIL is released while a thread waits here
            descriptor = self._file()
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # and while the process waits here
            self._owner = me
            try:
                yield
            finally:
                self._owner = None
                fcntl.flock(descriptor, fcntl.LOCK_UN)

    def _file(self) -> int:
        if self._descriptor is None or self._pid != os.getpid():  # a forked child opens its own
            self._descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._descriptor
