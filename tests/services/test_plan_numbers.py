"""Plans are numbered per patient: each patient's first plan is "plan 1", whatever other patients have."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from taper.extensions import db
from taper.models import AuditEvent, Patient, Plan, User
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker
from tests.databases import server_url


def _patient_with_regimen(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()
    return patient


def _draft(pharmacist: User, patient_id: int) -> Plan:
    plan = plans.create_draft(by=pharmacist, patient_id=patient_id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()
    return plan


def test_each_patients_first_plan_is_plan_1(make: Maker, pharmacist: User) -> None:
    first, second = _patient_with_regimen(make, pharmacist), _patient_with_regimen(make, pharmacist)
    assert [_draft(pharmacist, first.id).number, _draft(pharmacist, second.id).number,
            _draft(pharmacist, first.id).number, _draft(pharmacist, second.id).number] == [1, 1, 2, 2]


def test_the_number_is_audited_with_the_new_plan(make: Maker, pharmacist: User) -> None:
    patient = _patient_with_regimen(make, pharmacist)
    _draft(pharmacist, patient.id)
    plan = _draft(pharmacist, patient.id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "plan",
                                                        AuditEvent.entity_id == str(plan.id))).one()
    assert event.changes == {"status": "draft", "version": 1, "number": 2}


def test_the_database_refuses_two_plans_with_one_number_for_a_patient(make: Maker, pharmacist: User) -> None:
    from sqlalchemy.exc import IntegrityError

    patient = _patient_with_regimen(make, pharmacist)
    plan = _draft(pharmacist, patient.id)
    plan.number = _draft(pharmacist, patient.id).number
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.skipif(server_url() is None, reason="two writers at once need PostgreSQL: SQLite lets one write at a "
                                                 "time")
def test_two_plans_made_at_once_for_one_patient_take_1_and_2(app: Flask, make: Maker, pharmacist: User) -> None:
    """The second reads the highest number while the first's plan 1 is not yet committed, so it also tries 1:
    the unique (patient, number) makes it wait, refuses it when the first commits, and it takes 2."""
    patient = _patient_with_regimen(make, pharmacist)
    first_flushed, first_may_commit = threading.Event(), threading.Event()
    numbers: list[int] = []

    def make_draft(hold_before_commit: bool) -> None:
        with app.app_context():
            by = db.session.get_one(User, pharmacist.id)
            plan = plans.create_draft(by=by, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
            if hold_before_commit:
                first_flushed.set()
                first_may_commit.wait(timeout=30)
            db.session.commit()
            numbers.append(plan.number)
            db.session.remove()

    first = threading.Thread(target=make_draft, args=(True,))
    first.start()
    assert first_flushed.wait(timeout=30)
    second = threading.Thread(target=make_draft, args=(False,))
    second.start()
    second.join(timeout=1)  # the second is now waiting on the first's uncommitted plan 1
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert sorted(numbers) == [1, 2]
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Plan.number).where(Plan.patient_id == patient.id))) == [1, 2]
