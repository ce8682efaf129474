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
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from taper import clock
from taper.domain.booking import review_overdue
from taper.domain.plans import PlanStatus
from taper.domain.reminders import step_tomorrow_for_patient, step_tomorrow_for_pharmacy
from taper.domain.wording import long_date
from taper.extensions import db
from taper.messaging.delivery import delivery_for
from taper.models import Appointment, FollowUp, Message, Patient, Plan, PlanVersionStep, SharedDecision, WorklistItem
from taper.services import appointments, audit, cohort_import, messages, plan_steps, unique_rows, worklists

Result = dict[str, Any]
RUNNING = (PlanStatus.ACTIVE, PlanStatus.PAUSED)

# Each job reads what it needs for every plan in one query (the latest review, booking or decision of each plan
# by a correlated subquery), then writes what it makes in bulk: a fixed number of statements however many plans.


def overdue_reviews() -> Result:
    """Running plans (active or paused) with no review within the cadence and grace and nothing booked go on
    the worklist, once a day at most, and again on a later day if an earlier item was marked done while the
    review is still overdue."""
    today, now = clock.today(), clock.now()
    last_follow_up = select(func.max(FollowUp.held_on)).where(FollowUp.plan_id == Plan.id)
    last_attended = select(func.max(Appointment.starts_at)).where(Appointment.plan_id == Plan.id,
                                                                  Appointment.status == "attended")
    next_booked = select(func.min(Appointment.starts_at)).where(
        Appointment.plan_id == Plan.id, Appointment.status.in_(appointments.HOLDING), Appointment.starts_at >= now)
    open_item = select(WorklistItem.id).where(WorklistItem.plan_id == Plan.id, WorklistItem.kind == "overdue",
                                              WorklistItem.resolved_at.is_(None)).exists()
    rows = db.session.execute(plan_steps.with_current_steps(select(
        Plan.id, Plan.patient_id, Patient.clinic_id, Plan.review_every_days, PlanVersionStep.starts_on,
        last_follow_up.correlate(Plan).scalar_subquery(), last_attended.correlate(Plan).scalar_subquery(),
        next_booked.correlate(Plan).scalar_subquery())
        .join(Plan.patient)).where(Plan.status.in_(RUNNING), PlanVersionStep.number == 1, ~open_item)
        .order_by(Plan.id))
    items = []
    for plan_id, patient_id, clinic_id, cadence_days, step_1_starts_on, followed_up, attended, booked in rows:
        held = [day for day in (followed_up, _local_day(attended)) if day is not None]
        last_review = max(held) if held else step_1_starts_on
        due = review_overdue(last_review=last_review, cadence_days=cadence_days, today=today,
                             next_booked=_local_day(booked))
        if due is not None:
            items.append(worklists.NewItem(
                key=f"overdue:{plan_id}:{today.isoformat()}", kind="overdue", clinic_id=clinic_id,
                patient_id=patient_id, plan_id=plan_id,
                detail=f"No review since {long_date(last_review)}: one was due by {long_date(due)}"))
    added = worklists.add_new(items)
    db.session.commit()
    return {"added": added}


def step_reminders() -> Result:
    queued = queue_step_reminders()
    db.session.commit()
    return {"queued": queued, **deliver_messages()}


def queue_step_reminders() -> int:
    """The outbox messages about steps of active plans starting tomorrow: to the patient (as they agreed to be
    contacted) and to their nominated pharmacy (if the latest shared decision shares the plan with it); how many
    were added (each has a unique key: none twice)."""
    tomorrow, now = clock.today() + timedelta(days=1), clock.now()
    shares_with_pharmacy = (select(SharedDecision.consent_share_with_pharmacy)
                            .where(SharedDecision.plan_id == Plan.id).order_by(SharedDecision.id.desc()).limit(1)
                            .correlate(Plan).scalar_subquery())
    rows = db.session.execute(plan_steps.with_current_steps(select(
        Plan.id, Plan.current_version_number, PlanVersionStep.number, Patient, shares_with_pharmacy)
        .join(Plan.patient)).where(Plan.status == PlanStatus.ACTIVE, PlanVersionStep.starts_on == tomorrow)
        .options(joinedload(Patient.clinic), joinedload(Patient.pharmacy)).order_by(Plan.id))
    outgoing = []
    for plan_id, version, step, patient, shared in rows:
        key = f"step-tomorrow:plan-{plan_id}:{tomorrow.isoformat()}"
        clinic = patient.clinic
        contact = messages.to_patient(patient)
        if contact is not None:
            subject, body = step_tomorrow_for_patient(clinic_name=clinic.name, clinic_phone=clinic.phone,
                                                      easy_read=patient.easy_read)
            outgoing.append(messages.Outgoing(
                key=f"{key}:patient", kind="step_tomorrow", channel=contact[0], to=contact[1], subject=subject,
                body=body, patient_id=patient.id))
        if patient.pharmacy is not None and shared:
            channel, address = messages.to_organisation(patient.pharmacy)
            subject, body = step_tomorrow_for_pharmacy(
                patient=f"{patient.given_name} {patient.family_name}", nhs_number=patient.nhs_number_display,
                plan_id=plan_id, version=version, step=step, starts_on=tomorrow, clinic_name=clinic.name,
                clinic_phone=clinic.phone)
            outgoing.append(messages.Outgoing(
                key=f"{key}:pharmacy-{patient.pharmacy.id}", kind="step_tomorrow", channel=channel, to=address,
                subject=subject, body=body, patient_id=patient.id, organisation_id=patient.pharmacy.id))
    return unique_rows.insert_new(Message, [asdict(each) | {"next_attempt_at": now} for each in outgoing])


def completion_reviews() -> Result:
    """Active plans whose current version's last step has started are flagged for a completion review, once per
    last step (a revision that moves the last step flags the plan again when it is reached)."""
    today = clock.today()
    last_step = func.max(PlanVersionStep.starts_on)
    rows = db.session.execute(plan_steps.with_current_steps(
        select(Plan.id, Plan.patient_id, Patient.clinic_id, last_step).join(Plan.patient))
        .where(Plan.status == PlanStatus.ACTIVE).group_by(Plan.id, Plan.patient_id, Patient.clinic_id)
        .having(last_step <= today).order_by(Plan.id))
    added = worklists.add_new([worklists.NewItem(
        key=f"completion_review:{plan_id}:{last.isoformat()}", kind="completion_review", clinic_id=clinic_id,
        patient_id=patient_id, plan_id=plan_id,
        detail=f"Reached the last step on {long_date(last)}: review, then complete or continue the plan")
        for plan_id, patient_id, clinic_id, last in rows])
    db.session.commit()
    return {"added": added}


def deliver_messages() -> Result:
    settings = current_app.extensions["taper.settings"]
    return messages.deliver_due(delivery_for(settings), patient_hours=settings.patient_message_hours)


# An upload previewed and never confirmed holds patients' details nobody chose to import: kept a day at most.
UNCONFIRMED_IMPORTS_KEPT = timedelta(days=1)


def discard_stale_imports() -> Result:
    """Delete cohort imports previewed more than a day ago and never confirmed (their uploaded files with them)."""
    discarded = cohort_import.discard_stale_previews(older_than=UNCONFIRMED_IMPORTS_KEPT)
    db.session.commit()
    return {"discarded": discarded}


JOBS: dict[str, Callable[[], Result]] = {
    "overdue-reviews": overdue_reviews,
    "step-reminders": step_reminders,
    "completion-reviews": completion_reviews,
    "deliver-messages": deliver_messages,
    "discard-stale-imports": discard_stale_imports,
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


def _local_day(instant: datetime | None) -> date | None:
    return appointments.local_day(instant) if instant is not None else None
