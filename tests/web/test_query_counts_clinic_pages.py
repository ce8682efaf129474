"""The clinic's list pages run the same number of SQL statements whatever the size of the caseload (issue 16):
the patient list (and each of its filters, issue 17) and a search, the day and week of appointments, the
messages, and a patient's access history, each built with 3 and with 30 running plans (and 3 and 30 looks at
one patient's record), with their rows on the page both times. Then the long lists come a page at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper import clock
from taper.clock import CLINIC_TIMEZONE
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import Appointment, AuditEvent, Patient, User
from taper.services import audit, capacity, messages, patients
from taper.services.capacity import SessionDetails
from tests.conftest import Maker, csrf_token, page_text
from tests.query_counts import counting

MOST_STATEMENTS = 40  # issue 16: any list page, at any size
PER_PAGE = 50
FAMILY_NAMES = ["Holloway", "Pritchard", "Rahman", "Lloyd", "Whitfield", "Mensah", "Clarke", "Fenwick", "Dawson",
                "Qureshi"]
ROW = re.compile(r'<tr class="nhsuk-table__row">\s*<td')  # a row of a table's body (its head has <th>)
APPOINTMENT_LINK = re.compile(r'href="/appointments/\d+"')


def _open_every_weekday(pharmacist: User) -> None:
    """Sessions all day, Monday to Friday, so that each plan's initial consultation is booked this week."""
    for weekday in range(5):
        capacity.add_session(by=pharmacist, details=SessionDetails(weekday, time(0, 5), time(23, 55), remote=False,
                                                                  location="Room 1"))
    db.session.commit()


def _grow_caseload(make: Maker, pharmacist: User, first: Patient | None, to: int) -> Patient:
    """Patients on running plans (their reviews proposed), each with a reminder in the outbox, up to `to`; the
    first patient's record looked at once for each patient made. Returns the first patient."""
    for serial in range(_caseload_size(pharmacist), to):
        patient = make.patient(pharmacist, family_name=FAMILY_NAMES[serial % len(FAMILY_NAMES)],
                               given_name=f"Pat{serial:02d}")
        make.running_plan(pharmacist, patient, start_on=clock.today() + timedelta(days=7))
        messages.queue(messages.Outgoing(key=f"reminder-{patient.id}", kind="step_tomorrow", channel="sms",
                                         to="07700 900123", body=f"Reminder {serial:02d}", patient_id=patient.id))
        first = first or patient
        patients.view_patient(by=pharmacist, patient_id=first.id)
        db.session.commit()
    assert first is not None
    return first


def _caseload_size(pharmacist: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Patient).where(
        Patient.clinic_id == pharmacist.organisation_id)) or 0


def _booked(first_day_offset: int, days: int) -> int:
    """Appointments booked from today + `first_day_offset` for `days` days (England's days)."""
    starts = datetime.combine(clock.today() + timedelta(days=first_day_offset), time(0), CLINIC_TIMEZONE)
    return db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.starts_at >= starts, Appointment.starts_at < starts + timedelta(days=days))) or 0


def _pages(client: FlaskClient, first: Patient) -> dict[str, Callable[[], str]]:
    """Each list page as the pharmacist opens it, returning its text."""
    today, monday = clock.today(), clock.today() - timedelta(days=clock.today().weekday())
    token = csrf_token(client, "/patients/")
    return {
        "patient list": lambda: page_text(client.get("/patients/")),
        "running plans": lambda: page_text(client.get("/patients/?show=running")),
        "overdue reviews": lambda: page_text(client.get("/patients/?show=overdue")),
        "high doses": lambda: page_text(client.get("/patients/?show=high_dose")),
        "search": lambda: page_text(client.post("/patients/search", data={"csrf_token": token, "query": "pat"})),
        "day": lambda: page_text(client.get(f"/appointments?day={today.isoformat()}")),
        "week": lambda: page_text(client.get(f"/appointments/week?start={monday.isoformat()}")),
        "messages": lambda: page_text(client.get("/messages")),
        "access history": lambda: page_text(client.get(f"/patients/{first.id}/access")),
    }


def _open_counting(pages: dict[str, Callable[[], str]]) -> tuple[dict[str, int], dict[str, str], str]:
    """Each page's statement count and text, and every page's statements (to print when a count is wrong)."""
    counts, texts, listing = {}, {}, ""
    for name, page in pages.items():
        with counting() as statements:
            texts[name] = page()
        counts[name] = statements.count
        listing += f"\n{name}: {statements}"
    return counts, texts, listing


def _check_rows(texts: dict[str, str], pharmacist: User, first: Patient, plans: int) -> None:
    """Every patient, appointment, message and access the pages should list is there."""
    names = [f"{FAMILY_NAMES[serial % len(FAMILY_NAMES)].upper()}, Pat{serial:02d}" for serial in range(plans)]
    for page in ("patient list", "search", "week"):
        assert all(name in texts[page] for name in names), page
    assert f"{plans} patients found" in texts["search"]
    assert len(ROW.findall(texts["patient list"])) == len(ROW.findall(texts["search"])) == plans
    assert len(ROW.findall(texts["running plans"])) == plans and "Active" in texts["running plans"]
    assert len(APPOINTMENT_LINK.findall(texts["day"])) == _booked(0, 1) >= min(plans, 10)
    monday_offset = -clock.today().weekday()
    assert len(APPOINTMENT_LINK.findall(texts["week"])) == _booked(monday_offset, 7) >= plans
    assert all(f"Reminder {serial:02d}" in texts["messages"] for serial in range(plans))
    assert texts["access history"].count("Looked at the patient&#39;s record") >= min(plans, PER_PAGE // 2)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == first.id)) or 0
    assert len(ROW.findall(texts["access history"])) == min(events, PER_PAGE)


def test_clinic_pages_run_as_many_statements_with_30_running_plans_as_with_3(
        signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    _open_every_weekday(pharmacist)
    first = _grow_caseload(make, pharmacist, None, 3)
    small, small_texts, small_listing = _open_counting(_pages(signed_in, first))
    _check_rows(small_texts, pharmacist, first, 3)
    _grow_caseload(make, pharmacist, first, 30)
    large, large_texts, large_listing = _open_counting(_pages(signed_in, first))
    _check_rows(large_texts, pharmacist, first, 30)
    assert large == small, f"with 3 plans:{small_listing}\nwith 30 plans:{large_listing}"
    assert max(large.values()) <= MOST_STATEMENTS, large_listing


def test_the_patient_list_comes_fifty_at_a_time(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    practice = make.organisation(make.user(Role.GP).organisation.kind)
    for serial in range(PER_PAGE + 5):
        make.patient(pharmacist, family_name=f"Family{serial:02d}", gp_practice_id=practice.id)
    first = page_text(signed_in.get("/patients/"))
    assert len(ROW.findall(first)) == PER_PAGE and "FAMILY00, Ada" in first and "FAMILY50" not in first
    assert "Showing 1 to 50 of 55" in first and "Page 2 of 2" in first and 'href="/patients/?page=2"' in first
    second = page_text(signed_in.get("/patients/?page=2"))
    assert len(ROW.findall(second)) == 5 and "FAMILY54, Ada" in second and "FAMILY00" not in second
    assert 'href="/patients/?page=1"' in second and "Page 1 of 2" in second and "page=3" not in second
    assert "There are no more patients" in page_text(signed_in.get("/patients/?page=3"))


def test_search_results_come_fifty_at_a_time_and_the_search_stays_out_of_addresses(
        signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    for serial in range(PER_PAGE + 3):
        make.patient(pharmacist, family_name=f"Family{serial:02d}")
    make.patient(pharmacist, family_name="Other", given_name="Grace")
    token = csrf_token(signed_in, "/patients/")
    first = page_text(signed_in.post("/patients/search", data={"csrf_token": token, "query": "family"}))
    assert "53 patients found" in first and len(ROW.findall(first)) == PER_PAGE and "OTHER" not in first
    assert '<input type="hidden" name="query" value="family">' in first
    assert '<input type="hidden" name="page" value="2">' in first and "Previous page" not in first
    second = page_text(signed_in.post("/patients/search", data={"csrf_token": token, "query": "family",
                                                                "page": "2"}))
    assert len(ROW.findall(second)) == 3 and "FAMILY52, Ada" in second and "Next page" not in second
    assert '<input type="hidden" name="page" value="1">' in second
    searches = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.action == "search")
                                  .order_by(AuditEvent.id)).all()
    assert searches == [{"results": 53, "page": 1}, {"results": 53, "page": 2}]  # never what was searched for


def test_the_access_history_reads_as_a_person_would_newest_first_a_page_at_a_time(
        app, signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:  # type: ignore[no-untyped-def]
    patient = make.patient(pharmacist)
    for _ in range(PER_PAGE + 5):
        patients.view_patient(by=pharmacist, patient_id=patient.id)
    db.session.commit()
    first = page_text(signed_in.get(f"/patients/{patient.id}/access"))
    rows = ROW.findall(first)
    assert len(rows) == PER_PAGE and "Showing 1 to 50 of 58" in first
    newest = first.index("Looked at this access history")
    assert newest < first.index("Looked at the patient&#39;s record")  # newest first: this look at the history
    assert "Test Specialist pain pharmacist, Specialist pain pharmacist" in first and pharmacist.email in first
    assert "view: patient" not in first and "Registered the patient" not in first
    second = page_text(signed_in.get(f"/patients/{patient.id}/access?page=2"))
    # 56 and each page's look at the record and at its history: 60, 10 on page 2
    assert "Registered the patient" in second and len(ROW.findall(second)) == 10
    assert f'href="/patients/{patient.id}/access?page=1"' in second


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1.5", "NaN", "%00", "%FF%FE", str(10**30), "99999"])
def test_hostile_page_numbers_give_a_page_or_not_found(signed_in: FlaskClient, pharmacist: User, make: Maker,
                                                       page: str) -> None:
    patient = make.patient(pharmacist)
    for url in ("/patients/", "/messages", f"/patients/{patient.id}/access"):
        response = signed_in.get(f"{url}?page={page}")
        assert response.status_code in (200, 400, 404), (url, response.status_code)
        if page in ("abc", "-1", "0", "NaN", "%FF%FE"):
            assert response.status_code == 200 and 'aria-label="Pagination"' not in page_text(response), url


@pytest.mark.parametrize(("action", "entity_type", "changes", "words"), [
    ("update", "plan", {"status": {"before": "draft", "after": "active"}}, "Started the tapering plan"),
    ("update", "plan", {"status": {"before": "active", "after": "paused"}}, "Paused the tapering plan"),
    ("update", "plan", {"status": {"before": "paused", "after": "active"}}, "Restarted the tapering plan"),
    ("create", "plan_version", {"plan": 3, "number": 2, "reason": "Hold"}, "Made version 2 of the tapering plan"),
    ("view", "plan_document", {"kind": "gp_letter", "version": 2}, "Opened the letter to the GP (version 2)"),
    ("view", "patient", {"view": "dispensing"}, "Looked at what the community pharmacy supplies to the patient"),
    ("access_denied", "patient", {}, "Tried to open the patient's record (refused)"),
    ("request_refused", "route", {"reason": "NUL"}, "Sent a request that was refused as malformed"),
    ("frobnicate", "widget", {}, "Frobnicate: widget"),  # one it does not know
])
def test_each_access_reads_in_words(action: str, entity_type: str, changes: dict[str, object], words: str) -> None:
    assert audit.describe(action, entity_type, changes) == words
