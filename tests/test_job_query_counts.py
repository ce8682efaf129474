"""Every scheduler job runs the same number of SQL statements with 3 running plans as with 30 (Taper issue 16).

Each job is measured on a day when it has nothing to do and on a day when it has something to do for every plan:
adding worklist items or queueing reminders costs the same few statements for 3 plans as for 27 (bulk writes).
Delivering messages is the one cost that grows with the work, by design: each message is claimed and committed
before it goes and committed again after, so that none is lost or sent twice (taper.services.messages); it
costs the same few statements per message, and nothing per plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from taper import clock, jobs
from taper.extensions import db
from taper.models import Message, Patient, Plan, User, WorklistItem
from taper.services import messages
from tests.conftest import TODAY, Maker, at
from tests.query_counts import Statements, counting

NOTHING_TO_DO = TODAY + timedelta(days=5)  # no review overdue, no step tomorrow, no plan at its last step
STEP_2_EVE = TODAY + timedelta(days=13)  # the plans' steps start every 14 days from TODAY
STEP_3_EVE = TODAY + timedelta(days=27)
OVERDUE = TODAY + timedelta(days=22)  # 14 days and 4 days' grace since the plans started, nothing booked
BEFORE_PATIENT_HOURS = 7  # reminders queued at 7am wait for 8am: only their queueing is counted


def _count(when: datetime, job: Callable[[], Any]) -> tuple[Statements, Any]:
    with clock.freeze(when), counting() as statements:
        result = job()
    return statements, result


def _count_of(model: type[Any], **where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def _same(counts: dict[int, Statements], what: str) -> None:
    assert counts[3].count == counts[30].count, f"{what}\n3 plans: {counts[3]}\n30 plans: {counts[30]}"


def test_every_job_runs_the_same_statements_for_3_and_30_running_plans(make: Maker, pharmacist: User) -> None:
    pharmacy = make.pharmacy_with_email()
    plans: list[Plan] = []
    before = 0
    idle: dict[str, dict[int, Statements]] = {name: {} for name in jobs.JOBS}
    busy: dict[str, dict[int, Statements]] = {name: {} for name in ("overdue-reviews", "completion-reviews",
                                                                    "step-reminders")}
    for running in (3, 30):
        while len(plans) < running:
            patient = make.texted_patient(pharmacist, pharmacy)
            plans.append(make.running_plan(pharmacist, patient, start_on=TODAY))
        new, before = running - before, running  # the plans added this time
        for name in jobs.JOBS:
            statements, result = _count(at(NOTHING_TO_DO, 9), lambda name=name: jobs.run(name))
            assert not any(result.get(key) for key in ("added", "queued", "sent")), (name, result)
            idle[name][running] = statements

        busy["overdue-reviews"][running], result = _count(at(OVERDUE, 9), lambda: jobs.run("overdue-reviews"))
        assert result == {"added": new}
        last_step = date.fromisoformat(plans[0].current.schedule["steps"][-1]["starts_on"])
        busy["completion-reviews"][running], result = _count(at(last_step, 9),
                                                             lambda: jobs.run("completion-reviews"))
        assert result == {"added": new}
        eve = STEP_2_EVE if running == 3 else STEP_3_EVE
        busy["step-reminders"][running], queued = _count(at(eve, BEFORE_PATIENT_HOURS), jobs.queue_step_reminders)
        assert queued == 2 * running  # the patient's and the pharmacy's
    assert _count_of(WorklistItem, kind="overdue") == _count_of(WorklistItem, kind="completion_review") == 30
    assert _count_of(Message, kind="step_tomorrow") == 2 * (3 + 30)
    for name, counts in idle.items():
        _same(counts, f"{name}, with nothing to do")
    for name, counts in busy.items():
        _same(counts, f"{name}, doing something for every plan")


def test_delivering_messages_costs_the_same_per_message_and_nothing_per_plan(make: Maker, pharmacist: User) -> None:
    patient: Patient = make.patient(pharmacist, contact_by="sms", mobile_phone="07700 900123")
    counts = {}
    for due in (1, 3, 30):
        for number in range(due):
            messages.queue(messages.Outgoing(key=f"{due}-{number}", kind="clinic_notice", channel="sms",
                                             to="07700 900123", body="Your plan has changed.", patient_id=patient.id))
        db.session.commit()
        counts[due], result = _count(at(NOTHING_TO_DO, 9), lambda: jobs.run("deliver-messages"))
        assert result["sent"] == due
    per_message = (counts[3].count - counts[1].count) // 2
    assert 0 < per_message <= 5 and counts[3].count == counts[1].count + 2 * per_message, f"{counts[1]}\n{counts[3]}"
    assert counts[30].count == counts[3].count + 27 * per_message, f"{counts[3]}\n{counts[30]}"
