"""The clinic pharmacist's home page: who needs attention now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from taper import clock
from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import FollowUp, Patient, Plan, RecordedRegimen, User
from taper.services.errors import PermissionDenied

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class StepChange:
    patient: Patient
    plan: Plan
    starts_on: date
    ome_mg_per_day: float


@dataclass(frozen=True)
class Overdue:
    patient: Patient
    plan: Plan
    last_seen_on: date
    due_on: date


@dataclass(frozen=True)
class HighDose:
    patient: Patient
    ome_mg_per_day: Decimal


@dataclass(frozen=True)
class Home:
    running: list[tuple[Patient, Plan]]
    step_changes: list[StepChange]
    overdue: list[Overdue]
    high_dose_without_plan: list[HighDose]


def clinic_home(*, by: User) -> Home:
    """For the pharmacist's clinic: running plans, steps changing in the next seven days, follow-ups overdue
    (none within the plan's step interval), and patients above the high-dose threshold with no running plan."""
    if by.role is not Role.PHARMACIST or by.organisation_id is None:
        raise PermissionDenied("only a clinic pharmacist has a clinic home page")
    today = clock.today()
    running = [(patient, plan) for patient, plan in db.session.execute(
        select(Patient, Plan).join(Plan, Plan.patient_id == Patient.id)
        .where(Patient.clinic_id == by.organisation_id, Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.PAUSED]))
        .order_by(Patient.family_name, Patient.given_name))]
    step_changes, overdue = [], []
    for patient, plan in running:
        schedule = plan.current.schedule
        for step in schedule["steps"]:
            starts_on = date.fromisoformat(step["starts_on"])
            if today <= starts_on < today + WEEK and plan.status is PlanStatus.ACTIVE:
                step_changes.append(StepChange(patient, plan, starts_on, step["ome_mg_per_day"]))
        last = db.session.scalar(select(FollowUp.held_on).where(FollowUp.plan_id == plan.id)
                                 .order_by(FollowUp.held_on.desc()).limit(1))
        last_seen = last or plan.versions[0].created_at.date()
        interval = int(schedule.get("policy", {}).get("interval_days", 14))
        if plan.status is PlanStatus.ACTIVE and last_seen + timedelta(days=interval) < today:
            overdue.append(Overdue(patient, plan, last_seen, last_seen + timedelta(days=interval)))
    with_running = {patient.id for patient, _ in running}
    return Home(running=running, step_changes=sorted(step_changes, key=lambda change: change.starts_on),
                overdue=overdue, high_dose_without_plan=_high_dose(by, with_running))


def _high_dose(by: User, with_running: set[int]) -> list[HighDose]:
    """Patients whose latest recorded regimen is above the clinic's threshold and who have no running plan."""
    latest: dict[int, tuple[Patient, RecordedRegimen]] = {}
    rows = db.session.execute(select(Patient, RecordedRegimen).join(RecordedRegimen,
                                                                    Patient.id == RecordedRegimen.patient_id)
                              .where(Patient.clinic_id == by.organisation_id)
                              .order_by(RecordedRegimen.recorded_on, RecordedRegimen.id)).all()
    for patient, record in rows:
        latest[patient.id] = (patient, record)
    found = []
    for patient, record in latest.values():
        if patient.id in with_running or record.total_ome_mg_per_day is None:
            continue
        if record.total_ome_mg_per_day > record.high_dose_threshold_mg:
            found.append(HighDose(patient, record.total_ome_mg_per_day))
    return sorted(found, key=lambda entry: -entry.ome_mg_per_day)
