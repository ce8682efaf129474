"""The pharmacist's home page runs the same number of SQL statements with 3 running plans as with 30 (Taper issue
16): every list on it is loaded by a fixed number of queries, and the running plans are paged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from taper import clock, jobs
from taper.models import Patient, User
from taper.services import regimens
from taper.services.regimens import RegimenEntry
from taper.web.home import views
from tests.conftest import TODAY, Maker, at, page_text, sign_in
from tests.query_counts import Statements, counting

MOST_STATEMENTS = 40
# Three weeks and a day after the plans start (every 14 days from TODAY): each plan is overdue for a review
# (14 days and 4 days' grace, nothing booked) and its third step starts in the coming week.
VIEW_DAY = TODAY + timedelta(days=22)


def _add_running_plans(make: Maker, pharmacist: User, patients: list[Patient], up_to: int) -> None:
    while len(patients) < up_to:
        patient = make.patient(pharmacist, family_name=f"Tapering{len(patients):02d}")
        make.running_plan(pharmacist, patient, start_on=TODAY)
        patients.append(patient)


def _section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"')[1].split("<h2")[0]


def _home_on_view_day(app: Flask, pharmacist: User) -> tuple[str, Statements]:
    with clock.freeze(at(VIEW_DAY, 9)):
        jobs.run("overdue-reviews")
        client = app.test_client()
        sign_in(client, pharmacist)
        with counting() as statements:
            page = page_text(client.get("/"))
    return page, statements


def test_home_runs_the_same_statements_for_3_and_30_running_plans(app: Flask, make: Maker,
                                                                 pharmacist: User) -> None:
    high_dose = make.patient(pharmacist, family_name="Highdose")
    regimens.record_regimen(by=pharmacist, patient_id=high_dose.id, entry=RegimenEntry(lines=[
        {"product": "oxycodone-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 60},
                                                         {"time": "20:00", "dose_mg": 60}]}]))
    patients: list[Patient] = []
    counts = {}
    for running in (3, 30):
        _add_running_plans(make, pharmacist, patients, running)
        page, statements = _home_on_view_day(app, pharmacist)
        for patient in patients:  # every plan is listed, each in every list it belongs to
            for section in ("running", "overdue", "step-changes"):
                assert patient.display_name in _section(page, section), (running, section, patient.display_name)
        assert "HIGHDOSE, Ada</a>: 180 mg OME a day" in _section(page, "high-dose")
        counts[running] = statements
    assert counts[3].count == counts[30].count, f"3 plans: {counts[3]}\n30 plans: {counts[30]}"
    assert counts[30].count <= MOST_STATEMENTS, str(counts[30])


def test_running_plans_are_paged_and_a_hostile_page_number_is_never_an_error(client: FlaskClient, make: Maker,
                                                                   pharmacist: User,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "RUNNING_PER_PAGE", 2)
    patients: list[Patient] = []
    _add_running_plans(make, pharmacist, patients, 3)
    sign_in(client, pharmacist)
    first, second = (_section(page_text(client.get(f"/?page={number}")), "running") for number in (1, 2))
    names = [patient.display_name for patient in patients]  # in the list's order: by family name
    assert names[0] in first and names[1] in first and names[2] not in first
    assert "Next" in first and "Page 2 of 2" in first
    assert names[2] in second and names[0] not in second and "Previous" in second
    for hostile in ("-1", "0", "NaN", "", "1.5"):
        response = client.get(f"/?page={hostile}")
        assert response.status_code == 200, (hostile, response.status_code)
        assert _section(page_text(response), "running") == first, hostile
    assert "There are no more running plans" in _section(page_text(client.get("/?page=3")), "running")
    for refused, status in (("10" * 30, 404), ("%00", 400)):  # no such page; NUL bytes refused before any view
        assert client.get(f"/?page={refused}").status_code == status, refused
