"""The one set of migrations builds the clinic database on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.engine import database_engine


def test_migrations_build_an_empty_database_exactly_as_the_tables_describe_it(
    empty_database_url: str,
) -> None:
    engine = database_engine(empty_database_url)
    try:
        assert not migrate.is_current(engine)
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, migrate.full_metadata())
        assert differences == []
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_upgrading_an_up_to_date_database_again_changes_nothing(empty_database_url: str) -> None:
    engine = database_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
        tables_before = sorted(inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert sorted(inspect(engine).get_table_names()) == tables_before
        assert {"patients", "resources", "resource_history", "patient_summaries"} <= set(
            tables_before
        )
    finally:
        engine.dispose()


def test_the_worklist_columns_are_indexed(database_url: str) -> None:
    engine = database_engine(database_url)
    try:
        inspector = inspect(engine)
        dues = {tuple(i["column_names"]) for i in inspector.get_indexes("monitoring_dues")}
        summaries = {tuple(i["column_names"]) for i in inspector.get_indexes("patient_summaries")}
        patients = {tuple(i["column_names"]) for i in inspector.get_indexes("patients")}
    finally:
        engine.dispose()
    assert ("item", "due") in dues
    assert ("decision",) in summaries
    assert {("mrn",), ("name_key",)} <= patients


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: object) -> None:
    engine = database_engine(f"sqlite:///{tmp_path}/clinic.sqlite3")
    try:
        with engine.connect() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
            keys = connection.execute(text("PRAGMA foreign_keys")).scalar_one()
            timeout = connection.execute(text("PRAGMA busy_timeout")).scalar_one()
            synchronous = connection.execute(text("PRAGMA synchronous")).scalar_one()
    finally:
        engine.dispose()
    assert (mode, keys) == ("wal", 1)
    assert timeout >= 5000
    assert synchronous == 2  # FULL: a commit answered is on disk, power cut or not


def test_the_summary_behind_revision_keeps_every_record_both_ways(
    empty_database_url: str,
) -> None:
    """Dropping (and adding) patients.summarised_version must never copy the patients
    table: on SQLite that would cascade-delete every resource of every patient."""
    from alembic import command

    from natalizumab_cds.bootstrap import clinic_service
    from tests.clinic_db import a_patient

    engine = database_engine(empty_database_url)
    migrate.upgrade(engine)
    clinic = clinic_service(empty_database_url)
    clinic.importer.one(a_patient(1))
    clinic.importer.one(a_patient(2))
    count = "SELECT count(*) FROM resources"
    with engine.connect() as connection:
        resources = connection.execute(text(count)).scalar_one()

    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "safety_report")
    with engine.begin() as connection:  # p2's record moves on after its summary was built
        assert connection.execute(text(count)).scalar_one() == resources
        connection.execute(text("UPDATE patients SET version = version + 1 WHERE id = 'p2'"))
    migrate.upgrade(engine)

    with engine.connect() as connection:
        assert connection.execute(text(count)).scalar_one() == resources
        assert connection.execute(text("SELECT count(*) FROM patient_summaries")).scalar_one() == 2
    with clinic.database.reading() as uow:
        assert uow.summaries.behind_records(10) == ["p2"]
    clinic.database.close()
    engine.dispose()


def test_the_serum_levels_revision_has_every_summary_rebuilt_before_it_is_counted(
    empty_database_url: str,
) -> None:
    """Rows summarised before the level column existed must not count as 'no level'."""
    from alembic import command

    from natalizumab_cds.bootstrap import clinic_service
    from tests.api.safety_dataset import safety_bundles

    engine = database_engine(empty_database_url)
    migrate.upgrade(engine)
    clinic = clinic_service(empty_database_url)
    for bundle in safety_bundles():
        clinic.importer.one(bundle)
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "summary_behind")
    migrate.upgrade(engine)

    report = clinic.safety.report()
    assert report.counts.patients == 0  # not counted while not yet summarised for safety
    assert [g.patients for g in report.levels] == [0, 0]
    assert clinic.worklist.refresh() == 3
    assert [g.median for g in clinic.safety.report().levels] == [0.8, 18.0]
    clinic.database.close()
    engine.dispose()
