"""Properties that hold for any record: determinism, blindness to the future, consistency.

Records are random but synthetic, built from the test builders: lab values around
the thresholds, dates within three years either side of ``AT``, infusions,
antibody sequences, and every kind of voided status.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.domain.assessment import Assessment
from natalizumab_cds.domain.findings import Decision, Effect
from natalizumab_cds.domain.protocol import ATC, LOCAL, RXNORM, SNOMED, add_months
from natalizumab_cds.domain.rules.catalogue import OVERRIDABLE, SPECS
from natalizumab_cds.domain.schedule import DueStatus, Item
from natalizumab_cds.domain.timeline import STATUS_VALUES, Analyte, StatusKind
from tests.domain.builders import (
    AT,
    CBC_RANGES,
    THYROID_RANGES,
    a_condition,
    a_drug_level,
    a_medication,
    a_patient,
    a_ranged,
    a_relapse,
    a_status,
    a_timeline,
    a_well_monitored_record,
    an_allergy,
    an_alt,
    an_antibody,
    an_ast,
    an_edss,
    an_infusion,
    an_mri,
    an_override,
    assess_at,
    infusions,
)

PROPERTY = settings(deadline=None, max_examples=200, derandomize=True)
THREE_YEARS = 3 * 366 * 24 * 60  # minutes
Record = dict[str, list[Any]]

# -- strategies -----------------------------------------------------------------------------


def _minutes_after_at(low: int, high: int) -> st.SearchStrategy[datetime]:
    return st.integers(low, high).map(lambda m: AT + timedelta(minutes=m))


DAY = 24 * 60
#: Anywhere within three years of AT, but often within the last year, where rules look.
past_or_future = st.one_of(
    _minutes_after_at(-THREE_YEARS, THREE_YEARS), _minutes_after_at(-400 * DAY, 30 * DAY)
)
future = st.one_of(_minutes_after_at(1, THREE_YEARS), _minutes_after_at(1, 3 * DAY))
result_statuses = st.sampled_from(
    ["final", "final", "final", "amended", "preliminary", "entered-in-error", "cancelled"]
)
event_statuses = st.sampled_from(["final", "final", "final", "entered-in-error", "cancelled"])


def _near(*points: float) -> st.SearchStrategy[float]:
    """Values at, just inside and just outside each threshold, and anything between."""
    edges = [v + d for p in points for v, d in ((p, 0.0), (p, -0.01), (p, 0.01))]
    top = max(points) * 2 + 1
    return st.one_of(
        st.sampled_from(edges), st.floats(0, top, allow_nan=False, allow_infinity=False)
    )


@st.composite
def a_result(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> Any:
    at = draw(moments)
    status = draw(result_statuses)
    analyte = draw(st.sampled_from(list(Analyte)))
    if analyte in (Analyte.ALT, Analyte.AST):
        high = draw(st.sampled_from([40.0, 35.0, None]))
        value = draw(_near(3 * (high or 40.0)))
        build = an_alt if analyte is Analyte.ALT else an_ast
        return build(value, at, high=high, status=status)
    if analyte in CBC_RANGES or analyte in THYROID_RANGES:
        low, high, _ = {**CBC_RANGES, **THYROID_RANGES}[analyte]
        ranged = draw(st.booleans())
        bounds = {} if ranged else {"low": None, "high": None}
        return a_ranged(analyte, draw(_near(low, high)), at, status=status, **bounds)
    if analyte is Analyte.NATALIZUMAB:
        return a_drug_level(draw(_near(1.0, 17.0)), at, status=status)
    return an_edss(draw(st.integers(0, 19)) / 2, at, status=status)


@st.composite
def a_status_observation(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> Any:
    kind = draw(st.sampled_from(list(StatusKind)))
    value = draw(st.sampled_from(sorted(STATUS_VALUES[kind])))
    return a_status(kind, value, draw(moments), draw(event_statuses))


@st.composite
def antibody_sequence(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> list[Any]:
    """A run of antibody results ending at a drawn moment, often about six weeks apart."""
    at = draw(moments)
    gaps = draw(st.lists(st.sampled_from([20, 41, 42, 43, 84]), max_size=4))
    results = []
    for gap in [0, *gaps]:
        at = at - timedelta(days=gap)
        value = draw(st.sampled_from(["positive", "positive", "negative"]))
        results.append(an_antibody(value, at, draw(event_statuses)))
    return results


@st.composite
def edss_course(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> list[Any]:
    """Scores ending at a drawn moment, ~12 weeks apart, around a baseline's thresholds."""
    baseline = draw(st.sampled_from([1.0, 2.0, 5.5, 6.0, 6.5]))
    at = draw(moments)
    scores = []
    for _ in range(draw(st.integers(1, 4))):
        value = baseline + draw(st.sampled_from([-0.5, 0.0, 0.5, 1.0, 1.0, 1.5]))
        scores.append(an_edss(value, at, status=draw(result_statuses)))
        at = at - timedelta(days=draw(st.sampled_from([30, 83, 84, 85, 120])))
    return [an_edss(baseline, at - timedelta(days=400)), *scores]


@st.composite
def infusion_history(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> list[Any]:
    last = draw(st.one_of(moments, st.integers(-30, 400).map(lambda n: AT - timedelta(days=n))))
    regular = infusions(draw(st.integers(0, 30)), last, draw(st.sampled_from([21, 28])))
    scattered = draw(
        st.lists(
            st.builds(
                an_infusion,
                moments,
                st.sampled_from(["completed", "completed", "entered-in-error", "not-done"]),
            ),
            max_size=4,
        )
    )
    return [*regular, *scattered]


def a_medication_at(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[Any]:
    return st.builds(
        lambda code, start, end, status: a_medication(code, start=start, end=end, status=status),
        st.sampled_from(["1256", "3008", "354770", "5640"]),  # aza, ciclosporin, ntz, ibuprofen
        st.one_of(st.none(), moments),
        st.one_of(st.none(), moments),
        st.sampled_from(["active", "active", "completed", "stopped"]),
    )


def a_condition_at(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[Any]:
    return st.builds(
        lambda coding, at, clinical, verification: a_condition(
            coding[1], coding[0], at=at, clinical=clinical, verification=verification
        ),
        st.sampled_from(
            [
                (SNOMED, "233604007"),
                (SNOMED, "22255007"),
                (LOCAL, "herpes-meningitis"),
                (SNOMED, "1"),
            ]
        ),
        moments,
        st.sampled_from(["active", "resolved", "inactive"]),
        st.sampled_from(["confirmed", "confirmed", "refuted", "entered-in-error"]),
    )


def an_allergy_at(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[Any]:
    return st.builds(
        lambda coding, at, verification: an_allergy(
            coding[1], coding[0], at=at, verification=verification
        ),
        st.sampled_from([(RXNORM, "354770"), (ATC, "L04AG03"), (RXNORM, "7980")]),
        moments,
        st.sampled_from(["confirmed", "refuted", "entered-in-error"]),
    )


def an_override_at(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[Any]:
    rules = [
        "population.pediatric",
        "population.pediatric",
        "population.pregnancy",
        "population.pregnancy",
        "liver.elevated",
        "dosing.too-soon",
    ]
    return st.builds(an_override, st.sampled_from(rules), moments)


@st.composite
def facts(draw: st.DrawFn, moments: st.SearchStrategy[datetime]) -> Record:
    """Any mix of facts, each dated by ``moments``."""
    antibodies = draw(st.lists(antibody_sequence(moments), max_size=2))
    courses = draw(st.lists(edss_course(moments), max_size=1))
    return {
        "results": [
            *draw(st.lists(a_result(moments), max_size=25)),
            *(score for course in courses for score in course),
        ],
        "statuses": [
            *draw(st.lists(a_status_observation(moments), max_size=6)),
            *(a for sequence in antibodies for a in sequence),
        ],
        "mris": draw(
            st.lists(
                st.builds(an_mri, moments, st.integers(0, 2), st.integers(0, 2), event_statuses),
                max_size=4,
            )
        ),
        "relapses": draw(st.lists(st.builds(a_relapse, moments, event_statuses), max_size=3)),
        "infusions": draw(infusion_history(moments)),
        "medications": draw(st.lists(a_medication_at(moments), max_size=2)),
        "conditions": draw(st.lists(a_condition_at(moments), max_size=2)),
        "allergies": draw(st.lists(an_allergy_at(moments), max_size=1)),
        "overrides": draw(st.lists(an_override_at(moments), max_size=2)),
    }


@st.composite
def future_facts(draw: st.DrawFn) -> Record:
    """Facts all dated after ``AT`` (medicines starting after it)."""
    record = draw(facts(future))
    # Series (infusions, antibody runs, EDSS courses) end at a future moment but may
    # start before AT: keep only their future part.
    for key in ("results", "statuses", "mris", "relapses", "infusions", "overrides"):
        record[key] = [fact for fact in record[key] if fact.at > AT]
    record["medications"] = [
        a_medication(code, start=draw(future), status="active")
        for code in draw(st.lists(st.sampled_from(["1256", "3008"]), max_size=2))
    ]
    return record


#: Birth dates: unknown, anything, or on and around the 18th and 65th birthdays at AT.
patients = st.builds(
    a_patient,
    st.one_of(
        st.none(),
        st.dates(date(1940, 1, 1), date(2016, 12, 31)),
        st.sampled_from(
            [date(2008, 11, 24), date(2008, 11, 25), date(1961, 11, 24), date(1961, 11, 25)]
        ),
    ),
)


@st.composite
def records(draw: st.DrawFn) -> Record:
    """Random facts, on their own or added to the well-monitored reference record."""
    base = a_well_monitored_record() if draw(st.booleans()) else {}
    record = merged(base, draw(facts(past_or_future)))
    if draw(st.booleans()):  # recent overrides of the overridable rules
        recent = st.integers(0, 30 * DAY).map(lambda m: AT - timedelta(minutes=m))
        record["overrides"] += [an_override(rule, draw(recent)) for rule in sorted(OVERRIDABLE)]
    return record


def merged(base: Record, extra: Record) -> Record:
    return {key: [*base.get(key, []), *extra.get(key, [])] for key in {*base, *extra}}


def observable(result: Assessment) -> tuple[Any, ...]:
    """What a clinician sees: the decision, every finding, and the schedule."""
    return result.decision, result.findings, result.monitoring


def _worst(effects: list[Effect]) -> Effect:
    return max(effects, key=lambda e: e.rank, default=Effect.NONE)


# -- properties of the assessment --------------------------------------------------------


@PROPERTY
@given(patient=patients, record=records())
def test_the_same_record_at_the_same_moment_always_gives_the_same_assessment(
    patient: Any, record: Record
) -> None:
    first = assess_at(a_timeline(patient, **record))
    again = assess_at(a_timeline(patient, **record))
    assert observable(first) == observable(again)
    assert first == again


@PROPERTY
@given(patient=patients, record=records(), later=future_facts())
def test_facts_dated_after_the_assessment_never_change_it(
    patient: Any, record: Record, later: Record
) -> None:
    dated = ("results", "statuses", "mris", "relapses", "infusions", "overrides")
    assert all(fact.at > AT for key in dated for fact in later[key])
    assert all(m.start is not None and m.start > AT for m in later["medications"])
    without = assess_at(a_timeline(patient, **record))
    with_later = assess_at(a_timeline(patient, **merged(record, later)))
    assert observable(with_later) == observable(without)


@PROPERTY
@given(patient=patients, record=records())
def test_the_decision_is_always_the_worst_finding_effect(patient: Any, record: Record) -> None:
    result = assess_at(a_timeline(patient, **record))
    effects = [f.effect for f in result.findings]
    assert result.decision is Decision.from_effect(_worst(effects))
    ranks = [e.rank for e in effects]
    assert ranks == sorted(ranks, reverse=True)


@PROPERTY
@given(patient=patients, record=records())
def test_every_finding_comes_from_a_catalogued_rule_or_an_overdue_item(
    patient: Any, record: Record
) -> None:
    result = assess_at(a_timeline(patient, **record))
    allowed = set(SPECS) | {f"monitoring.{item.value}-overdue" for item in Item}
    assert {f.rule for f in result.findings} <= allowed
    overdue = {e.item.value for e in result.monitoring if e.status is DueStatus.OVERDUE}
    assert {f.rule for f in result.findings if f.rule.startswith("monitoring.")} == {
        f"monitoring.{item}-overdue" for item in overdue
    }
    assert all(f.basis and f.summary for f in result.findings)


@PROPERTY
@given(patient=patients, record=records())
def test_an_override_only_ever_lowers_an_overridable_hold_to_caution(
    patient: Any, record: Record
) -> None:
    result = assess_at(a_timeline(patient, **record))
    for finding in result.findings:
        if finding.overridden:
            assert finding.rule in OVERRIDABLE
            assert finding.effect is Effect.CAUTION
            assert finding.original_effect is Effect.HOLD
            assert finding.override is not None
            assert finding.override.at <= AT
        else:
            assert finding.override is None


@PROPERTY
@given(patient=patients, record=records())
def test_the_schedule_status_always_follows_the_due_date(patient: Any, record: Record) -> None:
    result = assess_at(a_timeline(patient, **record))
    today = AT.date()
    assert [e.item for e in result.monitoring] == list(Item)
    for entry in result.monitoring:
        if entry.last is not None:
            assert entry.last <= today
            assert entry.due > entry.last
        if entry.due < today:
            assert entry.status is DueStatus.OVERDUE
        elif entry.due <= today + timedelta(days=14):
            assert entry.status is DueStatus.DUE_SOON
        else:
            assert entry.status is DueStatus.OK


@PROPERTY
@given(patient=patients, record=records(), shuffle=st.randoms(use_true_random=False))
def test_the_order_facts_are_listed_in_does_not_change_the_assessment(
    patient: Any, record: Record, shuffle: Any
) -> None:
    reordered = {key: shuffle.sample(values, len(values)) for key, values in record.items()}
    # Several matching medicines or conditions are named in list order; keep those as given.
    for key in ("medications", "conditions", "allergies"):
        reordered[key] = record[key]
    assert observable(assess_at(a_timeline(patient, **reordered))) == observable(
        assess_at(a_timeline(patient, **record))
    )


# -- calendar months ------------------------------------------------------------------------

days = st.dates(date(1900, 1, 1), date(2199, 12, 31))
month_counts = st.integers(-240, 240)


@PROPERTY
@given(day=days, months=month_counts)
def test_adding_calendar_months_never_moves_the_day_of_month_later(day: date, months: int) -> None:
    assert add_months(day, months).day <= day.day


@PROPERTY
@given(day=days, months=month_counts)
def test_adding_n_calendar_months_advances_the_month_by_exactly_n(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert (result.month - day.month) % 12 == months % 12


@PROPERTY
@given(day=days, months=month_counts)
def test_adding_calendar_months_clamps_only_to_the_end_of_a_shorter_month(
    day: date, months: int
) -> None:
    result = add_months(day, months)
    if result.day < day.day:
        assert (result + timedelta(days=1)).day == 1  # the last day of its month


@PROPERTY
@given(day=days, months=month_counts)
def test_adding_then_subtracting_calendar_months_never_moves_later(day: date, months: int) -> None:
    back = add_months(add_months(day, months), -months)
    assert back <= day
    if day.day <= 28:
        assert back == day


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 1, 31), 3, date(2027, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2026, 11, 24), -12, date(2025, 11, 24)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_calendar_month_examples(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected
