"""Booking pages (issue 17): "Book an appointment" from the day list, week, patient and plan pages; the patient
found first when the link names none; the first free times offered; the session rules and overlaps as form
errors; one message to the patient per booking or move, never two for a form sent twice; and the links to
record a follow-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper import clock
from taper.extensions import db
from taper.models import Appointment, Message, Patient, User
from taper.services import appointments, booking
from tests.conftest import MONDAY, Maker, at, page_text, submit

SATURDAY = MONDAY + timedelta(days=5)


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def sessions(signed_in: FlaskClient) -> None:
    """Monday 9 to 12 in Room 4, Thursday 9 to 12 remote."""
    for weekday, where, location in ((0, "site", "Room 4"), (3, "remote", "")):
        response = submit(signed_in, "/clinic/sessions", {"session-weekday": str(weekday), "session-starts": "09:00",
                                                          "session-ends": "12:00", "session-remote": where,
                                                          "session-location": location})
        assert response.status_code == 302, page_text(response)


@pytest.fixture
def texted(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist, contact_by="sms", mobile_phone="07700 900123")


def _keyed(client: FlaskClient, url: str) -> dict[str, str]:
    """The booking form's CSRF token and submission key, as the page gave them."""
    page = client.get(url).get_data(as_text=True)
    return {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "book-submission_key")}


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_booking_from_the_day_list_finds_the_patient_offers_free_times_and_tells_the_patient(
        signed_in: FlaskClient, sessions: None, texted: Patient) -> None:
    day = page_text(signed_in.get("/appointments?day=2027-01-11"))
    assert 'href="/appointments/book?day=2027-01-11"' in day and "Book an appointment" in day
    find = page_text(signed_in.get("/appointments/book?day=2027-01-11&kind=extra_review"))
    assert "Find the patient on your clinic" in find
    found = page_text(signed_in.get("/appointments/book?day=2027-01-11&kind=extra_review&query=Lovelace"))
    assert f'/appointments/book?patient_id={texted.id}&amp;kind=extra_review&amp;day=2027-01-11' in found
    url = f"/appointments/book?patient_id={texted.id}&kind=initial&length_minutes=90&mode=face_to_face&day=2027-01-11"
    page = page_text(signed_in.get(url))
    assert "When: initial consultation, 90 minutes, face to face" in page and "no plan yet" in page
    assert "Monday 11 January 2027 at 9am (Room 4)" in page  # the first free face-to-face time from that day
    assert "Monday 11 January 2027 at 10:30am (Room 4)" in page  # the last 90 minutes of the session
    assert "Monday 11 January 2027 at 10:35am" not in page  # would run past noon
    first = at(MONDAY + timedelta(days=7), 9).isoformat()
    fields = {**_keyed(signed_in, url), "book-when": first}
    booked = signed_in.post(url, data=fields, follow_redirects=True)
    assert "Booked: initial consultation on Monday 11 January 2027 at 9am, face to face at Room 4 (90 minutes)" in \
        page_text(booked)
    again = signed_in.post(url, data=fields, follow_redirects=True)  # a double click, or Back and Book again
    assert "This was already saved" in page_text(again)
    assert _count(Appointment) == 1 and _count(Message) == 1
    outbox = page_text(signed_in.get("/messages"))
    assert "You have an appointment with " in outbox and "on Monday 11 January 2027 at 9am, for 90 minutes" in outbox


def test_outside_sessions_is_a_form_error_unless_an_extra_session(signed_in: FlaskClient, sessions: None,
                                                                   texted: Patient) -> None:
    url = f"/appointments/book?patient_id={texted.id}&kind=initial&length_minutes=60&mode=phone"
    other: dict[str, object] = {"book-when": "other", "book-day-day": str(SATURDAY.day), "book-day-month": "1",
             "book-day-year": "2027", "book-starts": "10:00"}
    refused = submit(signed_in, url, other)
    assert refused.status_code == 200
    assert "Not booked: Saturday is at the weekend. Choose another time, or confirm" in page_text(refused)
    missing = page_text(submit(signed_in, url, {"book-when": "other"}))
    assert "Enter the date" in missing and "Enter the time, like 10:30" in missing
    assert _count(Appointment) == 0
    booked = page_text(submit(signed_in, url, {**other, "book-extra_session": "y"}, follow_redirects=True))
    assert "Booked: initial consultation on Saturday 9 January 2027 at 10am, by phone (60 minutes)" in booked
    assert "In an extra session, outside your usual sessions." in booked


def test_a_patient_sent_no_messages_is_named_so_the_pharmacist_tells_them(signed_in: FlaskClient, sessions: None,
                                                                         texted: Patient, make: Maker,
                                                                         pharmacist: User) -> None:
    quiet = make.patient(pharmacist, given_name="Grace", family_name="Hopper")  # no way to contact her recorded
    for patient, warned in ((quiet, True), (texted, False)):
        url = f"/appointments/book?patient_id={patient.id}&kind=initial&length_minutes=60&mode=phone"
        booked = page_text(submit(signed_in, url, {"book-when": "other", "book-day-day": str(SATURDAY.day),
                                                   "book-day-month": "1", "book-day-year": "2027",
                                                   "book-starts": "10:00" if warned else "12:00",
                                                   "book-extra_session": "y"}, follow_redirects=True))
        assert "Booked: initial consultation" in booked
        assert ("is sent no messages (no way to contact them is recorded): tell them yourself." in booked) is warned


def test_a_time_taken_since_it_was_offered_is_a_form_error(signed_in: FlaskClient, sessions: None,
                                                           pharmacist: User, make: Maker) -> None:
    first, second = make.patient(pharmacist), make.patient(pharmacist)
    monday_9 = at(MONDAY, 9).isoformat()
    for patient, status in ((first, 302), (second, 200)):
        response = submit(signed_in, f"/appointments/book?patient_id={patient.id}&kind=initial",
                          {"book-when": monday_9})
        assert response.status_code == status
    assert "That time overlaps another appointment of the pharmacist" in page_text(response)
    assert _count(Appointment) == 1


def test_a_review_without_a_running_plan_is_refused(signed_in: FlaskClient, sessions: None,
                                                   pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    response = submit(signed_in, f"/appointments/book?patient_id={patient.id}&kind=extra_review",
                      {"book-when": at(MONDAY, 9).isoformat()})
    assert "A review is of a running plan, and this patient has none: book an initial consultation" in \
        page_text(response)


def test_the_patient_plan_and_week_pages_link_to_booking_and_list_what_is_booked(
        signed_in: FlaskClient, sessions: None, pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert "No appointments booked." in page
    assert f'href="/appointments/book?patient_id={patient.id}&amp;kind=initial"' in page
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY)
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert f'href="/appointments/book?patient_id={patient.id}&amp;kind=follow_up"' in page
    assert "initial consultation, 60 minutes, face to face (Room 4) (proposed)" in page
    plan_page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert f'href="/appointments/book?patient_id={patient.id}&amp;plan_id={plan.id}&amp;kind=extra_review"' in \
        plan_page
    initial = appointments.upcoming(plan.id)[0]
    follow_up = f'href="/plans/{plan.id}/follow-ups/new?appointment={initial.id}"'
    assert follow_up in plan_page and "Record the follow-up" in plan_page
    assert follow_up in page_text(signed_in.get("/appointments"))
    assert follow_up in page_text(signed_in.get(f"/appointments/{initial.id}"))
    week = page_text(signed_in.get("/appointments/week?start=2027-01-04"))
    assert 'href="/appointments/book?day=2027-01-09"' in week  # each day, the weekend too


def test_moving_tells_the_patient_once(signed_in: FlaskClient, sessions: None, texted: Patient,
                                       pharmacist: User) -> None:
    from taper.domain.follow_up import Mode

    booked = booking.book(by=pharmacist, patient_id=texted.id, plan_id=None, kind="initial",
                               starts_at=at(MONDAY, 9), length_minutes=60, mode=Mode.FACE_TO_FACE)
    db.session.commit()
    url = f"/appointments/{booked.id}"
    page = signed_in.get(url).get_data(as_text=True)
    assert "no plan yet" in page and "Record the follow-up" not in page  # a follow-up is of a plan
    key = re.search(r'name="move-submission_key"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    fields = {"csrf_token": csrf, "move-submission_key": key, "move-day-day": "11", "move-day-month": "1",
              "move-day-year": "2027", "move-starts": "10:00", "move-length_minutes": "60", "move-mode": "phone",
              "move-version": str(booked.version)}
    assert "Moved to Monday 11 January 2027 at 10am" in page_text(signed_in.post(url, data=fields,
                                                                               follow_redirects=True))
    assert "already saved" in page_text(signed_in.post(url, data=fields, follow_redirects=True))
    kinds = db.session.scalars(select(Message.kind).where(Message.patient_id == texted.id).order_by(Message.id))
    assert list(kinds) == ["appointment_booked", "appointment_moved"]
