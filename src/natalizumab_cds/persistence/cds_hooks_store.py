"""SQL adapters for the CDS Hooks ports: the shared ``jti`` replay cache and the feedback log.

The replay cache relies on the primary key (issuer, jti): of two processes
inserting the same token id, the database lets exactly one through. A row may
be reused once its token has expired (an update guarded by ``expires_at <
now``), and expired rows are purged now and then by whichever process notices.
The tables are created by the Alembic revision ``cds_hooks``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from datetime import datetime

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from natalizumab_cds.application.cds_hooks import CardFeedback, FeedbackOutcome
from natalizumab_cds.application.errors import DatabaseUnavailable
from natalizumab_cds.persistence.engine import BUSY_TIMEOUT_SECONDS, WRITE, is_sqlite
from natalizumab_cds.persistence.tables import UtcDateTime, metadata

token_uses = Table(
    "cds_hooks_token_uses",
    metadata,
    Column("issuer", String(500), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

card_feedback = Table(
    "cds_hooks_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("card", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),  # accepted | overridden
    Column("outcome_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("client", String(500), nullable=False),  # the EHR's token issuer
    Column("accepted_suggestions", Text, nullable=False),  # JSON list of suggestion ids
    Column("override_system", String(500), nullable=True),
    Column("override_code", String(200), nullable=True),
    Column("override_display", Text, nullable=True),
    Column("user_comment", Text, nullable=True),
    Index(None, "card"),
    Index(None, "received_at"),
)


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield connection
    except OperationalError as error:
        raise DatabaseUnavailable(f"the database is unavailable: {error.orig}") from error


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as connection, connection.begin():
            yield connection
    except OperationalError as error:
        raise DatabaseUnavailable(f"the database is unavailable: {error.orig}") from error


class SqlReplayCache:
    """``ReplayCache`` on the shared database.

    On SQLite the insert is one autocommitted statement on the driver's
    connection: the database's write lock is taken and released inside that one
    call, never held while the thread waits for the GIL between a ``BEGIN``, the
    insert and the ``COMMIT`` (other processes would meanwhile back off in
    SQLite's sleeps of 1 to 100 ms). The inserts of one process also take turns on
    a lock, which wakes the next thread as soon as it is free. Across processes,
    and on PostgreSQL, the database arbitrates.

    ``first_use_at_once`` (SQLite only) makes the same insert with SQLite's busy
    timeout at zero, on the caller's thread: the usual call is answered in some
    40 µs without the hop to a worker thread and back. Whenever it would have to
    wait (another process holds the write lock, another thread of this one is
    inserting, the token id is on file, a purge is due) it answers None and the
    caller uses ``first_use`` in a thread.
    """

    def __init__(self, engine: Engine, purge_every_seconds: float = 60.0) -> None:
        self.engine = engine
        self.purge_every_seconds = purge_every_seconds
        self._last_purge = float("-inf")
        self._sqlite = is_sqlite(engine)
        self._inserting = threading.Lock()  # SQLite: this process's inserts take turns
        self._turn: AbstractContextManager[object] = (
            self._inserting if self._sqlite else nullcontext()
        )
        dialect = engine.dialect
        #: The insert as the driver runs it, and how it stores ``expires_at`` (SQLite).
        self._insert_sql = str(insert(token_uses).compile(dialect=dialect))
        self._store_expiry = token_uses.c.expires_at.type.bind_processor(dialect)

    def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        row = {"issuer": issuer, "jti": jti, "expires_at": expires_at}
        with self._turn:
            try:
                if self._sqlite:
                    self._insert_autocommitted(issuer, jti, expires_at)
                else:
                    with _writing(self.engine) as connection:
                        connection.execute(insert(token_uses).values(**row))
            except IntegrityError:
                return self._reuse_expired(row, now)
            self._purge_now_and_then(now)
        return True

    def first_use_at_once(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime
    ) -> bool | None:
        if not self._sqlite or self._purge_due():
            return None
        if not self._inserting.acquire(blocking=False):
            return None  # another thread of this process is inserting
        try:
            self._insert_autocommitted(issuer, jti, expires_at, wait=False)
        except (IntegrityError, _WouldWait):
            return None  # on file (a replay, or an expired id to reuse), or locked
        finally:
            self._inserting.release()
        return True

    def _insert_autocommitted(
        self, issuer: str, jti: str, expires_at: datetime, *, wait: bool = True
    ) -> None:
        """SQLite: one ``INSERT`` in autocommit mode (engine.py opens connections so).

        With ``wait=False`` the connection's busy timeout is zero for the insert,
        and a locked database raises ``_WouldWait`` instead of waiting.
        """
        expiry = self._store_expiry(expires_at) if self._store_expiry else expires_at
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            # closing the connection hands it back to the pool
            with (
                closing(self.engine.raw_connection()) as connection,
                closing(connection.cursor()) as cursor,
            ):
                if wait:
                    cursor.execute(self._insert_sql, (issuer, jti, expiry))
                    return
                # no wait for a lock, nor for the disk: on the event loop; a power cut
                # may lose the last ids, which only reopens a replay window until expiry
                cursor.execute("PRAGMA busy_timeout=0")
                cursor.execute("PRAGMA synchronous=NORMAL")
                try:
                    cursor.execute(self._insert_sql, (issuer, jti, expiry))
                finally:
                    cursor.execute("PRAGMA synchronous=FULL")
                    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        except dbapi.IntegrityError as error:
            raise IntegrityError(self._insert_sql, None, error) from error
        except dbapi.OperationalError as error:
            if not wait and _is_locked(error):
                raise _WouldWait from None
            raise DatabaseUnavailable(f"the database is unavailable: {error}") from error

    def _reuse_expired(self, row: dict[str, object], now: datetime) -> bool:
        """The pair is on file: it is a replay unless the remembered token has expired."""
        with _writing(self.engine) as connection:
            result = connection.execute(
                update(token_uses)
                .where(
                    token_uses.c.issuer == row["issuer"],
                    token_uses.c.jti == row["jti"],
                    token_uses.c.expires_at < now,
                )
                .values(expires_at=row["expires_at"])
            )
        return result.rowcount == 1

    def _purge_due(self) -> bool:
        return time.monotonic() - self._last_purge >= self.purge_every_seconds

    def _purge_now_and_then(self, now: datetime) -> None:
        if not self._purge_due():
            return
        self._last_purge = time.monotonic()
        with _writing(self.engine) as connection:
            connection.execute(delete(token_uses).where(token_uses.c.expires_at < now))

    def remembered(self) -> int:
        """How many token ids are on file (for tests and operations)."""
        with _reading(self.engine) as connection:
            return len(connection.execute(select(token_uses.c.jti)).all())


class _WouldWait(Exception):
    """SQLite's write lock is held elsewhere (``first_use_at_once`` does not wait)."""


def _is_locked(error: Exception) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class SqlFeedbackLog:
    """``FeedbackLog`` on the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, feedback: Sequence[CardFeedback]) -> None:
        rows = [
            {
                "card": item.card,
                "outcome": item.outcome.value,
                "outcome_at": item.outcome_at,
                "received_at": item.received_at,
                "client": item.client,
                "accepted_suggestions": json.dumps(list(item.accepted_suggestions)),
                "override_system": item.override_system,
                "override_code": item.override_code,
                "override_display": item.override_display,
                "user_comment": item.user_comment,
            }
            for item in feedback
        ]
        with _writing(self.engine) as connection:
            connection.execute(insert(card_feedback), rows)

    def for_card(self, card: str) -> list[CardFeedback]:
        query = (
            select(card_feedback).where(card_feedback.c.card == card).order_by(card_feedback.c.id)
        )
        with _reading(self.engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [
            CardFeedback(
                card=row["card"],
                outcome=FeedbackOutcome(row["outcome"]),
                outcome_at=row["outcome_at"],
                received_at=row["received_at"],
                client=row["client"],
                accepted_suggestions=tuple(json.loads(row["accepted_suggestions"])),
                override_system=row["override_system"],
                override_code=row["override_code"],
                override_display=row["override_display"],
                user_comment=row["user_comment"],
            )
            for row in rows
        ]
