"""Assessing a patient's risk and choosing their level of support."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from taper import clock
from taper.domain.patients import age_in_years
from taper.domain.risk import ASKED, RiskFactor, RiskInputs, Suggestion, SupportLevel, assess_risk
from taper.extensions import db
from taper.models import Patient, RecordedRiskAssessment, User
from taper.services import audit, regimens
from taper.services.errors import InvalidInput
from taper.services.patients import patient_in_scope


@dataclass(frozen=True)
class RiskAnswers:
    """What the pharmacist answered: which of the asked factors apply, and active substance misuse."""

    factors: frozenset[RiskFactor]
    active_substance_misuse: bool = False


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
        high_dose_threshold_mg=inputs.high_dose_threshold_mg, answers=sorted(answers.factors),
        active_substance_misuse=answers.active_substance_misuse,
        factors=[factor.value for factor in suggestion.factors], reasons=list(suggestion.reasons),
        suggested_level=int(suggestion.level), chosen_level=int(chosen_level),
        override_reason=reason if chosen_level is not suggestion.level else "")
    db.session.add(record)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="risk_assessment", entity_id=record.id, patient_id=patient.id,
                 changes={"factors": record.factors, "suggested_level": record.suggested_level,
                          "chosen_level": record.chosen_level, "override_reason": record.override_reason})
    return record


def latest(*, by: User, patient_id: int) -> RecordedRiskAssessment | None:
    patient = patient_in_scope(by, patient_id)
    return db.session.scalar(select(RecordedRiskAssessment).where(RecordedRiskAssessment.patient_id == patient.id)
                             .order_by(RecordedRiskAssessment.id.desc()).limit(1))


def _inputs(by: User, patient: Patient, answers: RiskAnswers) -> RiskInputs:
    unknown = set(answers.factors) - set(ASKED)
    if unknown:
        raise InvalidInput({"factors": "Choose only from the questions listed"})
    current = regimens.history(by=by, patient_id=patient.id)
    regimen = current[0] if current else None
    return RiskInputs(
        sex=patient.sex, age_years=age_in_years(patient.date_of_birth, on=clock.today()),
        total_ome_mg_per_day=regimen.total_ome_mg_per_day if regimen else None,
        high_dose_threshold_mg=Decimal(patient.clinic.high_dose_threshold_mg),
        benzodiazepine=bool(regimen and regimen.benzodiazepine), gabapentinoid=bool(regimen and regimen.gabapentinoid),
        answers=answers.factors, active_substance_misuse=answers.active_substance_misuse)
