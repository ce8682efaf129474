"""The builder and plan pages (issue 17): the result in view after Preview, drafts changed in the builder,
plans numbered per patient, the step of today marked, and version names with dates as people write them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper import clock
from taper.extensions import db
from taper.models import Patient, Plan, User
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, at, page_text, sign_in, submit


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()
    return patient


def _settings(**changes: str) -> dict[str, str]:
    return {"start_on-day": str(TODAY.day), "start_on-month": str(TODAY.month), "start_on-year": str(TODAY.year),
            "reduction_pct": "10", "interval_days": "14", "basis": "starting", "target": "stop",
            "instalment_days": "14", "review_every_days": "14", **changes}


def _steps_row_of_today(page: str) -> str:
    rows = re.findall(r'<tr role="row" class="nhsuk-table__row taper-step--today" aria-current="date">(.*?)</tr>',
                      page)
    assert len(rows) == 1, rows
    return rows[0]


def test_preview_sends_the_user_to_the_result(signed_in: FlaskClient, patient: Patient) -> None:
    """The Preview button posts to #result, so the browser opens the answer at the schedule's heading (with a
    one-sentence summary), not at the top of the long form. (tests/e2e/test_steps_narrow_browser.py scrolls.)"""
    url = f"/patients/{patient.id}/plans/new"
    form = page_text(signed_in.get(url))
    assert re.search(r'<button type="submit" name="preview" value="1" formaction="#result"', form)
    page = page_text(submit(signed_in, url, _settings(preview="1")))
    heading = re.search(r'<h2 id="result" tabindex="-1">Preview: (\d+) steps from 120 mg OME a day</h2>', page)
    assert heading is not None
    summary = re.search(r'<p id="result-summary">(.*?)</p>', page)
    assert summary is not None and summary[1].startswith(
        f"{heading[1]} steps from 120 to 0 mg OME a day: step 1 starts 2 December 2026, step {heading[1]} ")
    assert page.index('id="result"') < page.index('id="steps"')


def test_a_patients_first_plan_is_shown_as_plan_1(signed_in: FlaskClient, make: Maker, pharmacist: User,
                                                  patient: Patient) -> None:
    other = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=other.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    plans.create_draft(by=pharmacist, patient_id=other.id, settings=plans.PlanSettings(start_on=TODAY))
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()
    assert plan.id != plan.number  # the other patient's plan came first
    assert f'<a href="/plans/{plan.id}">Plan 1</a>' in page_text(signed_in.get(f"/patients/{patient.id}"))
    detail = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "<h1>Tapering plan 1 " in detail and "<title>Plan 1 \N{EN DASH}" in detail


def test_a_draft_changed_in_the_builder_stays_one_draft(signed_in: FlaskClient, patient: Patient,
                                                        pharmacist: User) -> None:
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(
        start_on=TODAY, interval_days=28, instalment_days=28))
    db.session.commit()
    url = f"/plans/{plan.id}/edit"
    form = page_text(signed_in.get(url))
    assert "<h1>Change draft plan 1</h1>" in form
    assert 'name="interval_days" type="text" value="28"' in form or re.search(
        r'name="interval_days"[^>]*value="28"', form)
    assert re.search(r'value="28"[^>]*checked|checked[^>]*value="28"', form)  # instalments every 28 days
    response = submit(signed_in, url, _settings(save="1", interval_days="21", version=str(plan.version)))
    assert response.status_code == 302 and response.headers["Location"] == f"/plans/{plan.id}"
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
    db.session.expire_all()
    changed = db.session.get_one(Plan, plan.id)
    assert (changed.current.number, changed.current.name, changed.current.request["policy"]["interval_days"]) == (
        2, "Draft changed", 21)
    assert "Draft plan 1 changed." in page_text(signed_in.get(f"/plans/{plan.id}"))


def test_a_draft_changed_from_a_stale_page_is_refused(signed_in: FlaskClient, patient: Patient,
                                                      pharmacist: User) -> None:
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()
    opened = plan.version
    plans.edit_draft(by=pharmacist, plan_id=plan.id, expected_version=opened,
                     settings=plans.PlanSettings(start_on=TODAY, interval_days=28))
    db.session.commit()
    page = page_text(submit(signed_in, f"/plans/{plan.id}/edit", _settings(save="1", version=str(opened))))
    assert "Someone else saved changes to this record after you opened it" in page
    db.session.expire_all()
    assert db.session.get_one(Plan, plan.id).current.number == 2


def test_a_started_plan_is_not_opened_in_the_builder(signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)
    response = signed_in.get(f"/plans/{plan.id}/edit")
    assert response.headers["Location"] == f"/plans/{plan.id}"
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "only a draft can be changed in the builder" in page and "Change this draft" not in page


def test_the_step_the_clinics_today_falls_in_is_marked(app: Flask, make: Maker, pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)  # steps of 14 days
    with clock.running_from(at(TODAY + timedelta(days=15), 10)):
        client = app.test_client()
        sign_in(client, pharmacist)
        row = _steps_row_of_today(page_text(client.get(f"/plans/{plan.id}")))
    assert row.strip().startswith(
        '<td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">'
        'Step </span>2 <strong class="nhsuk-tag nhsuk-tag--blue taper-today">Today</strong>')
    assert "16 December 2026 to 29 December 2026" in row


def test_before_step_1_the_current_regimen_is_marked_today(signed_in: FlaskClient, patient: Patient) -> None:
    later = TODAY + timedelta(days=10)
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(
        preview="1", **{"start_on-day": str(later.day), "start_on-month": str(later.month)})))
    assert ">Now <strong class=\"nhsuk-tag nhsuk-tag--blue taper-today\">Today</strong>" in _steps_row_of_today(page)


def test_version_names_show_dates_as_people_write_them(signed_in: FlaskClient, make: Maker,
                                                       pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY - timedelta(days=3))
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=TODAY,
                         reason="Follow-up on 2026-12-02: hold", hold_days=7)
    db.session.commit()
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    versions = page[page.index('<h2 id="versions">'):]
    assert "Follow-up on 2 December 2026: hold" in versions and "2026-12-02" not in versions
    compare = page_text(signed_in.get(f"/plans/{plan.id}/versions/1/compare/2"))
    assert "Version 2: Follow-up on 2 December 2026: hold" in compare
