"""Messages to patients go out only in their daytime hours (TAPER_PATIENT_MESSAGE_HOURS, in England); messages
to pharmacies are not held; a patient's reminder about "tomorrow" is never sent on the day itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigurationError, Settings, load_settings
from taper import clock, jobs
from taper.extensions import db
from taper.models import Message, Patient, User
from taper.services import messages
from taper.services.errors import InvalidInput
from tests.conftest import MONDAY, Maker, at

TUESDAY = MONDAY + timedelta(days=1)
SECRET = "s" * 40


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    return make.texted_patient(pharmacist, make.pharmacy_with_email())


def _queue(patient: Patient, *, kind: str, to_pharmacy: bool = False) -> None:
    messages.queue(messages.Outgoing(
        key=f"{kind}:{'pharmacy' if to_pharmacy else 'patient'}", kind=kind, channel="email" if to_pharmacy else "sms",
        to="high.street@nhs.net" if to_pharmacy else "07700 900123", body="A message",
        patient_id=patient.id, organisation_id=patient.pharmacy_id if to_pharmacy else None))
    db.session.commit()


def _deliver_at(day: date, hour: int, minute: int = 0) -> dict[str, object]:
    with clock.freeze(at(day, hour, minute)):
        return jobs.run("deliver-messages")


def _statuses() -> dict[str, str]:
    db.session.expire_all()
    return {message.key: message.status for message in db.session.scalars(select(Message))}


def test_messages_written_at_23_00_wait_for_08_00_and_go_once(patient: Patient) -> None:
    with clock.freeze(at(MONDAY, 23)):
        _queue(patient, kind="clinic_notice")  # a message to the patient that is not about "tomorrow"
        _queue(patient, kind="clinic_notice", to_pharmacy=True)
    assert _deliver_at(MONDAY, 23)["sent"] == 1  # the pharmacy's, at once
    assert _statuses() == {"clinic_notice:patient": "pending", "clinic_notice:pharmacy": "sent"}
    assert _deliver_at(TUESDAY, 7, 55)["sent"] == 0
    assert _deliver_at(TUESDAY, 8)["sent"] == 1
    assert _deliver_at(TUESDAY, 8, 5)["sent"] == 0
    assert _statuses() == {"clinic_notice:patient": "sent", "clinic_notice:pharmacy": "sent"}


def test_a_reminder_about_tomorrow_written_after_the_patients_hours_is_not_sent_the_next_day(
        patient: Patient, pharmacist: User) -> None:
    """Written at 23:00 (a late catch-up), "your next step starts tomorrow" would be wrong at 08:00: the step
    starts that day. The pharmacy's notice, which names the date, goes; the clinic sees why the text did not."""
    with clock.freeze(at(MONDAY, 23)):
        _queue(patient, kind="step_tomorrow")
        _queue(patient, kind="step_tomorrow", to_pharmacy=True)
    assert _deliver_at(MONDAY, 23, 55)["sent"] == 1
    result = _deliver_at(TUESDAY, 8)
    assert (result["sent"], result["too_late"]) == (0, 1)
    assert _statuses() == {"step_tomorrow:patient": "failed", "step_tomorrow:pharmacy": "sent"}
    text = db.session.scalar(select(Message).where(Message.key == "step_tomorrow:patient"))
    assert text.last_error == ("Not sent: it says the next step starts tomorrow, and it could not be sent on the day "
                               "it was written (patients get messages only from 08:00 to 20:00). The patient's plan "
                               "has the dates.")
    with clock.freeze(at(TUESDAY, 9)), pytest.raises(InvalidInput, match="step that has now started"):
        messages.retry(by=pharmacist, message_id=text.id)
    assert _deliver_at(TUESDAY, 9)["sent"] == 0


def test_a_reminder_about_tomorrow_that_fails_in_the_evening_is_retried_only_that_day(patient: Patient) -> None:
    with clock.freeze(at(MONDAY, 19, 50)):
        _queue(patient, kind="step_tomorrow")
        db.session.scalar(select(Message)).next_attempt_at = at(MONDAY, 20, 5)  # as after a send that failed
        db.session.commit()
    assert _deliver_at(MONDAY, 20, 5)["sent"] == 0  # the patient's hours are over
    assert _deliver_at(TUESDAY, 8)["too_late"] == 1
    assert _statuses() == {"step_tomorrow:patient": "failed"}


@pytest.mark.parametrize(("day", "utc_hour", "sent"), [
    (date(2027, 1, 18), 7, 0),  # 07:30 in England in winter (GMT): too early
    (date(2027, 1, 18), 8, 1),
    (date(2027, 7, 19), 6, 0),  # 07:30 in England in summer (BST)
    (date(2027, 7, 19), 7, 1),  # 08:30 in England
    (date(2027, 7, 19), 18, 1),  # 19:30 in England
    (date(2027, 7, 19), 19, 0),  # 20:30 in England
])
def test_the_hours_are_englands_in_winter_and_summer(patient: Patient, day: date, utc_hour: int,
                                                     sent: int) -> None:
    moment = datetime.combine(day, time(utc_hour, 30), UTC)
    with clock.freeze(moment):
        _queue(patient, kind="clinic_notice")
        assert jobs.run("deliver-messages")["sent"] == sent


def _environment(hours: str) -> dict[str, str]:
    return {"TAPER_ENV": "test", "TAPER_SECRET_KEY": SECRET, "TAPER_PATIENT_MESSAGE_HOURS": hours}


def test_the_hours_default_to_08_00_to_20_00() -> None:
    settings = load_settings({"TAPER_ENV": "test", "TAPER_SECRET_KEY": SECRET})
    assert settings.patient_message_hours == (time(8), time(20))


@given(opens=st.times().map(lambda each: each.replace(second=0, microsecond=0)),
       closes=st.times().map(lambda each: each.replace(second=0, microsecond=0)))
def test_any_window_that_opens_before_it_closes_is_read_and_any_other_refused(opens: time, closes: time) -> None:
    text = f"{opens:%H:%M}-{closes:%H:%M}"
    if opens < closes:
        assert load_settings(_environment(text)).patient_message_hours == (opens, closes)
    else:
        with pytest.raises(ConfigurationError, match="must open before it closes"):
            load_settings(_environment(text))


@pytest.mark.parametrize("hours", ["8-20", "08:00", "08:00-", "08:00-24:00", "08:60-20:00", "daytime",
                                   "08:00 to 20:00", "08.00-20.00"])
def test_a_malformed_window_is_refused(hours: str) -> None:
    with pytest.raises(ConfigurationError, match="must be two times like 08:00-20:00"):
        load_settings(_environment(hours))


def test_settings_made_in_code_are_checked_too() -> None:
    settings = Settings(environment="test", secret_key=SECRET, database_url="sqlite://", instance_path=None,  # type: ignore[arg-type]
                        patient_message_hours=(time(20), time(8)))
    with pytest.raises(ConfigurationError, match="must open before it closes"):
        settings.validate()
