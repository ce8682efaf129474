"""The scheduler catches up: a run that fell due while it was down runs once when it starts (within the two days'
grace), and only once, and messages to patients wait for their daytime hours.

Each "lifetime" is a scheduler made as `flask taper scheduler` makes it (taper.scheduler.configure, on the test
database's own job store), started, left to run what is due, and stopped. APScheduler reads the time through the
suite's clock (taper.clock) here, so a test says exactly when each start happens, whatever the real time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import func, select

from taper import clock, jobs
from taper.domain.booking import CLINIC_TIMEZONE
from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import Message, Patient, Plan, User
from taper.scheduler import TIMETABLE, configure, job_store
from tests.conftest import MONDAY, Maker, at

PROBE = "test-probe"
OUTCOMES = {EVENT_JOB_EXECUTED: "ran", EVENT_JOB_MISSED: "missed", EVENT_JOB_ERROR: "failed"}
STEP_2_STARTS_ON = date(2027, 1, 18)  # of the plan below, started on MONDAY (4 January 2027)


class _ClockTime(datetime):
    """datetime whose now() is the suite's clock: what APScheduler sees as the time."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return clock.now().astimezone(tz)


@pytest.fixture(autouse=True)
def scheduler_on_the_suites_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (apscheduler.schedulers.base, apscheduler.executors.base):
        monkeypatch.setattr(module, "datetime", _ClockTime)


def probe() -> None:
    """A job due at the start of a lifetime, after every missed run: once it has run, so have they."""


def lifetime(app: Flask, starts_at: datetime, timetable: dict[str, BaseTrigger] | None = None) -> list[str]:
    """Start a scheduler at `starts_at` (the clock stands still there), let it run what is due, stop it; what
    each job did, as sorted "job: ran" or "job: missed" lines."""
    seen: list[str] = []
    probed = threading.Event()

    def listen(event: JobExecutionEvent) -> None:
        if event.job_id == PROBE:
            probed.set()
        else:
            seen.append(f"{event.job_id}: {OUTCOMES[event.code]}")

    with clock.freeze(starts_at):
        store = job_store(app)
        scheduler = configure(BackgroundScheduler(), app, store, timetable)
        scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        # One second after the start: later than any missed run, so it runs last (one job at a time, in order).
        scheduler.add_job(probe, "date", run_date=starts_at + timedelta(seconds=1), id=PROBE)
        with clock.freeze(starts_at + timedelta(seconds=1)):
            scheduler.start()
            assert probed.wait(60), "the scheduler did not run what was due"
            scheduler.shutdown(wait=True)
        store.engine.dispose()
    return sorted(seen)


@pytest.fixture
def plan(make: Maker) -> Iterator[Plan]:
    """A running plan whose step 2 starts on 18 January 2027, for a patient who gets texts, and their pharmacy
    (which gets emails)."""
    pharmacist: User = make.user()
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY)
    pharmacy.email = "high.street@nhs.net"
    patient: Patient = make.patient(pharmacist, pharmacy_id=pharmacy.id, contact_by="sms",
                                    mobile_phone="07700 900123")
    with clock.freeze(at(MONDAY)):
        plan = make.running_plan(pharmacist, patient, start_on=MONDAY)
    assert plan.current.schedule["steps"][1]["starts_on"] == STEP_2_STARTS_ON.isoformat()
    yield plan


def _messages() -> dict[str, str]:
    """Stored messages, "sms" or "email" -> status."""
    db.session.expire_all()
    return {message.channel: message.status for message in db.session.scalars(select(Message))}


EVERY_JOB = sorted(f"{name}: ran" for name in TIMETABLE)


def test_a_scheduler_stopped_before_its_run_times_and_started_after_them_runs_each_missed_job_once(
        app: Flask, plan: Plan) -> None:
    day = STEP_2_STARTS_ON - timedelta(days=1)
    assert lifetime(app, at(day, 5, 52)) == []  # stopped before 06:00, 06:10 and 09:00
    assert lifetime(app, at(day, 9, 32)) == EVERY_JOB  # started after them: each missed job runs once
    assert _messages() == {"sms": "sent", "email": "sent"}  # the day-before reminders went out
    assert lifetime(app, at(day, 9, 33)) == []  # a second start runs nothing again
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2


def test_runs_missed_on_several_days_are_folded_into_one(app: Flask, plan: Plan) -> None:
    day = STEP_2_STARTS_ON - timedelta(days=1)
    assert lifetime(app, at(day - timedelta(days=3), 5, 52)) == []
    assert lifetime(app, at(day, 9, 32)) == EVERY_JOB  # three days missed: one run each, not three
    assert _messages() == {"sms": "sent", "email": "sent"}


def test_a_scheduler_that_keeps_running_runs_its_jobs_at_their_times_only(app: Flask, plan: Plan) -> None:
    day = STEP_2_STARTS_ON - timedelta(days=1)
    assert lifetime(app, at(day, 5, 52)) == []
    assert lifetime(app, at(day, 6, 1)) == ["deliver-messages: ran", "overdue-reviews: ran"]
    assert lifetime(app, at(day, 6, 2)) == []
    assert lifetime(app, at(day, 9, 2)) == ["completion-reviews: ran", "deliver-messages: ran",
                                            "discard-stale-imports: ran", "step-reminders: ran"]


WEEKLY = {"step-reminders": CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=CLINIC_TIMEZONE)}


@pytest.mark.parametrize(("late", "outcome"), [
    (timedelta(days=1, minutes=32), "ran"),
    (timedelta(days=1, hours=23, minutes=59), "ran"),
    (timedelta(days=2, minutes=1), "missed"),  # more than two days late: the grace is over
    (timedelta(days=3, minutes=32), "missed"),
])
def test_a_run_missed_by_more_than_the_grace_is_not_run(app: Flask, plan: Plan, late: timedelta,
                                                        outcome: str) -> None:
    """A weekly job (a daily one always has a missed run within the last day)."""
    monday = STEP_2_STARTS_ON - timedelta(days=7)
    assert lifetime(app, at(monday, 8, 52), WEEKLY) == []
    assert lifetime(app, at(monday, 9) + late, WEEKLY) == [f"step-reminders: {outcome}"]
    assert lifetime(app, at(monday, 9) + late + timedelta(minutes=1), WEEKLY) == []


def test_a_job_whose_time_changed_is_timed_afresh_and_one_taken_out_is_removed(app: Flask, plan: Plan) -> None:
    day = STEP_2_STARTS_ON - timedelta(days=1)
    assert lifetime(app, at(day, 5, 52)) == []
    later = {"step-reminders": CronTrigger(hour=10, minute=0, timezone=CLINIC_TIMEZONE)}
    assert lifetime(app, at(day, 9, 32), later) == []  # its old 09:00 belongs to the old timetable
    assert lifetime(app, at(day, 10, 1), later) == ["step-reminders: ran"]
    store = job_store(app)
    try:
        assert [job.id for job in store.get_all_jobs()] == ["step-reminders"]
    finally:
        store.engine.dispose()


def test_a_catch_up_in_the_night_keeps_the_patients_text_for_the_morning_and_sends_it_once(
        app: Flask, plan: Plan) -> None:
    """Down from before 09:00 until 02:00 the next day: the catch-up reminds about the steps starting tomorrow;
    the pharmacy's email goes at once, the patient's text at 08:00."""
    day = STEP_2_STARTS_ON - timedelta(days=2)
    assert lifetime(app, at(day, 5, 52)) == []
    assert lifetime(app, at(day + timedelta(days=1), 2, 2)) == EVERY_JOB
    assert _messages() == {"sms": "pending", "email": "sent"}
    assert lifetime(app, at(day + timedelta(days=1), 7, 56)) == [  # that day's 06:00, 06:05 and 06:10 as well
        "completion-reviews: ran", "deliver-messages: ran", "discard-stale-imports: ran", "overdue-reviews: ran"]
    assert _messages() == {"sms": "pending", "email": "sent"}
    with clock.freeze(at(day + timedelta(days=1), 8)):
        assert jobs.run("deliver-messages")["sent"] == 1
        assert jobs.run("deliver-messages")["sent"] == 0
    assert _messages() == {"sms": "sent", "email": "sent"}
