"""Follow-ups: withdrawal items "not assessed" (never a fake 0), and a follow-up recorded from an appointment
marking it attended in the same transaction (issue 17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.follow_up import SOWS_GOSSOP_ITEMS
from taper.extensions import db
from taper.models import Appointment, AuditEvent, FollowUp, Plan, User
from tests.conftest import TODAY, Maker, at, page_text, sign_in, submit

YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def plan(make: Maker, pharmacist: User) -> Plan:
    return make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY - timedelta(days=7))


def _appointment(plan: Plan, *, status: str = "confirmed", hour: int = 7) -> Appointment:
    starts_at = at(YESTERDAY, hour)
    appointment = Appointment(plan_id=plan.id, patient_id=plan.patient_id, pharmacist_id=plan.created_by_id,
                              kind="follow_up", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
                              length_minutes=30, mode="video", status=status)
    db.session.add(appointment)
    db.session.commit()
    return appointment


def _follow_up(version: int, **changes: str) -> dict[str, str]:
    return {"held_on-day": str(YESTERDAY.day), "held_on-month": str(YESTERDAY.month),
            "held_on-year": str(YESTERDAY.year), "mode": "video", "duration_minutes": "30",
            "dose_taken": "As the plan says", "peg_pain": "6", "peg_enjoyment": "5", "peg_activity": "7",
            "outcome": "continue", "version": str(version), **changes}


def _follow_ups() -> list[FollowUp]:
    return list(db.session.scalars(select(FollowUp)))


def test_withdrawal_items_start_not_assessed(signed_in: FlaskClient, plan: Plan) -> None:
    page = page_text(signed_in.get(f"/plans/{plan.id}/follow-ups/new"))
    assert page.count('<option value="" selected >Not assessed</option>') == len(SOWS_GOSSOP_ITEMS)


def test_items_not_assessed_are_stored_as_null_and_shown_as_not_assessed(signed_in: FlaskClient,
                                                                         plan: Plan) -> None:
    response = submit(signed_in, f"/plans/{plan.id}/follow-ups/new", _follow_up(plan.version))
    assert response.status_code == 302, page_text(response)
    [held] = _follow_ups()
    assert held.sows == dict.fromkeys(SOWS_GOSSOP_ITEMS) and held.sows_total is None
    assert "SOWS not assessed." in page_text(signed_in.get(f"/plans/{plan.id}"))


def test_a_total_of_some_items_says_how_many_were_assessed(signed_in: FlaskClient, plan: Plan) -> None:
    scored = {"sows_yawning": "2", "sows_insomnia": "3", "sows_runny_eyes": "0"}
    response = submit(signed_in, f"/plans/{plan.id}/follow-ups/new", _follow_up(plan.version, **scored))
    assert response.status_code == 302, page_text(response)
    [held] = _follow_ups()
    assert held.sows_total == 5 and held.sows["runny_eyes"] == 0 and held.sows["feeling_sick"] is None
    assert "SOWS 5/9 (only 3 of 10 items assessed)." in page_text(signed_in.get(f"/plans/{plan.id}"))


def test_recording_from_an_appointment_marks_it_attended(signed_in: FlaskClient, plan: Plan) -> None:
    appointment = _appointment(plan)
    url = f"/plans/{plan.id}/follow-ups/new?appointment={appointment.id}"
    form = page_text(signed_in.get(url))
    assert "Saving the follow-up marks this appointment attended" in form
    assert 'value="video" checked' in form and 'value="30"' in form  # taken from the appointment
    response = submit(signed_in, url, _follow_up(plan.version))
    assert response.status_code == 302, page_text(response)
    db.session.expire_all()
    [held] = _follow_ups()
    assert held.appointment_id == appointment.id
    assert db.session.get(Appointment, appointment.id).status == "attended"  # type: ignore[union-attr]
    changed = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "appointment",
                                                         AuditEvent.entity_id == str(appointment.id)))
    assert changed is not None and changed.changes["status"] == {"before": "confirmed", "after": "attended"}
    # The same appointment cannot have a second follow-up.
    assert signed_in.get(url).status_code == 400


def test_nothing_is_marked_when_the_follow_up_is_refused(signed_in: FlaskClient, plan: Plan) -> None:
    appointment = _appointment(plan)
    page = page_text(submit(signed_in, f"/plans/{plan.id}/follow-ups/new?appointment={appointment.id}",
                            _follow_up(plan.version, peg_pain="11")))
    assert "There is a problem" in page
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "confirmed"  # type: ignore[union-attr]
    assert _follow_ups() == []


def test_an_appointment_of_another_plan_or_patient_is_refused(signed_in: FlaskClient, plan: Plan, make: Maker,
                                                              pharmacist: User) -> None:
    other = make.running_plan(pharmacist, make.patient(pharmacist, family_name="Other"),
                              start_on=TODAY - timedelta(days=7))
    theirs = _appointment(other, hour=6)
    url = f"/plans/{plan.id}/follow-ups/new?appointment={theirs.id}"
    assert signed_in.get(url).status_code == 404
    assert submit(signed_in, url, _follow_up(plan.version), form_url=f"/plans/{plan.id}/follow-ups/new"
                  ).status_code == 404
    assert signed_in.get(f"/plans/{plan.id}/follow-ups/new?appointment=999999").status_code == 404
    assert signed_in.get(f"/plans/{plan.id}/follow-ups/new?appointment=first").status_code == 404
    db.session.expire_all()
    assert db.session.get(Appointment, theirs.id).status == "confirmed"  # type: ignore[union-attr]
    assert _follow_ups() == []


@pytest.mark.parametrize("status", ["cancelled", "did_not_attend"])
def test_a_cancelled_or_missed_appointment_is_refused(signed_in: FlaskClient, plan: Plan, status: str) -> None:
    appointment = _appointment(plan, status=status)
    url = f"/plans/{plan.id}/follow-ups/new?appointment={appointment.id}"
    assert signed_in.get(url).status_code == 400
    assert submit(signed_in, url, _follow_up(plan.version), form_url=f"/plans/{plan.id}/follow-ups/new"
                  ).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_patient_of_another_clinic_is_not_found(client: FlaskClient, plan: Plan, make: Maker) -> None:
    appointment = _appointment(plan)
    sign_in(client, make.user())  # a pharmacist of another clinic
    assert client.get(f"/plans/{plan.id}/follow-ups/new?appointment={appointment.id}").status_code == 404

