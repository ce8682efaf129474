"""The plan's documents list no appointment times (a time can change after they are printed), so the patient is
told the reviews booked for their plan, and those cancelled when it changes or ends, in one message each time
(issue 17). The clock is frozen on a Monday morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from taper import clock
from taper.domain.booking import plan_appointments_message
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Message, Patient, User
from taper.services import appointments, capacity, plans
from taper.services.capacity import SessionDetails
from tests.conftest import MONDAY, Maker, at


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def pharmacist(make: Maker) -> User:
    pharmacist = make.user()
    for weekday in range(5):
        capacity.add_session(by=pharmacist, details=SessionDetails(weekday, time(9), time(17), remote=False,
                                                                   location="Room 4"))
    db.session.commit()
    return pharmacist


@pytest.fixture
def texted(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist, contact_by="sms", mobile_phone="07700 900123")


def _plan_messages(patient: Patient) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.patient_id == patient.id,
                                                         Message.kind == "plan_appointments").order_by(Message.id)))


def test_starting_a_plan_tells_the_patient_the_appointments_booked_for_it(pharmacist: User, texted: Patient,
                                                                         make: Maker) -> None:
    plan = make.running_plan(pharmacist, texted, start_on=MONDAY + timedelta(days=7))
    booked = appointments.upcoming(plan.id)
    assert booked, "starting the plan books its reviews"
    [message] = _plan_messages(texted)
    assert message.channel == "sms" and message.to == "07700 900123"
    for appointment in booked[:4]:
        assert appointments.describe(appointment) in message.body
    assert (f"And {len(booked) - 4} more" in message.body) is (len(booked) > 4)


def test_ending_a_plan_tells_the_patient_once_which_appointments_are_cancelled(pharmacist: User, texted: Patient,
                                                                              make: Maker) -> None:
    plan = make.running_plan(pharmacist, texted, start_on=MONDAY + timedelta(days=7))
    upcoming = [appointments.describe(each) for each in appointments.upcoming(plan.id)]
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.STOPPED,
                        reason="The patient moved away")
    db.session.commit()
    _started, ended = _plan_messages(texted)
    assert ended.subject == "Your appointments are cancelled"
    assert upcoming[0] in ended.body
    assert all(each.status == "cancelled" for each in db.session.scalars(
        select(Appointment).where(Appointment.plan_id == plan.id)))


def test_a_patient_who_chose_no_contact_gets_no_message(pharmacist: User, make: Maker) -> None:
    quiet = make.patient(pharmacist, contact_by="none")
    make.running_plan(pharmacist, quiet, start_on=MONDAY + timedelta(days=7))
    assert _plan_messages(quiet) == []


@pytest.mark.parametrize("count", [1, 4, 5, 13])
def test_the_message_lists_at_most_four_times_and_counts_the_rest(count: int) -> None:
    times = [f"Monday {day} March 2027 at 10am, by phone (20 minutes)" for day in range(1, count + 1)]
    subject, body = plan_appointments_message(booked=times, cancelled=[], clinic_name="Pain clinic",
                                              clinic_phone="0115 496 0000")
    assert subject == "Your appointments"
    assert [each in body for each in times] == [index < 4 for index in range(count)]
    assert ("more after that" in body) is (count > 4)
    assert body.endswith("call 0115 496 0000.")
