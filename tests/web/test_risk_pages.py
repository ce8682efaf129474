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


def test_the_question_asked_by_sex_is_not_put_to_a_male_patient_and_is_recorded_not_applicable(
        signed_in: FlaskClient, patient: Patient) -> None:
    url = f"/patients/{patient.id}/risk/new"
    page = page_text(signed_in.get(url))
    assert 'name="by_sex"' not in page
    assert "A history of pre-adolescent sexual abuse: not applicable (not asked of male patients)." in page
    response = submit(signed_in, url, {"factors": ["depression"], "by_sex": "yes", "chosen_level": "3",
                                       "save": "1"})  # an answer sent anyway is not used
    assert response.status_code == 302
    record = db.session.scalar(select(RecordedRiskAssessment))
    assert record.abuse_history_answer == "not_applicable"
    assert "pre_adolescent_sexual_abuse" not in record.factors + record.answers


@pytest.mark.parametrize("sex", [Sex.FEMALE, Sex.NOT_KNOWN, Sex.INDETERMINATE])
def test_the_question_asked_by_sex_must_be_answered_unless_the_patient_is_male(signed_in: FlaskClient, make: Maker,
                                                                                 pharmacist: User, sex: Sex) -> None:
    woman = make.patient(pharmacist, sex=sex, date_of_birth=date(1980, 1, 1))
    url = f"/patients/{woman.id}/risk/new"
    page = page_text(signed_in.get(url))
    assert "Does the patient have a history of pre-adolescent sexual abuse?" in page
    assert 'value="not_applicable"' in page and "Not applicable" in page
    page = page_text(submit(signed_in, url, {"check": "1"}))
    assert "There is a problem" in page
    assert "Answer yes, no or not applicable: a history of pre-adolescent sexual abuse" in page
    assert _records() == 0


@pytest.mark.parametrize(("answer", "factors"), [("yes", ["pre_adolescent_sexual_abuse"]), ("no", []),
                                                 ("not_applicable", [])])
def test_a_female_patients_answer_is_recorded_and_yes_counts_as_a_factor(
        signed_in: FlaskClient, make: Maker, pharmacist: User, answer: str, factors: list[str]) -> None:
    woman = make.patient(pharmacist, sex=Sex.FEMALE, date_of_birth=date(1980, 1, 1))
    response = submit(signed_in, f"/patients/{woman.id}/risk/new",
                      {"by_sex": answer, "chosen_level": "2" if factors else "1", "save": "1"})
    assert response.status_code == 302, page_text(response)
    record = db.session.scalar(select(RecordedRiskAssessment))
    assert (record.abuse_history_answer, record.factors) == (answer, factors)


def test_the_question_asked_by_sex_is_not_one_of_the_ticked_factors(signed_in: FlaskClient,
                                                                   patient: Patient) -> None:
    page = page_text(submit(signed_in, f"/patients/{patient.id}/risk/new",
                            {"factors": ["pre_adolescent_sexual_abuse"], "check": "1"}))
    assert "There is a problem" in page and "is not a valid choice" in page
