"""The scheduler process (`flask taper scheduler`): APScheduler 3.11 running Taper's jobs on their timetable.

- Its own process, never a web worker, and only one: it holds a lock for as long as it runs (a PostgreSQL
  advisory lock, or a lock file beside the SQLite database) and a second one exits.
- Jobs are stored in the application database (APScheduler's `apscheduler_jobs` table, outside the migrations)
  by name only; what they do is in taper.jobs and works from the database as it is.
- A stored job keeps its next run time across restarts while its trigger is unchanged, so a run that fell due
  while the scheduler was down is still due when it starts: missed runs are folded into one (coalesce) that
  runs at once if it is at most two days late (misfire grace time). A catch-up runs once, without a flood, and
  the jobs' unique keys make a repeat harmless. A job that is new or whose trigger changed is timed afresh.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import text

from taper import jobs
from taper.domain.booking import CLINIC_TIMEZONE
from taper.extensions import db

MISFIRE_GRACE = timedelta(days=2)
ADVISORY_LOCK = 0x7A9E_5C4E  # "taper scheduler": one scheduler per PostgreSQL database

TIMETABLE: dict[str, BaseTrigger] = {
    "overdue-reviews": CronTrigger(hour=6, minute=0, timezone=CLINIC_TIMEZONE),
    "completion-reviews": CronTrigger(hour=6, minute=10, timezone=CLINIC_TIMEZONE),
    "discard-stale-imports": CronTrigger(hour=6, minute=5, timezone=CLINIC_TIMEZONE),
    "step-reminders": CronTrigger(hour=9, minute=0, timezone=CLINIC_TIMEZONE),
    # On the hour and every five minutes after (a fixed start, not "five minutes from now"): the same trigger in
    # every process, so a restart keeps its stored time, and the first run of patients' hours is at their start.
    "deliver-messages": IntervalTrigger(minutes=5, start_date=datetime(2026, 1, 1, tzinfo=CLINIC_TIMEZONE),
                                        timezone=CLINIC_TIMEZONE),
}


class AlreadyRunning(RuntimeError):
    pass


def job_store(app: Flask) -> SQLAlchemyJobStore:
    """The jobs' table in the application database (its engine is the store's own)."""
    return SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"], tablename="apscheduler_jobs")


def configure(scheduler: BaseScheduler, app: Flask, store: SQLAlchemyJobStore | None = None,
              timetable: dict[str, BaseTrigger] | None = None) -> BaseScheduler:
    """Give `scheduler` Taper's job store, executor, defaults and timetable (default TIMETABLE), keeping the
    stored next run time of every job whose trigger is unchanged (so that a run missed while the scheduler was
    down runs when it starts) and removing stored jobs that are no longer in the timetable."""
    jobs.bind(app)
    store = store or job_store(app)
    scheduler.configure(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=1)},  # one job at a time
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(MISFIRE_GRACE.total_seconds())},
        timezone=CLINIC_TIMEZONE)
    stored = _stored_jobs(scheduler, store)
    for name, trigger in (TIMETABLE if timetable is None else timetable).items():
        kept = stored.pop(name, None)
        # A changed trigger is timed afresh: its stored time belongs to the old timetable.
        timing: dict[str, datetime] = {}
        if kept is not None and kept.next_run_time is not None and repr(kept.trigger) == repr(trigger):
            timing["next_run_time"] = kept.next_run_time
        scheduler.add_job("taper.jobs:run_scheduled", trigger, args=[name], id=name, name=name,
                          replace_existing=True, **timing)
    for retired in stored:
        store.remove_job(retired)
    return scheduler


def _stored_jobs(scheduler: BaseScheduler, store: SQLAlchemyJobStore) -> dict[str, Job]:
    """The jobs the last scheduler on this database left in its store, by id (none the first time)."""
    store.start(scheduler, "default")  # creates the table if need be; the scheduler starts it again, harmlessly
    return {job.id: job for job in store.get_all_jobs()}


@contextmanager
def only_scheduler(app: Flask) -> Iterator[None]:
    """Hold the one-scheduler lock while the block runs; AlreadyRunning if another process holds it."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK}).scalar():
                raise AlreadyRunning("another scheduler is running on this database")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
        return
    lock_path = Path(app.instance_path) / "scheduler.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning("another scheduler is running on this database") from None
        yield
