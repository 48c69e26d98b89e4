"""The ``Database`` and ``UnitOfWork`` ports over one SQLAlchemy engine.

A unit of work is one connection in one transaction. Database errors that mean
"someone else got there first" (a unique key taken by a concurrent writer, a
deadlock, a serialization failure) become ``ConcurrentUpdate``, which the use
cases retry; an unreachable or locked database becomes ``DatabaseUnavailable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from natalizumab_cds.application.errors import ConcurrentUpdate, DatabaseUnavailable
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.persistence.audit_store import SqlAuditTrail
from natalizumab_cds.persistence.engine import WRITE, is_sqlite, sqlite_file
from natalizumab_cds.persistence.patient_records import SqlPatientRecords
from natalizumab_cds.persistence.summaries import SqlSummaries
from natalizumab_cds.persistence.visits import SqlVisits
from natalizumab_cds.persistence.writer_turn import WriterTurn

#: PostgreSQL SQLSTATEs of a transaction that lost a race: unique_violation,
#: serialization_failure, deadlock_detected.
RACE_STATES = frozenset({"23505", "40001", "40P01"})


class SqlUnitOfWork:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._records = SqlPatientRecords(connection)
        self._summaries = SqlSummaries(connection)

    @property
    def records(self) -> SqlPatientRecords:
        return self._records

    @property
    def summaries(self) -> SqlSummaries:
        return self._summaries

    @property
    def visits(self) -> SqlVisits:
        return SqlVisits(self.connection)

    @property
    def audit(self) -> SqlAuditTrail:
        return SqlAuditTrail(self.connection)


class SqlDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        file = sqlite_file(engine)
        self._turn = WriterTurn.for_file(file).taken if file is not None else nullcontext

    @contextmanager
    def writing(self) -> Iterator[SqlUnitOfWork]:
        with _translated(), self._turn(), self.engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield SqlUnitOfWork(connection)

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        with _translated(), self.engine.connect() as connection:
            if not is_sqlite(self.engine):
                # page and total from one snapshot
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield SqlUnitOfWork(connection)

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def _lost_race(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None)
    if state is not None:
        return state in RACE_STATES
    return "UNIQUE constraint failed" in str(error.orig)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except IntegrityError as error:
        if _lost_race(error):
            raise ConcurrentUpdate("another writer changed the same record first") from error
        raise
    except OperationalError as error:
        if _lost_race(error):
            raise ConcurrentUpdate("another writer changed the same record first") from error
        raise DatabaseUnavailable(f"the database is unavailable: {error.orig}") from error
    except DataError as error:  # e.g. a NUL character, which PostgreSQL text cannot hold
        raise InvalidInput(
            "request: holds a value the database cannot store (such as a NUL character)"
        ) from error
