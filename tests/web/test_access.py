"""Deny by default: every route is public by name or declares its roles, and the roles are enforced."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent
from taper.web.security import PUBLIC_ENDPOINTS, allowed_roles
from tests.conftest import Maker, sign_in

# Every endpoint and who may use it. A new route without an entry here fails the first test.
EXPECTED_ROLES: dict[str, set[Role] | None] = {
    "auth.login": None,
    "auth.two_factor_code": None,  # the second step of signing in: the views check the half-signed-in session
    "auth.two_factor_setup": None,
    "static": None,
    "nhsuk.static": None,
    "auth.logout": set(Role),
    "kept_work.resume": set(Role),  # only the user whose typed work was kept: tests/web/test_kept_work.py
    "kept_work.keep_alive": set(Role),
    "home.index": set(Role),
    "patients.index": {Role.PHARMACIST},
    "patients.search": {Role.PHARMACIST},
    "patients.new": {Role.PHARMACIST},
    "patients.detail": {Role.PHARMACIST},
    "patients.edit": {Role.PHARMACIST},
    "regimens.new": {Role.PHARMACIST},
    "regimens.history": {Role.PHARMACIST},
    "risk.new": {Role.PHARMACIST},
    "plans.new": {Role.PHARMACIST},
    "plans.detail": {Role.PHARMACIST},
    "plans.chart": {Role.PHARMACIST},
    "plans.decision": {Role.PHARMACIST},
    "plans.status": {Role.PHARMACIST},
    "plans.new_follow_up": {Role.PHARMACIST},
    "plans.compare": {Role.PHARMACIST},
    "plans.document": {Role.PHARMACIST},
    "plans.print_all": {Role.PHARMACIST},
    "home.resolve": {Role.PHARMACIST},
    "patients.access_history": {Role.PHARMACIST},
    "practice.inbox": {Role.GP},
    "practice.patients": {Role.GP},
    "practice.patient": {Role.GP},
    "practice.document": {Role.GP},
    "practice.acknowledge": {Role.GP},
    "practice.letter": {Role.GP},
    "pharmacy.due": {Role.COMMUNITY_PHARMACIST},
    "pharmacy.patients": {Role.COMMUNITY_PHARMACIST},
    "pharmacy.patient": {Role.COMMUNITY_PHARMACIST},
    "pharmacy.supply": {Role.COMMUNITY_PHARMACIST},
    "pharmacy.concern": {Role.COMMUNITY_PHARMACIST},
    "pharmacy.correct": {Role.COMMUNITY_PHARMACIST},
    "home.concern": {Role.PHARMACIST},
    "home.close_concern": {Role.PHARMACIST},
    "home.reopen_concern": {Role.PHARMACIST},
    "pharmacy.document": {Role.COMMUNITY_PHARMACIST},
    "appointments.day": {Role.PHARMACIST},
    "appointments.week": {Role.PHARMACIST},
    "appointments.book": {Role.PHARMACIST},
    "plans.edit": {Role.PHARMACIST},
    "plans.delete": {Role.PHARMACIST},
    "appointments.detail": {Role.PHARMACIST},
    "appointments.change_status": {Role.PHARMACIST},
    "appointments.calendar": {Role.PHARMACIST},
    "appointments.patient_calendar": {Role.PHARMACIST},
    "appointments.sessions": {Role.PHARMACIST},
    "appointments.remove_session": {Role.PHARMACIST},
    "appointments.remove_leave": {Role.PHARMACIST},
    "appointments.outbox": {Role.PHARMACIST},
    "appointments.retry_message": {Role.PHARMACIST},
    "api.schedule_preview": set(Role),
    "admin.users": {Role.ADMIN},
    "admin.new_user": {Role.ADMIN},
    "admin.edit_user": {Role.ADMIN},
    "admin.set_password": {Role.ADMIN},
    "admin.reset_two_factor": {Role.ADMIN},
    "admin.organisations": {Role.ADMIN},
    "admin.new_organisation": {Role.ADMIN},
    "admin.edit_organisation": {Role.ADMIN},
    "imports.index": {Role.PHARMACIST, Role.ADMIN},
    "imports.columns": {Role.PHARMACIST, Role.ADMIN},
    "imports.detail": {Role.PHARMACIST, Role.ADMIN},
    "imports.confirm": {Role.PHARMACIST, Role.ADMIN},
    "imports.carry_on": {Role.PHARMACIST, Role.ADMIN},
    "imports.discard": {Role.PHARMACIST, Role.ADMIN},
    "invitations.new": {Role.PHARMACIST},
    "invitations.index": {Role.PHARMACIST},
    "invitations.detail": {Role.PHARMACIST},
    "invitations.batch": {Role.PHARMACIST},
    "invitations.batch_pdf": {Role.PHARMACIST},
    "invitations.carry_on": {Role.PHARMACIST},
    "find.index": {Role.PHARMACIST},
    "measures.index": {Role.PHARMACIST, Role.ADMIN},
    "measures.table_csv": {Role.PHARMACIST, Role.ADMIN},
}

ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/users/1/edit", "/admin/users/1/password",
               "/admin/users/1/two-factor", "/admin/organisations", "/admin/organisations/new",
               "/admin/organisations/1/edit"]


def test_every_route_is_public_or_declares_its_roles(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED_ROLES), "add the new route to EXPECTED_ROLES with the roles it allows"
    for endpoint, expected in EXPECTED_ROLES.items():
        if expected is None:
            assert endpoint in PUBLIC_ENDPOINTS
        else:
            assert endpoint not in PUBLIC_ENDPOINTS
            assert allowed_roles(app, endpoint) == frozenset(expected), endpoint


@pytest.mark.parametrize("url", [*ADMIN_PAGES, "/patients/", "/patients/new", "/"])
def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.GP, Role.COMMUNITY_PHARMACIST])
def test_admin_pages_are_forbidden_to_other_roles_and_the_attempt_audited(
        client: FlaskClient, make: Maker, role: Role) -> None:
    user = make.user(role)
    sign_in(client, user)
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You do not have access to this page" in response.get_data(as_text=True)
    denied = db.session.scalars(select(AuditEvent.entity_id).where(
        AuditEvent.action == "access_denied", AuditEvent.actor_user_id == user.id))
    assert set(denied) == {"admin.users", "admin.new_user", "admin.edit_user", "admin.set_password",
                           "admin.reset_two_factor", "admin.organisations", "admin.new_organisation",
                           "admin.edit_organisation"}


def test_admin_pages_open_for_an_admin(client: FlaskClient, make: Maker) -> None:
    admin = make.user(Role.ADMIN)
    organisation = make.organisation()
    sign_in(client, admin)
    for url in ADMIN_PAGES:
        record_id = organisation.id if "organisations" in url else admin.id
        assert client.get(url.replace("/1/", f"/{record_id}/")).status_code == 200, url


@pytest.mark.parametrize("role", [Role.GP, Role.COMMUNITY_PHARMACIST, Role.ADMIN])
def test_patient_pages_are_forbidden_to_other_roles(client: FlaskClient, make: Maker, role: Role) -> None:
    patient = make.patient(make.user(Role.PHARMACIST))
    sign_in(client, make.user(role))
    for url in ["/patients/", "/patients/new", f"/patients/{patient.id}", f"/patients/{patient.id}/edit",
                f"/patients/{patient.id}/regimens/new", f"/patients/{patient.id}/regimens/",
                f"/patients/{patient.id}/risk/new"]:
        assert client.get(url).status_code == 403, url


def test_another_clinics_patient_answers_404(signed_in: FlaskClient, make: Maker) -> None:
    elsewhere = make.patient(make.user(Role.PHARMACIST))
    for url in [f"/patients/{elsewhere.id}", f"/patients/{elsewhere.id}/edit",
                f"/patients/{elsewhere.id}/regimens/new", f"/patients/{elsewhere.id}/regimens/",
                f"/patients/{elsewhere.id}/risk/new"]:
        response = signed_in.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
        assert elsewhere.family_name not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/patients/999999", "/patients/999999/edit", "/no-such-page"])
def test_unknown_ids_and_pages_answer_404_without_a_stack_trace(signed_in: FlaskClient, url: str) -> None:
    response = signed_in.get(url)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_admin_user_ids_that_do_not_exist_answer_404(client: FlaskClient, make: Maker) -> None:
    sign_in(client, make.user(Role.ADMIN))
    assert client.get("/admin/users/999999/edit").status_code == 404
    assert client.get("/admin/organisations/999999/edit").status_code == 404


def test_pages_carry_security_headers(signed_in: FlaskClient) -> None:
    response = signed_in.get("/patients/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)  # the NHS.UK js-enabled snippet


def test_nhsuk_assets_are_served_where_the_css_expects_them(client: FlaskClient) -> None:
    for url in ["/assets/images/nhsuk-icon-cross.svg", "/static/nhsuk/nhsuk-frontend.min.css"]:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


@pytest.mark.parametrize(("role", "lands_on"), [(Role.PHARMACIST, None), (Role.ADMIN, "/admin/users"),
                                                (Role.GP, "/practice/"), (Role.COMMUNITY_PHARMACIST, "/pharmacy/")])
def test_home_sends_each_role_to_where_their_work_starts(client: FlaskClient, make: Maker, role: Role,
                                                         lands_on: str | None) -> None:
    sign_in(client, make.user(role))
    response = client.get("/")
    if lands_on is None:
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Today in clinic" in page
    else:
        assert response.headers["Location"] == lands_on
