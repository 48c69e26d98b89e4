"""The monitoring schedule: for each item, when it was last done, when it is due next.

An item is done on a day when every one of its tests has a result that day.
Absent or old data never reads as normal: it makes the item due or overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Protocol as Structural

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec, Severity
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.timeline import Analyte, StatusKind, Timeline


class Item(StrEnum):
    LIVER = "liver"
    BLOOD = "blood"
    THYROID = "thyroid"
    ANTIBODY = "antibody"
    MRI = "mri"
    EDSS = "edss"
    INFUSION = "infusion"


class DueStatus(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due-soon"
    OK = "ok"


ITEM_TESTS: dict[Item, tuple[Analyte, ...]] = {
    Item.LIVER: (Analyte.ALT, Analyte.AST),
    Item.BLOOD: (Analyte.NEUTROPHILS, Analyte.LYMPHOCYTES, Analyte.MONOCYTES, Analyte.PLATELETS),
    Item.THYROID: (Analyte.TSH, Analyte.FREE_T4),
    Item.EDSS: (Analyte.EDSS,),
}
#: Items due on the assessment day before the first infusion (baseline tests).
BASELINE_ITEMS = frozenset({Item.LIVER, Item.BLOOD})

_TITLES = {
    Item.LIVER: ("ALT and AST", "Protocol text", "Liver function", "ALT/AST every 3 months"),
    Item.BLOOD: ("CBC with differential", "Protocol text", "Complete blood count", "monitor"),
    Item.THYROID: ("TSH and free T4", "Protocol text", "Thyroid function", "monitor regularly"),
    Item.ANTIBODY: (
        "anti-natalizumab antibodies",
        "Protocol text",
        "Antibody testing",
        "screen every 12 weeks",
    ),
    Item.MRI: ("brain MRI", "Protocol text", "MRI assessment", "annually"),
    Item.EDSS: ("EDSS", "Protocol text", "Neurological function", "regular EDSS scoring"),
    Item.INFUSION: ("next infusion", "US PI", "2 Dosage and Administration", "every 4 weeks"),
}

OVERDUE_SPECS: dict[Item, RuleSpec] = {
    item: RuleSpec(
        id=f"monitoring.{item.value}-overdue",
        title=f"{title} overdue",
        citation=Citation(source, section, statement),
    )
    for item, (title, source, section, statement) in _TITLES.items()
}


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    item: Item
    last: date | None
    due: date
    status: DueStatus
    evidence: tuple[str, ...] = ()


def monitoring_schedule(
    timeline: Timeline, protocol: Protocol, at: datetime, tz: tzinfo
) -> list[ScheduleEntry]:
    """One entry per item, in the catalogue's order."""
    today = at.astimezone(tz).date()
    soon = protocol.interval("due_soon_window").after(today)
    infusions = timeline.completed_infusions(at)
    first_infusion = infusions[0].at.astimezone(tz).date() if infusions else None
    entries = []
    for item in Item:
        last, evidence = _last_done(timeline, item, at, tz)
        interval = protocol.interval(f"interval_{item.value}")
        if last is not None:
            due = interval.after(last)
        elif first_infusion is None and item in BASELINE_ITEMS:
            due = today
        else:
            due = interval.after(first_infusion or today)
        status = DueStatus.OVERDUE if due < today else DueStatus.OK
        if today <= due <= soon:
            status = DueStatus.DUE_SOON
        entries.append(ScheduleEntry(item, last, due, status, evidence))
    return entries


class _Done(Structural):
    """A result, infusion, MRI or antibody status: when, and its id."""

    @property
    def at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


def _last_done(
    timeline: Timeline, item: Item, at: datetime, tz: tzinfo
) -> tuple[date | None, tuple[str, ...]]:
    per_test: list[Sequence[_Done]]
    if item is Item.INFUSION:
        per_test = [timeline.completed_infusions(at)]
    elif item is Item.ANTIBODY:
        per_test = [timeline.statuses(StatusKind.ANTIBODY, at)]
    elif item is Item.MRI:
        per_test = [timeline.mris(at)]
    else:
        per_test = [timeline.results(analyte, at) for analyte in ITEM_TESTS[item]]
    return _latest_common_day(per_test, tz)


def _latest_common_day(
    per_test: Sequence[Sequence[_Done]], tz: tzinfo
) -> tuple[date | None, tuple[str, ...]]:
    """The latest clinic day on which every test has a result, and each test's last that day.

    Each test's facts come in ascending time order; they are walked back from
    the latest only as far as needed (usually one per test: a panel is drawn
    together), since turning a moment into a clinic day is the costly step.
    """
    cursors = [len(facts) - 1 for facts in per_test]
    bound: date | None = None  # no later day can be the answer
    while True:
        days = []
        for index, facts in enumerate(per_test):
            cursor = cursors[index]
            while cursor >= 0:
                day = facts[cursor].at.astimezone(tz).date()
                if bound is None or day <= bound:
                    break
                cursor -= 1
            if cursor < 0:
                return None, ()
            cursors[index] = cursor
            days.append(day)
        latest = min(days)
        if all(day == latest for day in days):
            return latest, tuple(facts[cursors[i]].id for i, facts in enumerate(per_test))
        bound = latest


def overdue_findings(entries: Iterable[ScheduleEntry], today: date) -> list[Finding]:
    """Overdue items as effect-none warnings (the hold for a missing baseline is its own rule)."""
    findings = []
    for entry in entries:
        if entry.status is not DueStatus.OVERDUE:
            continue
        spec = OVERDUE_SPECS[entry.item]
        last = f"last done {entry.last}" if entry.last else "never done"
        findings.append(
            Finding(
                rule=spec.id,
                effect=Effect.NONE,
                severity=Severity.WARNING,
                summary=(
                    f"{spec.title}: due {entry.due} ({(today - entry.due).days} days ago), {last}"
                ),
                basis=spec.citation.basis,
                evidence=entry.evidence,
                suggestions=(
                    "Schedule the next infusion"
                    if entry.item is Item.INFUSION
                    else f"Order {_TITLES[entry.item][0]}",
                ),
            )
        )
    return findings
