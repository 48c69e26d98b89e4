"""Writers of one SQLite file take turns: across threads and processes, woken at once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

from sqlalchemy import text

from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.writer_turn import WriterTurn


def _database(tmp_path: Path) -> SqlDatabase:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    clinic_service(url, upgrade=True).database.close()
    return SqlDatabase(database_engine(url))


def _hold_the_turn(url: str, holding: ProcessEvent, seconds: float) -> None:
    database = SqlDatabase(database_engine(url))
    with database.writing() as uow:
        uow.connection.execute(text("UPDATE audit_chain_head SET id = id"))
        holding.set()
        time.sleep(seconds)


def test_a_writer_in_another_process_is_waited_for_not_failed(tmp_path: Path) -> None:
    database = _database(tmp_path)
    context = multiprocessing.get_context("spawn")
    holding = context.Event()
    other = context.Process(
        target=_hold_the_turn, args=(str(database.engine.url), holding, 1.0), daemon=True
    )
    other.start()
    try:
        assert holding.wait(60)
        started = time.monotonic()
        with database.writing() as uow:
            waited = time.monotonic() - started
            uow.connection.execute(text("UPDATE audit_chain_head SET id = id"))
    finally:
        other.join(30)
        database.close()

    assert 0.5 < waited < 5  # it waited for the other's transaction, then went on at once
    assert Path(str(database.engine.url.database) + "-writer.lock").exists()


def test_threads_of_one_process_write_one_after_another(tmp_path: Path) -> None:
    database = _database(tmp_path)
    inside: list[str] = []
    overlapped = threading.Event()

    def write(name: str) -> None:
        with database.writing():
            inside.append(name)
            if len(inside) > 1:
                overlapped.set()
            time.sleep(0.05)
            inside.remove(name)

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    database.close()

    assert not overlapped.is_set()


def test_a_transaction_inside_a_transaction_of_the_same_thread_does_not_wait_for_itself(
    tmp_path: Path,
) -> None:
    turn = WriterTurn.for_file(tmp_path / "nested.sqlite3")
    entered: list[int] = []

    def nested() -> None:
        with turn.taken():
            with turn.taken():
                entered.append(2)
            entered.append(1)

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(5)

    assert entered == [2, 1]
    with turn.taken():  # and the outer one gave the turn back
        pass


def test_one_turn_per_file_whatever_the_path_says(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()

    assert WriterTurn.for_file(tmp_path / "a.sqlite3") is WriterTurn.for_file(
        tmp_path / "sub" / ".." / "a.sqlite3"
    )
