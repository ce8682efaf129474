"""The scheduler's jobs: what each makes, that running twice makes nothing more, GOV.UK Notify (a fake on
127.0.0.1) including its errors, and a job killed half way. Catching up after downtime and patients' hours:
tests/test_scheduler_catch_up.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time as wall
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from config import Settings
from taper import PROJECT_ROOT, clock, jobs
from taper.domain.follow_up import SOWS_GOSSOP_ITEMS
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.messaging.delivery import GovUkNotify
from taper.models import Message, Patient, Plan, User, WorklistItem
from taper.services import messages, patients, plans
from taper.services.follow_ups import FollowUpDetails, record_follow_up
from tests.conftest import MONDAY, Maker, at, clock_environment
from tests.fake_notify import API_KEY, TEMPLATES, FakeNotify, fake_notify

DAYTIME = Settings.patient_message_hours  # the default, 08:00 to 20:00: these tests send at 08:00 and later


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    return make.texted_patient(pharmacist, make.pharmacy_with_email())


def _running_plan(make: Maker, pharmacist: User, patient: Patient) -> Plan:
    with clock.freeze(at(MONDAY)):
        return make.running_plan(pharmacist, patient, start_on=MONDAY)


def _run(name: str, on: date) -> dict[str, object]:
    with clock.freeze(at(on, 9)):
        return jobs.run(name)


def test_step_reminders_tell_the_patient_and_pharmacy_the_day_before_once(make: Maker, pharmacist: User,
                                                                          patient: Patient) -> None:
    plan = _running_plan(make, pharmacist, patient)
    step_2 = date.fromisoformat(plan.current.schedule["steps"][1]["starts_on"])
    assert _run("step-reminders", step_2 - timedelta(days=2))["queued"] == 0
    first = _run("step-reminders", step_2 - timedelta(days=1))
    assert (first["queued"], first["sent"]) == (2, 2)  # the outbox backend: stored is sent
    again = _run("step-reminders", step_2 - timedelta(days=1))
    assert (again["queued"], again["sent"]) == (0, 0)
    sent = {message.channel: message for message in db.session.scalars(select(Message))}
    assert set(sent) == {"sms", "email"} and all(message.status == "sent" for message in sent.values())
    assert sent["sms"].to == "07700 900123"
    assert sent["sms"].body.startswith("Your next step starts tomorrow. Your plan has the details.")
    assert "mg" not in sent["sms"].body and "morphine" not in sent["sms"].body.lower()  # no clinical detail
    assert sent["email"].to == "high.street@nhs.net"
    assert f"step 2 of tapering plan {plan.id} (version 1) starts on 18 January 2027" in sent["email"].body


def test_reminders_follow_the_patients_choice_and_needs(pharmacist: User, patient: Patient, make: Maker) -> None:
    quiet = make.patient(pharmacist, easy_read=True, contact_by="none", mobile_phone="07700 900456")
    easy = make.patient(pharmacist, easy_read=True, contact_by="email", email="sam@example.com")
    for each in (quiet, easy):
        _running_plan(make, pharmacist, each)
    _run("step-reminders", date(2027, 1, 17))
    to_patients = {message.patient_id: message for message in db.session.scalars(
        select(Message).where(Message.organisation_id.is_(None)))}
    assert quiet.id not in to_patients  # no consent to reminders: none sent
    assert to_patients[easy.id].body.startswith("Tomorrow your medicine changes. Look at your plan.")
    app_only = db.session.scalar(select(Message).where(Message.patient_id == quiet.id))
    assert app_only is None  # no nominated pharmacy either


def test_overdue_reviews_go_on_the_worklist_once_and_a_review_clears_them(make: Maker, pharmacist: User,
                                                                          patient: Patient) -> None:
    plan = _running_plan(make, pharmacist, patient)  # no sessions: nothing was booked
    assert _run("overdue-reviews", MONDAY + timedelta(days=18))["added"] == 0  # 14 + 4 days of grace
    assert _run("overdue-reviews", MONDAY + timedelta(days=19))["added"] == 1
    assert _run("overdue-reviews", MONDAY + timedelta(days=20))["added"] == 0
    item = db.session.scalar(select(WorklistItem))
    assert (item.kind, item.plan_id, item.resolved_at) == ("overdue", plan.id, None)
    assert item.detail == "No review since 4 January 2027: one was due by 22 January 2027"
    with clock.freeze(at(MONDAY + timedelta(days=21))):
        record_follow_up(by=pharmacist, plan_id=plan.id, expected_version=plan.version, details=FollowUpDetails(
            held_on=MONDAY + timedelta(days=21), mode="phone", duration_minutes=20, dose_taken="As planned",
            peg={"pain": 5, "enjoyment": 5, "activity": 5}, sows=dict.fromkeys(SOWS_GOSSOP_ITEMS, 0), notes="",
            outcome="continue"))
        db.session.commit()
    db.session.refresh(item)
    assert item.resolved_at is not None
    assert _run("overdue-reviews", MONDAY + timedelta(days=22))["added"] == 0


def test_plans_at_their_last_step_are_flagged_for_a_completion_review_once(make: Maker, pharmacist: User,
                                                                             patient: Patient) -> None:
    plan = _running_plan(make, pharmacist, patient)
    last = date.fromisoformat(plan.current.schedule["steps"][-1]["starts_on"])
    assert _run("completion-reviews", last - timedelta(days=1))["added"] == 0
    assert _run("completion-reviews", last)["added"] == 1
    assert _run("completion-reviews", last + timedelta(days=1))["added"] == 0
    assert db.session.scalar(select(WorklistItem.kind)) == "completion_review"


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with fake_notify() as fake:
        yield fake


def _notify_backend(fake: FakeNotify) -> GovUkNotify:
    return GovUkNotify(api_key=API_KEY, base_url=fake.url, template_ids=TEMPLATES, timeout=5)


def _deliver(fake: FakeNotify) -> dict[str, int]:
    return messages.deliver_due(_notify_backend(fake), patient_hours=DAYTIME)


def _queue(patient: Patient, key: str, channel: str = "sms", to: str = "07700 900123") -> None:
    """A message to the patient that is not about "tomorrow" (a reminder, which goes out on the day it was
    written or not at all, would not be sent days later: tests/test_patient_message_hours.py)."""
    messages.queue(messages.Outgoing(key=key, kind="clinic_notice", channel=channel, to=to, subject="Your plan",
                                     body="Your plan has changed.", patient_id=patient.id))
    db.session.commit()


def test_notify_sends_text_email_and_letter(notify: FakeNotify, patient: Patient) -> None:
    _queue(patient, "a", "sms")
    _queue(patient, "b", "email", "sam@example.com")
    _queue(patient, "c", "letter", "Flat 1\n2 High Street\nLeeds\nLS1 1AA")
    with clock.freeze(at(MONDAY)):
        assert _deliver(notify)["sent"] == 3
    by_kind = {each["kind"]: each for each in notify.sent}
    assert by_kind["sms"]["phone_number"] == "07700 900123" and by_kind["sms"]["reference"] == "a"
    assert by_kind["email"]["personalisation"] == {"subject": "Your plan", "body": "Your plan has changed."}
    assert by_kind["letter"]["personalisation"]["address_line_4"] == "LS1 1AA"
    stored = {message.key: message for message in db.session.scalars(select(Message))}
    assert all(stored[key].status == "sent" and stored[key].provider_id == notify.sent[index]["id"]
               for index, key in enumerate("abc"))


def test_a_notify_error_leaves_the_message_failed_with_the_error_then_it_is_retried(notify: FakeNotify,
                                                                                    patient: Patient) -> None:
    _queue(patient, "retry-me")
    notify.failures = [(500, "Internal server error")]
    with clock.freeze(at(MONDAY)):
        assert _deliver(notify)["failed"] == 1
    message = db.session.scalar(select(Message))
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "GOV.UK Notify answered 500: Internal server error"
    with clock.freeze(at(MONDAY) + timedelta(minutes=4)):
        assert _deliver(notify)["sent"] == 0  # not yet: retried after 5 minutes
    with clock.freeze(at(MONDAY) + timedelta(minutes=6)):
        assert _deliver(notify)["sent"] == 1
    db.session.refresh(message)
    assert (message.status, message.last_error, notify.references()) == ("sent", "", ["retry-me"])


def test_a_refused_message_is_not_retried_until_someone_asks(notify: FakeNotify, patient: Patient,
                                                            pharmacist: User) -> None:
    _queue(patient, "bad-number")
    notify.failures = [(400, "phone_number Not a UK mobile number")]
    with clock.freeze(at(MONDAY)):
        _deliver(notify)
    with clock.freeze(at(MONDAY) + timedelta(days=1)):
        assert _deliver(notify)["sent"] == 0
        message = db.session.scalar(select(Message))
        assert message.status == "failed" and "Not a UK mobile number" in message.last_error
        messages.retry(by=pharmacist, message_id=message.id)
        db.session.commit()
        assert _deliver(notify)["sent"] == 1


def test_a_send_cut_short_is_checked_with_notify_before_sending_again(notify: FakeNotify, patient: Patient) -> None:
    _queue(patient, "went-out")
    _queue(patient, "never-went")
    with clock.freeze(at(MONDAY)):
        _deliver(notify)  # both sent
    notify.sent.pop()  # Notify never saw the second
    for message in db.session.scalars(select(Message)):
        message.status = "sending"  # as if the process died between the send and the commit
    db.session.commit()
    with clock.freeze(at(MONDAY) + timedelta(minutes=11)):
        result = _deliver(notify)
    assert result["recovered"] == 2 and result["sent"] == 1
    assert sorted(notify.references()) == ["never-went", "went-out"]  # each once


def test_killing_the_job_half_way_loses_nothing_and_duplicates_nothing(app: Flask, notify: FakeNotify,
                                                                       patient: Patient, tmp_path: Path) -> None:
    """Deliver 12 messages through a slow Notify in another process, kill it (SIGKILL) after a few sends, run
    the job again: every message went out exactly once."""
    keys = [f"message-{number}" for number in range(12)]
    for key in keys:
        _queue(patient, key)
    notify.delay_seconds = 0.15
    settings: Settings = app.extensions["taper.settings"]
    environment = {**os.environ, **clock_environment(), "TAPER_DATABASE_URL": settings.database_url,
                   "TAPER_ENV": "test",
                   "TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_SECRET_KEY": settings.secret_key,
                   "TAPER_NOTIFIER": "govuk-notify", "TAPER_NOTIFY_API_KEY": API_KEY,
                   "TAPER_NOTIFY_BASE_URL": notify.url,
                   **{f"TAPER_NOTIFY_{channel.upper()}_TEMPLATE_ID": template
                      for channel, template in TEMPLATES.items()}}
    with (tmp_path / "job.log").open("wb") as log:
        job = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "taper", "run-job",
                                "deliver-messages"], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL,
                               stderr=log)
        deadline = wall.monotonic() + 60
        while len(notify.references()) < 4 and wall.monotonic() < deadline and job.poll() is None:
            wall.sleep(0.02)
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=10)
    notify.settle()
    assert 4 <= len(notify.references()) < len(keys), (tmp_path / "job.log").read_text()
    notify.delay_seconds = 0
    db.session.expire_all()
    with clock.freeze(clock.now() + timedelta(minutes=11)):
        _deliver(notify)
    assert sorted(notify.references()) == sorted(keys)
    assert {message.status for message in db.session.scalars(select(Message))} == {"sent"}


def test_web_workers_never_start_a_scheduler(app: Flask) -> None:
    """The app serves requests without any scheduler thread (APScheduler names its thread "APScheduler")."""
    assert app.test_client().get("/login").status_code == 200
    assert not any(thread.name == "APScheduler" for thread in threading.enumerate())


def test_the_pharmacy_gets_no_reminder_when_the_patient_did_not_agree_to_share_with_it(
        make: Maker, pharmacist: User, patient: Patient) -> None:
    plan = _running_plan(make, pharmacist, patient)
    with clock.freeze(at(MONDAY)):
        plans.record_decision(by=pharmacist, plan_id=plan.id, decision=plans.Decision(
            what_matters="Family", goals="Less", agreed_pace="10%", prescriber="gp", consent_share_with_gp=True,
            consent_share_with_pharmacy=False, agreed_on=MONDAY))
        db.session.commit()
    _run("step-reminders", date(2027, 1, 17))
    assert [message.channel for message in db.session.scalars(select(Message))] == ["sms"]  # the patient's only


def test_an_overdue_item_marked_done_comes_back_while_the_review_is_still_overdue(
        make: Maker, pharmacist: User, patient: Patient) -> None:
    plan = _running_plan(make, pharmacist, patient)
    assert _run("overdue-reviews", MONDAY + timedelta(days=19))["added"] == 1
    item = db.session.scalar(select(WorklistItem))
    item.resolved_at = clock.now()  # the pharmacist pressed Done (say, after booking a review that then fell through)
    db.session.commit()
    assert _run("overdue-reviews", MONDAY + timedelta(days=19))["added"] == 0  # not twice in a day
    assert _run("overdue-reviews", MONDAY + timedelta(days=20))["added"] == 1
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.PAUSED)
    db.session.commit()
    for each in db.session.scalars(select(WorklistItem)):
        each.resolved_at = clock.now()
    db.session.commit()
    assert _run("overdue-reviews", MONDAY + timedelta(days=21))["added"] == 1  # a paused plan still needs review


def test_messages_for_a_pharmacy_without_email_wait_in_taper_and_are_never_sent_to_notify(
        notify: FakeNotify, patient: Patient) -> None:
    messages.queue(messages.Outgoing(key="in-app", kind="step_tomorrow", channel="app", to="", body="Step 2",
                                     patient_id=patient.id, organisation_id=patient.pharmacy_id))
    db.session.commit()
    with clock.freeze(at(MONDAY)):
        assert _deliver(notify)["sent"] == 1
    assert notify.sent == [] and db.session.scalar(select(Message.status)) == "sent"


def test_sending_again_uses_the_contact_details_on_the_record_now(make: Maker, notify: FakeNotify,
                                                                  patient: Patient, pharmacist: User) -> None:
    from taper.services.errors import InvalidInput

    _queue(patient, "moved-number")
    notify.failures = [(400, "Not a UK mobile number")]
    with clock.freeze(at(MONDAY)):
        _deliver(notify)
    details = make.details(nhs_number=patient.nhs_number, gp_practice_id=patient.gp_practice_id,
                           pharmacy_id=patient.pharmacy_id, contact_by="sms", mobile_phone="07700 900999")
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version, details=details)
    message = db.session.scalar(select(Message))
    messages.retry(by=pharmacist, message_id=message.id)
    assert message.to == "07700 900999"
    db.session.rollback()
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version, details=replace(
        details, contact_by="none"))
    with pytest.raises(InvalidInput, match="no longer wants reminders"):
        messages.retry(by=pharmacist, message_id=message.id)


def test_discard_stale_imports_deletes_only_previews_left_unconfirmed_for_over_a_day(pharmacist: User) -> None:
    from taper.models import CohortImport
    from taper.services import cohort_import
    from tests.services.test_cohort_import import generated

    def previewed(on: date) -> int:
        with clock.freeze(at(on, 9)):
            record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                           file_name="search.csv", content=generated(4))
            db.session.commit()
            return record.id

    left, recent = previewed(MONDAY - timedelta(days=2)), previewed(MONDAY)
    confirmed = previewed(MONDAY - timedelta(days=2))
    record = db.session.get(CohortImport, confirmed)
    assert record is not None
    cohort_import.confirm(by=pharmacist, import_id=confirmed, expected_version=record.version)
    db.session.commit()
    with clock.freeze(at(MONDAY, 12)):
        assert jobs.run("discard-stale-imports") == {"discarded": 1}
        assert jobs.run("discard-stale-imports") == {"discarded": 0}  # safe to run twice
    db.session.expire_all()
    assert db.session.get(CohortImport, left) is None
    assert {recent, confirmed} <= set(db.session.scalars(select(CohortImport.id)))
