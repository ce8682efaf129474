"""The daily OME chart of a schedule, as SVG: the same picture on the plan builder page and in the PDFs.

Drawn directly as SVG text from the schedule's steps (a step line, y grid, date ticks), in well under a
millisecond and with no plotting library to import (matplotlib took 320 to 370 ms a chart, and about 0.4 s to
import in every process that might draw one: Taper issue 16). The layout copies the matplotlib chart it
replaces: 540 x 216 pt, fixed margins, dates as "04 Jan 2027" turned 30 degrees on the ticks matplotlib's
AutoDateLocator(maxticks=8) chose, round y ticks. The SVG is an image with a title and a description in words
(role="img"); numbers are printed with fixed precision, so the same schedule always gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

from taper.domain.wording import long_date

NHS_BLUE = "#005eb8"
NHS_GREY = "#4c6272"
NHS_TEXT = "#212b32"
GRID = "#d8dde0"
FONT = "'DejaVu Sans', Verdana, Arial, sans-serif"

WIDTH, HEIGHT = 540, 216  # pt, as matplotlib's 7.5 x 3 inches
# The plotting area, fixed: wide enough for the labels of any plan (a four-digit dose; dates turned 30 degrees).
LEFT, RIGHT, TOP, BOTTOM = 54.0, 529.2, 21.6, 159.84
TICK = 3.5
MAX_DATE_TICKS = 8
MAX_Y_INTERVALS = 6
# AutoDateLocator's intervals with interval_multiples: ticks on these days of the month, every few months from
# January, or every few years.
DAYS_OF_MONTH = {1: range(1, 32), 2: range(1, 32, 2), 4: range(1, 32, 4), 7: (1, 8, 15, 22), 14: (1, 15)}
MONTHLY_EVERY, YEARLY_EVERY = (1, 2, 3, 4, 6), (1, 2, 4, 5, 10, 20, 40, 50, 100)


@dataclass(frozen=True)
class _Series:
    """What the chart plots: a value from each day (the last held to `ends_on`)."""

    days: list[date]
    values: list[float]
    ends_on: date


@dataclass(frozen=True)
class _Frame:
    """The plotting area's scales: dates from `start` to `end` across, 0 to `top` up."""

    start: date
    end: date
    top: float

    def x(self, day: date) -> str:
        return _n(LEFT + (day - self.start).days / (self.end - self.start).days * (RIGHT - LEFT))

    def y(self, value: float) -> str:
        return _n(BOTTOM - value / self.top * (BOTTOM - TOP))


def ome_chart_svg(schedule: Mapping[str, Any], *, title: str = "Daily oral morphine equivalent (mg)",
                  as_share: bool = False) -> str:
    """A step chart of daily OME from a week before step 1 to two weeks after the last step starts; `as_share`:
    as a percentage of the starting dose, for the patient (whose plan never says "OME")."""
    series = _series(schedule, as_share=as_share)
    frame = _Frame(start=series.days[0], end=series.ends_on, top=max(series.values) * 1.1 or 1)
    label = "% of your dose now" if as_share else "mg OME a day"
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}pt" height="{HEIGHT}pt" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="ome-chart-title ome-chart-desc" '
        f'font-family="{FONT}" font-size="10">',
        f'<title id="ome-chart-title">{escape(title)}</title>',
        f'<desc id="ome-chart-desc">{escape(ome_chart_description(schedule, as_share=as_share))}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        *_value_axis(frame),
        *_date_axis(frame),
        f'<path d="M {_n(LEFT)} {_n(TOP)} L {_n(LEFT)} {_n(BOTTOM)} L {_n(RIGHT)} {_n(BOTTOM)}" fill="none" '
        'stroke="#000000" stroke-width="0.8"/>',
        _step_line(series, frame),
        f'<text transform="translate(14 {_n((TOP + BOTTOM) / 2)}) rotate(-90)" text-anchor="middle" '
        f'fill="{NHS_GREY}">{escape(label)}</text>',
        f'<text x="{_n(LEFT)}" y="15.6" font-size="12" fill="{NHS_TEXT}">{escape(title)}</text>',
        "</svg>\n"])


def ome_chart_description(schedule: Mapping[str, Any], *, as_share: bool = False) -> str:
    """The chart in one sentence, its text alternative: "Daily oral morphine equivalent (OME) falls from 195 mg
    a day before 4 January 2027 to 0 mg a day from 24 June 2027, in 10 steps." `as_share`: in the patient's
    words, as a share of today's dose."""
    series = _series(schedule, as_share=as_share)
    first, last = series.values[0], series.values[-1]
    verb = "falls" if last < first else "goes"
    count = len(series.days) - 1
    steps = f"in {count} step{'' if count == 1 else 's'}"
    before, after = long_date(series.days[1]), long_date(series.days[-1])
    if as_share:
        return (f"Your daily dose {verb} from {_percent(first)} of what you take now before {before} to "
                f"{_percent(last)} of it from {after}, {steps}.")
    return (f"Daily oral morphine equivalent (OME) {verb} from {_n(first)} mg a day before {before} to "
            f"{_n(last)} mg a day from {after}, {steps}.")


def _series(schedule: Mapping[str, Any], *, as_share: bool) -> _Series:
    """The starting dose from a week before step 1, then each step's from its first day, held for two weeks
    after the last step starts."""
    steps = schedule["steps"]
    starts = [date.fromisoformat(step["starts_on"]) for step in steps]
    starting = float(schedule["starting_ome_mg_per_day"])
    values = [starting] + [float(step["ome_mg_per_day"]) for step in steps]
    if as_share:
        values = [100 * value / (starting or 1) for value in values]  # (a plan may start from 0 a day usually)
    return _Series(days=[starts[0] - timedelta(days=7), *starts], values=values,
                   ends_on=starts[-1] + timedelta(days=14))


def _value_axis(frame: _Frame) -> list[str]:
    """A grid line, a tick and a label at each round value."""
    lines = []
    for value, label in _value_ticks(frame.top):
        y = frame.y(value)
        lines += [f'<line x1="{_n(LEFT)}" y1="{y}" x2="{_n(RIGHT)}" y2="{y}" stroke="{GRID}" stroke-width="0.8"/>',
                  f'<line x1="{_n(LEFT - TICK)}" y1="{y}" x2="{_n(LEFT)}" y2="{y}" stroke="#000000" '
                  'stroke-width="0.8"/>',
                  f'<text x="{_n(LEFT - 2 * TICK)}" y="{_n(float(y) + 3.5)}" text-anchor="end">{label}</text>']
    return lines


def _date_axis(frame: _Frame) -> list[str]:
    """A tick and a date turned 30 degrees, ending under it, at each date tick."""
    lines = []
    for day in _date_ticks(frame.start, frame.end):
        x = frame.x(day)
        lines += [f'<line x1="{x}" y1="{_n(BOTTOM)}" x2="{x}" y2="{_n(BOTTOM + TICK)}" stroke="#000000" '
                  'stroke-width="0.8"/>',
                  f'<text transform="translate({_n(float(x) + 2)} {_n(BOTTOM + 2 * TICK + 9)}) rotate(-30)" '
                  f'text-anchor="end">{day.day} {day:%b %Y}</text>']
    return lines


def _step_line(series: _Series, frame: _Frame) -> str:
    """Each value held level from its day to the next, then straight down (or up) to the next value."""
    corners = [f"{frame.x(day)} {frame.y(value)} L {frame.x(next_day)} {frame.y(value)}"
               for day, next_day, value in zip(series.days, [*series.days[1:], series.ends_on], series.values,
                                               strict=True)]
    return (f'<path d="M {" L ".join(corners)}" fill="none" stroke="{NHS_BLUE}" stroke-width="2" '
            'stroke-linejoin="round"/>')


def _date_ticks(start: date, end: date) -> list[date]:
    """The dates matplotlib's AutoDateLocator(maxticks=8) ticks: 1 January every few years for five years or
    more; the 1st of every few months (counted from January) for five months or more; otherwise set days of
    each month (the 1st, 8th, 15th and 22nd for a week apart)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    limit = MAX_DATE_TICKS - 1
    if months >= 5 * 12:
        every = _smallest(YEARLY_EVERY, lambda interval: months // 12 <= limit * interval)
        candidates = [date(year, 1, 1) for year in range(start.year, end.year + 1) if year % every == 0]
    elif months >= 5:
        every = _smallest(MONTHLY_EVERY, lambda interval: months <= limit * interval)
        candidates = [date(year, month, 1) for year in range(start.year, end.year + 1)
                      for month in range(1, 13, every)]
    else:
        days = (end - start).days
        on_days = DAYS_OF_MONTH[_smallest(list(DAYS_OF_MONTH), lambda interval: days <= limit * interval)]
        candidates = [day for day in (start + timedelta(days=offset) for offset in range(days + 1))
                      if day.day in on_days]
    return [day for day in candidates if start <= day <= end]


def _value_ticks(top: float) -> list[tuple[float, str]]:
    """Round ticks from 0 to `top` (1, 2, 2.5 or 5 times a power of ten apart; at most six intervals to cover
    it, as matplotlib's MaxNLocator on an axis this tall), each with its label, all to the same decimals."""
    power = 10.0 ** math.floor(math.log10(top / MAX_Y_INTERVALS))
    step = next(power * multiple for multiple in (1, 2, 2.5, 5, 10)
                if math.ceil(top / (power * multiple) - 1e-9) <= MAX_Y_INTERVALS)
    decimals = len(f"{step:.6f}".rstrip("0").partition(".")[2])
    values = [index * step for index in range(math.floor(top / step + 1e-9) + 1)]
    return [(value, f"{value:.{decimals}f}") for value in values]


def _smallest(intervals: Sequence[int], fits: Callable[[int], bool]) -> int:
    """The smallest interval that fits, or the largest there is."""
    return next((interval for interval in intervals if fits(interval)), intervals[-1])


def _n(number: float) -> str:
    """A coordinate or value with at most two decimals and no trailing zeros: fixed text for fixed input."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(share: float) -> str:
    return f"{share:.0f}%" if share >= 1 or share == 0 else "less than 1%"
