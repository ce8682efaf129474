"""Booking by hand (issue 17): any kind of appointment, a first consultation before any plan, the first free
slots, the session rules, overlaps refused in words, and one message to the patient for each booking, move or
cancellation. The clock is frozen on a Monday morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from taper import clock, jobs
from taper.domain.follow_up import Mode
from taper.extensions import db
from taper.models import Appointment, AuditEvent, Message, Patient, User, WorklistItem
from taper.services import appointments, booking, calendars, capacity
from taper.services.capacity import SessionDetails
from taper.services.errors import InvalidInput
from tests.conftest import MONDAY, Maker, at

SATURDAY = MONDAY + timedelta(days=5)


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def pharmacist(make: Maker) -> User:
    """Monday 9 to 12 in Room 4; Wednesday 13:30 to 17 remote."""
    pharmacist = make.user()
    for details in (SessionDetails(0, time(9), time(12), remote=False, location="Room 4"),
                    SessionDetails(2, time(13, 30), time(17), remote=True)):
        capacity.add_session(by=pharmacist, details=details)
    db.session.commit()
    return pharmacist


@pytest.fixture
def texted(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist, contact_by="sms", mobile_phone="07700 900123")


def _messages(patient: Patient) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.patient_id == patient.id).order_by(Message.id)))


def test_a_first_consultation_is_booked_before_any_plan_and_the_patient_is_told(pharmacist: User,
                                                                                 texted: Patient) -> None:
    booked = booking.book(by=pharmacist, patient_id=texted.id, plan_id=None, kind="initial",
                               starts_at=at(MONDAY, 9), length_minutes=90, mode=Mode.FACE_TO_FACE)
    db.session.commit()
    assert (booked.plan_id, booked.kind, booked.status, booked.location, booked.extra_session) == (
        None, "initial", "confirmed", "Room 4", False)
    assert booked.ends_at == at(MONDAY, 10, 30)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "appointment",
                                                       AuditEvent.entity_id == str(booked.id)))
    assert audit is not None and audit.action == "create" and audit.patient_id == texted.id
    [message] = _messages(texted)
    assert (message.channel, message.to, message.kind) == ("sms", "07700 900123", "appointment_booked")
    assert message.body.startswith("You have an appointment with ")
    assert "on Monday 4 January 2027 at 9am, for 90 minutes, face to face. Come to Room 4." in message.body


def test_each_kind_is_booked_and_a_review_needs_a_running_plan(pharmacist: User, make: Maker) -> None:
    no_plan = make.patient(pharmacist)
    with pytest.raises(InvalidInput, match="this patient has none: book an initial consultation"):
        booking.book(by=pharmacist, patient_id=no_plan.id, plan_id=None, kind="extra_review",
                          starts_at=at(MONDAY, 9), length_minutes=30, mode=Mode.PHONE)
    db.session.rollback()
    patient = make.patient(pharmacist)
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY + timedelta(days=14))
    for kind, day, hour, minutes, mode in (("follow_up", MONDAY + timedelta(days=7), 11, 20, Mode.PHONE),
                                           ("extra_review", MONDAY + timedelta(days=2), 14, 30, Mode.VIDEO),
                                           ("initial", MONDAY + timedelta(days=7), 9, 60, Mode.FACE_TO_FACE)):
        booked = booking.book(by=pharmacist, patient_id=patient.id, plan_id=None, kind=kind,
                                   starts_at=at(day, hour), length_minutes=minutes, mode=mode)
        assert (booked.plan_id, booked.kind, booked.mode) == (plan.id, kind, mode.value)  # the running plan
    with pytest.raises(InvalidInput, match="Initial consultation: choose 60 or 90 minutes"):
        booking.book(by=pharmacist, patient_id=patient.id, plan_id=plan.id, kind="initial",
                          starts_at=at(MONDAY + timedelta(days=14), 9), length_minutes=20, mode=Mode.PHONE)


def test_the_first_free_slots_skip_what_is_taken_and_remote_sessions_take_no_face_to_face(
        pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    booking.book(by=pharmacist, patient_id=patient.id, plan_id=None, kind="initial",
                      starts_at=at(MONDAY, 9), length_minutes=60, mode=Mode.FACE_TO_FACE)
    phone = booking.free_times(by=pharmacist, length_minutes=30, mode=Mode.PHONE, from_day=MONDAY, count=3)
    assert [slot.starts for slot in phone] == [at(MONDAY, 10), at(MONDAY, 10, 30), at(MONDAY, 11)]
    later = booking.free_times(by=pharmacist, length_minutes=60, mode=Mode.FACE_TO_FACE,
                                    from_day=MONDAY + timedelta(days=1), count=2)
    # Wednesday's session is remote: the next face-to-face time is the Monday after, in Room 4
    assert [(slot.starts, slot.location) for slot in later] == [(at(MONDAY + timedelta(days=7), 9), "Room 4"),
                                                                (at(MONDAY + timedelta(days=7), 10), "Room 4")]


def test_outside_sessions_only_as_a_confirmed_extra_session(pharmacist: User, texted: Patient) -> None:
    for starts, why in ((at(SATURDAY, 10), "Saturday is at the weekend"),
                        (at(MONDAY, 14), "it is outside your clinic sessions"),
                        (at(MONDAY + timedelta(days=2), 14), "face to face needs a session at a site")):
        with pytest.raises(InvalidInput, match=f"Not booked: {why}"):
            booking.book(by=pharmacist, patient_id=texted.id, plan_id=None, kind="initial",
                              starts_at=starts, length_minutes=60, mode=Mode.FACE_TO_FACE)
        db.session.rollback()
    assert db.session.scalar(select(func.count(Appointment.id))) == 0 and _messages(texted) == []
    extra = booking.book(by=pharmacist, patient_id=texted.id, plan_id=None, kind="initial",
                              starts_at=at(SATURDAY, 10), length_minutes=60, mode=Mode.PHONE, extra_session=True)
    assert extra.extra_session and extra.location == ""
    assert "on Saturday 9 January 2027 at 10am, for 60 minutes, by phone. We will phone you" in \
        _messages(texted)[0].body


def test_an_overlap_is_refused_in_words(pharmacist: User, make: Maker) -> None:
    first = make.patient(pharmacist)
    booking.book(by=pharmacist, patient_id=first.id, plan_id=None, kind="initial", starts_at=at(MONDAY, 9),
                      length_minutes=60, mode=Mode.FACE_TO_FACE)
    db.session.commit()
    second = make.patient(pharmacist)
    with pytest.raises(InvalidInput, match="That time overlaps another appointment of the pharmacist"):
        booking.book(by=pharmacist, patient_id=second.id, plan_id=None, kind="initial",
                          starts_at=at(MONDAY, 9, 30), length_minutes=60, mode=Mode.FACE_TO_FACE)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


def test_moving_and_cancelling_each_tell_the_patient_once(pharmacist: User, texted: Patient) -> None:
    from taper.services import messages

    booked = booking.book(by=pharmacist, patient_id=texted.id, plan_id=None, kind="initial",
                               starts_at=at(MONDAY, 9), length_minutes=60, mode=Mode.FACE_TO_FACE)
    db.session.commit()
    moved = appointments.move(by=pharmacist, appointment_id=booked.id, expected_version=booked.version,
                              starts_at=at(MONDAY + timedelta(days=2), 14), length_minutes=60, mode=Mode.VIDEO)
    db.session.commit()
    assert moved.location == ""  # a video call has no site
    assert not messages.tell_patient_about(moved, change="moved", when="again")  # the same change: not twice
    appointments.cancel(by=pharmacist, appointment_id=booked.id, expected_version=moved.version, reason="Unwell")
    db.session.commit()
    booked_message, moved_message, cancelled = _messages(texted)
    assert booked_message.kind == "appointment_booked"
    assert moved_message.subject == "Your appointment has moved"
    assert (" has moved. It is now on Wednesday 6 January 2027 at 2pm, for 60 minutes, by video call. We will "
            "send you a link to join the video call.") in moved_message.body
    assert cancelled.subject == "Your appointment is cancelled"
    assert "on Wednesday 6 January 2027 at 2pm is cancelled" in cancelled.body


def test_a_patient_who_chose_no_messages_gets_none(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)  # contact_by "none"
    booking.book(by=pharmacist, patient_id=patient.id, plan_id=None, kind="initial", starts_at=at(MONDAY, 9),
                      length_minutes=60, mode=Mode.FACE_TO_FACE)
    assert _messages(patient) == []


def test_an_appointment_with_no_plan_is_marked_listed_and_in_calendars(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    attended = booking.book(by=pharmacist, patient_id=patient.id, plan_id=None, kind="initial",
                                 starts_at=at(MONDAY, 9), length_minutes=60, mode=Mode.FACE_TO_FACE)
    missed = booking.book(by=pharmacist, patient_id=patient.id, plan_id=None, kind="initial",
                               starts_at=at(MONDAY, 10), length_minutes=60, mode=Mode.FACE_TO_FACE)
    db.session.commit()
    pharmacist_calendar = Calendar.from_ical(calendars.pharmacist_calendar(by=pharmacist))
    assert [str(event["description"]) for event in pharmacist_calendar.walk("VEVENT")] == [
        f"NHS number {patient.nhs_number_display}. No plan yet."] * 2
    assert len(Calendar.from_ical(calendars.patient_calendar(by=pharmacist, patient_id=patient.id))
               .walk("VEVENT")) == 2
    assert [each.id for each in booking.upcoming_of_patient(by=pharmacist, patient_id=patient.id)] == [
        attended.id, missed.id]
    with clock.freeze(at(MONDAY, 12)):
        appointments.mark_attended(by=pharmacist, appointment_id=attended.id, expected_version=attended.version)
        appointments.mark_did_not_attend(by=pharmacist, appointment_id=missed.id, expected_version=missed.version)
        db.session.commit()
        assert [each.kind for each in appointments.day_list(by=pharmacist, day=MONDAY)] == ["initial", "initial"]
        assert jobs.overdue_reviews() == {"added": 0}
    assert db.session.scalar(select(WorklistItem)) is None
    assert date(2027, 1, 4) == appointments.local_day(attended.starts_at)
