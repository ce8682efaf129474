"""The GP's plan letters after a revision (Taper issue 17, item 2): the earlier letters show as replaced and no
longer need acknowledging (neither in the inbox's count nor its "to acknowledge" filter), each letter has its
own page to acknowledge it from, a replaced letter cannot be acknowledged, and the pages cost the same whatever
the number of plans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, LetterReceipt, Organisation, Patient, Plan, PlanDocument, PlanVersion, User
from taper.services import plans, practice
from tests.conftest import MONDAY, Maker, at, page_text, sign_in, submit
from tests.query_counts import Statements, counting

MOST_QUERIES = 40
NEW = '<strong class="nhsuk-tag nhsuk-tag--blue">New</strong>'


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY)):
        yield


@pytest.fixture
def surgery(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")


@pytest.fixture
def gp(make: Maker, surgery: Organisation) -> User:
    return make.user(Role.GP, surgery)


@pytest.fixture
def client(app: Flask, gp: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, gp)
    return client


def _revised_plan(make: Maker, pharmacist: User, surgery: Organisation, family_name: str = "Lovelace") -> Plan:
    """A running plan shared with the practice, revised once: two letters, version 1's replaced by version 2's."""
    patient = make.patient(pharmacist, gp_practice_id=surgery.id, family_name=family_name)
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY, instalment_days=7)
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=MONDAY + timedelta(days=1),
                         hold_days=7, reason="Hold a week: poor sleep")
    db.session.commit()
    return plan


def _letters(plan: Plan) -> list[int]:
    """The plan's letters to the GP, by version, oldest first."""
    return list(db.session.scalars(select(PlanDocument.id).join(PlanVersion).where(
        PlanVersion.plan_id == plan.id, PlanDocument.kind == "gp_letter").order_by(PlanVersion.number)))


def _row(inbox: str, document_id: int) -> str:
    return inbox.split(f'id="letter-{document_id}"')[1].split("</tr>")[0]


def test_a_revision_shows_the_earlier_letter_as_replaced_and_only_the_current_one_needs_acknowledging(
        make: Maker, pharmacist: User, surgery: Organisation, client: FlaskClient) -> None:
    plan = _revised_plan(make, pharmacist, surgery)
    first, second = _letters(plan)
    inbox = page_text(client.get("/practice/"))
    assert "Replaced by version 2" in _row(inbox, first) and NEW not in _row(inbox, first)
    assert NEW in _row(inbox, second) and "Replaced" not in _row(inbox, second)
    assert "1 letter needs acknowledging." in inbox and "To acknowledge (1)" in inbox
    waiting = page_text(client.get("/practice/?show=to_acknowledge"))
    assert f'id="letter-{second}"' in waiting and f'id="letter-{first}"' not in waiting
    client.get(f"/practice/documents/{first}.pdf")  # the old letter read: still no Acknowledge for it
    client.get(f"/practice/documents/{second}.pdf")
    inbox = page_text(client.get("/practice/"))
    assert "Acknowledge" not in _row(inbox, first) and "Acknowledge" in _row(inbox, second)
    submit(client, f"/practice/letters/{second}/acknowledge", {}, form_url="/practice/")
    inbox = page_text(client.get("/practice/"))
    assert "0 letters need acknowledging." in inbox and "To acknowledge (0)" in inbox
    assert "Replaced by version 2" in _row(inbox, first) and "Acknowledged" in _row(inbox, second)
    assert "No letters need acknowledging." in page_text(client.get("/practice/?show=to_acknowledge"))
    patient_page = page_text(client.get(f"/practice/patients/{plan.patient_id}"))
    assert "replaced by version 2" in patient_page and "acknowledged" in patient_page
    assert client.get("/practice/?show=everything").status_code == 400


def test_the_gp_acknowledges_a_letter_from_its_own_page(make: Maker, pharmacist: User, surgery: Organisation,
                                                         gp: User, client: FlaskClient) -> None:
    plan = _revised_plan(make, pharmacist, surgery)
    _, second = _letters(plan)
    url = f"/practice/letters/{second}"
    page = page_text(client.get(url))
    assert f"Revised plan: LOVELACE, Ada, plan {plan.number} version 2" in page
    assert "Hold a week: poor sleep" in page  # why, and what changed
    assert "Step 1 held 7 more days, to 24 January 2027." in page
    assert "120 mg oral morphine equivalent a day at the start" in page
    assert "The last opioid dose is on 27 June 2027." in page  # as "what changed" gives it
    assert f'href="/practice/documents/{second}.pdf"' in page and ">Acknowledge</button>" in page
    receipt = db.session.scalar(select(LetterReceipt).where(LetterReceipt.plan_document_id == second))
    assert receipt is not None and receipt.read_by_id == gp.id and receipt.acknowledged_at is None  # opened: read
    answer = submit(client, f"{url}/acknowledge?from=letter", {}, form_url=url)
    assert answer.status_code == 302 and answer.headers["Location"] == url
    page = page_text(client.get(url))
    assert "Letter acknowledged: the clinic can see that you have it." in page
    assert '<dd class="nhsuk-summary-list__value" id="letter-state">Acknowledged by Test GP, 4 January 2027 at ' \
        '8:00am</dd>' in page
    assert ">Acknowledge</button>" not in page
    audited = db.session.execute(select(AuditEvent.action, AuditEvent.entity_id).where(
        AuditEvent.entity_type == "plan_document", AuditEvent.actor_user_id == gp.id).order_by(AuditEvent.id)).all()
    # opened, opened for the form's token, acknowledged (which audits its look at the letter, as from the inbox),
    # opened again
    assert audited == [("view", str(second))] * 3 + [("acknowledge", str(second)), ("view", str(second))]


def test_a_replaced_letter_cannot_be_acknowledged(make: Maker, pharmacist: User, surgery: Organisation, gp: User,
                                                  client: FlaskClient) -> None:
    plan = _revised_plan(make, pharmacist, surgery)
    first, second = _letters(plan)
    page = page_text(client.get(f"/practice/letters/{first}"))
    assert "Replaced by version 2" in page and ">Acknowledge</button>" not in page
    assert "Why the plan was revised" not in page  # the first version's reason is the clinic's own note
    assert f'href="/practice/letters/{second}">Go to the current letter (version 2)' in page
    refused = submit(client, f"/practice/letters/{first}/acknowledge?from=letter", {},
                     form_url=f"/practice/letters/{second}")
    assert refused.headers["Location"] == f"/practice/letters/{second}"  # to the current letter
    shown = page_text(client.get(refused.headers["Location"]))
    assert ("This letter was replaced by version 2 of the plan. Acknowledge the letter for version 2 instead."
            in shown) and ">Acknowledge</button>" in shown
    assert db.session.scalar(select(LetterReceipt.acknowledged_at).where(LetterReceipt.plan_document_id == first)) \
        is None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "acknowledge")) is None
    with pytest.raises(practice.LetterReplaced) as replaced:
        practice.acknowledge(by=gp, document_id=first)
    assert (replaced.value.newest_version, replaced.value.current_document_id) == (2, second)


def test_the_letter_page_is_only_for_the_practice_and_only_for_letters(
        app: Flask, make: Maker, pharmacist: User, surgery: Organisation, client: FlaskClient) -> None:
    plan = _revised_plan(make, pharmacist, surgery)
    _, second = _letters(plan)
    patient_plan = db.session.scalar(select(PlanDocument.id).where(PlanDocument.kind == "patient_plan").limit(1))
    assert client.get(f"/practice/letters/{patient_plan}").status_code == 404
    elsewhere = app.test_client()
    sign_in(elsewhere, make.user(Role.GP, make.organisation(OrganisationKind.GP_PRACTICE, name="Hillside")))
    assert elsewhere.get(f"/practice/letters/{second}").status_code == 404
    clinic = app.test_client()
    sign_in(clinic, pharmacist)
    assert clinic.get(f"/practice/letters/{second}").status_code == 403


def _statements(client: FlaskClient, url: str, patients: list[Patient]) -> Statements:
    assert client.get(url).status_code == 200  # a first look, so that nothing cached once per process counts
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200
    text = page_text(response)
    assert all(patient.family_name.upper() in text for patient in patients), url
    return statements


def test_the_letter_pages_run_the_same_queries_for_3_and_12_plans(make: Maker, pharmacist: User,
                                                                  surgery: Organisation, gp: User,
                                                                  client: FlaskClient) -> None:
    """Every other plan revised (its first letter replaced), every third current letter acknowledged."""
    made: list[Plan] = []

    def add(until: int) -> None:
        for index in range(len(made), until):
            patient = make.patient(pharmacist, gp_practice_id=surgery.id, family_name=f"Tapering{index:02d}")
            plan = make.running_plan(pharmacist, patient, start_on=MONDAY, instalment_days=7)
            if index % 2 == 0:
                plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                                     on=MONDAY + timedelta(days=1), hold_days=7, reason="Hold a week")
            if index % 3 == 0:
                practice.acknowledge(by=gp, document_id=_letters(plan)[-1])
            db.session.commit()
            made.append(plan)

    def urls() -> dict[str, list[Patient]]:
        patients = [db.session.get_one(Patient, plan.patient_id) for plan in made]
        waiting = [patient for index, patient in enumerate(patients) if index % 3]
        return {"/practice/": patients, "/practice/?show=to_acknowledge": waiting,
                f"/practice/letters/{_letters(made[0])[0]}": [patients[0]],
                f"/practice/letters/{_letters(made[1])[0]}": [patients[1]]}

    add(3)
    few = {url: _statements(client, url, shown) for url, shown in urls().items()}
    assert "2 letters need acknowledging." in page_text(client.get("/practice/"))
    add(12)
    many = {url: _statements(client, url, shown) for url, shown in urls().items()}
    assert "8 letters need acknowledging." in page_text(client.get("/practice/"))
    grew = {url: f"for 3 plans {few[url]}\nfor 12 plans {many[url]}" for url in few
            if many[url].count != few[url].count}
    assert not grew, "\n".join(f"{url}: {report}" for url, report in grew.items())
    assert all(statements.count <= MOST_QUERIES for statements in many.values()), many
