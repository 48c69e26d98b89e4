"""``backup_sqlite``: a checked copy of a live SQLite clinic database, and its refusals.

A real SQLite file, a real writer importing patients in another thread while
the copy is taken, and the copy opened again as a clinic database (the restore
an operator would do). All patients are synthetic.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import orjson
import pytest

from natalizumab_cds.application.security.permissions import Action, operator
from natalizumab_cds.bootstrap import as_operator, clinic_service, security_for
from natalizumab_cds.interop.fhir.synthetic import synthesize_patient
from natalizumab_cds.persistence.backup import BackupRefused, backup_sqlite
from tests.clinic_db import NOW, SEED


def _bundle(index: int) -> bytes:
    return orjson.dumps(synthesize_patient(index, SEED, NOW, years=0.5))


def _clinic_file(tmp_path: Path, patients: int) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    clinic = clinic_service(url, upgrade=True)
    importer = as_operator(clinic, Action.IMPORT_RECORDS).importer
    importer.many((f"p{i}", _bundle(i)) for i in range(patients))
    clinic.database.close()
    return url


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def test_a_backup_taken_while_patients_are_imported_is_whole_and_opens_as_a_clinic(
    tmp_path: Path,
) -> None:
    url = _clinic_file(tmp_path, 5)
    writer = clinic_service(url)
    importer = as_operator(writer, Action.IMPORT_RECORDS).importer
    stop = threading.Event()
    imported: list[int] = []

    def keep_importing() -> None:
        index = 100
        while not stop.is_set() and index < 160:
            importer.one(_bundle(index))  # one transaction each, audited in it
            imported.append(index)
            index += 1

    thread = threading.Thread(target=keep_importing)
    thread.start()
    try:
        while len(imported) < 3:  # the writer is under way when the copy starts
            stop.wait(0.01)
        report = backup_sqlite(url, tmp_path / "copy.sqlite3")
    finally:
        stop.set()
        thread.join()
        writer.database.close()

    copy = tmp_path / "copy.sqlite3"
    assert report.destination == copy
    assert 5 + 3 <= report.patients <= 5 + len(imported)
    assert not Path(f"{copy}-wal").exists()  # one self-contained file
    with sqlite3.connect(copy) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = clinic_service(f"sqlite:///{copy}")
    try:
        assert restored.patients.search(None).total == report.patients
        verified = security_for(restored).audit.verify(operator("backup-test"))
        assert verified.broken is None  # every import's audit record came with its rows
        assert verified.checked == report.audit_records
    finally:
        restored.database.close()
    assert _leftovers(tmp_path) == []


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    url = _clinic_file(tmp_path, 1)
    earlier = tmp_path / "monday.sqlite3"
    earlier.write_bytes(b"last week's backup")
    with pytest.raises(BackupRefused, match="already exists"):
        backup_sqlite(url, earlier)
    assert earlier.read_bytes() == b"last week's backup"


@pytest.mark.parametrize(
    ("url", "destination", "words"),
    [
        ("postgresql://postgres@127.0.0.1/ntz", "b.sqlite3", "pg_dump"),
        ("sqlite:///{tmp}/nowhere.sqlite3", "b.sqlite3", "there is no database at"),
        ("sqlite://", "b.sqlite3", "no database file"),
        ("sqlite:///{tmp}/clinic.sqlite3", "missing-folder/b.sqlite3", "does not exist"),
        ("sqlite:///{tmp}/clinic.sqlite3", "clinic.sqlite3", "already exists"),
    ],
)
def test_a_backup_that_cannot_be_taken_says_why_and_writes_nothing(
    tmp_path: Path, url: str, destination: str, words: str
) -> None:
    _clinic_file(tmp_path, 1)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(BackupRefused, match=words):
        backup_sqlite(url.format(tmp=tmp_path), tmp_path / destination)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # not even an empty database


def test_a_file_that_is_not_a_clinic_database_is_refused_with_no_copy_left(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupRefused, match="no schema revision"):
        backup_sqlite(f"sqlite:///{other}", tmp_path / "copy.sqlite3")
    assert not (tmp_path / "copy.sqlite3").exists()
    assert _leftovers(tmp_path) == []


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupRefused, match="failed"):
        backup_sqlite(f"sqlite:///{bogus}", tmp_path / "copy.sqlite3")
    assert not (tmp_path / "copy.sqlite3").exists()
    assert _leftovers(tmp_path) == []
