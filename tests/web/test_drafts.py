"""Deleting a draft from its page: asked first, done with the page's version, refused once the plan started."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from taper.extensions import db
from taper.models import AuditEvent, Patient, Plan, User
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, page_text, submit


@pytest.fixture
def draft(make: Maker, pharmacist: User) -> Plan:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()
    return plan


def test_a_draft_is_deleted_after_confirming(signed_in: FlaskClient, draft: Plan) -> None:
    detail = page_text(signed_in.get(f"/plans/{draft.id}"))
    assert f'href="/plans/{draft.id}/delete">Delete this draft</a>' in detail
    question = page_text(signed_in.get(f"/plans/{draft.id}/delete"))
    assert "<h1>Delete draft plan 1?</h1>" in question and "Yes, delete this draft" in question
    assert db.session.get_one(Plan, draft.id).deleted_at is None  # asking deletes nothing
    response = submit(signed_in, f"/plans/{draft.id}/delete", {"version": str(draft.version)})
    assert response.headers["Location"] == f"/patients/{draft.patient_id}"
    patient_page = page_text(signed_in.get(f"/patients/{draft.patient_id}"))
    assert "Draft plan 1 deleted." in patient_page and f'href="/plans/{draft.id}"' not in patient_page
    assert signed_in.get(f"/plans/{draft.id}").status_code == 404
    assert db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "delete")).all() == [
        str(draft.id)]


def test_a_draft_deleted_from_a_stale_page_is_kept(signed_in: FlaskClient, draft: Plan, pharmacist: User) -> None:
    opened = draft.version
    plans.edit_draft(by=pharmacist, plan_id=draft.id, expected_version=opened,
                     settings=plans.PlanSettings(start_on=TODAY, interval_days=28))
    db.session.commit()
    page = page_text(submit(signed_in, f"/plans/{draft.id}/delete", {"version": str(opened)}))
    assert "Someone else saved changes to this record after you opened it" in page
    db.session.expire_all()
    assert db.session.get_one(Plan, draft.id).deleted_at is None


def test_a_running_plan_cannot_be_deleted(signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    patient: Patient = make.patient(pharmacist)
    plan = make.running_plan(pharmacist, patient, start_on=TODAY)
    assert "Delete this draft" not in page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "only a draft that has not started can be deleted" in page_text(signed_in.get(f"/plans/{plan.id}/delete"))
    page = page_text(submit(signed_in, f"/plans/{plan.id}/delete", {"version": str(plan.version)},
                            form_url=f"/plans/{plan.id}"))
    assert "only a draft can be changed or deleted" in page
    db.session.expire_all()
    assert db.session.get_one(Plan, plan.id).deleted_at is None
