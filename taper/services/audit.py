"""Writing the append-only audit trail (ISO 27789: who, which subject, what, when; plus where from), and
reading a patient's part of it back in plain words."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Row, Select, select

from taper.domain.makeable import plain
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent, User
from taper.services.paging import Page, page_of

_origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)


def set_origin(description: str | None) -> None:
    """Record `description` (the client's IP address) as the origin of events from now on in this context."""
    _origin.set(description)


def current_origin() -> str | None:
    """The origin events get in this context (for rows written in bulk, as `record` writes them)."""
    return _origin.get()


@contextmanager
def origin(description: str | None) -> Iterator[None]:
    """Record `description` (an IP address, "cli", "scheduler") as the origin of events in the block."""
    token = _origin.set(description)
    try:
        yield
    finally:
        _origin.reset(token)


def record(
    *,
    action: str,
    by: User | None,
    entity_type: str,
    entity_id: object = None,
    patient_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add one audit event to the current transaction. `by=None` means the system itself."""
    event = AuditEvent(
        actor_user_id=by.id if by is not None else None,
        actor_label=actor_label or (by.email if by is not None else "system"),
        actor_role=by.role.value if by is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        changes=dict(changes) if changes is not None else None,
        origin=_origin.get(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def snapshot(record_: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a record as JSON-ready values."""
    return {field: _plain(getattr(record_, field)) for field in fields}


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Fields whose values differ, as {field: {"before": old, "after": new}}."""
    return {
        field: {"before": before[field], "after": after[field]}
        for field in before
        if before[field] != after[field]
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain(value)
    return value


@dataclass(frozen=True)
class Access:
    """One line of a patient's access history, as a person reads it."""

    occurred_at: datetime
    who: str  # the person's name; Taper for its own jobs; otherwise the label recorded (a sign-in name)
    role: str  # "GP", "Community pharmacist" ...; "" when not signed in as a user
    email: str  # the account's email when it acted ("" for Taper's own jobs)
    what: str  # "Looked at the tapering plan"


def accesses(*, patient_id: int, page: int, per_page: int) -> Page[Access]:
    """A page of everything recorded about the patient, newest first, each with who did it in one query (the
    person's name joined from their account)."""
    query = (select(AuditEvent.occurred_at, AuditEvent.actor_label, AuditEvent.actor_role, AuditEvent.action,
                    AuditEvent.entity_type, AuditEvent.changes, User.full_name)
             .outerjoin(User, User.id == AuditEvent.actor_user_id)
             .where(AuditEvent.patient_id == patient_id)
             .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))
    return page_of(query, number=page, per_page=per_page, read=_accesses)


def _accesses(query: Select[Any]) -> Sequence[Access]:
    return [_access(row) for row in db.session.execute(query)]


def _access(row: Row[Any]) -> Access:
    label, name, role = row.actor_label, row.full_name, row.actor_role or ""
    system = name is None and label == "system"
    return Access(occurred_at=row.occurred_at, who="Taper (an automatic job)" if system else name or label,
                  role="" if system else _ROLES.get(role, role), email="" if name is None else label,
                  what=describe(row.action, row.entity_type, row.changes or {}))


_ROLES = {role.value: role.label for role in Role}
_WHAT = {
    ("create", "patient"): "Registered the patient",
    ("update", "patient"): "Changed the patient's details",
    ("view", "patient"): "Looked at the patient's record",
    ("access_denied", "patient"): "Tried to open the patient's record (refused)",
    ("view", "access_history"): "Looked at this access history",
    ("view", "calendar"): "Downloaded the patient's appointments calendar",
    ("create", "regimen"): "Recorded the opioids the patient takes",
    ("create", "risk_assessment"): "Recorded a risk assessment",
    ("create", "plan"): "Started a draft tapering plan",
    ("update", "plan"): "Changed the tapering plan's status",
    ("view", "plan"): "Looked at the tapering plan",
    ("delete", "plan"): "Deleted a draft tapering plan",
    ("access_denied", "plan"): "Tried to open the tapering plan (refused)",
    ("create", "plan_version"): "Made a new version of the tapering plan",
    ("create", "shared_decision"): "Recorded the decision shared with the patient",
    ("create", "plan_documents"): "Issued the plan's letters",
    ("view", "plan_documents"): "Opened all the plan's letters to print",
    ("view", "plan_document"): "Opened a letter",
    ("access_denied", "plan_document"): "Tried to open a letter (refused)",
    ("acknowledge", "plan_document"): "Acknowledged the letter to the GP",
    ("create", "appointments"): "Booked review appointments",
    ("update", "appointment"): "Changed an appointment",
    ("create", "appointment"): "Booked an appointment",
    ("create", "follow_up"): "Recorded a follow-up review",
    ("create", "supply"): "Recorded a supply",
    ("create", "concern"): "Told the clinic about a concern",
    ("correct", "supply"): "Corrected a recorded supply",
    ("access_denied", "supply"): "Tried to correct another pharmacy's supply record (refused)",
    ("close", "concern"): "Closed a pharmacy's concern, with a note",
    ("reopen", "concern"): "Reopened a pharmacy's concern",
    ("read", "revision_notices"): "Saw the clinic's notices of revised plans",
    ("update", "message"): "Asked for a message to be sent again",
    ("update", "worklist_item"): "Dealt with an item on the clinic's worklist",
    # Lists and accounts (issue 17): every action the code records has words, patient's or not.
    ("search", "patient"): "Searched for patients",
    ("view", "dispensing_due"): "Looked at the community pharmacy's supplies due",
    ("view", "letter_inbox"): "Looked at the GP practice's letters",
    ("access_denied", "kept_work"): "Tried to open work kept for someone else (refused)",
    ("access_denied", "route"): "Tried to open a page their role may not see (refused)",
    ("request_refused", "route"): "Sent a request that was refused as malformed",
    ("create", "clinic_session"): "Added a weekly clinic session",
    ("delete", "clinic_session"): "Removed a weekly clinic session",
    ("create", "leave"): "Recorded leave",
    ("delete", "leave"): "Removed leave",
    ("create", "organisation"): "Added an organisation",
    ("update", "organisation"): "Changed an organisation's details",
    ("create", "synthetic_data"): "Loaded synthetic demonstration data",
    ("create", "user"): "Added a user account",
    ("update", "user"): "Changed a user account",
    ("set_password", "user"): "Set a password",
    ("login_success", "user"): "Signed in",
    ("login_failure", "user"): "Tried to sign in (wrong email address or password)",
    ("logout", "user"): "Signed out",
    ("sign_in_locked_out", "user"): "Tried to sign in while locked out after too many failed attempts",
    ("sign_in_rate_limited", "user"): "Tried to sign in too many times in a short time (refused)",
    ("session_binding_failed", "user"): "Was signed out everywhere: the session was used from another browser",
    ("two_factor_enrolled", "user"): "Set up two-factor authentication",
    ("two_factor_enrolment_failure", "user"): "Tried to set up two-factor authentication (wrong code)",
    ("two_factor_failure", "user"): "Tried to sign in with a wrong two-factor code",
    ("recovery_code_used", "user"): "Signed in with a recovery code",
    ("reset_two_factor", "user"): "Reset an account's two-factor authentication",
    # Cohort import (issue 18)
    ("import", "patient"): "Added the patient to the caseload from a GP practice's record (cohort import)",
    ("import", "regimen"): "Recorded the opioids in the GP practice's record (cohort import, not yet checked)",
    ("update", "cohort_mapping"): "Saved the clinic's columns for cohort imports",
    ("preview", "cohort_import"): "Uploaded a cohort extract and saw its preview",
    ("confirm", "cohort_import"): "Confirmed a cohort import",
    ("imported", "cohort_import"): "Finished a cohort import",
    ("fail", "cohort_import"): "A cohort import stopped on an error",
    ("discard", "cohort_import"): "Left a previewed cohort import without importing it (its file deleted)",
    ("access_denied", "cohort_import"): "Tried to open another clinic's cohort import (refused)",
    # Invitations (issue 18)
    ("create", "invitation"): "Invited the patient to the clinic, in their GP practice's name",
    ("update", "invitation"): "Recorded the patient's answer to an invitation, or the first consultation booked",
    ("view", "invitation"): "Looked at the patient's invitation",
    ("access_denied", "invitation"): "Tried to open another clinic's invitation (refused)",
    ("view", "invitations"): "Looked at the clinic's invitations",
    ("print", "invitation_batch"): "Opened the invitation letters to print",
    ("access_denied", "invitation_batch"): "Tried to open another clinic's invitation letters (refused)",
    ("render", "invitation_batch"): "Started making a batch of invitation letters again",
    ("rendered", "invitation_batch"): "Finished making a batch of invitation letters",
    ("fail", "invitation_batch"): "A batch of invitation letters stopped on an error",
}
_PLAN_STATUS = {"active": "Started the tapering plan", "paused": "Paused the tapering plan",
                "completed": "Marked the tapering plan completed", "stopped": "Stopped the tapering plan"}
_LETTERS = {"patient_plan": "the patient's plan", "gp_letter": "the letter to the GP",
            "pharmacy_schedule": "the community pharmacy's dispensing schedule"}


def describe(action: str, entity_type: str, changes: Mapping[str, Any]) -> str:
    """What an audit event records, in words: "Paused the tapering plan", "Opened the letter to the GP
    (version 2)". An event this list does not know reads as its action and record ("Update: leave")."""
    if (action, entity_type) == ("update", "plan"):
        status = changes.get("status")
        before, after = (status.get("before"), status.get("after")) if isinstance(status, dict) else (None, None)
        if (before, after) == ("paused", "active"):
            return "Restarted the tapering plan"
        return _PLAN_STATUS.get(str(after), _WHAT[action, entity_type])
    if (action, entity_type) == ("create", "plan_version") and isinstance(changes.get("number"), int):
        return f"Made version {changes['number']} of the tapering plan"
    if (action, entity_type) == ("view", "patient") and changes.get("view") == "dispensing":
        return "Looked at what the community pharmacy supplies to the patient"
    if (action, entity_type) == ("view", "plan_document") and changes.get("kind") in _LETTERS:
        return f"Opened {_LETTERS[changes['kind']]} (version {changes.get('version')})"
    return _WHAT.get((action, entity_type), f"{action}: {entity_type}".replace("_", " ").capitalize())
