"""``ntz import PATH...``: FHIR bundles (files, or folders of ``*.json``) into the clinic.

Each bundle is all or nothing; a bad one is named on stderr with its reason and
the rest go in (exit status 2 if any was left out).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from natalizumab_cds.application.importing import Source
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.bootstrap import as_operator, clinic_service
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.progress import import_progress
from natalizumab_cds.domain.errors import InvalidInput


def bundle_files(paths: list[Path]) -> list[Path]:
    """The files named, and every ``*.json`` under the folders named, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob("*.json")))
        elif path.exists():
            found.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or folder")
    return found


@app.command("import")
def import_records(
    paths: Annotated[list[Path], typer.Argument(help="Bundle files or folders of *.json")],
    database_url: DatabaseUrl = None,
) -> None:
    """Import FHIR R4 bundles or resources: idempotent, each bundle all or nothing."""
    files = bundle_files(paths)
    unreadable: list[tuple[str, str]] = []

    def sources() -> Iterator[Source]:
        for path in files:
            try:
                yield str(path), path.read_bytes()
            except OSError as error:
                unreadable.append((str(path), f"cannot be read ({error.strerror})"))

    clinic = clinic_service(database_url, upgrade=True)
    try:
        with import_progress(len(files)) as on_progress:
            importer = as_operator(clinic, Action.IMPORT_RECORDS).importer
            report = importer.many(sources(), on_progress)
    finally:
        clinic.database.close()
    failures = [*unreadable, *report.failures]
    typer.echo(
        f"imported {len(files) - len(failures)} of {len(files)} bundle(s): "
        f"{report.patients} patient(s); resources {report.created} new, {report.updated} "
        f"updated, {report.unchanged} unchanged, {report.stale} older than stored"
    )
    for label, reason in failures:
        print(f"ntz: {label}: left out: {reason}", file=sys.stderr)
    if failures:
        raise typer.Exit(2)
