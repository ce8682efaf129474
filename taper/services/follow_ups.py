"""Recording a follow-up consultation and carrying out the patient's decision on the plan.

A withdrawal item (SOWS-Gossop) not assessed is stored as null, never as 0; the total adds up the items assessed
and is null when none was (shown as "not assessed"). A follow-up recorded from an appointment of the plan marks
that appointment attended in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from taper import clock
from taper.domain.follow_up import PEG_ITEMS, PEG_MAX, SOWS_GOSSOP_ITEMS, SOWS_MAX_PER_ITEM, Mode, Outcome, sows_total
from taper.domain.plans import PlanStatus
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import Appointment, FollowUp, User
from taper.services import appointments, audit, plans
from taper.services.errors import InvalidInput, NotFound

NOT_ASSESSED = "Not assessed"
_NOT_HELD = {"cancelled": "was cancelled", "did_not_attend": "was marked as not attended"}


@dataclass(frozen=True)
class FollowUpDetails:
    held_on: date
    mode: str
    duration_minutes: int
    dose_taken: str
    peg: dict[str, int]
    sows: dict[str, int | None]  # None: the item was not assessed
    notes: str
    outcome: str
    hold_days: int = 0
    reduction_pct: Decimal | None = None
    interval_days: int | None = None
    stop_reason: str = ""


def record_follow_up(*, by: User, plan_id: int, expected_version: int, details: FollowUpDetails,
                     appointment_id: int | None = None) -> FollowUp:
    """Store the consultation, then carry out the decision (a hold, a slower pace, going back a step: a new
    plan version; stopping: the plan ends), all in one transaction. With `appointment_id` (an appointment of
    this plan) the appointment is marked attended in the same transaction."""
    plan = plans.get_plan(by=by, plan_id=plan_id)
    appointment = attendable(by=by, plan_id=plan.id, appointment_id=appointment_id) \
        if appointment_id is not None else None
    _check(details)
    if not plan.status.is_running:
        raise InvalidInput({"outcome": "Follow-ups are recorded on an active or paused plan"})
    outcome = Outcome(details.outcome)
    reason = f"Follow-up on {long_date(details.held_on)}: {outcome.label.lower()}"
    if outcome is Outcome.HOLD:
        plans.revise_running(by=by, plan_id=plan.id, expected_version=expected_version, on=details.held_on,
                             hold_days=details.hold_days, reason=f"{reason} ({details.hold_days} days)")
    elif outcome is Outcome.SLOW:
        plans.revise_running(by=by, plan_id=plan.id, expected_version=expected_version, on=details.held_on,
                             reduction_pct=details.reduction_pct, interval_days=details.interval_days,
                             reason=reason)
    elif outcome is Outcome.GO_BACK:
        plans.revise_running(by=by, plan_id=plan.id, expected_version=expected_version, on=details.held_on,
                             go_back=True, reason=reason)
    elif outcome is Outcome.STOP:
        plans.change_status(by=by, plan_id=plan.id, expected_version=expected_version, to=PlanStatus.STOPPED,
                            reason=details.stop_reason or reason)
    record = FollowUp(plan_id=plan.id, held_on=details.held_on, mode=details.mode,
                      duration_minutes=details.duration_minutes, dose_taken=details.dose_taken.strip(),
                      peg=dict(details.peg), sows=dict(details.sows), sows_total=sows_total(details.sows),
                      notes=details.notes.strip(), outcome=outcome.value, outcome_detail=_detail(details, outcome),
                      plan_version_after=plan.current.number, recorded_by_id=by.id,
                      appointment_id=appointment.id if appointment is not None else None)
    db.session.add(record)
    db.session.flush()
    if appointment is not None and appointment.status != "attended":
        appointments.mark_attended(by=by, appointment_id=appointment.id, expected_version=appointment.version)
    appointments.resolve_reviews_due(plan.id)
    audit.record(action="create", by=by, entity_type="follow_up", entity_id=record.id, patient_id=plan.patient_id,
                 changes={"plan": plan.id, "outcome": outcome.value, "sows_total": record.sows_total,
                          "sows_assessed": record.sows_assessed, "plan_version_after": record.plan_version_after,
                          "appointment": record.appointment_id})
    return record


def attendable(*, by: User, plan_id: int, appointment_id: int) -> Appointment:
    """The appointment of this plan a follow-up is being recorded from: NotFound if it is another plan's (or
    patient's), InvalidInput if it was cancelled or missed, or already has its follow-up."""
    appointment = appointments.get(by=by, appointment_id=appointment_id)  # NotFound: none in the user's scope
    if appointment.plan_id != plan_id:
        raise NotFound("no such appointment on this plan")
    if appointment.status in _NOT_HELD:
        raise InvalidInput({"appointment": f"This appointment {_NOT_HELD[appointment.status]}: record the "
                                           "follow-up without it, or book another"})
    if db.session.scalar(select(FollowUp.id).where(FollowUp.appointment_id == appointment.id)) is not None:
        raise InvalidInput({"appointment": "A follow-up is already recorded for this appointment"})
    return appointment


def follow_ups_of(*, by: User, plan_id: int) -> list[FollowUp]:
    plan = plans.get_plan(by=by, plan_id=plan_id)
    return list(db.session.scalars(select(FollowUp).where(FollowUp.plan_id == plan.id)
                                   .order_by(FollowUp.held_on.desc(), FollowUp.id.desc())))


def _check(details: FollowUpDetails) -> None:
    errors: dict[str, str] = {}
    if details.held_on > clock.today():
        errors["held_on"] = "The follow-up date must be today or in the past"
    if details.mode not in {mode.value for mode in Mode}:
        errors["mode"] = "Choose face to face, phone or video"
    if not 5 <= details.duration_minutes <= 180:
        errors["duration_minutes"] = "Enter the length in minutes, from 5 to 180"
    if not details.dose_taken.strip():
        errors["dose_taken"] = "Record the dose the patient is actually taking"
    for item in PEG_ITEMS:
        if not 0 <= details.peg.get(item, -1) <= PEG_MAX:
            errors[f"peg_{item}"] = f"Score from 0 to {PEG_MAX}"
    for item in SOWS_GOSSOP_ITEMS:
        score = details.sows.get(item, -1)
        if score is not None and not 0 <= score <= SOWS_MAX_PER_ITEM:
            errors[f"sows_{item}"] = f"Score from 0 to {SOWS_MAX_PER_ITEM}, or not assessed"
    if details.outcome not in {outcome.value for outcome in Outcome}:
        errors["outcome"] = "Choose the patient's decision"
    elif details.outcome == Outcome.HOLD and not 1 <= details.hold_days <= 365:
        errors["hold_days"] = "A hold must be from 1 to 365 days"
    elif details.outcome == Outcome.SLOW and details.reduction_pct is None and details.interval_days is None:
        errors["reduction_pct"] = "Give the new percentage, the new interval, or both"
    if errors:
        raise InvalidInput(errors)


def _detail(details: FollowUpDetails, outcome: Outcome) -> str:
    if outcome is Outcome.HOLD:
        return f"{details.hold_days} days"
    if outcome is Outcome.SLOW:
        parts = [f"{details.reduction_pct}%" if details.reduction_pct is not None else "",
                 f"every {details.interval_days} days" if details.interval_days is not None else ""]
        return " ".join(part for part in parts if part)
    return details.stop_reason.strip() if outcome is Outcome.STOP else ""
