"""A progress bar for long imports (rich), counting bundles as batches commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from natalizumab_cds.application.importing import Progress as OnProgress


@contextmanager
def import_progress(total: int, what: str = "importing") -> Iterator[OnProgress]:
    """A callback for ``ImportRecords.many`` that advances a bar on stderr."""
    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bundles, {task.fields[resources]} resources"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=not console.is_terminal) as bar:
        task = bar.add_task(what, total=total, resources=0)
        counted = {"resources": 0}

        def advance(bundles: int, resources: int) -> None:
            counted["resources"] += resources
            bar.update(task, advance=bundles, resources=counted["resources"])

        yield advance
