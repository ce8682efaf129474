"""The patient's timetable: each step of a stored schedule as what to take at each time of day, in plain words.

The patient plan prints one block a step, each time of day on a line of its own, so a patient reads "one 15 mg
tablet and one 5 mg tablet" beside "8am" instead of a dose in milligrams, and nothing is ever cut off at the
edge of the page, in any print size. Every step after the first says what changes from the step before
(taper.domain.step_changes). Every number comes from the stored schedule document; nothing is worked out again
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from taper.domain.formulary import Product
from taper.domain.makeable import Units, plain
from taper.domain.step_changes import step_changes, times_a_day
from taper.domain.wording import (
    clock_words,
    line_product,
    long_date,
    scheduled_units,
    units_words,
    when_needed_gap,
)

WHEN_NEEDED = "Only if you need it"
PATCH = "Patch"


@dataclass(frozen=True)
class Entry:
    """What to take of one medicine at one time of day."""

    medicine: str
    take: str


@dataclass(frozen=True)
class Row:
    """One step: its dates and, for each column of the timetable, what to take."""

    step: int
    starts: str
    ends: str | None
    cells: tuple[tuple[Entry, ...], ...]
    removals: tuple[Entry, ...] = ()  # patches taken off for good on the step's first day
    changes: tuple[str, ...] = ()  # what changes from the step before, in plain words (none for the first step)

    @property
    def stops(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Timetable:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    def taken(self, row: Row) -> list[tuple[str, tuple[Entry, ...]]]:
        """The columns (times of day, the patch, when needed) in which `row` has something, with what."""
        return [(column, cell) for column, cell in zip(self.columns, row.cells, strict=True) if cell]


def timetable(schedule_document: dict[str, Any]) -> Timetable:
    """The steps of `schedule_document` (docs/schedule-api.md) as a timetable by time of day."""
    steps = schedule_document["steps"]
    times = sorted({dose["time"] for step in steps for line in step["lines"] for dose in line.get("doses", ())})
    has_patch = any("patch_mcg_per_hour" in line for step in steps for line in step["lines"])
    has_prn = any("prn" in line for step in steps for line in step["lines"])
    columns = [clock_words(time) for time in times] + [PATCH] * has_patch + [WHEN_NEEDED] * has_prn
    plan_start = date.fromisoformat(steps[0]["starts_on"])
    rows = []
    from_before = [(), *(tuple(step_changes(before, after)) for before, after in pairwise(steps))]
    worn: dict[tuple[str, str | None], str] = {}  # the patches of the step before: (product, brand) -> medicine
    for step, changed in zip(steps, from_before, strict=True):
        cells: dict[str, list[Entry]] = {column: [] for column in columns}
        starts = date.fromisoformat(step["starts_on"])
        ends = date.fromisoformat(step["ends_on"]) if step["ends_on"] else None
        wearing: dict[tuple[str, str | None], str] = {}
        for line in step["lines"]:
            product = line_product(line)
            medicine = product.label()
            if "patch_mcg_per_hour" in line:
                wearing[(line["product"], line.get("brand"))] = medicine
                changes = _change_days(product, plan_start, starts, ends)
                cells[PATCH].append(Entry(medicine, _patch_words(product, scheduled_units(product, line["units"]),
                                                                 changes)))
            elif "prn" in line:
                prn = line["prn"]
                gap = when_needed_gap(product)
                cells[WHEN_NEEDED].append(Entry(medicine, (
                    f"{units_words(product, scheduled_units(product, prn['units']))} if you need it, "
                    f"no more than {times_a_day(prn['max_per_day'])}" + (f", {gap}" if gap else ""))))
            else:
                for dose in line["doses"]:
                    cells[clock_words(dose["time"])].append(
                        Entry(medicine, units_words(product, scheduled_units(product, dose["units"]))))
        removals = tuple(Entry(medicine, f"take your last patch off on {long_date(starts)}. Do not put on a new one.")
                         for key, medicine in worn.items() if key not in wearing)
        if removals and any(cells.values()):  # (a plan that has had a patch has a patch column)
            cells[PATCH].extend(removals)
            removals = ()
        worn = wearing
        rows.append(Row(step=step["number"], starts=long_date(starts), ends=long_date(ends) if ends else None,
                        cells=tuple(tuple(cells[column]) for column in columns), removals=removals,
                        changes=changed))
    return Timetable(columns=tuple(columns), rows=tuple(rows))


def _change_days(product: Product, plan_start: date, starts: date, ends: date | None) -> list[date]:
    """The days in a step when a patch is changed: every wear period from the plan's first day (as the engine
    and the pharmacy count them); a last step that goes on lists its first change only."""
    wear = int(product.wear_days or 1)
    first = starts + timedelta(days=-(starts - plan_start).days % wear)
    last = ends if ends is not None else first
    return [first + timedelta(days=wear * count) for count in range((last - first).days // wear + 1)] \
        if first <= last else []


def _patch_words(product: Product, units: Units | None, changes: list[date]) -> str:
    wear = product.wear_days
    assert wear is not None, "the formulary gives every patch a wear time"
    said = f"{units_words(product, units)}. Put on a new one every {plain(wear)} days: take the old patch off first."
    return said + (f" Change it on {_days_in_words(changes)}." if changes else "")


def _days_in_words(days: list[date]) -> str:
    """'4, 7, 10 and 13 January 2027'; days in two months: '28 and 31 January 2027, and 3 February 2027'."""
    by_month: dict[tuple[int, int], list[int]] = {}
    for day in days:
        by_month.setdefault((day.year, day.month), []).append(day.day)
    parts = []
    for (year, month), numbers in by_month.items():
        listed = ", ".join(map(str, numbers[:-1])) + (" and " if len(numbers) > 1 else "") + str(numbers[-1])
        parts.append(f"{listed} {date(year, month, 1):%B %Y}")
    return ", and ".join(parts)
