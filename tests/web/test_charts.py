"""The patient page's charts: every event drawn inside its plot, whatever the values."""

from __future__ import annotations

import math
import sys
from datetime import date

import pytest

from natalizumab_cds.domain.timeline import Analyte
from natalizumab_cds.web.charts import (
    BOTTOM,
    HEIGHT,
    LANE_NAMES,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Chart,
    Point,
    Reading,
    _nice_top,
    line_chart,
)
from natalizumab_cds.web.patient_view import charts_of
from tests.domain.builders import (
    AT,
    a_ranged,
    a_relapse,
    a_timeline,
    a_well_monitored_record,
    an_alt,
    an_antibody,
    an_edss,
    day,
    on,
    with_facts,
)


def test_a_relapse_before_treatment_is_drawn_inside_the_plot_not_over_the_lane_names() -> None:
    facts = with_facts(
        a_well_monitored_record(),
        relapses=[a_relapse(day(1000))],  # before the first of 26 infusions
        statuses=[an_antibody("negative", day(900))],
    )
    events = charts_of(a_timeline(**facts), AT, 40.0).events
    drawn = [(lane.name, e) for lane in events.lanes for e in lane.events]
    assert {name for name, _ in drawn} == {"Infusions", "Antibody tests", "Relapses"}
    assert all(LANE_NAMES <= e.x <= events.plot_end for _, e in drawn)
    (relapse,) = next(lane for lane in events.lanes if lane.name == "Relapses").events
    assert relapse.x == LANE_NAMES  # the axis starts on the earliest event
    assert events.x_ticks[0].at > LANE_NAMES


def _liver_chart(*values: float, high: float = 40.0) -> Chart:
    readings = [
        Reading(day(10 * n), v, "U/L") for n, v in enumerate(reversed(values))
    ]  # the last value is the newest
    return line_chart(
        "liver",
        "ALT",
        "ALT in U/L",
        [("ALT", readings)],
        unit="U/L",
        window=(day(400).date(), AT.date()),
        limits=[(3 * high, "3 × ULN")],
    )


def _points(chart: Chart) -> dict[float, Point]:
    return {p.value: p for s in chart.series for p in s.points}


def test_an_absurd_value_is_drawn_on_the_top_edge_and_does_not_squash_the_others() -> None:
    chart = _liver_chart(30.0, 5000.0, 1e308, sys.float_info.max)
    points = _points(chart)
    assert chart.y_ticks[-1].label == "10000"  # scaled to 5,000 U/L, the largest real one
    assert points[5000.0].off_scale == ""
    assert TOP < points[5000.0].y < HEIGHT - BOTTOM
    for absurd in (1e308, sys.float_info.max):
        assert points[absurd].off_scale == "above"
        assert points[absurd].y == TOP
        assert points[absurd].text == f"{absurd:g} U/L"  # "1e+308 U/L", never 309 digits
    assert chart.off_scale


def test_a_real_extreme_alt_sets_the_scale_itself() -> None:
    chart = _liver_chart(30.0, 5000.0)
    assert not chart.off_scale
    assert max(p.y for p in _points(chart).values()) < HEIGHT - BOTTOM
    assert min(p.y for p in _points(chart).values()) >= TOP


def test_negative_infinite_and_tiny_values_are_held_to_the_plot() -> None:
    chart = _liver_chart(-3.0, 1e-300, math.inf, -math.inf, math.nan, 25.0)
    points = _points(chart)
    assert points[-3.0].off_scale == "below"
    assert points[-3.0].y == HEIGHT - BOTTOM
    assert points[-math.inf].off_scale == "below"
    assert points[math.inf].off_scale == "above"
    assert points[math.inf].y == TOP
    assert points[1e-300].off_scale == ""  # on the scale, at its foot
    assert points[1e-300].y == HEIGHT - BOTTOM
    assert all(math.isfinite(p.y) for p in points.values() if not math.isnan(p.value))
    assert all(math.isfinite(t.at) for t in chart.y_ticks)


def test_an_absurd_limit_neither_fails_nor_sets_the_scale() -> None:
    chart = _liver_chart(30.0, 60.0, high=1e308)  # 3 × ULN overflows to infinity
    assert chart.y_ticks[-1].label == "100"
    assert [limit.y for limit in chart.limits] == [TOP]


@pytest.mark.parametrize(
    ("value", "top"),
    [(0.0, 1.0), (0.04, 0.1), (0.8, 1.0), (33.0, 50.0), (110.0, 200.0), (5500.0, 10000.0)],
)
def test_the_scale_tops_at_a_round_number_above_the_values(value: float, top: float) -> None:
    assert _nice_top(value) == top


@pytest.mark.parametrize("value", [1e308, sys.float_info.max, math.inf, math.nan, -1.0])
def test_the_scale_never_overflows(value: float) -> None:
    assert math.isfinite(_nice_top(value))


def test_charts_span_a_result_from_1800_without_failing() -> None:
    facts = with_facts(
        a_well_monitored_record(), results=[an_alt(1e308, on(date(1800, 1, 1)), high=1e308)]
    )
    charts = charts_of(a_timeline(**facts), AT, 40.0)
    liver = charts.lines[0]
    assert liver.x_ticks[0].label == "1801"
    assert all(LEFT <= p.x <= WIDTH - RIGHT for s in liver.series for p in s.points)


def test_chart_values_read_in_the_units_a_clinician_writes() -> None:
    facts = with_facts(
        a_well_monitored_record(),
        results=[a_ranged(Analyte.NEUTROPHILS, 0.9, day(2)), an_edss(3.5, day(2))],
    )
    charts = {c.key: c for c in charts_of(a_timeline(**facts), AT, 40.0).lines}
    neutrophils = {p.value: p.text for s in charts["neutrophils"].series for p in s.points}
    assert neutrophils[0.9] == "0.9 ×10⁹/L"  # not the UCUM code 10*9/L
    assert "reference range 1.5–7 ×10⁹/L" in charts["neutrophils"].description
    edss = {p.value: p.text for s in charts["edss"].series for p in s.points}
    assert edss[3.5] == "3.5"  # a score: no "1" for its UCUM unit
