"""The one place that asks for "now". Everything else takes dates and times as arguments.

Tests move time with `freeze(...)` (a clock that stands still) or `running_from(...)` (a clock set to another
instant that keeps running); outside production `TAPER_TODAY` sets the clock the same way for a whole process
(`start_at`, `start_on`). The domain never calls this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CLINIC_TIMEZONE = ZoneInfo("Europe/London")

_frozen_at: datetime | None = None
_offset = timedelta(0)  # added to the real time: non-zero only when the clock was set to another instant


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC) + _offset


def today() -> date:
    """Today's date in England (the clinics' time zone), not the server's."""
    return now().astimezone(CLINIC_TIMEZONE).date()


def start_at(at: datetime) -> None:
    """Make the clock read `at` (timezone-aware) from this moment on, running as a clock does."""
    global _offset
    _offset = _aware(at) - datetime.now(UTC)


def start_on(day: date) -> None:
    """Make the clock read `day` at the real time of day in England, running as a clock does."""
    real = datetime.now(CLINIC_TIMEZONE)
    start_at(datetime.combine(day, real.time(), CLINIC_TIMEZONE))


@contextmanager
def running_from(at: datetime) -> Iterator[None]:
    """Inside the block, the clock reads `at` (timezone-aware) at first and then runs on."""
    global _offset
    previous = _offset
    start_at(at)
    try:
        yield
    finally:
        _offset = previous


@contextmanager
def freeze(at: datetime) -> Iterator[None]:
    """Make `now()` return `at` (which must be timezone-aware) inside the block."""
    global _frozen_at
    previous, _frozen_at = _frozen_at, _aware(at)
    try:
        yield
    finally:
        _frozen_at = previous


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return at.astimezone(UTC)
