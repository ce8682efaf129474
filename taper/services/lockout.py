"""Progressive lockout (OWASP ASVS 6.3.1): after consecutive failed sign-ins to one email address (a wrong password
or a wrong two-factor code) the address refuses sign-in for a while, longer after each further failure; a
successful sign-in clears it. Counted in the database, so every worker sees the same count.

Counted per address as typed and normalised, whether or not an account has it: a lockout says nothing about
whether an account exists. The check comes before any password is hashed, so a locked address costs no Argon2.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from taper import clock
from taper.extensions import db
from taper.models import FailedSignIns, User
from taper.services import audit

FAILURES_BEFORE_LOCKOUT = 5
FIRST_LOCKOUT = timedelta(minutes=1)  # then doubled for each further failure: 2, 4, 8 ... minutes
LONGEST_LOCKOUT = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)  # failures older than this no longer count


class SignInLocked(Exception):
    """Sign-in to this address is refused until `until` (timezone-aware), whatever was typed."""

    def __init__(self, until: datetime):
        super().__init__(f"sign-in locked until {until.isoformat()}")
        self.until = until

    @property
    def seconds_left(self) -> int:
        """Whole seconds to wait, rounded up (at least 1): the answer's Retry-After."""
        return max(1, -int(-(self.until - clock.now()).total_seconds() // 1))

    @property
    def minutes_left(self) -> int:
        """Whole minutes to wait, rounded up (at least 1)."""
        return max(1, -(-self.seconds_left // 60))


def lockout_after(failures: int) -> timedelta | None:
    """How long sign-in is refused after this many consecutive failures (None: not locked)."""
    if failures < FAILURES_BEFORE_LOCKOUT:
        return None
    doublings = min(failures - FAILURES_BEFORE_LOCKOUT, 10)  # 2**10 minutes is past the cap already
    return min(FIRST_LOCKOUT * 2**doublings, LONGEST_LOCKOUT)


def refuse_while_locked(email: str, user: User | None) -> None:
    """Raise SignInLocked, audited as "sign_in_locked_out", while this address is locked out."""
    until = db.session.scalar(select(FailedSignIns.locked_until).where(FailedSignIns.email == email))
    if until is not None and until > clock.now():
        audit.record(action="sign_in_locked_out", by=None, entity_type="user", entity_id=user.id if user else None,
                     actor_label=email or "(blank)", changes={"locked_until": until.isoformat()})
        raise SignInLocked(until)


def record_failure(email: str) -> datetime | None:
    """Count one more consecutive failure for this address; the end of the lockout it starts, if it starts one.
    One upsert, so that failures arriving at once from several workers are all counted."""
    now = clock.now()
    # Failures too old to count are forgotten first, so that they never add to this one.
    db.session.execute(delete(FailedSignIns).where(FailedSignIns.last_failure_at < now - FORGET_AFTER))
    failures = db.session.execute(_upsert(email, now).returning(FailedSignIns.failures)).scalar_one()
    lockout = lockout_after(failures)
    until = now + lockout if lockout else None
    if until is not None:
        db.session.execute(update(FailedSignIns).where(FailedSignIns.email == email).values(locked_until=until))
    return until


def clear(email: str) -> None:
    """Forget this address's failures (after a successful sign-in)."""
    db.session.execute(delete(FailedSignIns).where(FailedSignIns.email == email))


def _upsert(email: str, now: datetime) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE, in the dialect of the database in use (PostgreSQL or SQLite)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(FailedSignIns).values(email=email, failures=1, last_failure_at=now)
    return statement.on_conflict_do_update(index_elements=[FailedSignIns.email], set_={
        "failures": FailedSignIns.failures + 1, "last_failure_at": now})
