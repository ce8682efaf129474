"""The scheduler process (`flask taper scheduler`): APScheduler 3.11 running Taper's jobs on their timetable.

- Its own process, never a web worker, and only one: it holds a lock for as long as it runs (a PostgreSQL
  advisory lock, or a lock file beside the SQLite database) and a second one exits.
- Jobs are stored in the application database (APScheduler's `apscheduler_jobs` table, outside the migrations)
  by name only; what they do is in taper.jobs and works from the database as it is.
- Missed runs are folded into one (coalesce) and still run up to two days late (misfire grace time), so a
  scheduler that was down catches up once, without a flood; the jobs' unique keys do the rest.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import text

from taper import jobs
from taper.domain.booking import CLINIC_TIMEZONE
from taper.extensions import db

MISFIRE_GRACE = timedelta(days=2)
ADVISORY_LOCK = 0x7A9E_5C4E  # "taper scheduler": one scheduler per PostgreSQL database

TIMETABLE = {
    "overdue-reviews": CronTrigger(hour=6, minute=0, timezone=CLINIC_TIMEZONE),
    "completion-reviews": CronTrigger(hour=6, minute=10, timezone=CLINIC_TIMEZONE),
    "step-reminders": CronTrigger(hour=9, minute=0, timezone=CLINIC_TIMEZONE),
    "deliver-messages": IntervalTrigger(minutes=5, timezone=CLINIC_TIMEZONE),
}


class AlreadyRunning(RuntimeError):
    pass


def job_store(app: Flask) -> SQLAlchemyJobStore:
    """The jobs' table in the application database (its engine is the store's own)."""
    return SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"], tablename="apscheduler_jobs")


def configure(scheduler: BaseScheduler, app: Flask, store: SQLAlchemyJobStore | None = None) -> BaseScheduler:
    """Give `scheduler` Taper's job store, executor, defaults and timetable."""
    jobs.bind(app)
    scheduler.configure(
        jobstores={"default": store or job_store(app)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},  # one job at a time
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(MISFIRE_GRACE.total_seconds())},
        timezone=CLINIC_TIMEZONE)
    for name, trigger in TIMETABLE.items():
        scheduler.add_job("taper.jobs:run_scheduled", trigger, args=[name], id=name, name=name,
                          replace_existing=True)
    return scheduler


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
