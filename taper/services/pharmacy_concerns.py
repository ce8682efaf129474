"""Concerns a community pharmacy raises with the clinic about a patient's plan: raising one stores it and puts it
on the clinic pharmacist's worklist; the clinic closes it with a note the pharmacy sees (off the worklist), or
reopens it. This module owns raising, closing and reopening concerns, their labels, and the plain records the
pages show of them with their status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import Concern, ConcernStatusChange, Plan, User
from taper.models.sharing import CONCERN_KINDS
from taper.services import appointments, audit, sharing, worklists
from taper.services.community_pharmacy import Person, require_community_pharmacist
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from taper.services.patients import patient_in_scope

CONCERN_LABELS = {"early_or_extra_request": "Asked for an early or extra supply",
                  "withdrawal": "Signs of withdrawal", "possible_misuse": "Signs of possible misuse",
                  "change_of_pace": "Asked to change the pace", "other": "Something else"}


def raise_concern(*, by: User, plan_id: int, kind: str, detail: str) -> Concern:
    """Tell the clinic: the concern is stored and goes on the clinic pharmacist's worklist."""
    require_community_pharmacist(by)
    plan = sharing.shared_plan(by, plan_id)
    errors = {}
    if kind not in CONCERN_KINDS:
        errors["kind"] = "Choose what the concern is about"
    if not detail.strip():
        errors["detail"] = "Say what happened"
    if errors:
        raise InvalidInput(errors)
    concern = Concern(plan_id=plan.id, pharmacy_id=by.organisation_id, kind=kind, detail=detail.strip(),
                      raised_by_id=by.id)
    db.session.add(concern)
    db.session.flush()
    appointments.add_to_worklist(key=worklists.concern_item_key(concern.id), kind="pharmacy_concern", plan_id=plan.id,
                                 detail=f"{CONCERN_LABELS[kind]} ({by.full_name}, community pharmacy): "
                                        f"{concern.detail}")
    audit.record(action="create", by=by, entity_type="concern", entity_id=concern.id, patient_id=plan.patient_id,
                 changes={"plan": plan.id, "kind": kind})
    return concern


def concern_for_clinic(*, by: User, concern_id: int) -> Concern:
    """A concern about a patient of this pharmacist's clinic, with its status changes (another clinic's: not
    found, and audited)."""
    concern = db.session.scalar(select(Concern).where(Concern.id == concern_id).options(
        selectinload(Concern.raised_by), selectinload(Concern.changes).joinedload(ConcernStatusChange.changed_by)))
    if concern is None:
        raise NotFound("no such concern")
    plan = db.session.get(Plan, concern.plan_id)
    assert plan is not None
    patient_in_scope(by, plan.patient_id)
    return concern


def close_concern(*, by: User, concern_id: int, changes_seen: int, note: str) -> Concern:
    """The clinic has dealt with a concern: closed with a note the pharmacy sees, and off the worklist.
    `changes_seen` is how many status changes the pharmacist saw: if someone changed it meanwhile, nothing is
    saved (StaleEdit)."""
    if not note.strip():
        raise InvalidInput({"note": "Say what the clinic did about the concern: the pharmacy sees this note"})
    return _change_concern(by, concern_id, changes_seen, to="closed", note=note.strip())


def reopen_concern(*, by: User, concern_id: int, changes_seen: int) -> Concern:
    """Undo closing a concern: open again, and back on the worklist."""
    return _change_concern(by, concern_id, changes_seen, to="open", note="")


def _change_concern(by: User, concern_id: int, changes_seen: int, *, to: str, note: str) -> Concern:
    if by.role is not Role.PHARMACIST:
        raise PermissionDenied("only the clinic closes or reopens a concern")
    concern = concern_for_clinic(by=by, concern_id=concern_id)
    if len(concern.changes) != changes_seen:
        raise StaleEdit("the concern changed meanwhile")
    if concern.is_open == (to == "open"):
        raise InvalidInput({"note": f"This concern is already {'open' if to == 'open' else 'closed'}"})
    change = ConcernStatusChange(concern_id=concern.id, sequence=changes_seen + 1, status=to, note=note,
                                 changed_by_id=by.id)
    try:
        with db.session.begin_nested():  # someone changing it at the same moment takes the same sequence
            db.session.add(change)
    except IntegrityError:
        raise StaleEdit("the concern changed meanwhile") from None
    worklists.set_concern_open(concern_id=concern.id, is_open=to == "open")
    plan = db.session.get(Plan, concern.plan_id)
    assert plan is not None
    audit.record(action="close" if to == "closed" else "reopen", by=by, entity_type="concern",
                 entity_id=concern.id, patient_id=plan.patient_id, changes={"note": note} if note else {})
    db.session.expire(concern, ["changes"])
    return concern


@dataclass(frozen=True)
class StatusChange:
    status: str  # closed or open
    note: str
    changed_by: Person
    changed_at: datetime


@dataclass(frozen=True)
class ConcernRecord:
    """A concern as the pages show it (plain values, as SupplyRecord), with the clinic's status changes."""

    id: int
    kind: str
    detail: str
    raised_by: Person
    created_at: datetime
    changes: tuple[StatusChange, ...]

    @property
    def latest_change(self) -> StatusChange | None:
        return self.changes[-1] if self.changes else None

    @property
    def is_open(self) -> bool:
        return self.latest_change is None or self.latest_change.status == "open"


def concerns_of(plan: Plan, *, pharmacy_id: int | None = None) -> list[ConcernRecord]:
    """The concerns raised about the plan (by one pharmacy, if given), newest first, each with who raised it and
    its status changes (two queries, however many concerns)."""
    query = select(Concern).where(Concern.plan_id == plan.id)
    if pharmacy_id is not None:
        query = query.where(Concern.pharmacy_id == pharmacy_id)
    found = list(db.session.scalars(query.options(
        joinedload(Concern.raised_by), selectinload(Concern.changes).joinedload(ConcernStatusChange.changed_by))
        .order_by(Concern.created_at.desc(), Concern.id.desc())))
    return [ConcernRecord(concern.id, concern.kind, concern.detail, Person(concern.raised_by.full_name),
                          concern.created_at,
                          tuple(StatusChange(change.status, change.note, Person(change.changed_by.full_name),
                                             change.changed_at) for change in concern.changes))
            for concern in found]
