"""The patient's timetable: each step of a stored schedule as what to take at each time of day, in plain words.

The patient plan (standard, large print and easy read) prints this table, one row a step and one column a
time of day, so a patient reads "one 15 mg tablet and one 5 mg tablet" under "8am" instead of a dose in milligrams.
Every number comes from the stored schedule document; nothing is worked out again here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from taper.domain.formulary import Product
from taper.domain.makeable import Units, plain
from taper.domain.wording import clock_words, line_product, long_date, scheduled_units, units_words

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

    @property
    def stops(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Timetable:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def timetable(schedule_document: dict[str, Any]) -> Timetable:
    """The steps of `schedule_document` (docs/schedule-api.md) as a timetable by time of day."""
    steps = schedule_document["steps"]
    times = sorted({dose["time"] for step in steps for line in step["lines"] for dose in line.get("doses", ())})
    has_patch = any("patch_mcg_per_hour" in line for step in steps for line in step["lines"])
    has_prn = any("prn" in line for step in steps for line in step["lines"])
    columns = [clock_words(time) for time in times] + [PATCH] * has_patch + [WHEN_NEEDED] * has_prn
    rows = []
    for step in steps:
        cells: dict[str, list[Entry]] = {column: [] for column in columns}
        for line in step["lines"]:
            product = line_product(line)
            medicine = product.label()
            if "patch_mcg_per_hour" in line:
                cells[PATCH].append(Entry(medicine, _patch_words(product, scheduled_units(product, line["units"]))))
            elif "prn" in line:
                prn = line["prn"]
                cells[WHEN_NEEDED].append(Entry(medicine, (
                    f"{units_words(product, scheduled_units(product, prn['units']))} if you need it, "
                    f"no more than {prn['max_per_day']} times a day")))
            else:
                for dose in line["doses"]:
                    cells[clock_words(dose["time"])].append(
                        Entry(medicine, units_words(product, scheduled_units(product, dose["units"]))))
        rows.append(Row(step=step["number"], starts=long_date(date.fromisoformat(step["starts_on"])),
                        ends=long_date(date.fromisoformat(step["ends_on"])) if step["ends_on"] else None,
                        cells=tuple(tuple(cells[column]) for column in columns)))
    return Timetable(columns=tuple(columns), rows=tuple(rows))


def _patch_words(product: Product, units: Units | None) -> str:
    wear = product.wear_days
    assert wear is not None, "the formulary gives every patch a wear time"
    return f"{units_words(product, units)}. Put on a new one every {plain(wear)} days."
