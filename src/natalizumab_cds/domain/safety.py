"""What one patient's record contributes to the clinic's safety report.

Counted once per patient when the record's summary is rebuilt (import, visit
step, nightly refresh), so the report itself is a single SQL aggregate over the
summary rows. Definitions (docs/safety-report.md):

- treated: at least one completed natalizumab infusion on or before ``at``;
- exposure: from the first completed infusion to the last one plus the dosing
  interval (4 weeks), never past ``at`` — the time the patient was on treatment;
- infections: conditions in the protocol's ``active_infections`` or
  ``opportunistic_infections`` value sets whose onset falls within the exposure;
- severe reaction: a natalizumab allergy recorded as severe (criticality high,
  a reaction graded severe, or anaphylaxis); such a patient counts as treated
  even if the infusion it stopped was never completed;
- thyroid: a TSH or free T4 result on treatment, and whether any was outside its range;
- antibodies: tested at all, ever positive, persistent (``antibody.persistent``'s pair);
- serum level: the latest serum natalizumab concentration on treatment (µg/mL),
  to set beside the antibody status (the protocol expects < 1 µg/mL with
  antibodies, about 17 without).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.rules.antibody import persistent_pair
from natalizumab_cds.domain.rules.rule import Context
from natalizumab_cds.domain.timeline import Analyte, Result, StatusKind, Timeline


@dataclass(frozen=True, slots=True)
class SafetyFacts:
    treated: bool = False
    exposure_days: float = 0.0
    infections: int = 0
    severe_reaction: bool = False
    thyroid_tested: bool = False
    thyroid_abnormal: bool = False
    antibody_tested: bool = False
    antibody_positive: bool = False
    antibody_persistent: bool = False
    serum_level: float | None = None  # µg/mL, latest on treatment


def _outside_range(result: Result) -> bool:
    if result.comparator:
        return False  # a bound ("< 0.01") is not a value to compare
    return (result.low is not None and result.value < result.low) or (
        result.high is not None and result.value > result.high
    )


def safety_facts(timeline: Timeline, protocol: Protocol, at: datetime, tz: tzinfo) -> SafetyFacts:
    """The patient's share of the safety report at ``at``."""
    ctx = Context(timeline=timeline, protocol=protocol, at=at, tz=tz)
    antibodies = timeline.statuses(StatusKind.ANTIBODY, at)
    antibody = {
        "antibody_tested": bool(antibodies),
        "antibody_positive": any(r.value == "positive" for r in antibodies),
        "antibody_persistent": persistent_pair(ctx, antibodies) is not None,
    }
    severe = any(a.severe for a in timeline.allergies_known(at))
    infusions = timeline.completed_infusions(at)
    if not infusions:
        # a reaction to natalizumab means it was given, even if no infusion was completed
        return SafetyFacts(treated=severe, severe_reaction=severe, **antibody)
    first, last = infusions[0].at, infusions[-1].at
    interval = protocol.interval("interval_infusion")
    covered = datetime.combine(interval.after(last.date()), last.timetz())
    until = min(at, covered)
    infection_sets = [
        protocol.value_set("active_infections"),
        protocol.value_set("opportunistic_infections"),
    ]
    infections = sum(
        1
        for c in timeline.conditions_known(at)
        if c.at is not None
        and first <= c.at <= until
        and any(vs.first_match(c.codes) for vs in infection_sets)
    )
    thyroid = [
        r
        for analyte in (Analyte.TSH, Analyte.FREE_T4)
        for r in timeline.results(analyte, at)
        if r.at >= first
    ]
    levels = [r for r in timeline.results(Analyte.NATALIZUMAB, at) if r.at >= first]
    return SafetyFacts(
        treated=True,
        exposure_days=max(0.0, (until - first).total_seconds() / 86400),
        infections=infections,
        severe_reaction=severe,
        thyroid_tested=bool(thyroid),
        thyroid_abnormal=any(_outside_range(r) for r in thyroid),
        serum_level=levels[-1].value if levels else None,
        **antibody,
    )
