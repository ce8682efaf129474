from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.patients import Sex
from taper.extensions import db
from taper.models import AuditEvent, Patient, RecordedRiskAssessment, User
from tests.conftest import Maker, page_text, submit


@pytest.fixture
def patient(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist, sex=Sex.MALE, date_of_birth=date(1950, 1, 1))


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(RecordedRiskAssessment))


def test_check_shows_the_suggested_level_with_reasons_and_saves_nothing(signed_in: FlaskClient,
                                                                        patient: Patient) -> None:
    page = page_text(submit(signed_in, f"/patients/{patient.id}/risk/new", {"factors": ["depression"], "check": "1"}))
    assert "Suggested: Level 3: pharmacist-led tapering service" in page  # male, older age, depression
    assert "3 risk factors (male, older age (65 or over), depression)." in page
    assert 'value="3" checked' in page
    assert _records() == 0


def test_saving_the_suggested_level_records_the_assessment(signed_in: FlaskClient, patient: Patient,
                                                           pharmacist: User) -> None:
    response = submit(signed_in, f"/patients/{patient.id}/risk/new",
                      {"factors": ["depression"], "chosen_level": "3", "save": "1"})
    assert response.status_code == 302
    record = db.session.scalar(select(RecordedRiskAssessment))
    assert (record.suggested_level, record.chosen_level, record.override_reason) == (3, 3, "")
    assert record.factors == ["male", "older_age", "depression"] and record.assessed_by_id == pharmacist.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "risk_assessment")) is not None
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert "Level 3: pharmacist-led tapering service" in page and "Depression" in page


def test_choosing_another_level_needs_a_reason(signed_in: FlaskClient, patient: Patient) -> None:
    url = f"/patients/{patient.id}/risk/new"
    page = page_text(submit(signed_in, url, {"factors": ["depression"], "chosen_level": "4", "save": "1"}))
    assert "Say why you chose level 4: specialist multidisciplinary team rather than the suggested" in page
    assert _records() == 0
    submit(signed_in, url, {"factors": ["depression"], "chosen_level": "4", "save": "1",
                            "override_reason": "Recent overdose; needs the specialist team."})
    record = db.session.scalar(select(RecordedRiskAssessment))
    assert (record.suggested_level, record.chosen_level) == (3, 4)
    assert "Recent overdose" in page_text(signed_in.get(f"/patients/{patient.id}"))


def test_an_answer_that_is_not_a_question_is_refused(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, f"/patients/{patient.id}/risk/new", {"factors": ["male"], "check": "1"}))
    assert "There is a problem" in page and "&#39;male&#39; is not a valid choice" in page
    assert _records() == 0


def test_the_database_refuses_an_override_without_a_reason(make: Maker, pharmacist: User) -> None:
    from sqlalchemy.exc import IntegrityError

    patient = make.patient(pharmacist)
    db.session.add(RecordedRiskAssessment(
        patient_id=patient.id, assessed_on=date(2026, 11, 28), assessed_by_id=pharmacist.id, age_years=60,
        high_dose_threshold_mg=120, answers=[], factors=[], reasons=[], suggested_level=1, chosen_level=2,
        override_reason=""))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
