"""Booking: where a plan's reviews go, and the first free slot for each. Pure functions of dates and times.

Cadence (docs/clinical-sources.md, Booking cadence of follow-ups: the national analysis and CDC 2022): an initial
consultation of 60 to 90 minutes, then short reviews (15 to 30 minutes) every one to two weeks, placed a few
days after a step change so the patient is seen while withdrawal symptoms would show. CDC 2022 asks for follow-up
at least monthly; this is more frequent. Clinic sessions are in English local time; bank holidays are England's
(the `holidays` package) and no one is booked on leave.

Order of events (Taper issue 12): the initial consultation falls on or before the day step 1 starts, never after;
nothing is proposed at a weekend, on a bank holiday, on leave or outside the pharmacist's sessions; and the
builder's default start leaves the clinic's lead time (7 days unless the clinic sets another) for the GP to
prescribe and the pharmacy to order any new strengths, moved on to the next working day.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays

from taper.clock import CLINIC_TIMEZONE
from taper.domain.follow_up import Mode

LENGTHS_MINUTES = (15, 20, 30, 60, 90)
# What a pharmacist books by hand (issue 17): each kind's lengths, the first being the one offered first.
KIND_LENGTHS_MINUTES = {"initial": (60, 90), "follow_up": (20, 15, 30), "extra_review": (30, 15, 20, 60)}
INITIAL_MINUTES = 60
FOLLOW_UP_MINUTES = 20
CADENCES_DAYS = (7, 14)
DAYS_AFTER_STEP = 3  # "a few days after each step change"
WINDOW_DAYS = 4  # a review may go this many days after its target day
DEFAULT_LEAD_DAYS = 7  # from the plan going out to step 1: the GP can prescribe, the pharmacy can order
LEAD_DAYS_RANGE = range(0, 29)
WORKING_WEEKDAYS = range(5)  # Monday to Friday: nothing is proposed at a weekend
MODE_WORDS = {"face_to_face": "face to face", "phone": "by phone", "video": "by video call"}
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


def english_bank_holidays(years: Collection[int]) -> dict[date, str]:
    """Bank holidays in England (substitute days included) with their names, from the `holidays` package."""
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=sorted(years)))


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
        if is_working_day(day, closed):
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


def is_working_day(day: date, closed: Collection[date]) -> bool:
    """Monday to Friday, and not a closed day (a bank holiday, or leave where `closed` includes it)."""
    return day.weekday() in WORKING_WEEKDAYS and day not in closed


def next_working_day(day: date, closed: Collection[date]) -> date:
    """`day` itself if it is a working day, otherwise the next one."""
    while not is_working_day(day, closed):
        day += timedelta(days=1)
    return day


def ready_by(issued_on: date, *, lead_days: int, bank_holidays: Collection[date]) -> date:
    """The first day a plan issued on `issued_on` can safely start: `lead_days` later, on a working day, so that
    the GP has the letter before the first prescription and the pharmacy can order any new strengths."""
    if lead_days not in LEAD_DAYS_RANGE:
        raise ValueError(f"the lead time is from {LEAD_DAYS_RANGE.start} to {LEAD_DAYS_RANGE.stop - 1} days")
    return next_working_day(issued_on + timedelta(days=lead_days), bank_holidays)


def initial_window(*, today: date, step_1_starts_on: date) -> tuple[date, date] | None:
    """Where the initial consultation may go: from today up to the day step 1 starts, never after it. None when
    step 1 has already started (the plan was agreed in a consultation that was, in effect, the initial one)."""
    return (today, step_1_starts_on) if step_1_starts_on >= today else None


def outside_sessions(*, starts: datetime, ends: datetime, mode: Mode, sessions: Sequence[Session],
                     closed: Mapping[date, str]) -> str | None:
    """Why an appointment from `starts` to `ends` is not in the pharmacist's working time, in words, or None when
    it is. `closed` names each closed day: {day: "a bank holiday (Christmas Day)"} or {day: "your leave"}."""
    local_start, local_end = starts.astimezone(CLINIC_TIMEZONE), ends.astimezone(CLINIC_TIMEZONE)
    day = local_start.date()
    if day.weekday() not in WORKING_WEEKDAYS:
        return f"{local_start:%A} is at the weekend"
    if day in closed:
        return f"{local_start:%A} is {closed[day]}"
    fitting = [each for each in sessions if each.weekday == day.weekday() and local_end.date() == day
               and each.starts <= local_start.time() and local_end.time() <= each.ends]
    if not fitting:
        return "it is outside your clinic sessions"
    if not any(each.allows(mode) for each in fitting):
        return "face to face needs a session at a site, and this session is remote"
    return None


def session_at(*, starts: datetime, ends: datetime, mode: Mode, sessions: Sequence[Session]) -> Session | None:
    """The pharmacist's session that holds an appointment from `starts` to `ends` in that mode, if any."""
    local_start, local_end = starts.astimezone(CLINIC_TIMEZONE), ends.astimezone(CLINIC_TIMEZONE)
    return next((each for each in sessions if each.weekday == local_start.weekday() and each.allows(mode)
                 and local_end.date() == local_start.date()
                 and each.starts <= local_start.time() and local_end.time() <= each.ends), None)


def appointment_message(*, change: str, when: str, mode: str, location: str, length_minutes: int,
                        clinic_name: str, clinic_phone: str) -> tuple[str, str]:
    """(subject, body) of the message telling a patient their appointment was booked, moved or cancelled, in
    plain words: `when` as "Monday 11 January 2027 at 10am", `mode` one of face_to_face, phone, video."""
    if change == "cancelled":
        return ("Your appointment is cancelled",
                f"Your appointment with {clinic_name} on {when} is cancelled. If you did not expect this, or need "
                f"to talk to us, call {clinic_phone}.")
    how = {"face_to_face": f"Come to {location or clinic_name}.",
           "phone": "We will phone you on the number we have for you.",
           "video": "We will send you a link to join the video call."}[mode]
    subject = {"booked": "Your appointment", "moved": "Your appointment has moved"}[change]
    opening = (f"Your appointment with {clinic_name} has moved. It is now" if change == "moved"
               else f"You have an appointment with {clinic_name}")
    return (subject, f"{opening} on {when}, for {length_minutes} minutes, {MODE_WORDS[mode]}. {how} If you cannot "
                     f"make it, call {clinic_phone}.")


def plan_appointments_message(*, booked: Sequence[str], cancelled: Sequence[str], clinic_name: str,
                              clinic_phone: str, shown: int = 4) -> tuple[str, str]:
    """(subject, body) of the one message telling a patient which appointments the clinic booked or cancelled
    when their plan started, changed or ended (each given as `describe` words). The plan's documents list no
    times (a time can change after they are printed), so this message is where the patient finds them; at most
    `shown` are listed, to keep a text message short, and the rest are counted."""
    parts = []
    if booked:
        listed = "; ".join(booked[:shown])
        more = len(booked) - shown
        parts.append(f"We have booked {'this appointment' if len(booked) == 1 else 'these appointments'} for you "
                     f"with {clinic_name}: {listed}."
                     + (f" And {more} more after that: we will tell you each time before it." if more > 0 else ""))
    if cancelled:
        parts.append(f"{'This appointment is' if len(cancelled) == 1 else 'These appointments are'} cancelled: "
                     f"{'; '.join(cancelled[:shown])}."
                     + (f" And {len(cancelled) - shown} more after that." if len(cancelled) > shown else ""))
    parts.append(f"If you cannot make a time, or want to check when your next appointment is, call {clinic_phone}.")
    subject = "Your appointments" if booked else "Your appointments are cancelled"
    return subject, " ".join(parts)


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
