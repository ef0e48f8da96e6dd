"""Bar charts drawn on the server as SVG: no script, no charting library, read at a glance on
a phone. Each group's name on its own line, then a bar per series with its figure at the end;
in Arabic the bars grow from the right (names and figures are anchored at their text's start,
which the page's direction places). A withheld figure draws no bar and reads ``<5``."""

from __future__ import annotations

from dataclasses import dataclass

from fursa.console.tables import WITHHELD, Cell

# Across, in percent of the chart's width, so that the text keeps its size on any screen;
# down, in pixels.
ROOM = 84.0  # the longest bar; the rest is for its figure
LABEL = 20  # a group's name line
BAR = 16
GAP = 3
SPACE = 12  # between groups


@dataclass(frozen=True)
class Bar:
    series: int
    x: float
    y: float
    width: float
    figure: str
    figure_x: float


@dataclass(frozen=True)
class Group:
    label: str
    label_x: float
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    title: str
    series: list[str]
    groups: list[Group]
    height: float


def bar_chart(
    title: str,
    series: list[str],
    rows: list[tuple[str, list[Cell]]],
    *,
    right_to_left: bool,
    figure: str = "{}",
) -> BarChart:
    """A chart of ``rows`` (a group's name and one figure per series); ``figure`` formats a
    figure (e.g. ``{}%``)."""
    values = [v for _label, figures in rows for v in figures if isinstance(v, int | float)]
    top = max(values, default=0) or 1
    groups, y = [], 0.0
    for label, figures in rows:
        label_y = y + LABEL - 6
        y += LABEL
        bars = []
        for index, value in enumerate(figures):
            length = ROOM * value / top if isinstance(value, int | float) else 0.0
            start = 100 - length if right_to_left else 0.0
            end = 100 - length - 1 if right_to_left else length + 1
            text = WITHHELD if value is None else figure.format(value)
            bars.append(Bar(index, round(start, 2), y, round(length, 2), text, round(end, 2)))
            y += BAR + GAP
        groups.append(Group(label, 100 if right_to_left else 0, label_y, bars))
        y += SPACE
    return BarChart(title, series, groups, height=max(y, 1))
