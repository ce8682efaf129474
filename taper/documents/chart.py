"""The daily OME chart of a schedule, as SVG: the same picture on the plan builder page and in the PDFs.

Matplotlib draws it (Agg backend, no display); text stays text in the SVG and element ids are fixed, so the
same schedule always gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "taper", "font.family": "sans-serif",
                            "font.size": 10})

import matplotlib.dates as mdates  # noqa: E402 (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

NHS_BLUE = "#005eb8"
NHS_GREY = "#4c6272"


def ome_chart_svg(schedule: Mapping[str, Any], *, title: str = "Daily oral morphine equivalent (mg)",
                  as_share: bool = False) -> str:
    """A step chart of daily OME from the day before step 1 to the end of the plan; `as_share`: as a percentage
    of the starting dose, for the patient (whose plan never says "OME")."""
    steps = schedule["steps"]
    first_day = date.fromisoformat(steps[0]["starts_on"])
    days = [first_day - timedelta(days=7)] + [date.fromisoformat(step["starts_on"]) for step in steps]
    starting = float(schedule["starting_ome_mg_per_day"])
    values = [starting] + [float(step["ome_mg_per_day"]) for step in steps]
    if as_share:
        values = [100 * value / (starting or 1) for value in values]  # (a plan may start from 0 a day usually)
    last_day = days[-1] + timedelta(days=14)
    figure = Figure(figsize=(7.5, 3), dpi=100)
    axes = figure.add_subplot()
    x = [float(mdates.date2num(day)) for day in [*days, last_day]]
    axes.step(x, [*values, values[-1]], where="post", color=NHS_BLUE, linewidth=2)
    axes.set_ylim(bottom=0, top=max(values) * 1.1 or 1)
    axes.set_xlim(x[0], x[-1])
    axes.set_ylabel("% of your dose now" if as_share else "mg OME a day", color=NHS_GREY)
    axes.set_title(title, loc="left", color="#212b32")
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
    axes.grid(axis="y", color="#d8dde0")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.autofmt_xdate(bottom=0.26)
    # Fixed margins, wide enough for the labels of any plan (a four-digit dose; dates turned 30 degrees):
    # measuring them each time (tight_layout) took half of the chart's time (benchmarks/README.md).
    figure.subplots_adjust(left=0.1, right=0.98, top=0.9)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "Taper"})
    return buffer.getvalue()
