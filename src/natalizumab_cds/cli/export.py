"""``ntz export``: a patient's record and assessment as a FHIR R4 Bundle (docs/fhir-export.md).

From the clinic database (``ntz export PATIENT_ID``) or, without a database,
from a bundle file (``ntz export --bundle PATH``). The bundle goes to stdout, or
to ``--out FILE``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from natalizumab_cds import bootstrap
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.moments import parse_at
from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.export import export_received_bundle
from natalizumab_cds.interop.fhir.reader import read_bundle


@app.command()
def export(
    patient_id: Annotated[
        str | None, typer.Argument(help="Patient id in the clinic database (not with --bundle)")
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(help="Export from this FHIR R4 Bundle file instead (- = stdin)"),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Moment assessed (ISO 8601; no offset = UTC). Default: now")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "--output", help="Write the bundle here (default: stdout)"),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export a patient's record, findings and monitoring plan as a FHIR R4 Bundle."""
    if (patient_id is None) == (bundle is None):
        raise InvalidInput("export: give either a PATIENT_ID or --bundle PATH (exactly one)")
    moment = parse_at(at)
    if bundle is not None:
        exported = _from_bundle(bundle, moment)
    else:
        exported = _from_database(str(patient_id), moment, database_url)
    _write(orjson.dumps(exported, option=orjson.OPT_INDENT_2) + b"\n", out)


def _from_database(patient_id: str, moment: datetime, database_url: str | None) -> dict[str, Any]:
    """Read as the operator at this server, so the audit trail records the export."""
    clinic = bootstrap.clinic_service(database_url, upgrade=True)
    try:
        audited = bootstrap.as_operator(clinic, Action.EXPORT_FHIR)
        return bootstrap.patient_exports(audited).export_patient(patient_id, moment)
    finally:
        clinic.database.close()


def _from_bundle(path: Path, moment: datetime) -> dict[str, Any]:
    data = _parsed(_read(path))
    protocol = bootstrap.active_protocol()
    assessment = assess(read_bundle(data, protocol), protocol, moment, bootstrap.clinic_tz())
    return export_received_bundle(data, assessment)


def _read(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror})") from None


def _parsed(raw: bytes) -> Any:
    """JSON parsed once: the reader checks it, the exporter keeps its entries' fullUrls."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"Bundle: not valid JSON ({error})") from None


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as error:
        raise InvalidInput(f"{out}: cannot be written ({error.strerror})") from None
