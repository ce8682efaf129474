"""Drafts can be changed (the same draft, a new version) and deleted (kept for the record, no longer shown),
but only while they are drafts; changes are audited and refused from a stale copy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from taper.domain.follow_up import Mode
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import AuditEvent, Patient, Plan, User
from taper.services import booking, plans, regimens
from taper.services.errors import InvalidInput, NotFound, StaleEdit
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, at

DECISION = plans.Decision(what_matters="Walking", goals="Less medicine", agreed_pace="10% every two weeks",
                          prescriber="gp", consent_share_with_gp=True, consent_share_with_pharmacy=True,
                          agreed_on=TODAY)


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()
    return patient


def _draft(pharmacist: User, patient: Patient) -> Plan:
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(
        start_on=TODAY, reduction_pct=Decimal(10), interval_days=14, instalment_days=7))
    db.session.commit()
    return plan


def test_editing_a_draft_keeps_one_draft_with_the_new_settings(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    plans.edit_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version, settings=plans.PlanSettings(
        start_on=TODAY + timedelta(days=7), reduction_pct=Decimal(5), interval_days=28, instalment_days=28))
    db.session.commit()
    assert [each.id for each in plans.plans_of(by=pharmacist, patient_id=patient.id)] == [plan.id]
    assert (plan.status, plan.number, plan.current.number, plan.current.reason, plan.instalment_days) == (
        PlanStatus.DRAFT, 1, 2, "Draft changed", 28)
    settings = plans.settings_of(plan)
    assert (settings.start_on, settings.reduction_pct, settings.interval_days) == (
        TODAY + timedelta(days=7), Decimal(5), 28)


def test_the_builder_reopens_with_the_settings_that_made_the_draft(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    settings = plans.settings_of(plan)
    assert (settings.start_on, settings.reduction_pct, settings.interval_days, settings.basis,
            settings.target_ome_mg_per_day, settings.instalment_days) == (TODAY, Decimal(10), 14, "starting",
                                                                         Decimal(0), 7)


def test_a_draft_the_patient_agreed_is_not_edited(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
    db.session.commit()
    with pytest.raises(InvalidInput, match="agreed"):
        plans.edit_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         settings=plans.PlanSettings(start_on=TODAY))


def test_deleting_a_draft_hides_it_and_is_audited(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    plans.delete_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version)
    db.session.commit()
    assert plans.plans_of(by=pharmacist, patient_id=patient.id) == []
    with pytest.raises(NotFound):
        plans.get_plan(by=pharmacist, plan_id=plan.id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert (event.entity_type, event.entity_id, event.changes) == ("plan", str(plan.id),
                                                                  {"number": 1, "status": "draft"})
    assert _draft(pharmacist, patient).number == 2  # a deleted plan's number is never given to another


def test_a_started_plan_is_not_deleted(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    db.session.commit()
    with pytest.raises(InvalidInput, match="only a draft"):
        plans.delete_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version)
    db.session.rollback()
    assert db.session.get_one(Plan, plan.id).deleted_at is None


def test_a_draft_deleted_from_a_stale_copy_is_refused(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    opened = plan.version
    plans.edit_draft(by=pharmacist, plan_id=plan.id, expected_version=opened,
                     settings=plans.PlanSettings(start_on=TODAY, interval_days=28))
    db.session.commit()
    with pytest.raises(StaleEdit):
        plans.delete_draft(by=pharmacist, plan_id=plan.id, expected_version=opened)


def test_deleting_a_draft_keeps_its_initial_consultation_booked_for_no_plan(pharmacist: User,
                                                                            patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    first = booking.book(by=pharmacist, patient_id=patient.id, plan_id=plan.id, kind="initial",
                         starts_at=at(TODAY + timedelta(days=3), 10), length_minutes=60, mode=Mode.FACE_TO_FACE,
                         extra_session=True)
    db.session.commit()
    plans.delete_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version)
    db.session.commit()
    db.session.refresh(first)
    assert (first.status, first.plan_id) == ("confirmed", None)


def test_a_review_is_not_booked_for_a_draft_nor_anything_for_a_deleted_one(pharmacist: User,
                                                                          patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    review = {"by": pharmacist, "patient_id": patient.id, "plan_id": plan.id, "kind": "follow_up",
              "starts_at": at(TODAY + timedelta(days=3), 10), "length_minutes": 20, "mode": Mode.PHONE,
              "extra_session": True}
    with pytest.raises(InvalidInput, match="A review is of a running plan"):
        booking.book(**review)
    db.session.rollback()
    plans.delete_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version)
    db.session.commit()
    with pytest.raises(NotFound):
        booking.book(**{**review, "kind": "initial", "length_minutes": 60})
