"""``ntz audit verify`` finds any edit, deletion, insertion or reordering of the trail.

The trail is written by real use cases (sign-ups, an import, reads), then
altered behind the service's back with plain SQL, as someone with database
access would. Verification must exit non-zero and name the first broken link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, update
from typer.testing import CliRunner

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.audit import (
    AuditEntry,
    Operation,
    chain,
    record_hash,
)
from natalizumab_cds.application.security.permissions import Role
from natalizumab_cds.cli import app as ntz
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.security_tables import audit_chain_head, audit_events
from tests.clinic_db import NOW

SignUp = Callable[[str, Role], str]
a = audit_events.c


def verify(database_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(ntz, ["audit", "verify", "--database-url", database_url])
    return result.exit_code, result.output


@pytest.fixture
def trail(database_url: str, stocked: Clinic, sign_up: SignUp) -> Iterator[Engine]:
    """A trail of a dozen records or so: two imports, then six sign-ups."""
    for index in range(6):
        sign_up(f"user-{index}", Role.NURSE)
    engine = database_engine(database_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(r._mapping) for r in connection.execute(select(audit_events).order_by(a.sequence))
        ]


def test_an_untouched_trail_verifies(trail: Engine, database_url: str) -> None:
    code, output = verify(database_url)
    assert code == 0, output
    assert "intact" in output


def test_editing_a_record_is_found_at_that_record(trail: Engine, database_url: str) -> None:
    with trail.begin() as connection:
        connection.execute(update(audit_events).where(a.sequence == 4).values(actor="mallory"))
    code, output = verify(database_url)
    assert code == 1
    assert "sequence 4" in output
    assert "edited" in output


def test_rehashing_an_edited_record_breaks_the_link_to_the_next_one(
    trail: Engine, database_url: str
) -> None:
    rows = _rows(trail)
    forged = {**rows[3], "actor": "mallory"}
    fields = [forged[c.name] for c in audit_events.columns][:13]
    with trail.begin() as connection:
        connection.execute(
            update(audit_events)
            .where(a.sequence == 4)
            .values(actor="mallory", hash=record_hash(fields))
        )
    code, output = verify(database_url)
    assert code == 1
    assert "sequence 5" in output
    assert "does not link to record 4" in output


def test_deleting_a_record_is_found_at_the_gap(trail: Engine, database_url: str) -> None:
    with trail.begin() as connection:
        connection.execute(delete(audit_events).where(a.sequence == 3))
    code, output = verify(database_url)
    assert code == 1
    assert "sequence 3" in output
    assert "missing" in output


def test_deleting_the_newest_records_is_found_against_the_chain_head(
    trail: Engine, database_url: str
) -> None:
    last = _rows(trail)[-1]["sequence"]
    with trail.begin() as connection:
        connection.execute(delete(audit_events).where(a.sequence >= last - 1))
    code, output = verify(database_url)
    assert code == 1
    assert f"sequence {last - 1}" in output
    assert "cut off the end" in output


def test_swapping_two_records_is_found_at_the_first_of_them(
    trail: Engine, database_url: str
) -> None:
    with trail.begin() as connection:
        connection.execute(update(audit_events).where(a.sequence == 5).values(sequence=-5))
        connection.execute(update(audit_events).where(a.sequence == 6).values(sequence=5))
        connection.execute(update(audit_events).where(a.sequence == -5).values(sequence=6))
    code, output = verify(database_url)
    assert code == 1
    assert "sequence 5" in output


def test_inserting_a_forged_record_is_found_where_it_was_slipped_in(
    trail: Engine, database_url: str
) -> None:
    rows = _rows(trail)
    (forged,) = chain(
        [AuditEntry("manage-users", Operation.CREATE, "mallory", "administrator")],
        rows[2]["sequence"],
        rows[2]["hash"],
        NOW,
    )
    names = [c.name for c in audit_events.columns]
    with trail.begin() as connection:
        for row in reversed(rows[3:]):  # make room after record 3
            connection.execute(
                update(audit_events)
                .where(a.sequence == row["sequence"])
                .values(sequence=row["sequence"] + 1)
            )
        connection.execute(
            insert(audit_events).values(dict(zip(names, forged.fields(), strict=False)))
        )
    code, output = verify(database_url)
    assert code == 1
    assert "sequence 5" in output  # the forged record 4 links fine; the next one cannot


def test_appending_a_forged_record_without_the_head_is_found(
    trail: Engine, database_url: str
) -> None:
    last = _rows(trail)[-1]
    (forged,) = chain(
        [AuditEntry("manage-users", Operation.CREATE, "mallory", "administrator")],
        last["sequence"],
        last["hash"],
        NOW,
    )
    names = [c.name for c in audit_events.columns]
    with trail.begin() as connection:
        connection.execute(
            insert(audit_events).values(dict(zip(names, forged.fields(), strict=False)))
        )
    code, output = verify(database_url)
    assert code == 1
    assert f"sequence {forged.sequence + 1}" in output


def test_the_chain_head_moves_with_every_append(trail: Engine) -> None:
    with trail.connect() as connection:
        head = connection.execute(select(audit_chain_head)).one()
    last = _rows(trail)[-1]
    assert (head.sequence, head.hash) == (last["sequence"], last["hash"])
