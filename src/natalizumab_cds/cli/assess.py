"""``ntz assess``: one patient's bundle, one moment, the decision and why."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer

from natalizumab_cds.application.report import assessment_to_dict
from natalizumab_cds.bootstrap import active_protocol, clinic_tz
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.moments import parse_at
from natalizumab_cds.cli.text_report import render_text
from natalizumab_cds.domain.assessment import assess as run_assessment
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.reader import read_bundle


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"


@app.command()
def assess(
    path: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON) of one patient; - = stdin")],
    at: Annotated[
        str | None, typer.Option(help="Moment assessed (ISO 8601; no offset = UTC). Default: now")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="json or text")] = Format.JSON,
) -> None:
    """Assess whether today's infusion may go ahead: proceed, caution, hold or discontinue."""
    moment = parse_at(at)
    data = _read(path)
    timeline = read_bundle(data, active_protocol())
    result = run_assessment(timeline, active_protocol(), moment, clinic_tz())
    if format is Format.JSON:
        sys.stdout.write(
            orjson.dumps(assessment_to_dict(result), option=orjson.OPT_INDENT_2).decode()
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(result, color=sys.stdout.isatty()))


def _read(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror})") from None
