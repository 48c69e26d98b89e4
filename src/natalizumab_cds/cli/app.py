"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ntz",
    help="natalizumab-cds: pre-infusion assessment, monitoring and the clinic service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
