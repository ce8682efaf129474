"""GP practices a cohort import added by their ODS code alone are listed first for an admin to complete
(issue 18, item 2); saving the practice's form clears the mark only when the practice is really complete (a
name other than its ODS code, an address and a phone); until then the form says what is still missing."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation
from tests.conftest import Maker, page_text, sign_in, submit


@pytest.fixture
def admin_client(client: FlaskClient, make: Maker) -> FlaskClient:
    sign_in(client, make.user(Role.ADMIN))
    return client


def _added_by_an_import(ods_code: str) -> Organisation:
    """A practice as the import adds it: named by its ODS code, nothing else known."""
    practice = Organisation(kind=OrganisationKind.GP_PRACTICE, name=ods_code, ods_code=ods_code, details_needed=True)
    db.session.add(practice)
    db.session.commit()
    return practice


def test_practices_needing_details_are_listed_first_in_their_own_section(admin_client: FlaskClient,
                                                                       make: Maker) -> None:
    complete = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    _added_by_an_import("B86019")
    page = admin_client.get("/admin/organisations").get_data(as_text=True)
    section = page[page.index('id="practices-needing-details"'):page.index("All organisations")]
    assert "B86019" in section and complete.name not in section
    assert "Added by a cohort import: add the practice's name, address and phone" in page
    assert page.index("B86019") < page.index(complete.name)


def test_no_section_when_every_practice_is_complete(admin_client: FlaskClient, make: Maker) -> None:
    make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    page = admin_client.get("/admin/organisations").get_data(as_text=True)
    assert "practices-needing-details" not in page and "Riverside Surgery" in page


def test_saving_the_practices_form_clears_details_needed(admin_client: FlaskClient) -> None:
    practice = _added_by_an_import("B86019")
    form_page = page_text(admin_client.get(f"/admin/organisations/{practice.id}/edit"))
    assert "Added by a cohort import" in form_page
    assert _missing(form_page) == ["its name (it is named by its ODS code)", "its address", "its phone number"]
    response = submit(admin_client, f"/admin/organisations/{practice.id}/edit",
                      {"name": "Leeds Road Surgery", "ods_code": "B86019", "phone": "0113 496 0000",
                       "address": "1 Leeds Road\nLeeds\nLS2 9AA", "version": str(practice.version)},
                      follow_redirects=True)
    assert "Leeds Road Surgery saved." in page_text(response) and "Still needed" not in page_text(response)
    db.session.expire_all()
    saved = db.session.get(Organisation, practice.id)
    assert (saved.name, saved.details_needed) == ("Leeds Road Surgery", False)
    assert "practices-needing-details" not in admin_client.get("/admin/organisations").get_data(as_text=True)
    update = db.session.query(AuditEvent).filter_by(action="update", entity_type="organisation",
                                                    entity_id=str(practice.id)).one()
    assert update.changes["details_needed"] == {"before": True, "after": False}


@pytest.mark.parametrize("missing", ["name", "address", "phone"])
def test_a_practice_saved_with_a_detail_missing_keeps_the_mark_and_the_form_says_what(
        admin_client: FlaskClient, missing: str) -> None:
    practice = _added_by_an_import("B86019")
    fields = {"name": "Leeds Road Surgery", "ods_code": "B86019", "phone": "0113 496 0000",
              "address": "1 Leeds Road\nLeeds\nLS2 9AA", "version": str(practice.version)}
    fields[missing] = {"name": "b86019", "address": "", "phone": ""}[missing]  # the name as the import gave it
    words = {"name": "its name (it is named by its ODS code)", "address": "its address",
             "phone": "its phone number"}[missing]
    response = submit(admin_client, f"/admin/organisations/{practice.id}/edit", fields, follow_redirects=True)
    assert f"saved. Still needed before invitations can go out in its name: {words}." in page_text(response)
    db.session.expire_all()
    saved = db.session.get(Organisation, practice.id)
    assert saved.details_needed is True  # still listed, and still no invitation in its name
    page = admin_client.get("/admin/organisations").get_data(as_text=True)
    assert "B86019" in page[page.index('id="practices-needing-details"'):page.index("All organisations")]
    assert _missing(page_text(admin_client.get(f"/admin/organisations/{practice.id}/edit"))) == [words]
    update = db.session.query(AuditEvent).filter_by(action="update", entity_type="organisation",
                                                    entity_id=str(practice.id)).one()
    assert "details_needed" not in update.changes


def test_a_complete_practice_is_not_marked_by_a_later_save(admin_client: FlaskClient, make: Maker) -> None:
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    response = submit(admin_client, f"/admin/organisations/{practice.id}/edit",
                      {"name": "Riverside Surgery", "ods_code": practice.ods_code, "phone": "", "address": "",
                       "version": str(practice.version)}, follow_redirects=True)
    assert "Riverside Surgery saved." in page_text(response) and "Still needed" not in page_text(response)
    db.session.expire_all()
    assert db.session.get(Organisation, practice.id).details_needed is False


def test_a_refused_save_keeps_the_mark(admin_client: FlaskClient) -> None:
    practice = _added_by_an_import("B86019")
    response = submit(admin_client, f"/admin/organisations/{practice.id}/edit",
                      {"name": "", "ods_code": "B86019", "phone": "", "version": str(practice.version)})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Organisation, practice.id).details_needed is True


def _missing(page: str) -> list[str]:
    """The details the practice's form says are still needed."""
    listed = re.search(r'<ul id="details-missing">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", listed.group(1)) if listed else []
