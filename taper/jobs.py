"""The scheduler's jobs. Each works out what to do from the database as it is now, and everything it makes has
a unique key, so running a job twice, late, or after a crash adds and sends nothing twice.

- overdue-reviews (daily): patients whose review is overdue go on their clinic's worklist.
- step-reminders (daily): the day before a step starts, the patient (as they agreed to be contacted) and the
  nominated pharmacy are told, through the outbox. Each run works from today's date, so a late run (a catch-up)
  reminds about tomorrow's steps; a patient's reminder goes out in their daytime hours on the day it was
  written or not at all.
- completion-reviews (daily): plans that reached their last step are flagged for a completion review.
- deliver-messages (every five minutes): the outbox goes out, failures are retried; messages to patients only
  in TAPER_PATIENT_MESSAGE_HOURS (those written outside them go at the next opening).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from taper import clock
from taper.domain.booking import CLINIC_TIMEZONE, review_overdue
from taper.domain.plans import PlanStatus
from taper.domain.reminders import step_tomorrow_for_patient, step_tomorrow_for_pharmacy
from taper.domain.wording import long_date
from taper.extensions import db
from taper.messaging.delivery import delivery_for
from taper.models import Appointment, FollowUp, Patient, Plan, WorklistItem
from taper.services import appointments, audit, messages, sharing

Result = dict[str, Any]


def overdue_reviews() -> Result:
    """Running plans (active or paused) with no review within the cadence and grace and nothing booked go on
    the worklist, once a day at most, and again on a later day if an earlier item was marked done while the
    review is still overdue."""
    today, added = clock.today(), 0
    for plan, _ in _running_plans():
        held = [day for day in (
            db.session.scalar(select(func.max(FollowUp.held_on)).where(FollowUp.plan_id == plan.id)),
            _last_attended(plan.id)) if day is not None]
        last_review = max(held) if held else appointments.step_1_starts_on(plan)
        upcoming = appointments.upcoming(plan.id)
        due = review_overdue(last_review=last_review, cadence_days=plan.review_every_days, today=today,
                             next_booked=appointments.local_day(upcoming[0].starts_at) if upcoming else None)
        if due is not None and not _open_item(plan.id, "overdue"):
            added += appointments.add_to_worklist(
                key=f"overdue:{plan.id}:{today.isoformat()}", kind="overdue", plan_id=plan.id,
                detail=f"No review since {long_date(last_review)}: one was due by {long_date(due)}")
    db.session.commit()
    return {"added": added}


def step_reminders() -> Result:
    tomorrow, queued = clock.today() + timedelta(days=1), 0
    for plan, patient in _active_plans():
        for step in plan.current.schedule["steps"]:
            if date.fromisoformat(step["starts_on"]) != tomorrow:
                continue
            key = f"step-tomorrow:plan-{plan.id}:{tomorrow.isoformat()}"
            clinic = patient.clinic
            contact = messages.to_patient(patient)
            if contact is not None:
                subject, body = step_tomorrow_for_patient(clinic_name=clinic.name, clinic_phone=clinic.phone,
                                                          easy_read=patient.easy_read)
                queued += messages.queue(messages.Outgoing(
                    key=f"{key}:patient", kind="step_tomorrow", channel=contact[0], to=contact[1], subject=subject,
                    body=body, patient_id=patient.id))
            if patient.pharmacy is not None and sharing.shares_with_pharmacy(plan):
                channel, address = messages.to_organisation(patient.pharmacy)
                subject, body = step_tomorrow_for_pharmacy(
                    patient=f"{patient.given_name} {patient.family_name}", nhs_number=patient.nhs_number_display,
                    plan_id=plan.id, version=plan.current.number, step=step["number"], starts_on=tomorrow,
                    clinic_name=clinic.name, clinic_phone=clinic.phone)
                queued += messages.queue(messages.Outgoing(
                    key=f"{key}:pharmacy-{patient.pharmacy.id}", kind="step_tomorrow", channel=channel, to=address,
                    subject=subject, body=body, patient_id=patient.id, organisation_id=patient.pharmacy.id))
    db.session.commit()
    return {"queued": queued, **deliver_messages()}


def completion_reviews() -> Result:
    today, added = clock.today(), 0
    for plan, _ in _active_plans():
        last = date.fromisoformat(plan.current.schedule["steps"][-1]["starts_on"])
        if last <= today:
            added += appointments.add_to_worklist(
                key=f"completion_review:{plan.id}:{last.isoformat()}", kind="completion_review", plan_id=plan.id,
                detail=f"Reached the last step on {long_date(last)}: review, then complete or continue the plan")
    db.session.commit()
    return {"added": added}


def deliver_messages() -> Result:
    settings = current_app.extensions["taper.settings"]
    return messages.deliver_due(delivery_for(settings), patient_hours=settings.patient_message_hours)


JOBS: dict[str, Callable[[], Result]] = {
    "overdue-reviews": overdue_reviews,
    "step-reminders": step_reminders,
    "completion-reviews": completion_reviews,
    "deliver-messages": deliver_messages,
}

_app: Flask | None = None


def bind(app: Flask) -> None:
    """The app the scheduler process runs its jobs in (jobs are stored by name, not as pickled objects)."""
    global _app
    _app = app


def run(name: str) -> Result:
    """Run one job now, in the current app context, audited as the scheduler."""
    with audit.origin("scheduler"):
        try:
            return JOBS[name]()
        except BaseException:
            db.session.rollback()
            raise


def run_scheduled(name: str) -> Result:
    """What the scheduler calls: `run` inside the bound app."""
    assert _app is not None, "bind(app) first"
    with _app.app_context():
        return run(name)


def _active_plans() -> list[tuple[Plan, Patient]]:
    return _plans_with(PlanStatus.ACTIVE)


def _running_plans() -> list[tuple[Plan, Patient]]:
    return _plans_with(PlanStatus.ACTIVE, PlanStatus.PAUSED)


def _plans_with(*statuses: PlanStatus) -> list[tuple[Plan, Patient]]:
    rows = db.session.execute(select(Plan, Patient).join(Patient, Plan.patient_id == Patient.id)
                              .where(Plan.status.in_(statuses)).order_by(Plan.id))
    return [(plan, patient) for plan, patient in rows]


def _open_item(plan_id: int, kind: str) -> bool:
    return db.session.scalar(select(WorklistItem.id).where(
        WorklistItem.plan_id == plan_id, WorklistItem.kind == kind, WorklistItem.resolved_at.is_(None)).limit(1)) \
        is not None


def _last_attended(plan_id: int) -> date | None:
    starts = db.session.scalar(select(func.max(Appointment.starts_at)).where(
        Appointment.plan_id == plan_id, Appointment.status == "attended"))
    return starts.astimezone(CLINIC_TIMEZONE).date() if starts else None
