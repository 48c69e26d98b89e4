"""The clinic worklist as a question and its answer rows (computed in SQL).

A patient is on the worklist for one of three reasons (``kind``):

- ``infusion``: the next infusion falls due by the end of the window (today,
  this week ...), or is already overdue;
- ``monitoring``: a monitoring item is overdue or due soon (from today to the
  protocol's due-soon window after it, both included);
- ``decision``: the latest assessment says hold or discontinue, or the record
  could not be assessed (decision empty), whatever is due.

``status`` is worked out against ``today`` from the stored due date, so the
list is right on a new day even before the summaries are refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NamedTuple


class EntryKind(StrEnum):
    INFUSION = "infusion"
    MONITORING = "monitoring"
    DECISION = "decision"


class SortKey(StrEnum):
    DUE = "due"
    NAME = "name"
    MRN = "mrn"
    DECISION = "decision"
    ITEM = "item"
    STATUS = "status"
    KIND = "kind"


#: Decisions from most to least urgent (sorting by decision puts discontinue first).
DECISION_ORDER = ("discontinue", "hold", "caution", "proceed")
#: Statuses from most to least urgent.
STATUS_ORDER = ("overdue", "due-soon", "ok")


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """Filters, order and page of the worklist; empty filters mean "all"."""

    today: date
    window_end: date  # infusions due on or before this day are listed
    soon_end: date  # monitoring due on or before this day is "due soon"
    kinds: tuple[EntryKind, ...] = ()
    decisions: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    due_from: date | None = None
    due_to: date | None = None
    text: str | None = None  # part of the name, or the start of the MRN
    sort: tuple[tuple[SortKey, bool], ...] = ((SortKey.DUE, False), (SortKey.NAME, False))
    page: int = 1
    size: int = 50  # 0 = every row (the CLI and the benchmark)


class WorklistEntry(NamedTuple):
    """One reason to look at one patient today.

    A named tuple rather than a frozen dataclass: a large clinic's worklist has
    hundreds of thousands of rows, and a tuple is built several times faster.
    """

    kind: EntryKind
    patient_id: str
    mrn: str | None
    name: str
    decision: str | None
    item: str | None
    due: date | None
    last: date | None
    status: str | None
    attention: tuple[str, ...]
    acknowledged: tuple[str, ...]
    assessed_on: date


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``"-decision,due"``: keys in order, a leading minus for descending."""
    keys = [part.strip() for part in text.split(",") if part.strip()]
    return [(key.removeprefix("-"), key.startswith("-")) for key in keys]
