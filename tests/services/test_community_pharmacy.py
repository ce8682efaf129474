"""The community pharmacy's services (issue 17): a whole instalment recorded all or nothing, corrections that
the database keeps as a chain, concerns closed with a note and reopened, and revision notices worked out from
the stored plan versions, read once per pharmacy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, Plan, RevisionNoticeRead, Supply, User, WorklistItem
from taper.services import community_pharmacy, pharmacy_concerns, plans, revision_notices
from taper.services.errors import InvalidInput, StaleEdit
from tests.conftest import MONDAY, Maker, at


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY)):
        yield


@pytest.fixture
def pharmacy(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.COMMUNITY_PHARMACY)


@pytest.fixture
def chemist(make: Maker, pharmacy: Organisation) -> User:
    return make.user(Role.COMMUNITY_PHARMACIST, pharmacy)


@pytest.fixture
def patient(make: Maker, pharmacist: User, pharmacy: Organisation) -> Patient:
    return make.patient(pharmacist, pharmacy_id=pharmacy.id)


@pytest.fixture
def plan(make: Maker, pharmacist: User, patient: Patient) -> Plan:
    return make.running_plan(pharmacist, patient, start_on=MONDAY, instalment_days=7)


def _whole(plan: Plan, patient: Patient, number: int = 1) -> dict[str, str]:
    """Every medicine of the instalment at the quantity the schedule gives."""
    state = community_pharmacy.instalment_states(plan, patient)[number - 1]
    return {community_pharmacy.item_key(each.product, each.strength): str(each.quantity)
            for each in state.instalment.supplies}


def _record(chemist: User, plan: Plan, quantities: dict[str, str], **more: object) -> list[Supply]:
    return community_pharmacy.record_instalment(by=chemist, plan_id=plan.id, instalment=1,
                                                version_number=plan.current_version_number, supplied_on=MONDAY,
                                                quantities=quantities, **more)  # type: ignore[arg-type]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_whole_instalment_is_recorded_all_or_nothing(chemist: User, plan: Plan, patient: Patient) -> None:
    whole = _whole(plan, patient)
    assert len(whole) >= 2
    broken = {**whole, next(iter(whole)): "-1"}
    with pytest.raises(InvalidInput) as refused:
        _record(chemist, plan, broken)
    assert list(refused.value.errors) == [next(iter(whole))]
    with pytest.raises(InvalidInput) as nothing:
        _record(chemist, plan, dict.fromkeys(whole, "0"))
    assert nothing.value.errors == {"quantities": "Enter the quantity supplied of at least one medicine"}
    assert _count(Supply) == 0
    recorded = _record(chemist, plan, whole)
    db.session.commit()
    assert {community_pharmacy.item_key(each.product, each.strength): each.quantity
            for each in recorded} == {key: Decimal(quantity) for key, quantity in whole.items()}
    assert all(state.complete for state in community_pharmacy.instalment_states(plan, patient)[:1])
    assert _count(AuditEvent) and db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "supply")) == len(whole)


def test_the_database_keeps_corrections_a_chain_with_a_note(chemist: User, plan: Plan, patient: Patient) -> None:
    first = _record(chemist, plan, _whole(plan, patient))[0]
    db.session.commit()
    correction = community_pharmacy.correct_supply(by=chemist, supply_id=first.id, quantity="0", supplied_on=MONDAY,
                                                   note="Not collected")
    db.session.commit()
    assert (correction.corrects_id, correction.quantity) == (first.id, 0)
    state = community_pharmacy.instalment_states(plan, patient)[0]
    assert state.remaining(first.product, first.strength) == first.quantity
    with pytest.raises(InvalidInput):  # only the latest record of the chain
        community_pharmacy.correct_supply(by=chemist, supply_id=first.id, quantity="1", supplied_on=MONDAY,
                                          note="Again")
    db.session.rollback()
    for wrong in ({"quantity": Decimal(0)},  # a first record of nothing
                  {"quantity": Decimal(1), "corrects_id": correction.id},  # a correction without a note
                  {"quantity": Decimal(1), "corrects_id": first.id, "correction_note": "Twice"}):  # corrected twice
        db.session.add(Supply(plan_id=plan.id, plan_version_id=first.plan_version_id, instalment=1,
                              pharmacy_id=chemist.organisation_id, supplied_on=MONDAY, product=first.product,
                              strength=first.strength, recorded_by_id=chemist.id, **wrong))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_concern_is_closed_with_a_note_and_reopened_once_per_change_seen(
        chemist: User, pharmacist: User, plan: Plan) -> None:
    concern = pharmacy_concerns.raise_concern(by=chemist, plan_id=plan.id, kind="withdrawal", detail="Sweating")
    db.session.commit()
    item = db.session.scalar(select(WorklistItem).where(WorklistItem.kind == "pharmacy_concern"))
    with pytest.raises(InvalidInput):
        pharmacy_concerns.close_concern(by=pharmacist, concern_id=concern.id, changes_seen=0, note="  ")
    pharmacy_concerns.close_concern(by=pharmacist, concern_id=concern.id, changes_seen=0, note="Phoned them")
    db.session.commit()
    closed = pharmacy_concerns.concerns_of(plan, pharmacy_id=chemist.organisation_id)[0]
    assert not closed.is_open and closed.latest_change.note == "Phoned them"
    assert closed.latest_change.changed_by.full_name == pharmacist.full_name and item.resolved_at is not None
    with pytest.raises(StaleEdit):  # a page opened before it was closed
        pharmacy_concerns.close_concern(by=pharmacist, concern_id=concern.id, changes_seen=0, note="Twice")
    db.session.rollback()
    pharmacy_concerns.reopen_concern(by=pharmacist, concern_id=concern.id, changes_seen=1)
    db.session.commit()
    db.session.expire_all()
    assert pharmacy_concerns.concerns_of(plan)[0].is_open
    assert db.session.get(WorklistItem, item.id).resolved_at is None
    assert [event.action for event in db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "concern").order_by(AuditEvent.id))] == ["create", "close", "reopen"]


def test_revision_notices_start_after_the_first_issued_version_and_are_read_once_per_pharmacy(
        make: Maker, chemist: User, pharmacist: User, pharmacy: Organisation, plan: Plan) -> None:
    assert revision_notices.revision_notices(by=chemist) == []
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=MONDAY + timedelta(days=2), hold_days=7, reason="Needs a rest")
    db.session.commit()
    [notice] = revision_notices.revision_notices(by=chemist)
    assert (notice.number, notice.previous_number, notice.is_new) == (2, 1, True)
    assert any("held 7 more days" in change for change in notice.changes)
    colleague = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    assert revision_notices.mark_seen(by=chemist, notices=[notice]) == 1
    assert revision_notices.mark_seen(by=colleague, notices=[notice]) == 0  # seen by the pharmacy already
    db.session.commit()
    [seen] = revision_notices.revision_notices(by=colleague)
    assert (seen.is_new, seen.read_by) == (False, chemist.full_name)
    other = make.user(Role.COMMUNITY_PHARMACIST, make.organisation(OrganisationKind.COMMUNITY_PHARMACY))
    assert revision_notices.revision_notices(by=other) == []  # another pharmacy's patient
    assert _count(RevisionNoticeRead) == 1
