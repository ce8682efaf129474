"""Slot finding around sessions, leave and bank holidays; where reviews go; reconciling after a revision."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from taper.domain.booking import (
    CLINIC_TIMEZONE,
    GRID,
    KIND_LENGTHS_MINUTES,
    LENGTHS_MINUTES,
    Session,
    appointment_message,
    english_bank_holidays,
    first_free_slot,
    follow_up_targets,
    initial_window,
    next_working_day,
    outside_sessions,
    ready_by,
    reconcile,
    session_at,
)
from taper.domain.follow_up import Mode

MONDAY = date(2026, 12, 21)  # Christmas week: 25, 26 (Saturday) and 28 December (substitute) are closed
CLINIC = [Session(0, time(9), time(12), remote=False, location="Room 4"),
          Session(2, time(13, 30), time(17), remote=True),
          Session(4, time(9), time(10), remote=False, location="Room 4")]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CLINIC_TIMEZONE)


def test_english_bank_holidays_include_substitute_days() -> None:
    closed = english_bank_holidays({2026, 2027})
    assert {date(2026, 12, 25), date(2026, 12, 28), date(2027, 3, 29), date(2027, 8, 30)} <= closed.keys()
    assert date(2026, 12, 24) not in closed and closed[date(2026, 12, 25)] == "Christmas Day"


def test_the_first_slot_is_in_a_session_after_what_is_busy() -> None:
    busy = [(_at(MONDAY, 9), _at(MONDAY, 9, 20)), (_at(MONDAY, 9, 30), _at(MONDAY, 10, 30))]
    slot = first_free_slot(sessions=CLINIC, closed=set(), busy=busy, length_minutes=20, mode=Mode.PHONE,
                           window=(MONDAY, MONDAY), not_before=_at(MONDAY, 0))
    assert slot is not None and (slot.starts, slot.ends, slot.location) == (
        _at(MONDAY, 10, 30), _at(MONDAY, 10, 50), "Room 4")  # 9:20 to 9:30 is too short for 20 minutes


def test_leave_and_bank_holidays_are_skipped_and_face_to_face_needs_a_site() -> None:
    closed = english_bank_holidays({2026, 2027}).keys() | {MONDAY}  # on leave on the Monday
    slot = first_free_slot(sessions=CLINIC, closed=closed, busy=[], length_minutes=30, mode=Mode.FACE_TO_FACE,
                           window=(MONDAY, MONDAY + timedelta(days=14)), not_before=_at(MONDAY, 0))
    # Wednesday is remote (no face to face); Friday 25 December, Monday 28 (Boxing Day's substitute) and Friday
    # 1 January are bank holidays: the first face-to-face slot is Monday 4 January.
    assert slot is not None and slot.starts == _at(date(2027, 1, 4), 9)
    phone = first_free_slot(sessions=CLINIC, closed=closed, busy=[], length_minutes=30, mode=Mode.VIDEO,
                            window=(MONDAY, MONDAY + timedelta(days=14)), not_before=_at(MONDAY, 0))
    assert phone is not None and phone.starts == _at(date(2026, 12, 23), 13, 30)


def test_no_slot_when_the_window_is_full_or_too_short() -> None:
    assert first_free_slot(sessions=CLINIC, closed=set(), busy=[], length_minutes=90, mode=Mode.FACE_TO_FACE,
                           window=(MONDAY + timedelta(days=4), MONDAY + timedelta(days=4)),
                           not_before=_at(MONDAY, 0)) is None  # Friday's session is one hour


def test_sessions_are_local_time_across_the_clock_change() -> None:
    after_change = date(2027, 3, 29)  # clocks went forward on 28 March 2027; Easter Monday too, so use Wednesday
    slot = first_free_slot(sessions=CLINIC, closed=english_bank_holidays({2027}), busy=[], length_minutes=15,
                           mode=Mode.PHONE, window=(after_change, after_change + timedelta(days=2)),
                           not_before=_at(after_change, 0))
    assert slot is not None and slot.starts.astimezone(CLINIC_TIMEZONE).time() == time(13, 30)
    assert slot.starts.utcoffset() == timedelta(hours=1)


sessions = st.lists(st.builds(
    lambda weekday, start, hours, remote: Session(weekday, time(start), time(start + hours), remote),
    st.integers(0, 6), st.integers(7, 14), st.integers(1, 4), st.booleans()), max_size=5)


@settings(max_examples=150, deadline=None)
@given(sessions=sessions, closed_offsets=st.sets(st.integers(0, 13), max_size=5),
       busy_starts=st.lists(st.tuples(st.integers(0, 13), st.integers(7 * 12, 18 * 12), st.integers(1, 24)),
                            max_size=8),
       length=st.sampled_from(LENGTHS_MINUTES), mode=st.sampled_from(list(Mode)), not_before_hours=st.integers(0, 200))
def test_the_first_free_slot_is_free_and_nothing_earlier_is(sessions, closed_offsets, busy_starts, length, mode,  # type: ignore[no-untyped-def]
                                                             not_before_hours) -> None:
    start = date(2027, 1, 4)
    closed = {start + timedelta(days=offset) for offset in closed_offsets}
    busy = [(_at(start + timedelta(days=day), 0) + GRID * fifth,
             _at(start + timedelta(days=day), 0) + GRID * (fifth + size)) for day, fifth, size in busy_starts]
    not_before = _at(start, 0) + timedelta(hours=not_before_hours)
    window = (start, start + timedelta(days=13))
    slot = first_free_slot(sessions=sessions, closed=closed, busy=busy, length_minutes=length, mode=mode,
                           window=window, not_before=not_before)

    def fits(starts: datetime) -> bool:
        ends = starts + timedelta(minutes=length)
        local = starts.astimezone(CLINIC_TIMEZONE)
        return (local.weekday() < 5 and local.date() not in closed and starts >= not_before and any(
            session.weekday == local.weekday() and session.allows(mode)
            and _at(local.date(), session.starts.hour) <= starts and ends <= _at(local.date(), session.ends.hour)
            and (starts - _at(local.date(), session.starts.hour)) % GRID == timedelta(0)
            for session in sessions) and not any(starts < busy_end and busy_start < ends
                                                 for busy_start, busy_end in busy))

    candidates = [_at(start, 0) + GRID * step for step in range(14 * 24 * 12)]
    first_fitting = next((candidate for candidate in candidates if fits(candidate)), None)
    assert (slot.starts if slot else None) == first_fitting


@settings(max_examples=200, deadline=None)
@given(gaps=st.lists(st.integers(7, 42), max_size=12), cadence=st.sampled_from([7, 14]))
def test_reviews_follow_steps_never_further_apart_than_the_cadence(gaps: list[int], cadence: int) -> None:
    steps = [date(2027, 1, 4)]
    for gap in gaps:
        steps.append(steps[-1] + timedelta(days=gap))
    targets = follow_up_targets(steps, cadence_days=cadence)
    aligned = [step + timedelta(days=3) for step in steps]
    assert targets[0] == aligned[0] and targets[-1] == aligned[-1]
    assert all(0 < (later - earlier).days <= cadence for earlier, later in itertools.pairwise(targets))
    if all(gap == cadence for gap in gaps):
        assert targets == aligned  # one review a few days after each step


def test_a_fortnightly_cadence_with_weekly_steps_reviews_every_other_step() -> None:
    steps = [date(2027, 1, 4) + timedelta(days=7 * n) for n in range(5)]
    assert follow_up_targets(steps, cadence_days=14) == [steps[0] + timedelta(days=3), steps[2] + timedelta(days=3),
                                                         steps[4] + timedelta(days=3)]


@given(targets=st.lists(st.dates(date(2027, 1, 1), date(2027, 6, 1)), unique=True, max_size=10),
       booked_days=st.lists(st.dates(date(2027, 1, 1), date(2027, 6, 1)), max_size=10))
def test_reconciling_keeps_cancels_or_books_every_review_exactly_once(targets: list[date],
                                                                      booked_days: list[date]) -> None:
    targets = sorted(targets)
    booked = list(enumerate(booked_days))
    result = reconcile(targets, booked)
    assert result.keep | result.cancel == {identifier for identifier, _ in booked}
    assert not result.keep & result.cancel
    assert len(result.keep) + len(result.to_book) == len(targets)
    for identifier in result.keep:
        day = dict(booked)[identifier]
        assert any(target <= day <= target + timedelta(days=4) for target in targets)


def test_nothing_is_proposed_at_a_weekend_even_in_a_session_there() -> None:
    saturday = date(2027, 1, 9)
    weekend = [Session(5, time(9), time(12), remote=False, location="Room 4"),
               Session(6, time(9), time(12), remote=False, location="Room 4")]
    assert first_free_slot(sessions=weekend, closed=set(), busy=[], length_minutes=20, mode=Mode.PHONE,
                           window=(saturday, saturday + timedelta(days=1)), not_before=_at(saturday, 0)) is None


@given(st.dates(date(2026, 1, 1), date(2028, 12, 1)), st.integers(0, 28))
def test_a_plan_is_ready_on_the_first_working_day_after_the_lead_time(issued_on: date, lead_days: int) -> None:
    closed = english_bank_holidays({issued_on.year, issued_on.year + 1})
    ready = ready_by(issued_on, lead_days=lead_days, bank_holidays=closed)
    earliest = issued_on + timedelta(days=lead_days)
    assert ready >= earliest and ready.weekday() < 5 and ready not in closed
    assert all(day.weekday() >= 5 or day in closed
               for day in (earliest + timedelta(days=offset) for offset in range((ready - earliest).days)))


def test_christmas_moves_the_start_past_every_closed_day() -> None:
    closed = english_bank_holidays({2026, 2027})
    assert ready_by(date(2026, 12, 18), lead_days=7, bank_holidays=closed) == date(2026, 12, 29)  # 25 to 28 shut
    assert next_working_day(date(2027, 1, 1), closed) == date(2027, 1, 4)  # New Year's Day is a Friday


def test_the_initial_consultation_window_ends_on_the_day_step_1_starts() -> None:
    assert initial_window(today=MONDAY, step_1_starts_on=MONDAY + timedelta(days=9)) == (
        MONDAY, MONDAY + timedelta(days=9))
    assert initial_window(today=MONDAY, step_1_starts_on=MONDAY) == (MONDAY, MONDAY)
    assert initial_window(today=MONDAY, step_1_starts_on=MONDAY - timedelta(days=1)) is None


def test_outside_sessions_says_why() -> None:
    closed = {date(2026, 12, 25): "a bank holiday (Christmas Day)", date(2026, 12, 23): "a day of your leave"}

    def why(day: date, hour: int, minutes: int = 20, mode: Mode = Mode.PHONE) -> str | None:
        return outside_sessions(starts=_at(day, hour), ends=_at(day, hour) + timedelta(minutes=minutes), mode=mode,
                                sessions=CLINIC, closed=closed)

    assert why(MONDAY, 9) is None and why(MONDAY, 11, minutes=60) is None  # Monday 9 to 12 at Room 4
    assert why(MONDAY, 11, minutes=90) == "it is outside your clinic sessions"  # runs past noon
    assert why(date(2026, 12, 26), 10) == "Saturday is at the weekend"
    assert why(date(2026, 12, 25), 9) == "Friday is a bank holiday (Christmas Day)"
    assert why(date(2026, 12, 23), 14) == "Wednesday is a day of your leave"
    assert why(date(2027, 1, 6), 14, mode=Mode.FACE_TO_FACE) == (
        "face to face needs a session at a site, and this session is remote")
    assert why(MONDAY + timedelta(days=1), 10) == "it is outside your clinic sessions"  # no Tuesday session


def test_each_kind_booked_by_hand_has_lengths_the_database_allows() -> None:
    assert KIND_LENGTHS_MINUTES["initial"] == (60, 90)  # issue 17: a first consultation of 60 or 90 minutes
    assert all(set(lengths) <= set(LENGTHS_MINUTES) for lengths in KIND_LENGTHS_MINUTES.values())


def test_the_session_holding_an_appointment_is_found_by_time_and_mode() -> None:
    site, remote = Session(0, time(9), time(12), False, "Room 4"), Session(0, time(13), time(17), True)
    monday = date(2027, 1, 4)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(monday, time(hour, minute), CLINIC_TIMEZONE)

    assert session_at(starts=at(11), ends=at(12), mode=Mode.FACE_TO_FACE, sessions=[site, remote]) == site
    assert session_at(starts=at(11, 30), ends=at(12, 30), mode=Mode.PHONE, sessions=[site, remote]) is None
    assert session_at(starts=at(14), ends=at(15), mode=Mode.FACE_TO_FACE, sessions=[site, remote]) is None
    assert session_at(starts=at(14), ends=at(15), mode=Mode.VIDEO, sessions=[site, remote]) == remote


def test_the_patient_is_told_the_time_how_and_where_in_plain_words() -> None:
    clinic = {"clinic_name": "Northgate Pain Clinic", "clinic_phone": "0113 496 0000"}
    subject, body = appointment_message(change="booked", when="Monday 11 January 2027 at 9am", mode="face_to_face",
                                        location="Room 4", length_minutes=60, **clinic)
    assert subject == "Your appointment"
    assert body == ("You have an appointment with Northgate Pain Clinic on Monday 11 January 2027 at 9am, for 60 "
                    "minutes, face to face. Come to Room 4. If you cannot make it, call 0113 496 0000.")
    subject, body = appointment_message(change="moved", when="Tuesday 12 January 2027 at 2:30pm", mode="phone",
                                        location="", length_minutes=20, **clinic)
    assert subject == "Your appointment has moved"
    assert body.startswith("Your appointment with Northgate Pain Clinic has moved. It is now on Tuesday 12 January "
                           "2027 at 2:30pm, for 20 minutes, by phone. We will phone you")
    subject, body = appointment_message(change="cancelled", when="Tuesday 12 January 2027 at 2:30pm", mode="video",
                                        location="", length_minutes=20, **clinic)
    assert (subject, body) == ("Your appointment is cancelled", "Your appointment with Northgate Pain Clinic on "
                               "Tuesday 12 January 2027 at 2:30pm is cancelled. If you did not expect this, or need "
                               "to talk to us, call 0113 496 0000.")
