"""Assessing a patient's risk and choosing their level of support."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from taper import clock
from taper.domain.patients import age_in_years
from taper.domain.risk import (
    ASKED_BY_SEX,
    ASKED_BY_SEX_TOPIC,
    ASKED_OF_EVERYONE,
    Answer,
    RiskFactor,
    RiskInputs,
    Suggestion,
    SupportLevel,
    answer_by_sex,
    assess_risk,
)
from taper.extensions import db
from taper.models import Patient, RecordedRiskAssessment, User
from taper.services import audit, regimens
from taper.services.errors import InvalidInput
from taper.services.patients import patient_in_scope


@dataclass(frozen=True)
class RiskAnswers:
    """What the pharmacist answered: which of the questions put to everyone apply, the answer to the question
    asked by sex (ignored, and recorded "not applicable", for a male patient; None: not answered, which
    the form does not accept), and active substance misuse."""

    factors: frozenset[RiskFactor]
    active_substance_misuse: bool = False
    by_sex: Answer | None = None


def suggest(*, by: User, patient_id: int, answers: RiskAnswers) -> Suggestion:
    """The factors and suggested level for these answers, with the patient's record and current regimen."""
    patient = patient_in_scope(by, patient_id)
    return assess_risk(_inputs(by, patient, answers))


def record_assessment(*, by: User, patient_id: int, answers: RiskAnswers, chosen_level: SupportLevel,
                      override_reason: str = "") -> RecordedRiskAssessment:
    """Record the assessment. Choosing a level other than the one suggested needs a reason."""
    patient = patient_in_scope(by, patient_id)
    inputs = _inputs(by, patient, answers)
    suggestion = assess_risk(inputs)
    reason = override_reason.strip()
    if chosen_level is not suggestion.level and not reason:
        raise InvalidInput({"override_reason": f"Say why you chose {chosen_level.label.lower()} rather than the "
                                               f"suggested {suggestion.level.label.lower()}"})
    current = regimens.history(by=by, patient_id=patient.id)
    record = RecordedRiskAssessment(
        patient_id=patient.id, regimen_id=current[0].id if current else None, assessed_on=clock.today(),
        assessed_by_id=by.id, age_years=inputs.age_years, total_ome_mg_per_day=inputs.total_ome_mg_per_day,
        high_dose_threshold_mg=inputs.high_dose_threshold_mg, answers=sorted(inputs.answers),
        active_substance_misuse=answers.active_substance_misuse,
        abuse_history_answer=_value(answer_by_sex(patient.sex, answers.by_sex)),
        factors=[factor.value for factor in suggestion.factors], reasons=list(suggestion.reasons),
        suggested_level=int(suggestion.level), chosen_level=int(chosen_level),
        override_reason=reason if chosen_level is not suggestion.level else "")
    db.session.add(record)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="risk_assessment", entity_id=record.id, patient_id=patient.id,
                 changes={"factors": record.factors, "abuse_history_answer": record.abuse_history_answer,
                          "suggested_level": record.suggested_level,
                          "chosen_level": record.chosen_level, "override_reason": record.override_reason})
    return record


def latest(*, by: User, patient_id: int) -> RecordedRiskAssessment | None:
    patient = patient_in_scope(by, patient_id)
    return db.session.scalar(select(RecordedRiskAssessment).where(RecordedRiskAssessment.patient_id == patient.id)
                             .order_by(RecordedRiskAssessment.id.desc()).limit(1))


def _inputs(by: User, patient: Patient, answers: RiskAnswers) -> RiskInputs:
    unknown = set(answers.factors) - set(ASKED_OF_EVERYONE)
    if unknown:
        raise InvalidInput({"factors": "Choose only from the questions listed"})
    by_sex = answer_by_sex(patient.sex, answers.by_sex)
    ticked = answers.factors | ({ASKED_BY_SEX} if by_sex is Answer.YES else set())
    current = regimens.history(by=by, patient_id=patient.id)
    regimen = current[0] if current else None
    return RiskInputs(
        sex=patient.sex, age_years=age_in_years(patient.date_of_birth, on=clock.today()),
        total_ome_mg_per_day=regimen.total_ome_mg_per_day if regimen else None,
        high_dose_threshold_mg=Decimal(patient.clinic.high_dose_threshold_mg),
        benzodiazepine=bool(regimen and regimen.benzodiazepine), gabapentinoid=bool(regimen and regimen.gabapentinoid),
        answers=frozenset(ticked), active_substance_misuse=answers.active_substance_misuse)


def unanswered(*, by: User, patient_id: int, answers: RiskAnswers) -> dict[str, str]:
    """The questions put to this patient that were not answered (the form asks for each before it checks)."""
    patient = patient_in_scope(by, patient_id)
    if answer_by_sex(patient.sex, answers.by_sex) is None:
        return {"by_sex": f"Answer yes, no or not applicable: {ASKED_BY_SEX_TOPIC}"}
    return {}


def _value(answer: Answer | None) -> str | None:
    return None if answer is None else answer.value
