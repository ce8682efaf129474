"""How the service's measures are counted (issue 18, docs/measures.md), over plain values read from the record.

- The OME in force on a day: the dose of the running plan's step on that day if a plan was running (begun on or
  before the day and not ended by it); else the latest record on or before the day of what the patient took: a
  regimen recorded by a pharmacist (dated the day recorded), a regimen imported from a practice record (dated by
  its latest issue; not yet confirmed, its when-needed lines counted at their most), or the OME in force when a
  plan ended (the plan's final OME). On the same day, a pharmacist's regimen is the later of the three and a
  practice record the earlier: so a plan's final OME stands until a regimen recorded by a pharmacist on or after
  the day it ended, or a practice record with a later issue date (an issue on the day the plan ended may be the
  plan's own last prescription). A regimen whose OME could not be calculated gives "not known", never an
  estimate.
- A month after a day is the same day of the next month, or that month's last day if it is shorter.
- Medians of an even count are the mean of the middle two.
- Withdrawal (SOWS-Gossop) changes are counted over the items assessed at both follow-ups compared: an item not
  assessed (null) at either is left out of that comparison, never read as 0.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from taper.domain.follow_up import SOWS_GOSSOP_ITEMS


class Source(StrEnum):
    """Where an OME in force on a day came from."""

    PLAN_STEP = "plan_step"
    REGIMEN = "regimen"  # recorded by a pharmacist
    PRACTICE_RECORD = "practice_record"  # imported from a practice record, not yet confirmed
    PLAN_END = "plan_end"


class Recorded(NamedTuple):
    """A regimen in a patient's history: the day it stands from (the day a pharmacist recorded it, or a practice
    record's latest issue), its id (the order among the same day's), its total OME a day (None: not calculable)
    and whether it was imported from a practice record."""

    on: date
    order: int
    ome: Decimal | None
    from_practice_record: bool = False


# Which of the same day's records is the later: a practice record's issue, then a plan's end, then a
# pharmacist's regimen (the module's docstring says why).
_SAME_DAY_RANK = {Source.PRACTICE_RECORD: 0, Source.PLAN_END: 1, Source.REGIMEN: 2}


@dataclass(frozen=True)
class PlanCourse:
    """A plan that left draft: its current version's steps (start day and OME a day, in order), when it ended
    (None: still running) and the OME in force when it ended."""

    plan_id: int
    patient_id: int
    steps: tuple[tuple[date, Decimal], ...]
    starting_ome: Decimal
    ended_on: date | None = None
    final_ome: Decimal | None = None

    @property
    def starts_on(self) -> date:
        return self.steps[0][0]

    @property
    def began(self) -> bool:
        """Whether the plan ever ran: not ended before its first step."""
        return self.ended_on is None or self.ended_on >= self.starts_on

    def running_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ended_on is None or day < self.ended_on)

    def step_ome_on(self, day: date) -> Decimal:
        """The OME of the step in force on `day` (the plan running on it)."""
        index = bisect_right([start for start, _ in self.steps], day) - 1
        return self.steps[index][1]


@dataclass
class History:
    """One patient's record of what they took: regimens and plans that left draft."""

    regimens: list[Recorded] = field(default_factory=list)
    plans: list[PlanCourse] = field(default_factory=list)

    def ome_on(self, day: date) -> tuple[Decimal | None, Source | None]:
        """The OME in force on `day` and where it came from; (None, None): nothing recorded by then; (None,
        REGIMEN or PRACTICE_RECORD): the latest regimen's OME could not be calculated."""
        for plan in self.plans:
            if plan.running_on(day):
                return plan.step_ome_on(day), Source.PLAN_STEP
        latest: tuple[tuple[date, int, int], Decimal | None, Source] | None = None
        candidates = [(regimen.on, regimen.order, regimen.ome,
                       Source.PRACTICE_RECORD if regimen.from_practice_record else Source.REGIMEN)
                      for regimen in self.regimens]
        candidates += [(plan.ended_on, plan.plan_id, plan.final_ome, Source.PLAN_END) for plan in self.plans
                       if plan.ended_on is not None and plan.final_ome is not None]
        for on, order, ome, source in candidates:
            key = (on, _SAME_DAY_RANK[source], order)
            if on <= day and (latest is None or key > latest[0]):
                latest = (key, ome, source)
        if latest is None:
            return None, None
        return latest[1], latest[2]


@dataclass(frozen=True)
class CaseloadOnDay:
    """The caseload's OME on one day: people counted (an OME known), at or above the threshold (and of them, those
    whose OME is from a practice record not yet confirmed), the total OME a day of those counted, and people
    whose latest regimen's OME could not be calculated."""

    day: date
    counted: int
    high_dose: int
    high_dose_from_practice_record: int
    total_ome: Decimal
    not_known: int


def caseload_on(day: date, histories: Iterable[History], threshold: Decimal) -> CaseloadOnDay:
    counted = high = high_from_record = not_known = 0
    total = Decimal(0)
    for history in histories:
        ome, source = history.ome_on(day)
        if source is None:
            continue
        if ome is None:
            not_known += 1
            continue
        counted += 1
        total += ome
        if ome >= threshold:
            high += 1
            high_from_record += source is Source.PRACTICE_RECORD
    return CaseloadOnDay(day=day, counted=counted, high_dose=high, high_dose_from_practice_record=high_from_record,
                         total_ome=total, not_known=not_known)


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later, or the last day of that month if it has fewer days."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_ends(start: date, end: date) -> list[date]:
    """The last day of each month from `start` to `end`, and `end` itself if it is not a month's last day."""
    days = []
    day = month_end(start)
    while day <= end:
        days.append(day)
        day = month_end(day + timedelta(days=1))
    if not days or days[-1] != end:
        days.append(end)
    return days


def months_between(start: date, end: date) -> list[date]:
    """The first day of each month from `start`'s month to `end`'s."""
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = month_end(day) + timedelta(days=1)
    return months


def median(values: Sequence[Decimal]) -> Decimal | None:
    """The median; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Reduction:
    """A plan's reduction N months after it started: from its starting OME to the OME in force then."""

    plan_id: int
    mg: Decimal
    percent: Decimal | None  # None: the plan started from 0 mg a day


def reductions_at(months: int, plans: Iterable[PlanCourse], histories: Mapping[int, History], *,
                  start: date, end: date) -> tuple[list[Reduction], int]:
    """The reductions of the plans that began whose point `months` after their start falls from `start` to
    `end`; and how many such plans were left out because the OME in force then is not known."""
    found, left_out = [], 0
    for plan in plans:
        if not plan.began:
            continue
        point = months_after(plan.starts_on, months)
        if not start <= point <= end:
            continue
        ome, _ = histories[plan.patient_id].ome_on(point)
        if ome is None:
            left_out += 1
            continue
        reduced = plan.starting_ome - ome
        percent = (reduced * 100 / plan.starting_ome) if plan.starting_ome else None
        found.append(Reduction(plan_id=plan.plan_id, mg=reduced, percent=percent))
    return found, left_out


@dataclass(frozen=True)
class FollowUpScores:
    """What one follow-up scored: its PEG score and its withdrawal items (None: not assessed)."""

    held_on: date
    order: int
    peg: Decimal
    sows: Mapping[str, int | None]


@dataclass(frozen=True)
class ScoreChanges:
    """First and latest scores of the plans compared, and each plan's change (latest minus first)."""

    first: list[Decimal]
    latest: list[Decimal]
    changes: list[Decimal]
    left_out: int  # plans with two follow-ups but nothing to compare (withdrawal: no item assessed at both)


def first_and_latest(follow_ups: Sequence[FollowUpScores], *, start: date,
                     end: date) -> tuple[FollowUpScores, FollowUpScores] | None:
    """A plan's first follow-up and its latest held by `end`, if there are two by then and the latest was held
    from `start` to `end`."""
    held = sorted((each for each in follow_ups if each.held_on <= end), key=lambda each: (each.held_on, each.order))
    if len(held) < 2 or held[-1].held_on < start:
        return None
    return held[0], held[-1]


def peg_changes(pairs: Iterable[tuple[FollowUpScores, FollowUpScores]]) -> ScoreChanges:
    first, latest = [], []
    for before, after in pairs:
        first.append(before.peg)
        latest.append(after.peg)
    return ScoreChanges(first=first, latest=latest, changes=[b - a for a, b in zip(first, latest, strict=True)],
                        left_out=0)


def sows_compared(before: Mapping[str, int | None], after: Mapping[str, int | None]) -> tuple[int, int] | None:
    """The two withdrawal totals over the items assessed at both; None if no item was."""
    both = [item for item in SOWS_GOSSOP_ITEMS if before.get(item) is not None and after.get(item) is not None]
    if not both:
        return None
    return sum(before[item] or 0 for item in both), sum(after[item] or 0 for item in both)


def sows_changes(pairs: Iterable[tuple[FollowUpScores, FollowUpScores]]) -> ScoreChanges:
    first: list[Decimal] = []
    latest: list[Decimal] = []
    left_out = 0
    for before, after in pairs:
        compared = sows_compared(before.sows, after.sows)
        if compared is None:
            left_out += 1
            continue
        first.append(Decimal(compared[0]))
        latest.append(Decimal(compared[1]))
    return ScoreChanges(first=first, latest=latest, changes=[b - a for a, b in zip(first, latest, strict=True)],
                        left_out=left_out)
