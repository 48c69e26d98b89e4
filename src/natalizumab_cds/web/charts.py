"""Charts over time as plain geometry, drawn by ``templates/charts.html`` as inline SVG.

No JavaScript library: every chart is computed here (coordinates in a fixed
``WIDTH`` × ``HEIGHT`` view box, scaled by CSS) and comes with the same data as
a table, so a screen reader or a printout loses nothing. Limits (3 × ULN) and
reference ranges are drawn as dashed lines and shaded bands, and labelled in
words as well.

Whatever is on file, a chart is drawn: values come from the form, FHIR imports
and the HL7 feed, and may be absurd (1e308, negative). The value axis runs from
0 to a round number above the values in ``[0, OFF_SCALE]`` (limits and ranges
included); a value outside it is drawn as a triangle on the edge it is beyond
(``Point.off_scale``), never scales the axis, and is listed as it is in the
table, with at most six significant digits (``1e+308 U/L``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

WIDTH, HEIGHT = 640, 220
#: The events chart spans the page, twice a line chart's width: a wider view box
#: keeps its labels the size of the other charts' instead of twice as large.
WIDE = 1280
#: Room on the events chart's left for its lane names ("Infusions").
LANE_NAMES = 84
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 12, 28
#: Values above this (in the chart's unit) are off the chart's scale: the lab
#: form refuses them too, as no result these charts show reaches it.
OFF_SCALE = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    when: date
    value: float
    text: str  # the value as shown in the table, with its unit
    off_scale: str = ""  # "above" or "below" when drawn on that edge of the plot

    @property
    def marker(self) -> str:
        """An off-scale point's triangle (pointing off the plot), as SVG polygon points."""
        tip = -7.0 if self.off_scale == "above" else 7.0
        base = self.y - tip * 0.3
        return (
            f"{self.x:.1f},{self.y + tip * 0.7:.1f} "
            f"{self.x - 5:.1f},{base:.1f} {self.x + 5:.1f},{base:.1f}"
        )


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal line (a limit) or a band (a range) at chart coordinates."""

    y: float
    y2: float | None
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    description: str
    unit: str
    series: tuple[Series, ...]
    limits: tuple[Rule, ...]
    bands: tuple[Rule, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)

    @property
    def off_scale(self) -> bool:
        return any(p.off_scale for s in self.series for p in s.points)

    @property
    def rows(self) -> list[tuple[date, list[str]]]:
        """The table alternative: one row per date, one column per series."""
        by_day: dict[date, list[str]] = {}
        for column, series in enumerate(self.series):
            for point in series.points:
                cells = by_day.setdefault(point.when, [""] * len(self.series))
                cells[column] = point.text
        return sorted(by_day.items(), reverse=True)


@dataclass(frozen=True, slots=True)
class Scale:
    start: date
    end: date
    top: float
    width: int = WIDTH
    left: int = LEFT

    def x(self, day: date) -> float:
        span = max((self.end - self.start).days, 1)
        return self.left + (self.width - self.left - RIGHT) * (day - self.start).days / span

    def y(self, value: float) -> float:
        """The height of ``value``, held to the plot: 0 at the bottom, ``top`` at the top."""
        shown = min(value, self.top) if value > 0 else 0.0  # NaN and below 0: the bottom
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - shown / self.top)

    def off_scale(self, value: float) -> str:
        if value > self.top:
            return "above"
        return "" if value >= 0 else "below"  # NaN is not >= 0


def on_scale(value: float) -> bool:
    """Whether ``value`` may set a chart's scale (finite, from 0 to ``OFF_SCALE``)."""
    return 0 <= value <= OFF_SCALE


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (at least 0.1).

    Computed in floats held below ``OFF_SCALE`` × 10, so no value overflows it.
    """
    if not value > 0:  # also NaN
        return 1.0
    value = min(value, OFF_SCALE * 10)
    magnitude = 10.0 ** math.floor(math.log10(value)) if value >= 0.1 else 0.1
    for step in (1, 2, 2.5, 5):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    """Up to six significant digits: 32, 0.8, 5000, 1e+06, 1e+308, 1e-300."""
    return f"{value:g}"


def _x_ticks(scale: Scale) -> tuple[Tick, ...]:
    """Years on a long axis; every second or third month on one under two years."""
    span = (scale.end - scale.start).days
    if span > 730:
        years = list(range(scale.start.year + 1, scale.end.year + 1))
        step = max(1, len(years) // 6)
        return tuple(Tick(scale.x(date(y, 1, 1)), str(y)) for y in years[::step])
    step = 2 if span <= 400 else 3
    months = []
    year, month = scale.start.year, scale.start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        first = date(year, month, 1)
        if first > scale.end:
            break
        if (month - 1) % step == 0:
            months.append(first)
    return tuple(Tick(scale.x(d), d.strftime("%b %Y")) for d in months)


def _y_ticks(scale: Scale) -> tuple[Tick, ...]:
    return tuple(Tick(scale.y(scale.top * i / 4), _number(scale.top * i / 4)) for i in range(5))


@dataclass(frozen=True, slots=True)
class Reading:
    """One value to plot: when, how much, and its unit."""

    when: datetime
    value: float
    unit: str


def line_chart(
    key: str,
    title: str,
    description: str,
    series: Sequence[tuple[str, Sequence[Reading]]],
    *,
    unit: str,
    window: tuple[date, date],
    limits: Sequence[tuple[float, str]] = (),
    bands: Sequence[tuple[float, float, str]] = (),
) -> Chart:
    """Lines over ``window``, with labelled limit lines and shaded range bands."""
    values = [r.value for _, readings in series for r in readings]
    values += [v for v, _ in limits] + [high for _, high, _ in bands]
    highest = max(filter(on_scale, values), default=1.0)
    scale = Scale(window[0], window[1], _nice_top(highest * 1.1))
    drawn = tuple(
        Series(
            name,
            "series" if n == 0 else "series series-2",
            tuple(
                Point(
                    scale.x(r.when.date()),
                    scale.y(r.value),
                    r.when.date(),
                    r.value,
                    f"{_number(r.value)} {r.unit}".strip(),
                    scale.off_scale(r.value),
                )
                for r in sorted(readings, key=lambda r: r.when)
            ),
        )
        for n, (name, readings) in enumerate(series)
    )
    return Chart(
        key=key,
        title=title,
        description=description,
        unit=unit,
        series=drawn,
        limits=tuple(Rule(scale.y(v), None, label) for v, label in limits),
        bands=tuple(Rule(scale.y(high), scale.y(low), label) for low, high, label in bands),
        x_ticks=_x_ticks(scale),
        y_ticks=_y_ticks(scale),
    )


@dataclass(frozen=True, slots=True)
class Event:
    x: float
    when: date
    text: str


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    css: str
    y: float
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class EventChart:
    key: str
    title: str
    description: str
    lanes: tuple[Lane, ...]
    x_ticks: tuple[Tick, ...]
    height: int
    width: int = WIDE
    plot_start: int = LANE_NAMES

    @property
    def plot_end(self) -> int:
        return self.width - RIGHT

    @property
    def rows(self) -> list[tuple[date, str, str]]:
        listed = [(e.when, lane.name, e.text) for lane in self.lanes for e in lane.events]
        return sorted(listed, key=lambda row: row[0], reverse=True)


def event_chart(
    key: str,
    title: str,
    description: str,
    lanes: Sequence[tuple[str, str, Sequence[tuple[datetime, str]]]],
    *,
    window: tuple[date, date],
) -> EventChart:
    """One row ("lane") per kind of event (name, css class, [(when, text)]), on a shared axis."""
    scale = Scale(window[0], window[1], 1.0, WIDE, LANE_NAMES)
    lane_height = 34
    drawn = tuple(
        Lane(
            name,
            css,
            TOP + lane_height * (n + 0.5),
            tuple(Event(scale.x(at.date()), at.date(), text) for at, text in sorted(events)),
        )
        for n, (name, css, events) in enumerate(lanes)
    )
    return EventChart(
        key, title, description, drawn, _x_ticks(scale), TOP + lane_height * len(lanes) + BOTTOM
    )
