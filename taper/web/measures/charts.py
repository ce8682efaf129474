"""Bar charts of the measures, as SVG drawn directly as text (like the plan's OME chart, taper.documents.chart,
whose size, margins, font and colours they share): one bar for each series at each point, round value ticks
(whole numbers for counts), a legend when there are several series. Each is an image with a title and a
description (role="img"); the table right after it on the page is its text alternative."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from markupsafe import Markup

from taper.documents.chart import (
    BOTTOM,
    FONT,
    GRID,
    HEIGHT,
    LEFT,
    NHS_BLUE,
    NHS_GREY,
    NHS_TEXT,
    RIGHT,
    TICK,
    TOP,
    WIDTH,
)
from taper.services.measures import Series

COLOURS = (NHS_BLUE, "#007f3b", "#d5281b", NHS_GREY)  # NHS blue, green, red, grey
MAX_Y_INTERVALS = 5
MAX_LABELS = 12


def bar_chart(series: Series, *, chart_id: str, title: str, description: str) -> Markup:
    """The chart as inline SVG: `chart_id` makes its title's and description's ids unique on the page."""
    values = [value for each in series.values.values() for value in each]
    top = max([*values, 0.0])
    ticks = value_ticks(top)
    scale_top = ticks[-1] or 1.0
    points, groups = len(series.labels), len(series.values)
    slot = (RIGHT - LEFT) / max(points, 1)
    bar = slot * 0.8 / max(groups, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="taper-measures-chart" width="{WIDTH}pt" '
        f'height="{HEIGHT}pt" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" font-size="10">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for tick in ticks:
        y = _y(tick, scale_top)
        parts += [f'<line x1="{_n(LEFT)}" y1="{y}" x2="{_n(RIGHT)}" y2="{y}" stroke="{GRID}" stroke-width="0.8"/>',
                  f'<text x="{_n(LEFT - 2 * TICK)}" y="{_n(float(y) + 3.5)}" text-anchor="end">{_n(tick)}</text>']
    every = math.ceil(points / MAX_LABELS) if points else 1
    for index, label in enumerate(series.labels):
        left = LEFT + index * slot + slot * 0.1
        for group, (name, numbers) in enumerate(series.values.items()):
            height = numbers[index] / scale_top * (BOTTOM - TOP)
            parts.append(f'<rect x="{_n(left + group * bar)}" y="{_n(BOTTOM - height)}" width="{_n(bar)}" '
                         f'height="{_n(height)}" fill="{COLOURS[group % len(COLOURS)]}">'
                         f'<title>{escape(name)}, {escape(label)}: {_n(numbers[index])}</title></rect>')
        if index % every == 0:
            x = LEFT + (index + 0.5) * slot
            parts.append(f'<text transform="translate({_n(x + 2)} {_n(BOTTOM + 2 * TICK + 9)}) rotate(-30)" '
                         f'text-anchor="end">{escape(label)}</text>')
    parts.append(f'<path d="M {_n(LEFT)} {_n(TOP)} L {_n(LEFT)} {_n(BOTTOM)} L {_n(RIGHT)} {_n(BOTTOM)}" '
                 'fill="none" stroke="#000000" stroke-width="0.8"/>')
    parts.append(f'<text x="{_n(LEFT)}" y="15.6" font-size="12" fill="{NHS_TEXT}">{escape(title)}</text>')
    if groups > 1:
        x = RIGHT
        for group, name in reversed(list(enumerate(series.values))):
            x -= 6.2 * len(name) + 16
            parts += [f'<rect x="{_n(x)}" y="{_n(HEIGHT - 12)}" width="9" height="9" '
                      f'fill="{COLOURS[group % len(COLOURS)]}"/>',
                      f'<text x="{_n(x + 12)}" y="{_n(HEIGHT - 4)}" fill="{NHS_TEXT}">{escape(name)}</text>']
    parts.append("</svg>")
    return Markup("\n".join(parts))


def value_ticks(top: float) -> list[float]:
    """Round ticks from 0 covering `top` in at most five intervals: 1, 2 or 5 times a power of ten apart, never
    less than 1 (the charts count people and invitations, and OME in whole mg)."""
    if top <= 0:
        return [0.0, 1.0]
    power = 10.0 ** max(0, math.floor(math.log10(top / MAX_Y_INTERVALS))) if top > MAX_Y_INTERVALS else 1.0
    step = next(power * multiple for multiple in (1, 2, 5, 10)
                if math.ceil(top / (power * multiple) - 1e-9) <= MAX_Y_INTERVALS)
    return [index * step for index in range(math.ceil(top / step - 1e-9) + 1)]


def _y(value: float, top: float) -> str:
    return _n(BOTTOM - value / top * (BOTTOM - TOP))


def _n(number: float) -> str:
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
