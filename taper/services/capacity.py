"""A pharmacist's clinic capacity: their weekly sessions and their leave. Each pharmacist manages their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select

from taper.domain.booking import WORKING_WEEKDAYS, Session
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import ClinicSession, Leave, User
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound, PermissionDenied

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SessionDetails:
    weekday: int
    starts: time
    ends: time
    remote: bool
    location: str = ""


def add_session(*, by: User, details: SessionDetails) -> ClinicSession:
    _require_pharmacist(by)
    errors = {}
    if details.weekday not in WORKING_WEEKDAYS:
        errors["weekday"] = ("Choose a day from Monday to Friday: nothing is booked at a weekend unless you move "
                             "an appointment there and confirm it as an extra session")
    if details.starts >= details.ends:
        errors["ends"] = "The session must end after it starts"
    if details.starts.minute % 5 or details.ends.minute % 5:
        errors["starts"] = "Sessions start and end on the five minutes, like 9:00 or 13:35"
    if not details.remote and not details.location.strip():
        errors["location"] = "Enter where the session is held, or choose remote"
    if not errors and any(session.weekday == details.weekday and session.starts < details.ends
                          and details.starts < session.ends for session in _sessions(by.id)):
        errors["starts"] = f"This overlaps another of your {WEEKDAYS[details.weekday]} sessions"
    if errors:
        raise InvalidInput(errors)
    session = ClinicSession(pharmacist_id=by.id, weekday=details.weekday, starts=details.starts, ends=details.ends,
                            remote=details.remote, location="" if details.remote else details.location.strip())
    db.session.add(session)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="clinic_session", entity_id=session.id,
                 changes={"weekday": WEEKDAYS[session.weekday], "starts": session.starts.isoformat("minutes"),
                          "ends": session.ends.isoformat("minutes"), "remote": session.remote,
                          "location": session.location})
    return session


def remove_session(*, by: User, session_id: int) -> None:
    _require_pharmacist(by)
    session = db.session.get(ClinicSession, session_id)
    if session is None or session.pharmacist_id != by.id:
        raise NotFound("no such session")
    db.session.delete(session)
    audit.record(action="delete", by=by, entity_type="clinic_session", entity_id=session_id, changes={})


def add_leave(*, by: User, first_day: date, last_day: date, note: str = "") -> Leave:
    _require_pharmacist(by)
    if first_day > last_day:
        raise InvalidInput({"last_day": "The last day of leave must be on or after the first"})
    leave = Leave(pharmacist_id=by.id, first_day=first_day, last_day=last_day, note=note.strip())
    db.session.add(leave)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="leave", entity_id=leave.id,
                 changes={"first_day": first_day.isoformat(), "last_day": last_day.isoformat()})
    return leave


def remove_leave(*, by: User, leave_id: int) -> None:
    _require_pharmacist(by)
    leave = db.session.get(Leave, leave_id)
    if leave is None or leave.pharmacist_id != by.id:
        raise NotFound("no such leave")
    db.session.delete(leave)
    audit.record(action="delete", by=by, entity_type="leave", entity_id=leave_id, changes={})


def sessions_of(pharmacist_id: int) -> list[Session]:
    """A pharmacist's sessions as the booking domain reads them."""
    return [Session(each.weekday, each.starts, each.ends, each.remote, each.location)
            for each in _sessions(pharmacist_id)]


def leave_days(pharmacist_id: int, first: date, last: date) -> set[date]:
    """Every day of leave between `first` and `last` (both included)."""
    days = set()
    for leave in db.session.scalars(select(Leave).where(Leave.pharmacist_id == pharmacist_id,
                                                        Leave.last_day >= first, Leave.first_day <= last)):
        day = max(leave.first_day, first)
        while day <= min(leave.last_day, last):
            days.add(day)
            day += timedelta(days=1)
    return days


def capacity_of(*, by: User) -> tuple[list[ClinicSession], list[Leave]]:
    _require_pharmacist(by)
    leave = list(db.session.scalars(select(Leave).where(Leave.pharmacist_id == by.id).order_by(Leave.first_day)))
    return _sessions(by.id), leave


def _sessions(pharmacist_id: int) -> list[ClinicSession]:
    return list(db.session.scalars(select(ClinicSession).where(ClinicSession.pharmacist_id == pharmacist_id)
                                   .order_by(ClinicSession.weekday, ClinicSession.starts)))


def _require_pharmacist(by: User) -> None:
    if by.role is not Role.PHARMACIST:
        raise PermissionDenied("only a clinic pharmacist has clinic sessions")
