"""Clinic databases for tests: the same suite on SQLite and on a real PostgreSQL.

``database_url`` is parametrized over both engines and made once per session
(a temporary SQLite file; a uniquely named PostgreSQL database, dropped at the
end). ``clinic`` empties it before each test. PostgreSQL tests carry the
``postgres`` mark and are skipped when no server answers (NTZ_TEST_PG_URL, else
postgres@127.0.0.1:5432). All records are synthetic.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, inspect
from sqlalchemy.engine import make_url

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.engine import database_engine

PG_URL = os.environ.get("NTZ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
#: The moment every test clinic lives at; synthetic records are dated up to it.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SEED = 7


class FakeClock:
    """A clock the test sets; starts at ``NOW``."""

    def __init__(self, now: datetime = NOW) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


@cache
def postgres_reachable() -> bool:
    try:
        with psycopg.connect(_libpq(PG_URL), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(statement: str) -> None:
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def new_database(engine_name: str, folder: Path) -> str:
    """A new, empty database on ``engine_name``; its URL."""
    if engine_name == "sqlite":
        return f"sqlite:///{folder / f'clinic-{uuid.uuid4().hex[:8]}.sqlite3'}"
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable")
    name = f"ntz_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        _admin(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated clinic database for the whole session, on each engine."""
    url = new_database(request.param, tmp_path_factory.mktemp("clinic-db"))
    engine = database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[str]:
    """A fresh database with no tables, on the same engine as ``database_url``."""
    url = new_database(make_url(database_url).get_backend_name(), tmp_path)
    yield url
    drop_database(url)


def empty(url: str) -> None:
    """Delete every row (children first) from the tables the migrations made."""
    engine = database_engine(url)
    present = set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        for table in reversed(migrate.full_metadata().sorted_tables):
            if table.name in present:
                connection.execute(delete(table))
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clinic(database_url: str, clock: FakeClock) -> Iterator[Clinic]:
    """The clinic's use cases over an emptied database, at ``NOW``."""
    empty(database_url)
    service = clinic_service(database_url, clock=clock)
    yield service
    service.database.close()


def a_patient(index: int, scenario: str = "routine-proceed", years: float = 1.0) -> dict[str, Any]:
    """A synthetic patient's bundle (Patient/p{index}), dated up to ``NOW``."""
    return synthesize_patient(index, SEED, NOW, scenario=scenario, years=years)


def resources_of(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if kind is None or e["resource"]["resourceType"] == kind
    ]
