"""Once only (issue 15, item 4): a form sent again (a double click, a retry, Back and Save) shows what was
already recorded and changes nothing; a key from one user never blocks another's change."""

from __future__ import annotations

import re
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import ClinicSession, FollowUp, Patient, Plan, SubmissionKey, User
from tests.conftest import TODAY, Maker, page_text, sign_in
from tests.databases import server_url

_HIDDEN = re.compile(r'<input[^>]*name="(csrf_token|submission_key)"[^>]*value="([^"]+)"')


def hidden_fields(client: FlaskClient, url: str) -> dict[str, str]:
    """The CSRF token and the submission key of the (first) form on `url`, as a browser would send them back."""
    found: dict[str, str] = {}
    for name, value in _HIDDEN.findall(client.get(url).get_data(as_text=True)):
        found.setdefault(name, value)
    assert set(found) == {"csrf_token", "submission_key"}, f"no submission key in the form at {url}"
    return found


def follow_up(plan: Plan, **changes: str) -> dict[str, str]:
    from taper.domain.follow_up import SOWS_GOSSOP_ITEMS

    return {"held_on-day": str(TODAY.day), "held_on-month": str(TODAY.month), "held_on-year": str(TODAY.year),
            "mode": "phone", "duration_minutes": "20", "dose_taken": "As the plan says", "peg_pain": "6",
            "peg_enjoyment": "5", "peg_activity": "7", "notes": "Sleeping badly", "outcome": "hold",
            "hold_days": "7", "version": str(plan.version), **{f"sows_{item}": "1" for item in SOWS_GOSSOP_ITEMS},
            **changes}


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _plan_version(plan: Plan) -> int:
    db.session.expire_all()
    return db.session.get(Plan, plan.id).current.number


def _running_plan(make: Maker, pharmacist: User) -> Plan:
    return make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)


def test_the_same_follow_up_sent_twice_is_recorded_once(signed_in: FlaskClient, make: Maker,
                                                        pharmacist: User) -> None:
    plan = _running_plan(make, pharmacist)
    url = f"/plans/{plan.id}/follow-ups/new"
    data = {**hidden_fields(signed_in, url), **follow_up(plan)}
    first = signed_in.post(url, data=data)
    assert first.status_code == 302 and first.headers["Location"] == f"/plans/{plan.id}"
    again = signed_in.post(url, data=data)
    assert again.status_code == 302 and again.headers["Location"] == f"/plans/{plan.id}"
    page = page_text(signed_in.get(again.headers["Location"]))
    assert "This was already saved at 10:00. Nothing was changed." in page
    assert _count(FollowUp) == 1 and _plan_version(plan) == 2


def test_back_and_save_again_is_recorded_once(signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    """After Back the browser fetches the form again (a new key, the plan's new version) and fills in what was
    typed: the same fields sent to the same address again change nothing."""
    plan = _running_plan(make, pharmacist)
    url = f"/plans/{plan.id}/follow-ups/new"
    assert signed_in.post(url, data={**hidden_fields(signed_in, url), **follow_up(plan)}).status_code == 302
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    again = signed_in.post(url, data={**hidden_fields(signed_in, url), **follow_up(plan)}, follow_redirects=True)
    assert "This was already saved at 10:00. Nothing was changed." in page_text(again)
    assert _count(FollowUp) == 1 and _plan_version(plan) == 2
    different = signed_in.post(url, data={**hidden_fields(signed_in, url), **follow_up(plan, notes="Better")})
    assert different.status_code == 302  # a follow-up with anything different is a new one
    assert _count(FollowUp) == 2 and _plan_version(plan) == 3


def test_a_key_from_another_user_does_not_block_their_change(app: Flask, signed_in: FlaskClient, make: Maker,
                                                             pharmacist: User) -> None:
    plan = _running_plan(make, pharmacist)
    url = f"/plans/{plan.id}/follow-ups/new"
    fields = hidden_fields(signed_in, url)
    assert signed_in.post(url, data={**fields, **follow_up(plan)}).status_code == 302
    colleague = make.user(Role.PHARMACIST, organisation=pharmacist.organisation)
    other = app.test_client()
    sign_in(other, colleague)
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    stolen = {**hidden_fields(other, url), "submission_key": fields["submission_key"]}
    answer = other.post(url, data={**stolen, **follow_up(plan, notes="Seen by a colleague")})
    assert answer.status_code == 302
    assert "already saved" not in page_text(other.get(answer.headers["Location"]))
    assert _count(FollowUp) == 2 and _plan_version(plan) == 3


def test_a_new_patient_sent_twice_is_added_once(signed_in: FlaskClient, make: Maker) -> None:
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    data = {**hidden_fields(signed_in, "/patients/new"), "nhs_number": make.nhs_number(), "given_name": "Ada",
            "family_name": "Lovelace", "date_of_birth-day": "10", "date_of_birth-month": "12",
            "date_of_birth-year": "1950", "sex": "female", "gp_practice_id": str(practice.id), "pharmacy_id": ""}
    first = signed_in.post("/patients/new", data=data)
    assert first.status_code == 302, page_text(first)
    again = signed_in.post("/patients/new", data=data, follow_redirects=True)
    assert "This was already saved at 10:00. Nothing was changed." in page_text(again)
    assert again.request.path == first.headers["Location"]  # the patient who was added
    assert db.session.scalar(select(func.count()).select_from(Patient)) == 1


def test_a_clinic_session_added_twice_is_added_once(signed_in: FlaskClient) -> None:
    page = signed_in.get("/clinic/sessions").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="session-submission_key"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf, "session-submission_key": key, "session-weekday": "0", "session-starts": "09:00",
            "session-ends": "12:00", "session-remote": "site", "session-location": "Room 4"}
    assert signed_in.post("/clinic/sessions", data=data).status_code == 302
    again = signed_in.post("/clinic/sessions", data=data, follow_redirects=True)
    assert "already saved" in page_text(again)
    assert _count(ClinicSession) == 1


def test_each_button_in_a_list_has_its_own_key(signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    """A page of one-button forms (remove this session, acknowledge this letter): after one is used, another
    on the same page (kept by the browser) still works."""
    from datetime import time

    from taper.services import capacity

    for weekday in (0, 1):
        capacity.add_session(by=pharmacist, details=capacity.SessionDetails(weekday, time(9), time(12), remote=True))
    db.session.commit()
    page = signed_in.get("/clinic/sessions").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    forms = re.findall(r'action="/clinic/sessions/(\d+)/remove"[^>]*>.*?name="submission_key" value="([^"]+)"',
                       page)
    assert len(forms) == 2 and forms[0][1] != forms[1][1]
    for session_id, key in forms:
        signed_in.post(f"/clinic/sessions/{session_id}/remove", data={"csrf_token": csrf, "submission_key": key})
    assert _count(ClinicSession) == 0


@pytest.mark.skipif(server_url() is None, reason="two writers at once need PostgreSQL: SQLite refuses the "
                                                   "second writer instead of making it wait")
def test_two_submissions_at_the_same_moment_record_one(app: Flask, signed_in: FlaskClient, make: Maker,
                                                       pharmacist: User) -> None:
    """A double click: both requests arrive before either has finished; the unique key lets one through."""
    plan = _running_plan(make, pharmacist)
    url = f"/plans/{plan.id}/follow-ups/new"
    data = {**hidden_fields(signed_in, url), **follow_up(plan)}
    cookie = signed_in.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        client.set_cookie(cookie.key, cookie.value)
    start, answers = threading.Barrier(2), []

    def post(client: FlaskClient) -> None:
        start.wait()
        answers.append(client.post(url, data=data))

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [302, 302]
    assert _count(FollowUp) == 1 and _plan_version(plan) == 2
    assert _count(SubmissionKey) == 1


def test_password_fields_are_never_hashed_into_a_fingerprint(app: Flask, client: FlaskClient, make: Maker) -> None:
    admin = make.user(Role.ADMIN)
    sign_in(client, admin)
    target = make.user(Role.PHARMACIST)
    url = f"/admin/users/{target.id}/password"
    for password in ("a new long passphrase for Ada", "another long passphrase for Ada"):
        answer = client.post(url, data={**hidden_fields(client, url), "password": password})
        assert answer.status_code == 302, page_text(answer)
    assert db.session.scalars(select(SubmissionKey.fingerprint)).all() == [None, None]
