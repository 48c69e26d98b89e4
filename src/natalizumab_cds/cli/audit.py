"""``ntz audit verify`` and ``ntz audit export``: checking and handing over the audit trail.

``verify`` exits 0 when the whole chain is intact and 1 when it is not,
naming the first broken link (its sequence number) on stderr.
``export`` writes FHIR R4 AuditEvents: one Bundle (``--format fhir``) or one
resource per line (``--format ndjson``), streamed, so any size fits.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer

from natalizumab_cds.application.security.ports import AuditQuery
from natalizumab_cds.bootstrap import operator_principal
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.users import security_at
from natalizumab_cds.interop.fhir.audit_event import audit_event

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


class ExportFormat(StrEnum):
    FHIR = "fhir"
    NDJSON = "ndjson"


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_app.command("verify")
def verify(database_url: DatabaseUrl = None) -> None:
    """Recompute the hash chain end to end; exit 1 naming the first broken link."""
    with security_at(database_url) as security:
        result = security.audit.verify(operator_principal())
    if result.broken is not None:
        typer.echo(
            f"audit chain BROKEN at sequence {result.broken.sequence}: {result.broken.reason} "
            f"({result.checked} records intact before it)",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"audit chain intact: {result.checked} records, last {result.last_sequence} "
        f"hash {result.last_hash}"
    )


@audit_app.command("export")
def export(
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.FHIR,
    output: Annotated[Path | None, typer.Option("--output", help="Default: stdout")] = None,
    patient: Annotated[str | None, typer.Option(help="Only this patient's records")] = None,
    since: Annotated[str | None, typer.Option(help="Recorded at or after (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="Recorded before (ISO 8601)")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The audit trail as FHIR R4 AuditEvent resources, in sequence order."""
    query = AuditQuery(patient_id=patient, since=_moment(since), until=_moment(until))
    with (
        security_at(database_url) as security,
        output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout) as out,
    ):
        records = security.audit.export(operator_principal(), query)
        if format is ExportFormat.NDJSON:
            for record in records:
                out.write(orjson.dumps(audit_event(record)).decode() + "\n")
            return
        out.write('{"resourceType":"Bundle","type":"collection","entry":[')
        for index, record in enumerate(records):
            entry = orjson.dumps({"resource": audit_event(record)}).decode()
            out.write(("," if index else "") + entry)
        out.write("]}\n")
