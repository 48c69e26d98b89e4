"""``ntz synth``: deterministic synthetic FHIR bundles for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.moments import parse_at
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.synthetic import synthesize


@app.command()
def synth(
    patients: Annotated[int, typer.Option(min=1, help="How many patients")] = 10,
    seed: Annotated[int, typer.Option(help="Same seed, same records")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for one bundle per patient")] = Path(
        "synthetic"
    ),
    anchor: Annotated[
        str | None, typer.Option(help="Records are dated up to this moment (default: now)")
    ] = None,
) -> None:
    """Write synthetic patients (one FHIR Bundle each) that together exercise every rule."""
    moment = parse_at(anchor)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"--out {out}: cannot create the folder ({error.strerror})") from None
    count = 0
    for index, bundle in enumerate(synthesize(patients, seed, moment)):
        (out / f"patient-{index:06d}.json").write_bytes(orjson.dumps(bundle))
        count += 1
    typer.echo(f"wrote {count} synthetic patient bundle(s) to {out}")
