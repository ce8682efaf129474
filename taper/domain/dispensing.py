"""What the community pharmacy supplies, instalment by instalment, so that the patient has exactly the doses
of each day of the plan (Taper issue 6).

Rules:
- Instalments start on the plan's first day and follow every `instalment_days` (7, 14 or 28).
- Regular doses: the tablets, capsules or millilitres of every day in the instalment, added up.
- When-needed doses: the agreed usual doses a day, added up, never the maximum (issue 14: a controlled-drug
  prescription for a when-needed dose is for the quantity agreed, and the step's maximum is said in its
  directions; a patient who needs more contacts the clinic, which is what the plan is for). A plan version
  stored before this rule keeps its own, the daily maximum (`Schedule.when_needed_supply`), so that its pages
  and the documents issued for it agree.
- Patches: one set of the step's patches on each patch-change day in the instalment (patch days are counted
  from the plan's first day, as the engine counts them).
Quantities are exact: nothing is rounded (a liquid's volume is the sum of its measured doses).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from taper.domain.engine import LineState, Schedule, Step


@dataclass(frozen=True)
class Supply:
    product: str
    strength: Decimal | None  # None for a liquid (its quantity is in mL)
    quantity: Decimal  # tablets, capsules or patches; mL for liquids
    brand: str | None = None  # the brand the line is prescribed by (rule 8: it travels with the line)


@dataclass(frozen=True)
class Instalment:
    number: int
    starts_on: date
    ends_on: date
    supplies: tuple[Supply, ...]
    steps: tuple[int, ...]  # the plan steps in force during this instalment


def daily_units(line: LineState, *, on: date, plan_start: date,
                when_needed_at_maximum: bool = False) -> dict[Decimal | None, Decimal]:
    """What one day of a line takes from the pharmacy: {strength: count} (liquids: {None: mL})."""
    units: dict[Decimal | None, Decimal] = defaultdict(Decimal)
    if line.patch_mcg_per_hour is not None:
        wear = line.product.wear_days
        if wear and (on - plan_start).days % int(wear) == 0:
            for strength, count in line.patch_units:
                units[strength] += count
        return dict(units)
    doses = [(dose.units, 1) for dose in line.doses]
    if line.prn_dose_mg is not None:
        doses.append((line.prn_units, line.prn_max_per_day if when_needed_at_maximum else line.prn_usual_per_day))
    for made, times in doses:
        for amount, count in made:
            if line.product.is_liquid:
                units[None] += amount * times
            else:
                units[amount] += count * times
    return dict(units)


def instalments(schedule: Schedule, *, instalment_days: int, until: date | None = None) -> list[Instalment]:
    """The instalments from the plan's first day to its last step (to `until` when the last step goes on,
    as a maintenance dose does; by default one instalment into it)."""
    steps = schedule.steps
    plan_start = steps[0].starts_on
    last = steps[-1]
    end = last.starts_on - timedelta(days=1) if not last.lines else (until or last.starts_on + timedelta(
        days=instalment_days - 1))
    result: list[Instalment] = []
    start = plan_start
    while start <= end:
        period_end = min(start + timedelta(days=instalment_days - 1), end)
        supplies, in_force = supplies_between(schedule, start, period_end)
        result.append(Instalment(len(result) + 1, start, period_end, supplies, in_force))
        start = period_end + timedelta(days=1)
    return result


def supplies_between(schedule: Schedule, first: date, last: date) -> tuple[tuple[Supply, ...], tuple[int, ...]]:
    """What the days from `first` to `last` (inclusive) take, added up, and the steps in force on them."""
    steps = schedule.steps
    at_maximum = schedule.when_needed_supply == "maximum"
    totals: dict[tuple[str, Decimal | None, str | None], Decimal] = defaultdict(Decimal)
    in_force: list[int] = []
    day = first
    while day <= last:
        step = _step_on(steps, day)
        if step.number not in in_force:
            in_force.append(step.number)
        for line in step.lines:
            for strength, quantity in daily_units(line, on=day, plan_start=steps[0].starts_on,
                                                  when_needed_at_maximum=at_maximum).items():
                totals[(line.product.key, strength, line.product.brand)] += quantity
        day += timedelta(days=1)
    supplies = tuple(Supply(product, strength, quantity, brand)
                     for (product, strength, brand), quantity in totals.items() if quantity)
    return supplies, tuple(in_force)


def prescription_dates(periods: Sequence[Instalment], *, issued_on: date) -> list[date]:
    """The day each instalment is to be prescribed: the day it starts, but never before the plan's letter is
    issued, since the GP cannot prescribe from a letter they do not have. An instalment already running on that
    day is prescribed on it (for its remaining days); one that ended before it is not prescribed from the letter,
    nor one with nothing to supply."""
    return [max(period.starts_on, issued_on) for period in periods if period.ends_on >= issued_on and period.supplies]


def _step_on(steps: tuple[Step, ...], day: date) -> Step:
    for step in reversed(steps):
        if step.starts_on <= day:
            return step
    raise ValueError(f"{day} is before the plan starts")
