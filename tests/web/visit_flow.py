"""Helpers for the infusion-day page tests: own patients, and moving the test clock.

The web clinic's clock is a ``FakeClock`` at ``NOW``; the infusion day needs an
hour to pass between start and end, and another before discharge, so tests
move it forward with ``clock_at`` (always put back afterwards). Each test
imports its own synthetic patients (``p9xx``) so no other test sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.bootstrap import as_operator
from tests.clinic_db import NOW, FakeClock, a_patient


def own_patient(clinic: Clinic, index: int, scenario: str = "routine-proceed") -> str:
    """A new synthetic patient ``p{index}`` in the web clinic (routine: proceed)."""
    as_operator(clinic, Action.IMPORT_RECORDS).importer.one(a_patient(index, scenario))
    return f"p{index}"


@contextmanager
def clock_at(clinic: Clinic) -> Iterator[FakeClock]:
    """The clinic's clock, to set (``clock.moment = …``); back at ``NOW`` afterwards."""
    clock = clinic.context.clock
    assert isinstance(clock, FakeClock)
    try:
        yield clock
    finally:
        clock.moment = NOW


def local_input(moment: datetime) -> str:
    """A ``datetime-local`` field's value (the web clinic's zone is UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def pass_time(clock: FakeClock, until: datetime, touch: Callable[[], object]) -> None:
    """Move the clock to ``until`` in steps shorter than the session idle limit (30 min),
    touching the session after each step, as a nurse using the page would."""
    while clock.moment < until:
        clock.moment = min(until, clock.moment + timedelta(minutes=20))
        touch()
