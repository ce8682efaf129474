"""Appointments: proposed when a plan starts, re-proposed when it changes, never double booked (the database
refuses), and a missed one puts the patient on the worklist. The clock is frozen on a Monday morning."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.domain.booking import CLINIC_TIMEZONE, follow_up_targets
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Plan, User, WorklistItem
from taper.services import appointments, capacity, plans
from taper.services.capacity import SessionDetails
from taper.services.errors import InvalidInput
from tests.conftest import MONDAY, Maker, at


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def pharmacist(make: Maker) -> User:
    pharmacist = make.user()
    for details in (SessionDetails(0, time(9), time(12), remote=False, location="Room 4"),
                    SessionDetails(2, time(13, 30), time(17), remote=True),
                    SessionDetails(3, time(9), time(12), remote=False, location="Room 4")):
        capacity.add_session(by=pharmacist, details=details)
    db.session.commit()
    return pharmacist


def _holding(plan: Plan) -> list[tuple[str, datetime, int, str]]:
    return [(each.kind, each.starts_at.astimezone(CLINIC_TIMEZONE), each.length_minutes, each.mode)
            for each in appointments.upcoming(plan.id)]


def test_starting_a_plan_proposes_the_initial_consultation_and_a_review_after_each_step(
        pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    booked = _holding(plan)
    # Initial: 60 minutes face to face, first free site slot (today 9am). Reviews: 20 minutes by phone, three
    # days after each fortnightly step (Thursdays), in the first free slot of the window.
    assert booked[0] == ("initial", at(MONDAY, 9), 60, "face_to_face")
    steps = [date.fromisoformat(step["starts_on"]) for step in plan.current.schedule["steps"]]
    assert [(kind, when.date()) for kind, when, *_ in booked[1:]] == [
        ("follow_up", step + timedelta(days=3)) for step in steps]
    assert all(when.time() == time(9) and (length, mode) == (20, "phone") for _, when, length, mode in booked[1:])
    assert all(each.status == "proposed" and each.pharmacist_id == pharmacist.id
               for each in appointments.upcoming(plan.id))


def test_the_patient_plan_never_shows_an_appointment_time_that_may_change(pharmacist: User, make: Maker) -> None:
    """Issue 17: a moved appointment left the issued plan showing the old time. Times go to the patient in
    messages of their own (taper.services.messages.tell_patient_about); the plan says where to find them."""
    import io

    from pypdf import PdfReader

    from taper.services import plan_documents

    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    patient_plan = plan_documents.documents_of(plan.current)[0]
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(patient_plan.pdf)).pages)
    assert appointments.upcoming(plan.id)  # booked, and yet
    assert "Your appointments" in text and "4 January 2027 at 9am" not in text and "7 January 2027 at 9am" \
        not in text


def test_two_plans_never_share_a_slot_and_leave_and_bank_holidays_are_skipped(pharmacist: User,
                                                                             make: Maker) -> None:
    capacity.add_leave(by=pharmacist, first_day=date(2027, 1, 7), last_day=date(2027, 1, 7))
    db.session.commit()
    first = _holding(make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY))
    second = _holding(make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY))
    assert first[1][1] == at(date(2027, 1, 11), 9)  # Thursday 7th is leave: Monday 11th
    assert second[0][1] == at(MONDAY, 10)  # after the first patient's initial consultation
    spans = sorted((when, when + timedelta(minutes=length)) for _, when, length, _ in first + second)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
    assert not any(when.date() == date(2027, 3, 29) for _, when, *_ in first + second)  # Easter Monday


def test_the_database_refuses_a_double_booking(pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    taken = appointments.upcoming(plan.id)[0]

    def book(starts: datetime, minutes: int, status: str = "proposed") -> None:
        db.session.add(Appointment(plan_id=plan.id, patient_id=plan.patient_id, pharmacist_id=pharmacist.id,
                                   kind="follow_up", starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                                   length_minutes=minutes, mode="phone", status=status))
        db.session.flush()

    with pytest.raises(IntegrityError, match="no_double_booking"):
        book(taken.starts_at + timedelta(minutes=30), 30)  # overlaps the last half hour
    db.session.rollback()
    book(taken.ends_at, 15)  # straight after: fine
    book(taken.starts_at, 15, status="cancelled")  # a cancelled appointment holds no time
    db.session.commit()
    moved = appointments.upcoming(plan.id)[1]
    moved.starts_at, moved.ends_at = taken.starts_at, taken.starts_at + timedelta(minutes=20)
    with pytest.raises(IntegrityError, match="no_double_booking"):
        db.session.flush()
    db.session.rollback()


def test_moving_onto_a_taken_time_is_refused_in_words(pharmacist: User, make: Maker) -> None:
    from taper.domain.follow_up import Mode

    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    first, second = appointments.upcoming(plan.id)[:2]
    with pytest.raises(InvalidInput, match="overlaps another appointment"):
        appointments.move(by=pharmacist, appointment_id=second.id, expected_version=second.version,
                          starts_at=first.starts_at, length_minutes=20, mode=Mode.VIDEO)
    db.session.rollback()


def test_a_revision_keeps_reviews_that_still_fit_and_reproposes_the_rest(pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    before = appointments.upcoming(plan.id)
    first_review = before[1]
    appointments.confirm(by=pharmacist, appointment_id=first_review.id, expected_version=first_review.version)
    db.session.commit()
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=MONDAY + timedelta(days=1),
                         hold_days=7, reason="Hold a week: house move")
    db.session.commit()
    after = appointments.upcoming(plan.id)
    steps = [date.fromisoformat(step["starts_on"]) for step in plan.current.schedule["steps"]]
    assert first_review in after and first_review.status == "confirmed"  # still three days after step 1
    reviews = [appointments.local_day(each.starts_at) for each in after if each.kind == "follow_up"]
    # Step 1 now lasts three weeks, so a review falls at two weeks (the cadence) and another after step 2.
    assert reviews[:3] == [date(2027, 1, 7), date(2027, 1, 21), date(2027, 1, 28)]
    assert reviews == follow_up_targets(steps, cadence_days=14)
    cancelled = [each for each in before if each not in after]
    assert cancelled and all(each.status == "cancelled" and "version 2" in each.status_reason for each in cancelled)


def test_a_missed_appointment_puts_the_patient_on_the_worklist_once(pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    initial = appointments.upcoming(plan.id)[0]
    with pytest.raises(InvalidInput, match="has not started yet"):
        appointments.mark_did_not_attend(by=pharmacist, appointment_id=initial.id, expected_version=initial.version)
    db.session.rollback()
    with clock.freeze(at(MONDAY, 10, 30)):
        appointments.mark_did_not_attend(by=pharmacist, appointment_id=initial.id, expected_version=initial.version)
        db.session.commit()
        with pytest.raises(InvalidInput):
            appointments.mark_did_not_attend(by=pharmacist, appointment_id=initial.id,
                                             expected_version=initial.version)
    db.session.rollback()
    items = db.session.scalars(select(WorklistItem)).all()
    assert [(item.kind, item.plan_id, item.resolved_at) for item in items] == [("did_not_attend", plan.id, None)]
    assert "Did not attend the initial consultation on Monday 4 January 2027 at 9am" in items[0].detail


def test_without_sessions_nothing_is_booked_and_the_days_are_reported(make: Maker) -> None:
    pharmacist = make.user()
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    assert appointments.upcoming(plan.id) == []


def test_ending_a_plan_cancels_its_future_appointments(pharmacist: User, make: Maker) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=MONDAY)
    booked = appointments.upcoming(plan.id)
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.STOPPED,
                        reason="Patient moved away")
    db.session.commit()
    assert appointments.upcoming(plan.id) == []
    assert {(each.status, each.status_reason) for each in booked} == {("cancelled", "The plan ended (stopped)")}
