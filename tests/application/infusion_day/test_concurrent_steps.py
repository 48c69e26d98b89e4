"""Two clinicians acting on the same visit at once: one wins, the other is told, nothing is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.application.visits import VisitConflict
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.preparation import Storage
from natalizumab_cds.domain.timeline import Timeline
from natalizumab_cds.interop.fhir.record_format import FhirRecordFormat
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.engine import database_engine
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import (
    NURSE,
    a_patient_on_file,
    a_prepared_visit,
    a_pump,
    minutes,
    record_of,
)


class SlowReader(FhirRecordFormat):
    """The real FHIR format, but reading a record takes a while: the two steps overlap."""

    def timeline(self, resources: Iterable[Mapping[str, Any]]) -> Timeline:
        time.sleep(0.2)
        return super().timeline(resources)


@pytest.fixture
def slow_clinic(clinic: Clinic, database_url: str, clock: FakeClock) -> Iterator[Clinic]:
    protocol = packaged_protocol()
    context = ClinicContext(SlowReader(protocol), protocol, clinic.context.tz, clock)
    service = Clinic.build(SqlDatabase(database_engine(database_url)), context)
    yield service
    service.database.close()


def _at_once(steps: list[Callable[[], VisitView]]) -> tuple[list[VisitView], list[Exception]]:
    barrier = threading.Barrier(len(steps))
    done: list[VisitView] = []
    failed: list[Exception] = []

    def run(step: Callable[[], VisitView]) -> None:
        barrier.wait()
        try:
            done.append(step())
        except Exception as error:  # reported below, not lost in the thread
            failed.append(error)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return done, failed


def _started_twice(clinic: Clinic, clock: FakeClock) -> tuple[str, int]:
    a_patient_on_file(clinic)
    prepared = a_prepared_visit(clinic, clock)
    clock.moment += minutes(10)
    return prepared.visit.id, prepared.version


def test_two_nurses_starting_the_visit_they_both_saw_one_starts_and_the_other_gets_a_conflict(
    slow_clinic: Clinic, clock: FakeClock
) -> None:
    visit, seen = _started_twice(slow_clinic, clock)
    day = slow_clinic.infusion_day

    done, failed = _at_once(
        [
            lambda: day.start(visit, "nurse.ana", a_pump(), seen),
            lambda: day.start(visit, "nurse.bo", a_pump(rate=90), seen),
        ]
    )

    assert len(done) == 1
    assert [type(e) for e in failed] == [VisitConflict]
    assert visit in str(failed[0])
    assert "changed by someone else" in str(failed[0])
    stored = day.show(visit)
    assert stored.version == seen + 1
    assert stored.visit.start == done[0].visit.start
    given = [
        r
        for r in record_of(slow_clinic, "p1", "MedicationAdministration")
        if str(r["id"]).startswith(visit)
    ]
    assert len(given) == 1
    assert stored.visit.start is not None
    assert given[0]["performer"] == [{"actor": {"display": stored.visit.start.started_by}}]


def test_two_nurses_starting_at_once_without_saying_what_they_saw_still_start_it_only_once(
    slow_clinic: Clinic, clock: FakeClock
) -> None:
    visit, seen = _started_twice(slow_clinic, clock)
    day = slow_clinic.infusion_day

    done, failed = _at_once(
        [
            lambda: day.start(visit, "nurse.ana", a_pump()),
            lambda: day.start(visit, "nurse.bo", a_pump()),
        ]
    )

    assert len(done) == 1
    assert len(failed) == 1
    loser = failed[0]
    # The loser acted on the visit as it stood when its request came in: a conflict.
    # (Had its request come in only after the winner's commit, it would have found
    # the infusion running: out of order. Either way it never starts it again.)
    assert isinstance(loser, VisitConflict) or (
        isinstance(loser, WorkflowRefused) and loser.rule == "workflow.out-of-order"
    )
    assert day.show(visit).version == seen + 1


def test_a_step_on_a_visit_changed_since_it_was_read_is_refused(
    clinic: Clinic, clock: FakeClock
) -> None:
    a_patient_on_file(clinic)
    prepared = a_prepared_visit(clinic, clock)
    visit = prepared.visit.id
    clinic.infusion_day.move(visit, Storage.REFRIGERATOR)

    with pytest.raises(VisitConflict) as conflict:
        clinic.infusion_day.start(visit, NURSE, a_pump(), expected_version=prepared.version)

    assert conflict.value.found == prepared.version + 1
    assert clinic.infusion_day.show(visit).visit.start is None
