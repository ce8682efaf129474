"""Order of events on any day of the year (Taper issue 12): a plan started on each of seven consecutive days, on
a bank holiday and in Christmas week. On every one, the builder's default start leaves the clinic's lead time
and falls on a working day; the initial consultation comes on or before step 1, never after; nothing is
proposed at a weekend, on a bank holiday, on leave or outside the pharmacist's sessions; and the GP letter's
first prescription is never dated before the letter. The checks here are written out independently of the
booking code (the `holidays` package and the sessions as listed below)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta

import holidays
import pytest
from pypdf import PdfReader

from taper import clock
from taper.domain.booking import CLINIC_TIMEZONE
from taper.extensions import db
from taper.models import Appointment, Plan, User
from taper.services import appointments, capacity, lead_time, plan_documents
from taper.services.capacity import SessionDetails
from tests.conftest import MONDAY, Maker, at

# (weekday, starts, ends, face to face?) The week of the pharmacist in these tests.
SESSIONS = ((0, time(9), time(12), True), (2, time(13, 30), time(17), False), (3, time(9), time(12), True))
ENGLAND = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2029))
DAYS = [*(MONDAY + timedelta(days=offset) for offset in range(7)),  # Monday 4 to Sunday 10 January 2027
        date(2027, 5, 31),  # the spring bank holiday
        date(2026, 12, 24), date(2026, 12, 25)]  # Christmas week: Christmas Eve and Christmas Day
LEAVE_FROM, LEAVE_DAYS = 8, 2  # the pharmacist is on leave 8 and 9 days after the plan is made


@pytest.fixture
def pharmacist(make: Maker) -> User:
    pharmacist = make.user()
    for weekday, starts, ends, at_site in SESSIONS:
        capacity.add_session(by=pharmacist, details=SessionDetails(
            weekday, starts, ends, remote=not at_site, location="Room 4" if at_site else ""))
    db.session.commit()
    return pharmacist


def _working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in ENGLAND


def _in_working_time(appointment: Appointment, leave: set[date]) -> bool:
    starts = appointment.starts_at.astimezone(CLINIC_TIMEZONE)
    ends = appointment.ends_at.astimezone(CLINIC_TIMEZONE)
    return _working_day(starts.date()) and starts.date() not in leave and any(
        weekday == starts.weekday() and (at_site or appointment.mode != "face_to_face")
        and session_starts <= starts.time() and ends.time() <= session_ends and ends.date() == starts.date()
        for weekday, session_starts, session_ends, at_site in SESSIONS)


def _first_prescription(plan: Plan) -> date:
    letter = next(each for each in plan_documents.documents_of(plan.current) if each.kind == "gp_letter")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    due = re.search(r"Prescriptions are due at the start of each instalment: ([^,.]+)", text)
    assert due is not None, text
    return datetime.strptime(due.group(1), "%d %B %Y").date()


@pytest.mark.parametrize("today", DAYS, ids=lambda day: f"{day:%a-%d-%b-%Y}")
def test_plans_made_on_any_day_keep_the_order_of_events(today: date, pharmacist: User, make: Maker) -> None:
    with clock.freeze(at(today, 8)):
        leave = {today + timedelta(days=LEAVE_FROM + offset) for offset in range(LEAVE_DAYS)}
        capacity.add_leave(by=pharmacist, first_day=min(leave), last_day=max(leave))
        clinic = pharmacist.organisation
        assert clinic is not None

        # The builder's default start: at least the clinic's 7 days away, on the first working day from then.
        default_start = lead_time.default_start_on(clinic)
        assert default_start >= today + timedelta(days=7) and _working_day(default_start)
        assert not any(_working_day(today + timedelta(days=offset))
                       for offset in range(7, (default_start - today).days))
        assert lead_time.early_start_notice(clinic, default_start) is None
        assert "before" in (lead_time.early_start_notice(clinic, today) or "")

        planned = make.running_plan(pharmacist, make.patient(pharmacist), start_on=default_start)
        earlier = make.running_plan(pharmacist, make.patient(pharmacist), start_on=today - timedelta(days=3))

        for plan in (planned, earlier):
            proposed = appointments.upcoming(plan.id)
            assert proposed, "reviews were proposed"
            outside = [appointments.describe(each) for each in proposed if not _in_working_time(each, leave)]
            assert outside == [], f"proposed outside working time: {outside}"
            assert _first_prescription(plan) >= today  # never before the letter, issued today

        initial = [each for each in appointments.upcoming(planned.id) if each.kind == "initial"]
        assert len(initial) == 1 and today <= appointments.local_day(initial[0].starts_at) <= default_start
        assert appointments.initial_not_booked(planned) is None
        # Step 1 of the earlier plan began before today: no initial consultation can come before it, so none is
        # proposed (the plan was agreed in what was, in effect, the initial consultation).
        assert all(each.kind == "follow_up" for each in appointments.upcoming(earlier.id))
        assert _first_prescription(earlier) == today
