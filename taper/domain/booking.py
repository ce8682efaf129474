"""Booking: where a plan's reviews go, and the first free slot for each. Pure functions of dates and times.

Cadence (shared/reference/domain-research.md, b7 and the national analysis summarised in DESIGN.md): an initial
consultation of 60 to 90 minutes, then short reviews (15 to 30 minutes) every one to two weeks, placed a few
days after a step change so the patient is seen while withdrawal symptoms would show. CDC 2022 asks for follow-up
at least monthly; this is more frequent. Clinic sessions are in English local time; bank holidays are England's
(the `holidays` package) and no one is booked on leave.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays

from taper.clock import CLINIC_TIMEZONE
from taper.domain.follow_up import Mode

LENGTHS_MINUTES = (15, 20, 30, 60, 90)
INITIAL_MINUTES = 60
FOLLOW_UP_MINUTES = 20
CADENCES_DAYS = (7, 14)
DAYS_AFTER_STEP = 3  # "a few days after each step change"
WINDOW_DAYS = 4  # a review may go this many days after its target day
INITIAL_WINDOW_DAYS = 7
GRID = timedelta(minutes=5)  # appointments start on the five minutes, from the session's start


@dataclass(frozen=True)
class Session:
    """A weekly clinic session of one pharmacist: Monday is 0."""

    weekday: int
    starts: time
    ends: time
    remote: bool
    location: str = ""

    def allows(self, mode: Mode) -> bool:
        """Face to face needs a site; phone and video fit any session."""
        return mode is not Mode.FACE_TO_FACE or not self.remote


@dataclass(frozen=True)
class Slot:
    starts: datetime
    ends: datetime
    location: str


def english_bank_holidays(years: Collection[int]) -> frozenset[date]:
    """Bank holidays in England (substitute days included), from the `holidays` package."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=sorted(years)))


def first_free_slot(*, sessions: Sequence[Session], closed: Collection[date],
                    busy: Sequence[tuple[datetime, datetime]], length_minutes: int, mode: Mode,
                    window: tuple[date, date], not_before: datetime) -> Slot | None:
    """The earliest slot of `length_minutes` in the pharmacist's sessions between the window's first and last
    days (both included) that is not on a closed day (leave, bank holiday), overlaps nothing busy and starts no
    earlier than `not_before`. None if there is none."""
    return next(free_slots(sessions=sessions, closed=closed, busy=busy, length_minutes=length_minutes, mode=mode,
                           window=window, not_before=not_before), None)


def free_slots(*, sessions: Sequence[Session], closed: Collection[date], busy: Sequence[tuple[datetime, datetime]],
               length_minutes: int, mode: Mode, window: tuple[date, date], not_before: datetime) -> Iterator[Slot]:
    if length_minutes not in LENGTHS_MINUTES:
        raise ValueError(f"appointments last {', '.join(map(str, LENGTHS_MINUTES))} minutes")
    length = timedelta(minutes=length_minutes)
    day = window[0]
    while day <= window[1]:
        if day not in closed:
            for session in sorted((each for each in sessions if each.weekday == day.weekday() and each.allows(mode)),
                                  key=lambda each: each.starts):
                start = datetime.combine(day, session.starts, CLINIC_TIMEZONE)
                end = datetime.combine(day, session.ends, CLINIC_TIMEZONE)
                while start + length <= end:
                    if start >= not_before and not any(start < taken_end and taken_start < start + length
                                                       for taken_start, taken_end in busy):
                        yield Slot(start, start + length, session.location)
                    start += GRID
        day += timedelta(days=1)


def follow_up_targets(step_starts: Sequence[date], *, cadence_days: int = 14,
                      days_after_step: int = DAYS_AFTER_STEP) -> list[date]:
    """The days reviews are aimed at: a few days after the first step, then each next one on the latest
    step-aligned day within the cadence (or the cadence itself where no step falls in it), up to the review
    after the last step."""
    if cadence_days not in CADENCES_DAYS:
        raise ValueError("reviews are every 7 or 14 days")
    aligned = sorted({start + timedelta(days=days_after_step) for start in step_starts})
    if not aligned:
        return []
    targets = [aligned[0]]
    while targets[-1] < aligned[-1]:
        latest = targets[-1]
        within = [day for day in aligned if latest < day <= latest + timedelta(days=cadence_days)]
        targets.append(within[-1] if within else latest + timedelta(days=cadence_days))
    return targets


@dataclass(frozen=True)
class Reconciled:
    """What to do with a plan's future reviews after a change: keep these, cancel those, book new ones."""

    keep: frozenset[int]
    cancel: frozenset[int]
    to_book: tuple[date, ...]


def reconcile(targets: Sequence[date], booked: Sequence[tuple[int, date]], *,
              window_days: int = WINDOW_DAYS) -> Reconciled:
    """Match each target day to a booked review (id, day) within its window, earliest first; keep those,
    cancel the booked reviews no target needs, and book the targets left without one."""
    unmatched = sorted(booked, key=lambda entry: (entry[1], entry[0]))
    keep, to_book = set(), []
    for target in targets:
        match = next((entry for entry in unmatched
                      if target <= entry[1] <= target + timedelta(days=window_days)), None)
        if match is None:
            to_book.append(target)
        else:
            keep.add(match[0])
            unmatched.remove(match)
    return Reconciled(keep=frozenset(keep), cancel=frozenset(entry[0] for entry in unmatched),
                      to_book=tuple(to_book))


def review_overdue(*, last_review: date, cadence_days: int, today: date, next_booked: date | None) -> date | None:
    """The day a review became overdue, or None: overdue once the cadence and the booking window have passed
    since the last review held (or the plan's start) with nothing booked from today within the window."""
    due = last_review + timedelta(days=cadence_days + WINDOW_DAYS)
    if today <= due:
        return None
    if next_booked is not None and today <= next_booked <= today + timedelta(days=WINDOW_DAYS):
        return None
    return due
