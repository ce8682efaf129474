"""The patient list (issue 17): each patient's plan status, current OME and next review; filters for running
plans, high doses with no running plan and overdue reviews, kept from page to page; dates of birth searched as
people write them."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from taper import clock
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Patient, User
from taper.services import appointments, capacity, plans, regimens, worklists
from taper.services.capacity import SessionDetails
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, at, csrf_token, page_text, sign_in

ROW = re.compile(r'<tr class="nhsuk-table__row">\s*<td.*?</tr>')
MORPHINE_30_BD = {**MORPHINE_BD, "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}
START = TODAY + timedelta(days=7)  # a Wednesday


def _open_every_weekday(pharmacist: User) -> None:
    for weekday in range(5):
        capacity.add_session(by=pharmacist, details=SessionDetails(weekday, time(9), time(17), remote=False,
                                                                  location="Room 1"))
    db.session.commit()


def _rows(page: str) -> dict[str, str]:
    """Each row of the list, by the patient's name as listed ("SURNAME, Given"), its cells' text."""
    found = {}
    for row in ROW.findall(page):
        cells = [re.sub(r"<[^>]+>", " ", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        text = " | ".join(re.sub(r"\s+", " ", cell).strip() for cell in cells)
        found[text.split(" | ")[0]] = text
    return found


def _ended(by: User, make: Maker, family_name: str, to: PlanStatus) -> Patient:
    patient = make.patient(by, family_name=family_name)
    plan = make.running_plan(by, patient, start_on=START)
    plans.change_status(by=by, plan_id=plan.id, expected_version=plan.version, to=to, reason="Agreed in clinic")
    db.session.commit()
    return patient


@pytest.fixture
def caseload(pharmacist: User, make: Maker) -> dict[str, Patient]:
    """A patient in each plan status, and one with a low dose and no plan."""
    _open_every_weekday(pharmacist)
    made = {"none": make.patient(pharmacist, family_name="Nobody"),
            "low": make.patient(pharmacist, family_name="Lowdose"),
            "draft": make.patient(pharmacist, family_name="Drafted"),
            "active": make.patient(pharmacist, family_name="Running")}
    regimens.record_regimen(by=pharmacist, patient_id=made["low"].id, entry=RegimenEntry(lines=[MORPHINE_30_BD]))
    regimens.record_regimen(by=pharmacist, patient_id=made["draft"].id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    plans.create_draft(by=pharmacist, patient_id=made["draft"].id, settings=plans.PlanSettings(start_on=START))
    db.session.commit()
    make.running_plan(pharmacist, made["active"], start_on=START)
    paused = make.patient(pharmacist, family_name="Resting")
    plan = make.running_plan(pharmacist, paused, start_on=START)
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.PAUSED)
    db.session.commit()
    made["paused"] = paused
    made["completed"] = _ended(pharmacist, make, "Finished", PlanStatus.COMPLETED)
    made["stopped"] = _ended(pharmacist, make, "Halted", PlanStatus.STOPPED)
    return made


def _next_review(patient: Patient) -> str:
    starts_at = min(appointment.starts_at for appointment in db.session.query(appointments.Appointment)
                    .filter_by(patient_id=patient.id) if appointment.status in ("proposed", "confirmed"))
    local = starts_at.astimezone(clock.CLINIC_TIMEZONE)
    return f"{local.day} {local:%B %Y} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def test_each_patient_shows_their_plan_status_ome_and_next_review(
        signed_in: FlaskClient, caseload: dict[str, Patient]) -> None:
    page = page_text(signed_in.get("/patients/"))
    assert "OME, mg a day" in page and "(the plan's step today, or else the latest recorded regimen)" in page
    rows = _rows(page)
    assert rows["NOBODY, Ada"].endswith("| No plan | Not recorded | None booked")
    assert rows["LOWDOSE, Ada"].endswith("| No plan | 60 latest regimen | None booked")
    assert rows["DRAFTED, Ada"].endswith("| Draft | 120 latest regimen | None booked")
    # Step 1 starts next week: until then the patient takes what was recorded.
    assert rows["RUNNING, Ada"].endswith(f"| Active | 120 latest regimen | {_next_review(caseload['active'])}")
    assert rows["RESTING, Ada"].endswith(f"| Paused | 120 latest regimen | {_next_review(caseload['paused'])}")
    assert rows["FINISHED, Ada"].endswith("| Completed | 120 latest regimen | None booked")
    assert rows["HALTED, Ada"].endswith("| Stopped | 120 latest regimen | None booked")


def test_the_ome_is_the_plan_step_in_force_once_the_plan_has_begun(
        app: Flask, pharmacist: User, caseload: dict[str, Patient]) -> None:
    with clock.freeze(at(START + timedelta(days=1), 9)):
        client = app.test_client()  # a week on: the earlier session has timed out
        sign_in(client, pharmacist)
        rows = _rows(page_text(client.get("/patients/")))
    assert re.search(r"\| Active \| \d+ step 1 \|", rows["RUNNING, Ada"]), rows["RUNNING, Ada"]
    assert "| Completed | 120 latest regimen |" in rows["FINISHED, Ada"]


def test_running_plan_shows_active_and_paused_plans_only(signed_in: FlaskClient, caseload: dict[str, Patient]) -> None:
    page = page_text(signed_in.get("/patients/?show=running"))
    assert sorted(_rows(page)) == ["RESTING, Ada", "RUNNING, Ada"]
    assert '<strong aria-current="page">Running plan</strong>' in page


def test_high_dose_shows_doses_at_or_above_the_clinics_threshold_with_no_running_plan(
        signed_in: FlaskClient, caseload: dict[str, Patient]) -> None:
    # 120 mg a day is the clinic's threshold (the default): at it counts; 60 mg does not; running plans do not.
    page = page_text(signed_in.get("/patients/?show=high_dose"))
    assert sorted(_rows(page)) == ["DRAFTED, Ada", "FINISHED, Ada", "HALTED, Ada"]


def test_the_home_page_lists_the_same_high_doses_as_the_filter(signed_in: FlaskClient, pharmacist: User,
                                                               caseload: dict[str, Patient]) -> None:
    # A dose at the threshold is a high dose on both (taper.domain.assessment: at or above the clinic's threshold).
    listed = sorted(_rows(page_text(signed_in.get("/patients/?show=high_dose"))))
    home = worklists.clinic_home(by=pharmacist).high_dose_without_plan
    assert sorted(f"{each.patient.family_name.upper()}, {each.patient.given_name}" for each in home) == listed


def test_high_dose_follows_the_clinics_own_threshold(signed_in: FlaskClient, pharmacist: User,
                                                     caseload: dict[str, Patient]) -> None:
    clinic = pharmacist.organisation
    clinic.high_dose_threshold_mg = 60
    db.session.commit()
    page = page_text(signed_in.get("/patients/?show=high_dose"))
    assert sorted(_rows(page)) == ["DRAFTED, Ada", "FINISHED, Ada", "HALTED, Ada", "LOWDOSE, Ada"]


def test_overdue_shows_patients_on_the_worklist_for_a_review_and_reviews_passed_unrecorded(
        signed_in: FlaskClient, pharmacist: User, caseload: dict[str, Patient]) -> None:
    assert _rows(page_text(signed_in.get("/patients/?show=overdue"))) == {}
    resting = caseload["paused"]
    plan_id = plans.plans_of(by=pharmacist, patient_id=resting.id)[0].id
    worklists.add_new([worklists.NewItem(key="overdue:test", kind="overdue", clinic_id=pharmacist.organisation_id,
                                         patient_id=resting.id, plan_id=plan_id, detail="No review")])
    db.session.commit()
    assert sorted(_rows(page_text(signed_in.get("/patients/?show=overdue")))) == ["RESTING, Ada"]
    first = min((each for each in appointments.of_plan(by=pharmacist, plan=plans.plans_of(
        by=pharmacist, patient_id=caseload["active"].id)[0]) if each.status == "proposed"),
        key=lambda each: each.starts_at)
    with clock.freeze(first.ends_at + timedelta(minutes=1)):
        rows = _rows(page_text(signed_in.get("/patients/?show=overdue")))
        assert sorted(rows) == ["RESTING, Ada", "RUNNING, Ada"]
        assert "Review overdue" in rows["RUNNING, Ada"]
        appointments.mark_attended(by=pharmacist, appointment_id=first.id, expected_version=first.version)
        db.session.commit()
        assert sorted(_rows(page_text(signed_in.get("/patients/?show=overdue")))) == ["RESTING, Ada"]


def test_the_filter_is_kept_from_page_to_page(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    for serial in range(52):
        patient = make.patient(pharmacist, family_name=f"High{serial:02d}")
        regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    make.patient(pharmacist, family_name="Aaron")  # no regimen: on the unfiltered list only
    db.session.commit()
    first = page_text(signed_in.get("/patients/?show=high_dose"))
    assert len(_rows(first)) == 50 and "Showing 1 to 50 of 52" in first and "AARON" not in first
    assert 'href="/patients/?show=high_dose&amp;page=2"' in first or 'href="/patients/?page=2&amp;show=high_dose"' \
        in first
    second = page_text(signed_in.get("/patients/?show=high_dose&page=2"))
    assert sorted(_rows(second)) == ["HIGH50, Ada", "HIGH51, Ada"]
    assert "show=high_dose" in second.split('aria-label="Pagination"')[1]
    assert "AARON, Ada" in _rows(page_text(signed_in.get("/patients/?show=nonsense")))  # anything else: all


@pytest.mark.parametrize("typed", ["14 March 1951", "14 Mar 1951", "14/03/1951", "14-3-1951", "1951-03-14",
                                   " 14  march  1951 ", "14.03.1951"])
def test_search_finds_a_date_of_birth_as_people_write_it(signed_in: FlaskClient, pharmacist: User, make: Maker,
                                                        typed: str) -> None:
    make.patient(pharmacist, family_name="Holloway", date_of_birth=TODAY.replace(year=1951, month=3, day=14))
    make.patient(pharmacist, family_name="Other")
    token = csrf_token(signed_in, "/patients/")
    page = page_text(signed_in.post("/patients/search", data={"csrf_token": token, "query": typed}))
    assert "1 patient found" in page and list(_rows(page)) == ["HOLLOWAY, Ada"]


@pytest.mark.parametrize(("typed", "message"), [
    ("03/14/1951", "write the day first, then the month, then the year"),
    ("14/03/51", "write the year in full, with 4 digits"),
    ("31/02/1951", "February 1951 has no day 31"),
    ("14 Smarch 1951", "“smarch” is not a month"),
])
def test_search_refuses_a_date_it_would_have_to_guess(signed_in: FlaskClient, pharmacist: User, make: Maker,
                                                      typed: str, message: str) -> None:
    make.patient(pharmacist, family_name="Holloway")
    token = csrf_token(signed_in, "/patients/")
    page = page_text(signed_in.post("/patients/search", data={"csrf_token": token, "query": typed}))
    assert f"The date of birth must be a real date: {message}" in page
    assert "nhsuk-error-summary" in page and "found" not in page
