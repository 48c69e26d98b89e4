"""The ``ntz`` command. Each area's commands live in their own module here.

Any project error that escapes a command becomes a one-paragraph message on
stderr and exit status 2 - never a traceback.
"""

from __future__ import annotations

import sys

from natalizumab_cds.cli import assess as _assess  # noqa: F401  (registers commands)
from natalizumab_cds.cli import audit as _audit  # noqa: F401
from natalizumab_cds.cli import export as _export  # noqa: F401
from natalizumab_cds.cli import infusion as _infusion  # noqa: F401
from natalizumab_cds.cli import mllp as _mllp  # noqa: F401
from natalizumab_cds.cli import service as _service  # noqa: F401
from natalizumab_cds.cli import synth as _synth  # noqa: F401
from natalizumab_cds.cli import users as _users  # noqa: F401
from natalizumab_cds.cli.app import app
from natalizumab_cds.domain.errors import NtzError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except NtzError as error:
        print(f"ntz: {error}", file=sys.stderr)
        raise SystemExit(2) from None
