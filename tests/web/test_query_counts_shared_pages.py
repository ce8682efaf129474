"""The GP's and the community pharmacy's list pages cost the same whatever the number of patients (Taper issue
16): each page is built with 3 and then with 30 running plans shared with the practice and the pharmacy (with
revised plans' second letters, letters read and acknowledged, and supplies recorded), and runs the same number
of SQL statements both times, at most 40, while listing every patient. The data is built once for the four
pages: each plan is started through the real services, which render its documents.

The lists that grow with the practice or pharmacy (the GP's letters, both lists of patients) come a page at a
time, with Previous and Next links; a page number that is not one reads as the first page, one past the list
says there is nothing more, and one past any list is not found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, PlanDocument, PlanVersion, User
from taper.services import community_pharmacy, plans, practice, sharing
from tests.conftest import Maker, page_text, sign_in
from tests.query_counts import Statements, counting

MOST_QUERIES = 40
# Each list page and who opens it.
PAGES = {"/practice/": Role.GP, "/practice/patients": Role.GP, "/pharmacy/": Role.COMMUNITY_PHARMACIST,
         "/pharmacy/patients": Role.COMMUNITY_PHARMACIST}


@dataclass
class Sharing:
    """A clinic, a GP practice and a community pharmacy, and the patients on plans shared with both."""

    pharmacist: User
    gp: User
    chemist: User
    practice: Organisation
    pharmacy: Organisation
    patients: list[Patient] = field(default_factory=list)

    def user(self, role: Role) -> User:
        return self.gp if role is Role.GP else self.chemist

    def add_patients(self, make: Maker, until: int) -> None:
        """More patients on running plans, up to `until`: every third plan revised (a second letter), every
        other letter read and acknowledged by the practice, every other plan's first instalment part supplied."""
        for index in range(len(self.patients), until):
            patient = make.patient(self.pharmacist, gp_practice_id=self.practice.id, pharmacy_id=self.pharmacy.id,
                                   given_name="Ada", family_name=f"Tapering{index:02d}")
            plan = make.running_plan(self.pharmacist, patient, start_on=clock.today(), instalment_days=7)
            if index % 3 == 0:
                plans.revise_running(by=self.pharmacist, plan_id=plan.id, expected_version=plan.version,
                                     on=clock.today() + timedelta(days=1), hold_days=7, reason="Hold a week")
            if index % 2 == 0:
                letter = db.session.scalar(select(PlanDocument.id).join(PlanVersion).where(
                    PlanVersion.plan_id == plan.id, PlanDocument.kind == "gp_letter")
                    .order_by(PlanVersion.number.desc()).limit(1))  # the current letter: a replaced one is refused
                practice.acknowledge(by=self.gp, document_id=letter)
                first = community_pharmacy.instalment_states(plan, patient)[0].instalment
                community_pharmacy.record_instalment(
                    by=self.chemist, plan_id=plan.id, instalment=1, version_number=plan.current_version_number,
                    supplied_on=clock.today(), quantities={  # part of the 10 mg tablets, none of the others
                        community_pharmacy.item_key(each.product, each.strength): "7" if each.strength == 10 else "0"
                        for each in first.supplies})
            db.session.commit()
            self.patients.append(patient)


@pytest.fixture
def shared(make: Maker) -> Sharing:
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")
    return Sharing(pharmacist=make.user(Role.PHARMACIST), gp=make.user(Role.GP, practice),
                   chemist=make.user(Role.COMMUNITY_PHARMACIST, pharmacy), practice=practice, pharmacy=pharmacy)


def _statements(client: FlaskClient, url: str, patients: list[Patient]) -> Statements:
    """The statements the page runs (after a first look, so that nothing cached once per process counts), having
    checked that it lists every patient."""
    assert client.get(url).status_code == 200
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200
    text = page_text(response)
    missing = [patient.family_name for patient in patients if patient.family_name.upper() not in text]
    assert not missing, f"{url} does not list {missing}"
    return statements


def test_the_shared_list_pages_run_the_same_queries_for_3_and_30_plans(app: Flask, make: Maker,
                                                                        shared: Sharing) -> None:
    clients = {role: app.test_client() for role in set(PAGES.values())}
    for role, client in clients.items():
        sign_in(client, shared.user(role))
    shared.add_patients(make, until=3)
    few = {url: _statements(clients[role], url, shared.patients) for url, role in PAGES.items()}
    shared.add_patients(make, until=30)
    many = {url: _statements(clients[role], url, shared.patients) for url, role in PAGES.items()}
    grew = {url: f"for 3 plans {few[url]}\nfor 30 plans {many[url]}" for url in PAGES
            if many[url].count != few[url].count}
    assert not grew, "\n".join(f"{url}: {report}" for url, report in grew.items())
    too_many = {url: str(statements) for url, statements in many.items() if statements.count > MOST_QUERIES}
    assert not too_many, "\n".join(f"{url}: {report}" for url, report in too_many.items())


def test_the_growing_lists_come_a_page_at_a_time(app: Flask, make: Maker, shared: Sharing,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(practice, "LETTERS_PER_PAGE", 2)
    monkeypatch.setattr(sharing, "PATIENTS_PER_PAGE", 2)
    shared.add_patients(make, until=3)  # the first plan revised: four letters, the newest first
    first, second, third = (patient.family_name.upper() for patient in shared.patients)
    pages = {"/practice/": ([third, second], [first]), "/practice/patients": ([first, second], [third]),
             "/pharmacy/patients": ([first, second], [third])}
    for url, (on_first, on_second) in pages.items():
        client = app.test_client()
        sign_in(client, shared.user(PAGES[url]))
        one, two = page_text(client.get(url)), page_text(client.get(f"{url}?page=2"))
        assert [name in one for name in (first, second, third)] == [name in on_first for name in
                                                                    (first, second, third)], url
        assert [name in two for name in (first, second, third)] == [name in on_second for name in
                                                                    (first, second, third)], url
        assert f'href="{url}?page=2"' in one and "Page 2 of 2" in one and "Previous" not in one
        assert f'href="{url}?page=1"' in two and "Page 1 of 2" in two and "Next" not in two
        for not_a_page in ("x", "-1", "0", "NaN", "1e308", "9" * 5000, "%ff"):
            response = client.get(f"{url}?page={not_a_page}")
            assert response.status_code == 200 and page_text(response).count("Page 2 of 2") == 1, (url, not_a_page)
        assert "There are no more" in page_text(client.get(f"{url}?page=3"))
        assert client.get(f"{url}?page={10**30}").status_code == 404
    looked = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.entity_type == "letter_inbox")
                                .order_by(AuditEvent.id)).all()
    assert looked[:2] == [{"letters": 2, "page": 1}, {"letters": 2, "page": 2}]
