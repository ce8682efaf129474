"""Small checks every service uses: required text, optimistic locking."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from taper.extensions import db
from taper.services.errors import InvalidInput, StaleEdit

STALE_MESSAGE = "someone else saved changes to this record after you opened it"


def required(value: str | None, field: str, message: str) -> str:
    """The text with surrounding spaces removed; InvalidInput with `message` if nothing is left."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput({field: message})
    return value


def check_version(current: int, expected: int) -> None:
    """Refuse an edit made from a stale copy of the record (the form carries the version it showed)."""
    if current != expected:
        raise StaleEdit(STALE_MESSAGE)


def flush_or_stale() -> None:
    """Flush; a concurrent save between load and flush (SQLAlchemy's version counter) becomes StaleEdit."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(STALE_MESSAGE) from None
