"""Summary rows from before the safety columns are refreshed, and counted only once filled."""

from __future__ import annotations

from sqlalchemy import update

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.tables import patient_summaries
from tests.clinic_db import a_patient


def test_a_summary_without_safety_facts_is_outdated_until_refreshed(clinic: Clinic) -> None:
    clinic.importer.one(a_patient(1))
    assert isinstance(clinic.database, SqlDatabase)
    with clinic.database.engine.begin() as connection:
        connection.execute(update(patient_summaries).values(treated=None))
    assert clinic.safety.report().counts.patients == 0  # not counted while unknown
    today = clinic.context.today()
    version = clinic.context.protocol.version
    with clinic.database.reading() as uow:
        assert uow.summaries.outdated(today, version, 10) == ["p1"]
    assert clinic.worklist.refresh() == 1
    counts = clinic.safety.report().counts
    assert counts.patients == 1
    assert counts.treated == 1
