"""What the patient page shows, worked out from the assessment and the record.

Each finding is paired with its rule's spec (title, citation quote, whether it
may be overridden) from the catalogue, so the protocol text a decision rests on
is one click away. The charts read the same timeline the rules read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Effect, Finding, RuleSpec
from natalizumab_cds.domain.rule_specs import ALL_SPECS
from natalizumab_cds.domain.timeline import (
    Analyte,
    Result,
    StatusKind,
    Timeline,
    quantity_text,
    unit_text,
)
from natalizumab_cds.web.charts import Chart, EventChart, Reading, event_chart, line_chart

ULN_MULTIPLE = 3


@dataclass(frozen=True, slots=True)
class FindingView:
    finding: Finding
    spec: RuleSpec | None

    @property
    def title(self) -> str:
        return self.spec.title if self.spec else self.finding.rule

    @property
    def quote(self) -> str:
        return self.spec.citation.quote if self.spec else ""

    @property
    def overridable(self) -> bool:
        return bool(self.spec and self.spec.overridable)

    @property
    def can_acknowledge(self) -> bool:
        return self.finding.effect is Effect.CAUTION and not self.finding.overridden

    @property
    def can_override(self) -> bool:
        blocking = self.finding.effect in (Effect.HOLD, Effect.DISCONTINUE)
        return self.overridable and blocking and not self.finding.overridden


def finding_views(assessment: Assessment) -> list[FindingView]:
    return [FindingView(f, ALL_SPECS.get(f.rule)) for f in assessment.findings]


def _readings(results: list[Result]) -> list[Reading]:
    return [Reading(r.at, r.value, unit_text(r.unit)) for r in results]


def _window(timeline: Timeline, at: datetime) -> tuple[date, date]:
    """From the first thing any chart draws (a relapse before treatment too) to ``at``."""
    moments = [r.at for a in Analyte for r in timeline.results(a, at)]
    moments += [i.at for i in timeline.completed_infusions(at)]
    moments += [m.at for m in timeline.mris(at)]
    moments += [r.at for r in timeline.relapses(at)]
    moments += [s.at for s in timeline.statuses(StatusKind.ANTIBODY, at)]
    moments += [a.at for a in timeline.allergies_known(at) if a.at is not None]
    start = min(moments, default=at - timedelta(days=365)).date()
    return min(start, at.date() - timedelta(days=30)), at.date()


def _uln(results: list[Result], default: float) -> float:
    """The latest result's upper limit of normal, else the protocol's default."""
    latest = results[-1].high if results else None
    return latest if latest is not None else default


def _range(results: list[Result]) -> list[tuple[float, float, str]]:
    latest = results[-1] if results else None
    if latest is None or latest.low is None or latest.high is None:
        return []
    text = f"reference range {quantity_text(f'{latest.low:g}–{latest.high:g}', latest.unit)}"
    return [(latest.low, latest.high, text)]


def _liver(
    timeline: Timeline, at: datetime, window: tuple[date, date], default_uln: float
) -> Chart:
    alt = list(timeline.results(Analyte.ALT, at))
    ast = list(timeline.results(Analyte.AST, at))
    uln = _uln(alt, default_uln)
    limit = ULN_MULTIPLE * uln
    return line_chart(
        "liver",
        "Liver function: ALT and AST",
        f"ALT (solid) and AST (dashed) in U/L; the dashed red line is {ULN_MULTIPLE} × ULN "
        f"({limit:g} U/L), where the protocol holds the infusion.",
        [("ALT", _readings(alt)), ("AST", _readings(ast))],
        unit="U/L",
        window=window,
        limits=[(limit, f"{ULN_MULTIPLE} × ULN = {limit:g} U/L")],
    )


_COUNTS = (
    (Analyte.NEUTROPHILS, "Neutrophils"),
    (Analyte.LYMPHOCYTES, "Lymphocytes"),
    (Analyte.PLATELETS, "Platelets"),
)


def _count_chart(
    timeline: Timeline, at: datetime, window: tuple[date, date], analyte: Analyte, name: str
) -> Chart:
    results = list(timeline.results(analyte, at))
    bands = _range(results)
    words = f" The shaded band is the {bands[0][2]}." if bands else ""
    return line_chart(
        analyte.value,
        f"{name} (10⁹/L)",
        f"{name} count over time in 10⁹/L.{words}",
        [(name, _readings(results))],
        unit="10⁹/L",
        window=window,
        bands=bands,
    )


def _edss(timeline: Timeline, at: datetime, window: tuple[date, date]) -> Chart:
    return line_chart(
        "edss",
        "EDSS",
        "Expanded Disability Status Scale score over time (0 to 10).",
        [("EDSS", _readings(list(timeline.results(Analyte.EDSS, at))))],
        unit="score",
        window=window,
    )


def _mri(timeline: Timeline, at: datetime, window: tuple[date, date]) -> Chart:
    reads = list(timeline.mris(at))
    gd = [Reading(m.at, m.gd_enhancing, "lesions") for m in reads]
    t2 = [Reading(m.at, m.new_or_enlarging_t2, "lesions") for m in reads]
    return line_chart(
        "mri",
        "MRI lesion counts",
        "Gadolinium-enhancing lesions (solid) and new or enlarging T2 lesions (dashed) "
        "on each brain MRI.",
        [("Gd-enhancing", gd), ("New/enlarging T2", t2)],
        unit="lesions",
        window=window,
    )


def _events(timeline: Timeline, at: datetime, window: tuple[date, date]) -> EventChart:
    infusions = [(i.at, "infusion completed") for i in timeline.completed_infusions(at)]
    reactions = [
        (a.at, a.reaction or "reaction recorded")
        for a in timeline.allergies_known(at)
        if a.at is not None
    ]
    antibodies = [
        (s.at, f"anti-natalizumab antibody {s.value}")
        for s in timeline.statuses(StatusKind.ANTIBODY, at)
    ]
    relapses = [(r.at, "relapse") for r in timeline.relapses(at)]
    return event_chart(
        "events",
        "Infusions, reactions, antibody results and relapses",
        "One row per kind of event on a shared time axis: infusions (green), "
        "hypersensitivity reactions (red), antibody results (+ positive, − negative) "
        "and relapses.",
        [
            ("Infusions", "event-infusion", infusions),
            ("Reactions", "event-reaction", reactions),
            ("Antibody tests", "event-antibody", antibodies),
            ("Relapses", "event-relapse", relapses),
        ],
        window=window,
    )


@dataclass(frozen=True, slots=True)
class Charts:
    lines: tuple[Chart, ...]
    events: EventChart


def charts_of(timeline: Timeline, at: datetime, default_uln: float) -> Charts:
    """The page's charts; ``default_uln`` (ALT, U/L) when results carry no range."""
    window = _window(timeline, at)
    lines = [_liver(timeline, at, window, default_uln)]
    lines += [_count_chart(timeline, at, window, a, name) for a, name in _COUNTS]
    lines += [_edss(timeline, at, window), _mri(timeline, at, window)]
    return Charts(tuple(lines), _events(timeline, at, window))
