"""Oversized forms are refused with a message, never cut short (issue 15, item 7): a request body over the limit,
a multipart form with too many parts, and more list entries than a form's list holds all answer with Taper's own
page, and nothing is saved."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from taper.extensions import db
from taper.models import Patient, Plan, RecordedRegimen, User
from taper.services import regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, csrf_token, page_text, submit

OXYCODONE_PRN = {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _regimen_form(notes: str) -> dict[str, str]:
    return {"recorded_on-day": "1", "recorded_on-month": "11", "recorded_on-year": "2026",
            "lines-0-product": "morphine-mr-tablet-12h", "lines-0-taken": "regular", "lines-0-time_1": "08:00",
            "lines-0-dose_1": "30", "notes": notes, "save": "1"}


def _assert_too_large(response) -> None:  # type: ignore[no-untyped-def]
    shown = page_text(response)
    assert response.status_code == 413
    assert "The form was too large for Taper to accept, so nothing was saved." in shown
    assert "nhsuk-header" in shown and "Request Entity Too Large" not in shown


def test_the_limits_are_set(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 100_000
    assert app.config["MAX_FORM_PARTS"] == 500


def test_a_form_larger_than_the_limit_is_refused_with_a_message(make: Maker, pharmacist: User,
                                                                signed_in: FlaskClient) -> None:
    patient = make.patient(pharmacist)
    url = f"/patients/{patient.id}/regimens/new"
    _assert_too_large(submit(signed_in, url, _regimen_form("x" * (1024 * 1024 + 1))))
    assert _count(RecordedRegimen) == 0
    # Just under the limit the form reaches its own checks (the notes are too long for the field).
    below = submit(signed_in, url, _regimen_form("x" * (1024 * 1024 - 2000)))
    assert below.status_code == 200 and "Regimen recorded" not in page_text(below)
    assert _count(RecordedRegimen) == 0


def test_a_multipart_form_with_too_many_parts_or_a_huge_field_is_refused(make: Maker, pharmacist: User,
                                                                         signed_in: FlaskClient) -> None:
    patient = make.patient(pharmacist)
    url = f"/patients/{patient.id}/regimens/new"
    token = csrf_token(signed_in, url)
    many = {"csrf_token": token, **_regimen_form("Notes"), **{f"extra-{n}": "1" for n in range(600)}}
    _assert_too_large(signed_in.post(url, data=many, content_type="multipart/form-data"))
    huge = {"csrf_token": token, **_regimen_form("x" * 100_001), "attachment": (io.BytesIO(b"."), "a.txt")}
    _assert_too_large(signed_in.post(url, data=huge, content_type="multipart/form-data"))
    assert _count(RecordedRegimen) == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.integers(min_value=1, max_value=40))
def test_more_entries_in_the_plan_order_than_it_holds_are_refused_not_cut_short(
        make: Maker, pharmacist: User, signed_in: FlaskClient, extra: int) -> None:
    """The order of reduction holds 8 medicines; WTForms would keep the first 8 of more and drop the rest."""
    patient = db.session.scalar(select(Patient).where(Patient.family_name == "Lovelace"))
    if patient is None:
        patient = make.patient(pharmacist)
        regimens.record_regimen(by=pharmacist, patient_id=patient.id,
                                entry=RegimenEntry(lines=[MORPHINE_BD, OXYCODONE_PRN]))
        db.session.commit()
    products = ["oxycodone-ir-capsule", "morphine-mr-tablet-12h"]
    entries = 8 + extra
    data = {"start_on-day": str(TODAY.day), "start_on-month": str(TODAY.month), "start_on-year": str(TODAY.year),
            "reduction_pct": "10", "interval_days": "14", "basis": "starting", "target": "stop",
            "instalment_days": "14", "review_every_days": "14", "save": "1",
            **{f"order-{n}": products[n % 2] for n in range(entries)}}
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", data))
    assert f"Choose an order for at most 8 medicines: this form had {entries}, so nothing was saved" in page
    assert _count(Plan) == 0


def test_an_oversized_api_request_is_refused_in_the_api_s_errors_document(signed_in: FlaskClient) -> None:
    token = csrf_token(signed_in, "/patients/")
    body = b'{"start_on": "2027-01-04", "padding": "' + b"x" * (1024 * 1024) + b'"}'
    response = signed_in.post("/api/v1/schedules/preview", data=body, content_type="application/json",
                              headers={"X-CSRFToken": token})
    assert response.status_code == 413
    [error] = response.get_json()["errors"]
    assert error["field"] == "request" and "too large for Taper to accept, so nothing was saved" in error["message"]
