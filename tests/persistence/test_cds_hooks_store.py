"""The CDS Hooks ports in SQL (SQLite and PostgreSQL), held to the same contract as the fakes.

The replay cache is what stops a captured EHR token from being used twice, on
any app process: two engines on one database stand for two processes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from natalizumab_cds.application.cds_hooks import CardFeedback, FeedbackOutcome, ReplayCache
from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.cds_hooks_store import SqlFeedbackLog, SqlReplayCache
from natalizumab_cds.persistence.engine import database_engine
from tests.interop.cds_hooks.fakes import MemoryReplayCache

ISSUER = "https://ehr.example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["memory", "sql"])
def replay(request: pytest.FixtureRequest, database_url: str) -> Iterator[ReplayCache]:
    if request.param == "memory":
        yield MemoryReplayCache()
        return
    engine = database_engine(database_url)
    yield SqlReplayCache(engine)
    engine.dispose()


def a_jti() -> str:
    return str(uuid.uuid4())


def test_a_token_id_is_accepted_once_and_refused_after(replay: ReplayCache) -> None:
    jti = a_jti()

    assert replay.first_use(ISSUER, jti, LATER, NOW) is True
    assert replay.first_use(ISSUER, jti, LATER, NOW + timedelta(seconds=30)) is False


def test_the_same_token_id_from_another_issuer_is_another_token(replay: ReplayCache) -> None:
    jti = a_jti()
    replay.first_use(ISSUER, jti, LATER, NOW)

    assert replay.first_use("https://other-ehr.example.org", jti, LATER, NOW) is True


def test_a_token_id_is_forgotten_once_its_token_has_expired(replay: ReplayCache) -> None:
    jti = a_jti()
    replay.first_use(ISSUER, jti, LATER, NOW)

    assert replay.first_use(ISSUER, jti, LATER + timedelta(minutes=5), LATER + timedelta(seconds=1))


def test_of_many_concurrent_uses_of_one_token_exactly_one_is_accepted(replay: ReplayCache) -> None:
    jti = a_jti()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: replay.first_use(ISSUER, jti, LATER, NOW), range(16)))

    assert results.count(True) == 1


def test_a_token_used_on_one_process_is_refused_on_another(database_url: str) -> None:
    jti = a_jti()
    first, second = database_engine(database_url), database_engine(database_url)
    try:
        assert SqlReplayCache(first).first_use(ISSUER, jti, LATER, NOW)
        assert not SqlReplayCache(second).first_use(ISSUER, jti, LATER, NOW)
    finally:
        first.dispose()
        second.dispose()


def test_a_token_used_in_another_os_process_is_refused_here(
    database_url: str, engine: Engine
) -> None:
    jti = a_jti()
    script = (
        "import sys; from datetime import datetime;"
        "from natalizumab_cds.persistence.engine import database_engine;"
        "from natalizumab_cds.persistence.cds_hooks_store import SqlReplayCache;"
        "cache = SqlReplayCache(database_engine(sys.argv[1]));"
        "print(cache.first_use(sys.argv[2], sys.argv[3], datetime.fromisoformat(sys.argv[4]),"
        " datetime.fromisoformat(sys.argv[5])))"
    )
    arguments = [database_url, ISSUER, jti, LATER.isoformat(), NOW.isoformat()]

    other = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True
    )

    assert other.stdout.strip() == "True"
    assert SqlReplayCache(engine).first_use(ISSUER, jti, LATER, NOW) is False


def test_a_token_id_on_file_is_never_accepted_at_once(replay: ReplayCache) -> None:
    jti = a_jti()
    replay.first_use(ISSUER, jti, LATER, NOW)

    at_once = replay.first_use_at_once(ISSUER, jti, LATER, NOW + timedelta(seconds=1))

    assert at_once is not True
    assert replay.first_use(ISSUER, jti, LATER, NOW + timedelta(seconds=1)) is False


def test_a_new_token_id_is_remembered_at_once_on_sqlite_only(engine: Engine) -> None:
    cache = SqlReplayCache(engine)
    cache.first_use(ISSUER, a_jti(), LATER, NOW)  # the process's first use also purges
    jti = a_jti()

    at_once = cache.first_use_at_once(ISSUER, jti, LATER, NOW)

    if engine.dialect.name == "sqlite":
        assert at_once is True
        assert cache.first_use(ISSUER, jti, LATER, NOW) is False  # now on file
        with closing(engine.raw_connection()) as connection:  # the pool's only connection
            found = connection.execute("PRAGMA synchronous").fetchone()
        assert found == (2,)  # FULL again, for the clinic's other writes
    else:
        assert at_once is None  # a round trip to the server: left to first_use
        assert cache.first_use(ISSUER, jti, LATER, NOW) is True


@contextmanager
def sqlite_write_lock_held(engine: Engine) -> Iterator[None]:
    """Another process's write transaction, as far as SQLite's locking goes."""
    other = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = database_engine(f"sqlite:///{tmp_path / 'replay.sqlite3'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_on_sqlite_a_locked_database_is_left_to_first_use_which_waits(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine
    cache = SqlReplayCache(engine)
    cache.first_use(ISSUER, a_jti(), LATER, NOW)  # purged: at once is worth a try
    jti = a_jti()

    with ThreadPoolExecutor(1) as pool:
        with sqlite_write_lock_held(engine):
            at_once = pool.submit(cache.first_use_at_once, ISSUER, jti, LATER, NOW)
            assert at_once.result(timeout=10) is None  # answered at once, not after 30 s
            waiting = pool.submit(cache.first_use, ISSUER, jti, LATER, NOW)  # the thread path
            time.sleep(0.3)
            assert not waiting.done()  # it waits for the lock: the busy timeout is back

        assert waiting.result(timeout=10) is True


def test_expired_token_ids_are_purged(engine: Engine) -> None:
    cache = SqlReplayCache(engine, purge_every_seconds=0)
    cache.first_use(ISSUER, a_jti(), NOW - timedelta(hours=1), NOW - timedelta(hours=2))
    before = cache.remembered()

    cache.first_use(ISSUER, a_jti(), LATER, NOW)

    assert cache.remembered() < before + 1


def test_feedback_is_stored_and_read_back_per_card(engine: Engine) -> None:
    log = SqlFeedbackLog(engine)
    card = str(uuid.uuid4())
    overridden = CardFeedback(
        card=card,
        outcome=FeedbackOutcome.OVERRIDDEN,
        outcome_at=datetime(2026, 11, 24, 10, 5, tzinfo=UTC),
        received_at=NOW,
        client=ISSUER,
        override_system="urn:natalizumab-cds:override-reason",
        override_code="benefit-risk-evaluated",
        override_display="Benefit-risk evaluated",
        user_comment="discussed with the patient",
    )
    accepted = CardFeedback(
        card=card,
        outcome=FeedbackOutcome.ACCEPTED,
        outcome_at=datetime(2026, 11, 24, 10, 6, tzinfo=UTC),
        received_at=NOW,
        client=ISSUER,
        accepted_suggestions=("s-1", "s-2"),
    )

    log.record([overridden, accepted])

    assert log.for_card(card) == [overridden, accepted]
    assert log.for_card(str(uuid.uuid4())) == []
