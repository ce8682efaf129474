"""The community pharmacy's patient page (issue 17, item 3): the instalment due now at the top, recorded in one
form (every medicine, quantities pre-filled from the schedule, all saved or none, once only); corrections as new
records naming the one corrected; concerns shown back with their status, closed by the clinic with a note and
reopened; and a revision's notice on "From the clinic", marked read once seen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Concern, Organisation, Patient, Plan, RevisionNoticeRead, Supply, User, WorklistItem
from taper.services import community_pharmacy, pharmacy_concerns, plans
from tests.conftest import MONDAY, Maker, at, page_text, sign_in
from tests.query_counts import counting
from tests.web.forms_on_page import form_on_page as _form
from tests.web.forms_on_page import quantity_fields as _quantity_fields


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY)):
        yield


@pytest.fixture
def pharmacy(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")


@pytest.fixture
def patient(make: Maker, pharmacist: User, pharmacy: Organisation) -> Patient:
    return make.patient(pharmacist, pharmacy_id=pharmacy.id, given_name="Grace", family_name="Hopper")


@pytest.fixture
def plan(make: Maker, pharmacist: User, patient: Patient) -> Plan:
    return make.running_plan(pharmacist, patient, start_on=MONDAY, instalment_days=7)


@pytest.fixture
def chemist(make: Maker, pharmacy: Organisation) -> User:
    return make.user(Role.COMMUNITY_PHARMACIST, pharmacy)


@pytest.fixture
def community(app: Flask, chemist: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, chemist)
    return client


def _item(item_id: int) -> WorklistItem:
    """The worklist item as it is now in the database."""
    db.session.expire_all()
    found = db.session.get(WorklistItem, item_id)
    assert found is not None
    return found


def _supplies() -> list[Supply]:
    return list(db.session.scalars(select(Supply).order_by(Supply.id)))


def _scheduled(plan: Plan, patient: Patient, number: int = 1) -> dict[str, Decimal]:
    state = community_pharmacy.instalment_states(plan, patient)[number - 1]
    return {community_pharmacy.describe_item(each.product, each.strength, each.brand): each.quantity
            for each in state.instalment.supplies}


def test_the_instalment_due_is_first_with_every_medicine_pre_filled_from_the_schedule(
        community: FlaskClient, plan: Plan, patient: Patient) -> None:
    page = page_text(community.get(f"/pharmacy/patients/{patient.id}"))
    assert page.index("Supply now: instalment 1, 4 January 2027 to 10 January 2027") < page.index(
        "From the clinic") < page.index("Concerns you raised") < page.index("Supplies recorded") < page.index(
        "The whole schedule")
    fields, labels = _form(community, f"/pharmacy/patients/{patient.id}", f"/pharmacy/patients/{patient.id}/supplies")
    shown = {label: Decimal(fields[name]) for label, name in _quantity_fields(fields, labels).items()}
    scheduled = _scheduled(plan, patient)
    assert len(scheduled) >= 2  # more than one medicine: the form records them all
    assert shown == scheduled
    assert (fields["supply-supplied_on-day"], fields["supply-supplied_on-month"],
            fields["supply-supplied_on-year"]) == ("4", "1", "2027")


def test_one_submission_records_every_medicine_of_the_instalment_once(
        community: FlaskClient, plan: Plan, patient: Patient) -> None:
    url = f"/pharmacy/patients/{patient.id}"
    fields, _ = _form(community, url, f"{url}/supplies")
    recorded = community.post(f"{url}/supplies", data=fields)
    assert recorded.status_code == 302
    scheduled = _scheduled(plan, patient)
    saved = {community_pharmacy.describe_item(each.product, each.strength): each.quantity for each in _supplies()}
    assert saved == scheduled and {each.instalment for each in _supplies()} == {1}
    again = community.post(f"{url}/supplies", data=fields, follow_redirects=True)  # a double click
    assert again.status_code == 200 and len(_supplies()) == len(scheduled)
    page = page_text(community.get(url))
    assert "Nothing to supply now" in page and "(supplied)" not in page and "<strong>Supplied</strong>" in page


def test_an_error_in_one_medicine_saves_none_of_them(community: FlaskClient, plan: Plan, patient: Patient) -> None:
    url = f"/pharmacy/patients/{patient.id}"
    fields, labels = _form(community, url, f"{url}/supplies")
    names = list(_quantity_fields(fields, labels).values())
    refused = page_text(community.post(f"{url}/supplies", data={**fields, names[-1]: "two"}))
    assert "There is a problem" in refused and "supplied: 0 or more, at most 100000, to 3 decimal places" in refused
    assert _supplies() == []
    over = {**fields, names[0]: str(Decimal(fields[names[0]]) + 1)}
    refused = page_text(community.post(f"{url}/supplies", data=over))
    assert "left to supply in this instalment: record why you are supplying more" in refused
    assert _supplies() == []
    allowed = community.post(f"{url}/supplies", data={**over, "supply-override_reason": "Dropped one; clinic agreed"})
    assert allowed.status_code == 302
    reasons = [each.override_reason for each in _supplies()]
    assert reasons.count("Dropped one; clinic agreed") == 1 and len(reasons) == len(names)


def test_a_form_opened_before_a_revision_is_refused_and_shows_the_new_schedule(
        community: FlaskClient, pharmacist: User, plan: Plan, patient: Patient) -> None:
    url = f"/pharmacy/patients/{patient.id}"
    fields, _ = _form(community, url, f"{url}/supplies")
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=MONDAY + timedelta(days=2), hold_days=7, reason="Needs a rest")
    db.session.commit()
    refused = page_text(community.post(f"{url}/supplies", data=fields))
    assert "The clinic changed this plan after you opened the page" in refused
    assert _supplies() == []
    fields, _ = _form(community, url, f"{url}/supplies")
    assert fields["supply-plan_version"] == "2"
    assert community.post(f"{url}/supplies", data=fields).status_code == 302


def test_a_correction_is_a_new_record_naming_the_one_corrected_and_changes_what_is_left(
        community: FlaskClient, plan: Plan, patient: Patient, pharmacist: User, signed_in: FlaskClient) -> None:
    url = f"/pharmacy/patients/{patient.id}"
    fields, labels = _form(community, url, f"{url}/supplies")
    names = list(_quantity_fields(fields, labels).values())
    community.post(f"{url}/supplies", data={**fields, **{name: "0" for name in names[1:]}})
    first = _supplies()[0]
    correction_url = f"{url}/supplies/{first.id}/correction"
    form, _ = _form(community, correction_url, "")
    assert form["quantity"] == str(first.quantity).rstrip("0").rstrip(".")
    refused = page_text(community.post(correction_url, data={**form, "quantity": "2", "note": ""}))
    assert "Say what was wrong" in refused and len(_supplies()) == 1
    corrected = community.post(correction_url, data={**form, "quantity": "2", "note": "Typed 14 for 2"})
    assert corrected.status_code == 302
    original, correction = _supplies()
    assert (correction.corrects_id, correction.quantity, correction.correction_note) == (original.id, 2,
                                                                                         "Typed 14 for 2")
    assert (original.quantity, original.product, original.strength) == (first.quantity, correction.product,
                                                                       correction.strength)  # kept as it was
    state = community_pharmacy.instalment_states(plan, patient)[0]
    assert state.remaining(original.product, original.strength) == first.quantity - 2
    page = page_text(community.get(url))
    assert "<s>4 January 2027" in page and "<strong>Corrected</strong> by Test Community pharmacist" in page
    assert "Correction of an earlier record: Typed 14 for 2" in page
    form.pop("submission_key")  # (not the same form sent twice: a second correction of the same record)
    again = page_text(community.post(correction_url, data={**form, "quantity": "1", "note": "Again"}))
    assert "This record has already been corrected: correct the latest record" in again
    assert len(_supplies()) == 2  # only the latest record of a chain can be corrected
    to_none = community.post(f"{url}/supplies/{correction.id}/correction",
                             data={**_form(community, f"{url}/supplies/{correction.id}/correction", "")[0],
                                   "quantity": "0", "note": "Not collected after all"})
    assert to_none.status_code == 302
    assert community_pharmacy.instalment_states(plan, patient)[0].remaining(
        original.product, original.strength) == first.quantity
    clinic = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "corrected by Test Community pharmacist" in clinic and "a correction: Not collected after all" in clinic


def test_concerns_are_shown_back_with_their_status_and_the_clinic_closes_them_with_a_note(
        app: Flask, community: FlaskClient, plan: Plan, patient: Patient, signed_in: FlaskClient,
        make: Maker) -> None:
    url = f"/pharmacy/patients/{patient.id}"
    fields, _ = _form(community, url, f"{url}/concerns")
    community.post(f"{url}/concerns", data={**fields, "concern-kind": "withdrawal",
                                            "concern-detail": "Sweating and yawning at the counter"})
    concern = db.session.scalar(select(Concern))
    page = page_text(community.get(url))
    assert "Open</strong> Signs of withdrawal" in page and "Sweating and yawning at the counter" in page
    home = page_text(signed_in.get("/"))
    assert "Sweating and yawning" in home and f'href="/concerns/{concern.id}"' in home
    item = db.session.scalar(select(WorklistItem).where(WorklistItem.kind == "pharmacy_concern"))
    assert f"/worklist/{item.id}/done" not in signed_in.get("/").get_data(as_text=True)  # no one-click "Done"
    close, _ = _form(signed_in, f"/concerns/{concern.id}", f"/concerns/{concern.id}/close")
    refused = page_text(signed_in.post(f"/concerns/{concern.id}/close", data={**close, "close-note": " "}))
    assert "Say what the clinic did about the concern" in refused
    assert _item(item.id).resolved_at is None
    closed = signed_in.post(f"/concerns/{concern.id}/close",
                            data={**close, "close-note": "Phoned the patient: holding the dose a week"})
    assert closed.status_code == 302
    assert _item(item.id).resolved_at is not None
    assert "Sweating and yawning" not in page_text(signed_in.get("/")).split('id="concerns"')[1].split(
        'id="overdue"')[0]
    page = page_text(community.get(url))
    assert "Closed</strong> Signs of withdrawal" in page
    assert ("Closed by Test Specialist pain pharmacist at the clinic, 4 January 2027 at 8:00am: "
            "Phoned the patient: holding the dose a week") in page
    assert "Closed by Test Specialist pain pharmacist" in page_text(signed_in.get(f"/plans/{plan.id}"))
    close.pop("close-submission_key")  # (a second form opened before it was closed, not the same one again)
    stale = signed_in.post(f"/concerns/{concern.id}/close", data={**close, "close-note": "Twice"})
    assert "Nothing was saved" in page_text(stale)  # the form was opened before it was closed
    reopen, _ = _form(signed_in, f"/concerns/{concern.id}", f"/concerns/{concern.id}/reopen")
    assert signed_in.post(f"/concerns/{concern.id}/reopen", data=reopen).status_code == 302
    assert _item(item.id).resolved_at is None
    assert "Sweating and yawning" in page_text(signed_in.get("/"))
    assert "Open</strong> Signs of withdrawal" in page_text(community.get(url))
    other = make.user(Role.PHARMACIST)  # another clinic's pharmacist
    other_client = app.test_client()
    sign_in(other_client, other)
    assert other_client.get(f"/concerns/{concern.id}").status_code == 404


def test_a_revision_appears_on_from_the_clinic_with_what_changed_and_is_marked_read_once_seen(
        app: Flask, make: Maker, community: FlaskClient, chemist: User, pharmacy: Organisation, pharmacist: User,
        plan: Plan, patient: Patient) -> None:
    assert "No changes to this plan since it was first sent to you" in page_text(
        community.get(f"/pharmacy/patients/{patient.id}"))
    assert "revised" not in page_text(community.get("/pharmacy/"))  # the first version is no revision
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=MONDAY + timedelta(days=2), hold_days=7, reason="Needs a rest")
    db.session.commit()
    colleague = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    due = page_text(community.get("/pharmacy/"))
    notices = due.split('id="notices"')[1]
    assert "New</strong>" in notices and f"HOPPER, Grace</a>: plan {plan.id} revised, version 2" in notices
    assert "What changed from version 1:" in notices and "Step 1 held 7 more days" in notices
    read = db.session.scalar(select(RevisionNoticeRead))
    assert (read.organisation_id, read.read_by_id) == (pharmacy.id, chemist.id)
    colleague_client = app.test_client()
    sign_in(colleague_client, colleague)
    again = page_text(colleague_client.get(f"/pharmacy/patients/{patient.id}")).split('id="notices"')[1]
    assert "New</strong>" not in again.split('id="concerns"')[0]
    assert "Seen by Test Community pharmacist, 4 January 2027 at 8:00am" in again
    assert db.session.scalar(select(func.count()).select_from(RevisionNoticeRead)) == 1


def test_the_patient_page_and_the_concern_page_cost_the_same_however_many_records(
        community: FlaskClient, signed_in: FlaskClient, chemist: User, pharmacist: User, plan: Plan,
        patient: Patient) -> None:
    """Supplies, corrections, concerns (with their status changes) and revisions are each loaded in a fixed
    number of statements: the pages run as many with one of each as with several."""

    def add_records() -> int:
        state = community_pharmacy.instalment_states(plan, patient)[0]
        recorded = community_pharmacy.record_instalment(
            by=chemist, plan_id=plan.id, instalment=1, version_number=plan.current_version_number,
            supplied_on=MONDAY, override_reason="Clinic agreed", quantities={
                community_pharmacy.item_key(each.product, each.strength): "1" for each in state.instalment.supplies})
        community_pharmacy.correct_supply(by=chemist, supply_id=recorded[0].id, quantity="2", supplied_on=MONDAY,
                                          note="Miscounted", override_reason="Clinic agreed")
        concern = pharmacy_concerns.raise_concern(by=chemist, plan_id=plan.id, kind="other", detail="Test")
        db.session.commit()
        pharmacy_concerns.close_concern(by=pharmacist, concern_id=concern.id, changes_seen=0, note="Done")
        db.session.commit()
        return concern.id

    def statements(client: FlaskClient, url: str) -> int:
        client.get(url)  # (anything read once per process, and notices marked seen, before counting)
        with counting() as counted:
            assert client.get(url).status_code == 200
        return counted.count

    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=MONDAY + timedelta(days=2), hold_days=7, reason="Needs a rest")
    db.session.commit()
    concern_id = add_records()
    few = (statements(community, f"/pharmacy/patients/{patient.id}"), statements(signed_in, f"/plans/{plan.id}"),
           statements(signed_in, f"/concerns/{concern_id}"))
    for _ in range(3):
        add_records()
    many = (statements(community, f"/pharmacy/patients/{patient.id}"), statements(signed_in, f"/plans/{plan.id}"),
            statements(signed_in, f"/concerns/{concern_id}"))
    assert few == many
