"""``ntz worklist`` (the clinic worklist in the terminal) and ``ntz refresh``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.application.worklist_query import EntryKind, WorklistEntry, parse_sort
from natalizumab_cds.bootstrap import as_operator, clinic_service
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.schedule import DueStatus, Item

_STYLE = {"discontinue": "bold white on red", "hold": "bold red", "caution": "yellow"}


@app.command()
def worklist(
    days: Annotated[int, typer.Option(min=1, max=366, help="Infusion window, 1 = today")] = 7,
    decision: Annotated[
        list[Decision] | None,
        typer.Option(help="Only these decisions (each patient's, for their next infusion)"),
    ] = None,
    item: Annotated[list[Item] | None, typer.Option(help="Only these items")] = None,
    status: Annotated[list[DueStatus] | None, typer.Option(help="Only these statuses")] = None,
    kind: Annotated[list[EntryKind] | None, typer.Option(help="Only these reasons")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Part of name or MRN")] = None,
    sort: Annotated[str, typer.Option(help="e.g. -decision,due")] = "due,name",
    today: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Today's and this week's infusions, monitoring overdue or due soon, holds and discontinues."""
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise InvalidInput(f"--today: {today!r} is not a date (YYYY-MM-DD)") from None
    clinic = clinic_service(database_url, upgrade=True)
    try:
        found = as_operator(clinic, Action.READ_WORKLIST).worklist.entries(
            days=days,
            today=day,
            decisions=[d.value for d in decision or ()],
            items=[i.value for i in item or ()],
            statuses=[s.value for s in status or ()],
            kinds=[k.value for k in kind or ()],
            text=search,
            sort=parse_sort(sort),
            size=0,
        )
    finally:
        clinic.database.close()
    Console().print(_table(found.items, day or clinic.context.today(), days))


def _table(entries: tuple[WorklistEntry, ...], today: date, days: int) -> Table:
    title = f"Worklist {today} ({'today' if days == 1 else f'{days} days'}): {len(entries)} rows"
    table = Table(title=title)
    for column in ("due", "status", "reason", "patient", "MRN", "decision", "needs attention"):
        table.add_column(column)
    for e in entries:
        decision = e.decision or "not assessed"
        reason = e.item if e.kind is not EntryKind.DECISION else "decision"
        style = _STYLE.get(decision, "")
        table.add_row(
            str(e.due or ""),
            e.status or "",
            reason or "",
            e.name,
            e.mrn or e.patient_id,
            f"[{style}]{decision}[/]" if style else decision,
            ", ".join(e.attention),
        )
    return table


@app.command()
def refresh(database_url: DatabaseUrl = None) -> None:
    """Reassess every patient not yet assessed today (run after midnight; serve does it)."""
    clinic = clinic_service(database_url, upgrade=True)
    try:
        count = clinic.worklist.refresh()
    finally:
        clinic.database.close()
    typer.echo(f"refreshed {count} patient summar{'y' if count == 1 else 'ies'}")
