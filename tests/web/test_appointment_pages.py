"""The pharmacist's appointment pages: sessions and leave, the day list and week, moving and marking
appointments, calendars (parsed back as RFC 5545), and the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from taper import clock, jobs
from taper.extensions import db
from taper.models import Appointment, ClinicSession, Message, User, WorklistItem
from taper.services import appointments, plans
from tests.conftest import MONDAY, Maker, at, page_text, submit


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


def _add_sessions(client: FlaskClient) -> None:
    for weekday, starts, ends, where, location in ((0, "09:00", "12:00", "site", "Room 4"),
                                                   (3, "09:00", "12:00", "remote", "")):
        response = submit(client, "/clinic/sessions", {"session-weekday": str(weekday), "session-starts": starts,
                                                       "session-ends": ends, "session-remote": where,
                                                       "session-location": location})
        assert response.status_code == 302, page_text(response)


def test_sessions_are_added_checked_and_removed(signed_in: FlaskClient) -> None:
    _add_sessions(signed_in)
    page = page_text(signed_in.get("/clinic/sessions"))
    assert "Monday 09:00 to 12:00, Room 4" in page and "Thursday 09:00 to 12:00, remote (phone and video)" in page
    refused = page_text(submit(signed_in, "/clinic/sessions", {
        "session-weekday": "0", "session-starts": "11:00", "session-ends": "13:00", "session-remote": "site",
        "session-location": "Room 5"}))
    assert "This overlaps another of your Monday sessions" in refused
    refused = page_text(submit(signed_in, "/clinic/sessions", {
        "session-weekday": "1", "session-starts": "11:00", "session-ends": "13:00", "session-remote": "site",
        "session-location": ""}))
    assert "Enter where the session is held, or choose remote" in refused
    session = db.session.scalar(select(ClinicSession).where(ClinicSession.weekday == 3))
    submit(signed_in, f"/clinic/sessions/{session.id}/remove", {}, form_url="/clinic/sessions")
    assert "Thursday 09:00 to 12:00" not in page_text(signed_in.get("/clinic/sessions"))


def test_leave_is_added_and_nothing_is_booked_on_it(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    _add_sessions(signed_in)
    response = submit(signed_in, "/clinic/sessions", {
        "leave-first_day-day": "4", "leave-first_day-month": "1", "leave-first_day-year": "2027",
        "leave-last_day-day": "8", "leave-last_day-month": "1", "leave-last_day-year": "2027", "leave-note": "Away"})
    assert response.status_code == 302
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    first = appointments.upcoming(plan.id)[0]
    assert first.starts_at == at(date(2027, 1, 11), 9)  # the Monday after the leave


def test_the_day_list_moves_and_marks_appointments(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    _add_sessions(signed_in)
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    initial = appointments.upcoming(plan.id)[0]
    day = page_text(signed_in.get("/appointments"))
    assert "Appointments on Monday 4 January 2027" in day and "9am" in day and "LOVELACE, Ada" in day
    assert "Initial consultation, 60 minutes, face to face (Room 4)" in day
    page = page_text(signed_in.get(f"/appointments/{initial.id}"))
    assert "Monday 4 January 2027 at 9am, face to face at Room 4 (60 minutes)" in page
    assert f'name="move-version" type="hidden" value="{initial.version}"' in page  # the form sends its version
    moved = submit(signed_in, f"/appointments/{initial.id}", {
        "move-day-day": "4", "move-day-month": "1", "move-day-year": "2027", "move-starts": "10:30",
        "move-length_minutes": "90", "move-mode": "video", "move-version": str(initial.version)},
        follow_redirects=True)
    assert "Moved to Monday 4 January 2027 at 10:30am, by video call (90 minutes)" in page_text(moved)
    db.session.refresh(initial)
    submit(signed_in, f"/appointments/{initial.id}/status", {
        "status-action": "confirm", "status-version": str(initial.version), "back": "day"},
        form_url=f"/appointments/{initial.id}")
    db.session.refresh(initial)
    assert initial.status == "confirmed"
    with clock.freeze(at(MONDAY, 12)):
        response = submit(signed_in, f"/appointments/{initial.id}/status", {
            "status-action": "did_not_attend", "status-version": str(initial.version), "back": "day"},
            form_url=f"/appointments/{initial.id}")
        assert response.headers["Location"].endswith("/appointments?day=2027-01-04")
        home = page_text(signed_in.get("/")).split('id="overdue"')[1].split('id="completion"')[0]
    assert "Did not attend the initial consultation on Monday 4 January 2027 at 10:30am" in home
    assert db.session.scalar(select(WorklistItem.kind)) == "did_not_attend"


def test_cancelling_needs_a_reason_and_a_stale_form_is_refused(signed_in: FlaskClient, pharmacist: User,
                                                               make: Maker) -> None:
    _add_sessions(signed_in)
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    review = appointments.upcoming(plan.id)[1]
    url = f"/appointments/{review.id}/status"
    page = page_text(submit(signed_in, url, {"status-action": "cancel", "status-version": str(review.version),
                                         "status-reason": ""}, form_url=f"/appointments/{review.id}"))
    assert "Say why the appointment is cancelled" in page
    page = page_text(submit(signed_in, url, {"status-action": "cancel", "status-version": str(review.version - 1),
                                         "status-reason": "Patient asked"}, form_url=f"/appointments/{review.id}"))
    assert "Someone else saved changes" in page
    submit(signed_in, url, {"status-action": "cancel", "status-version": str(review.version),
                            "status-reason": "Patient asked"}, form_url=f"/appointments/{review.id}")
    db.session.refresh(review)
    assert (review.status, review.status_reason) == ("cancelled", "Patient asked")


def test_calendars_are_valid_icalendar_and_the_patients_says_nothing_clinical(
        signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    _add_sessions(signed_in)
    patient = make.patient(pharmacist)
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY)
    own = signed_in.get("/appointments/calendar.ics")
    assert own.mimetype == "text/calendar"
    events = Calendar.from_ical(own.get_data()).walk("VEVENT")
    booked = appointments.upcoming(plan.id)
    assert [event.decoded("dtstart") for event in events] == [each.starts_at for each in booked]
    assert str(events[0]["summary"]) == "Initial consultation: LOVELACE, Ada (face to face)"
    assert str(events[0]["location"]) == "Room 4" and str(events[0]["uid"]) == f"appointment-{booked[0].id}@taper"
    theirs = Calendar.from_ical(signed_in.get(f"/patients/{patient.id}/appointments.ics").get_data())
    text = theirs.to_ical().decode()
    assert len(theirs.walk("VEVENT")) == len(booked)
    assert "NHS number" not in text and "Initial consultation" not in text and "morphine" not in text.lower()
    assert str(theirs.walk("VEVENT")[0]["description"]).startswith("If you cannot come, call 0113 496")
    other_clinic_patient = make.patient(make.user())
    assert signed_in.get(f"/patients/{other_clinic_patient.id}/appointments.ics").status_code == 404


def test_the_outbox_shows_reminders_and_failures_can_be_sent_again(signed_in: FlaskClient, pharmacist: User,
                                                                   make: Maker) -> None:
    patient = make.patient(pharmacist, contact_by="sms", mobile_phone="07700900123")
    assert patient.mobile_phone == "07700 900123"
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY)
    with clock.freeze(at(date(2027, 1, 17), 9)):
        jobs.run("step-reminders")
    page = page_text(signed_in.get("/messages"))
    assert "Text: 07700 900123" in page and "Your next step starts tomorrow." in page and "Sent" in page
    message = db.session.scalar(select(Message))
    message.status, message.last_error = "failed", "GOV.UK Notify answered 400: phone_number Not a UK mobile"
    db.session.commit()
    page = page_text(signed_in.get("/messages"))
    assert "Not a UK mobile" in page and "Send again" in page
    submit(signed_in, f"/messages/{message.id}/retry", {}, form_url="/messages")
    db.session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0)
    assert plan.id  # the plan the reminder was about


def test_the_plan_page_lists_appointments_and_warns_of_reviews_not_booked(signed_in: FlaskClient,
                                                                          pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)  # no sessions yet: nothing booked
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "Reviews not booked" in page and "7 January 2027" in page
    _add_sessions(signed_in)
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=MONDAY,
                         hold_days=1, reason="Rebook")
    db.session.commit()
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    # The reviews due on Fridays 30 April and 28 May are left: each window holds a bank holiday Monday (early
    # May, spring) and no other session.
    assert "No review is booked around 30 April 2027, 28 May 2027: no free slot" in page
    assert db.session.scalar(select(Appointment).where(Appointment.kind == "initial")) is not None


def test_the_plan_page_says_to_tell_a_patient_sent_no_messages_their_times(signed_in: FlaskClient,
                                                                          pharmacist: User, make: Maker) -> None:
    _add_sessions(signed_in)
    quiet = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    texted = make.running_plan(pharmacist, make.patient(pharmacist, contact_by="sms", mobile_phone="07700 900123"),
                               start_on=MONDAY)
    assert appointments.upcoming(quiet.id) and appointments.upcoming(texted.id)
    assert "these times yourself" in page_text(signed_in.get(f"/plans/{quiet.id}"))
    assert "these times yourself" not in page_text(signed_in.get(f"/plans/{texted.id}"))


def test_moving_outside_sessions_is_refused_unless_confirmed_as_an_extra_session(
        signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    _add_sessions(signed_in)  # Monday 9 to 12 at Room 4, Thursday 9 to 12 remote
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    review = appointments.upcoming(plan.id)[1]
    url = f"/appointments/{review.id}"

    def move_to(day: date, starts: str, mode: str = "phone", **extra: str):  # type: ignore[no-untyped-def]
        return submit(signed_in, url, {
            "move-day-day": str(day.day), "move-day-month": str(day.month), "move-day-year": str(day.year),
            "move-starts": starts, "move-length_minutes": "20", "move-mode": mode, "move-version": str(review.version),
            **extra}, follow_redirects=True)

    refusals = {
        (date(2027, 1, 9), "10:00", "phone"): "Saturday is at the weekend",
        (date(2027, 3, 29), "10:00", "phone"): "Monday is a bank holiday (Easter Monday)",
        (date(2027, 1, 12), "10:00", "phone"): "it is outside your clinic sessions",  # no Tuesday session
        (date(2027, 1, 11), "16:00", "phone"): "it is outside your clinic sessions",  # Monday, after the session
        (date(2027, 1, 14), "10:00", "face_to_face"): "face to face needs a session at a site",  # Thursday: remote
    }
    for (day, starts, mode), why in refusals.items():
        refused = page_text(move_to(day, starts, mode))
        assert f"Not booked: {why}" in refused and "confirm that you will hold an extra session" in refused, day
    db.session.refresh(review)
    assert appointments.local_day(review.starts_at) == date(2027, 1, 7)  # nothing moved
    moved = page_text(move_to(date(2027, 1, 9), "10:00", **{"move-extra_session": "y"}))
    assert "Moved to Saturday 9 January 2027 at 10am, by phone (20 minutes)" in moved
    assert "In an extra session, outside your usual sessions." in moved
    db.session.refresh(review)
    assert review.extra_session
    day = page_text(signed_in.get("/appointments?day=2027-01-09"))
    assert "Follow-up, 20 minutes, phone, extra session" in day
    back = page_text(move_to(date(2027, 1, 11), "11:00"))  # back into a session: no longer an extra one
    db.session.refresh(review)
    assert "Moved to Monday 11 January 2027 at 11am" in back and not review.extra_session


def test_sessions_are_on_weekdays_only(signed_in: FlaskClient, pharmacist: User) -> None:
    from taper.services import capacity
    from taper.services.errors import InvalidInput

    page = page_text(signed_in.get("/clinic/sessions"))
    assert '<option value="4" >Friday</option>' in page and "Saturday</option>" not in page
    refused = page_text(submit(signed_in, "/clinic/sessions", {
        "session-weekday": "5", "session-starts": "09:00", "session-ends": "12:00", "session-remote": "remote",
        "session-location": ""}))
    assert "Not a valid choice" in refused
    with pytest.raises(InvalidInput, match="Monday to Friday"):
        capacity.add_session(by=pharmacist, details=capacity.SessionDetails(6, time(9), time(12), remote=True))
    assert db.session.scalar(select(ClinicSession)) is None


@pytest.mark.parametrize("query", ["/appointments?day=0001-01-01", "/appointments?day=9999-12-31",
                                   "/appointments/week?start=0001-01-03", "/appointments/week?start=9999-12-30",
                                   "/appointments?day=2027-02-30"])
def test_a_day_the_calendar_cannot_show_with_its_neighbours_is_not_found(signed_in: FlaskClient, query: str) -> None:
    """Issue 15: year 1 or 9999 was a 500 (the page links the day before and after)."""
    assert signed_in.get(query).status_code == 404
    assert signed_in.get("/appointments?day=2027-01-04").status_code == 200
