"""Concurrent writers lose no update, and a crash mid-import leaves no half-written patient."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.timeline import Timeline
from natalizumab_cds.interop.fhir.record_format import FhirRecordFormat
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.engine import database_engine
from tests.clinic_db import FakeClock, a_patient, resources_of


class SlowReader(FhirRecordFormat):
    """The real FHIR format, but reading a record takes a while: writers overlap."""

    def timeline(self, resources: Iterable[Mapping[str, Any]]) -> Timeline:
        time.sleep(0.15)
        return super().timeline(resources)


@pytest.fixture
def slow_clinic(clinic: Clinic, database_url: str, clock: FakeClock) -> Iterator[Clinic]:
    protocol = packaged_protocol()
    context = ClinicContext(SlowReader(protocol), protocol, clinic.context.tz, clock)
    service = Clinic.build(SqlDatabase(database_engine(database_url)), context)
    yield service
    service.database.close()


def _moved(resource: dict[str, Any], patient: str, new_id: str) -> dict[str, Any]:
    moved = copy.deepcopy(resource)
    moved["id"] = new_id
    for element in ("subject", "patient"):
        if element in moved:
            moved[element] = {"reference": f"Patient/{patient}"}
    return moved


def test_two_clinicians_writing_to_one_patient_at_once_lose_no_update(
    slow_clinic: Clinic,
) -> None:
    slow_clinic.importer.one(a_patient(1))
    pregnancy = next(
        r
        for r in reversed(resources_of(a_patient(2, "pregnant"), "Observation"))
        if r["code"]["coding"][0]["code"] == "82810-3"
    )
    infection = resources_of(a_patient(3, "active-infection"), "Condition")[0]
    writes = [_moved(pregnancy, "p1", "pregnancy-1"), _moved(infection, "p1", "infection-1")]
    start = threading.Barrier(len(writes))
    errors: list[BaseException] = []

    def write(resource: dict[str, Any]) -> None:
        try:
            start.wait()
            slow_clinic.importer.one(resource)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(r,)) for r in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    entry, summary = slow_clinic.patients.patient("p1")
    assert entry.version == 3
    assert summary is not None
    assert summary.record_version == 3
    assert {"population.pregnancy", "infection.active"} <= set(summary.attention)


def test_a_writer_that_saw_an_older_version_of_the_patient_is_turned_away(
    clinic: Clinic, database_url: str
) -> None:
    clinic.importer.one(a_patient(4))
    entry = clinic.patients.patient("p4")[0]
    database = SqlDatabase(database_engine(database_url))
    try:
        with pytest.raises(ConcurrentUpdate), database.writing() as uow:
            uow.records.update_patients([(entry, entry.version + 1)])
    finally:
        database.close()


def _write_bundles(folder: Path, count: int) -> dict[str, int]:
    sizes = {}
    for index in range(count):
        bundle = a_patient(100 + index, years=3.0)
        (folder / f"patient-{index:04d}.json").write_bytes(orjson.dumps(bundle))
        sizes[f"p{100 + index}"] = len(bundle["entry"])
    return sizes


def test_killing_an_import_midway_leaves_every_stored_patient_whole(
    clinic: Clinic, database_url: str, tmp_path: Path
) -> None:
    sizes = _write_bundles(tmp_path, 120)
    command = [sys.executable, "-m", "natalizumab_cds.cli", "import", str(tmp_path)]
    importer = subprocess.Popen(
        [*command, "--database-url", database_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NTZ_ENVIRONMENT": "test"},
    )
    deadline = time.monotonic() + 60
    while clinic.patients.search(None, 1, 1).total == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)

    stored = clinic.patients.search(None, 1, 500)
    assert 0 < stored.total < len(sizes), "the import was not killed midway"
    for listing in stored.items:
        patient = listing.patient.id
        assert clinic.patients.timeline(patient, (), 1, 1).total == sizes[patient]
        assert listing.decision is not None
