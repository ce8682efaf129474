"""When a plan can safely start: the clinic's lead time from a plan going out to step 1, so that the GP has the
letter before the first prescription is due and the pharmacy can order any new strengths (Taper issue 12)."""

from __future__ import annotations

from datetime import date

from taper import clock
from taper.domain.booking import english_bank_holidays, ready_by
from taper.domain.plans import PlanStatus
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import Organisation, Patient, Plan
from taper.services import appointments


def default_start_on(clinic: Organisation) -> date:
    """The plan builder's start date: the clinic's lead time after today, on the next working day."""
    return _ready_by(clinic, clock.today())


def early_start_notice(clinic: Organisation, starts_on: date) -> str | None:
    """What the GP and the pharmacy will not yet have when a plan going out today starts on `starts_on`, or None
    when the start leaves them the clinic's lead time."""
    today = clock.today()
    ready = _ready_by(clinic, today)
    if starts_on >= ready:
        return None
    when = "started" if starts_on < today else "starts"
    return (f"Step 1 {when} on {long_date(starts_on)}, before {long_date(ready)}, the first day that leaves the "
            f"GP and the pharmacy {clinic.plan_lead_days} days to act on the plan. The GP's first prescription "
            f"cannot be dated before the plan goes out, and the pharmacy may need to order new strengths: make "
            f"sure the patient has what they need for step 1 until then, or choose a later start.")


def early_start_notice_for_draft(plan: Plan) -> str | None:
    """The notice for a draft plan's step 1, were it started today; None once the plan has started."""
    if plan.status is not PlanStatus.DRAFT:
        return None
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    return early_start_notice(patient.clinic, appointments.step_1_starts_on(plan))


def _ready_by(clinic: Organisation, issued_on: date) -> date:
    holidays = english_bank_holidays(range(issued_on.year, issued_on.year + 2))
    return ready_by(issued_on, lead_days=clinic.plan_lead_days, bank_holidays=holidays)
