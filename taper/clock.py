"""The one place that asks for "now". Everything else takes dates and times as arguments.

Tests move time with `freeze(...)`; the domain never calls this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CLINIC_TIMEZONE = ZoneInfo("Europe/London")

_frozen_at: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in England (the clinics' time zone), not the server's."""
    return now().astimezone(CLINIC_TIMEZONE).date()


@contextmanager
def freeze(at: datetime) -> Iterator[None]:
    """Make `now()` return `at` (which must be timezone-aware) inside the block."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    previous, _frozen_at = _frozen_at, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen_at = previous
