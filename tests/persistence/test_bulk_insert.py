"""``BulkInsert`` stores exactly what SQLAlchemy's general insert stores, on both engines.

The same rows go in once through ``insert(table)`` with dicts and once through
``BulkInsert`` with tuples; what the driver reads back (raw text on SQLite,
typed values on PostgreSQL) must be equal, and what SQLAlchemy reads back too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, Table, delete, insert, select, text

from natalizumab_cds.persistence.bulk import BulkInsert
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.hl7_tables import hl7_messages
from natalizumab_cds.persistence.patient_records import RESOURCE_COLUMNS
from natalizumab_cds.persistence.security_tables import audit_events
from natalizumab_cds.persistence.tables import patients, resources
from tests.clinic_db import empty

BERLIN_SUMMER = timezone(timedelta(hours=2))
RESOURCE_ROWS = [
    (
        "Observation",
        "hl7-1",
        "p1",
        1,
        datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 8, 30, 15, 250, tzinfo=BERLIN_SUMMER),
        "a" * 64,
        {"resourceType": "Observation", "id": "hl7-1", "note": [{"text": 'µ ≥ 5 \\ "x"'}]},
    ),
    (
        "Observation",
        "hl7-2",
        "p1",
        3,
        datetime(2026, 11, 24, 9, 0, 0, 999999, tzinfo=UTC),
        None,
        "b" * 64,
        {"resourceType": "Observation", "id": "hl7-2", "valueQuantity": {"value": 1e-7}},
    ),
]
MESSAGE_ROWS = [
    ("LIS|LAB", "MSG-1", "Patient/p1", datetime(2026, 11, 24, 9, 0, tzinfo=UTC), 6, "6 stored"),
    ("LIS|LAB", "MSG-2", "Patient/p1", datetime(2026, 11, 24, 8, 0, tzinfo=BERLIN_SUMMER), 0, ""),
]
AUDIT_ROWS = [
    (
        n,
        datetime(2026, 11, 24, 9, 0, n, tzinfo=UTC),
        "hl7-mllp-listener",
        "system",
        "record-lab-results",
        "U",
        "p1" if n == 1 else None,
        "Patient/p1",
        "0",
        "detail",
        '{"record_version":1}',
        "",
        "0" * 64,
        f"{n}" * 64,
    )
    for n in (1, 2)
]


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    empty(database_url)
    engine = database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(patients).values(id="p1", mrn="M1", name="Synthetic", name_key="s", version=1)
        )
        yield connection
    engine.dispose()


def _stored(connection: Connection, table: Table) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them, and as SQLAlchemy returns them."""
    key = ", ".join(column.name for column in table.primary_key.columns)
    raw = connection.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY {key}").all()
    typed = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(row) for row in raw] + [tuple(row) for row in typed]


@pytest.mark.parametrize(
    ("table", "columns", "rows"),
    [
        (resources, RESOURCE_COLUMNS, RESOURCE_ROWS),
        (hl7_messages, tuple(c.name for c in hl7_messages.c), MESSAGE_ROWS),
        (audit_events, tuple(c.name for c in audit_events.c), AUDIT_ROWS),
    ],
    ids=["resources", "hl7_messages", "audit_events"],
)
def test_bulk_insert_stores_what_the_general_insert_stores(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
    general = _stored(connection, table)
    connection.execute(delete(table))

    BulkInsert(table, columns)(connection, rows)

    assert _stored(connection, table) == general
    assert len(general) == 2 * len(rows)


def test_a_naive_instant_is_refused_as_by_the_general_insert(connection: Connection) -> None:
    row = (*RESOURCE_ROWS[0][:4], datetime(2026, 11, 24, 9, 0), *RESOURCE_ROWS[0][5:])

    with pytest.raises(ValueError, match="naive datetime"):
        BulkInsert(resources, RESOURCE_COLUMNS)(connection, [row])


def test_nothing_to_insert_runs_no_statement(connection: Connection) -> None:
    BulkInsert(resources, RESOURCE_COLUMNS)(connection, [])

    assert connection.execute(text("SELECT count(*) FROM resources")).scalar_one() == 0
