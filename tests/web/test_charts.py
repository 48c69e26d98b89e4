"""The patient page's charts: every event drawn inside its plot."""

from __future__ import annotations

from natalizumab_cds.web.charts import LANE_NAMES
from natalizumab_cds.web.patient_view import charts_of
from tests.domain.builders import (
    AT,
    a_relapse,
    a_timeline,
    a_well_monitored_record,
    an_antibody,
    day,
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
