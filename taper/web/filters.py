"""Jinja filters: dates and identifiers the way NHS pages show them."""

from __future__ import annotations

import base64
from datetime import date, datetime

from flask import Flask

from taper.clock import CLINIC_TIMEZONE
from taper.domain.nhs_number import format_nhs_number
from taper.domain.wording import clock_words, doses_that_cannot_be_made, long_date


def nhs_date(value: date | None) -> str:
    """15 March 1984 (NHS.UK content style)."""
    return "" if value is None else long_date(value)


def nhs_datetime(value: datetime | None) -> str:
    """15 March 1984 at 2:05pm, in UK time."""
    if value is None:
        return ""
    local = value.astimezone(CLINIC_TIMEZONE)
    return f"{nhs_date(local.date())} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def nhs_time(value: datetime) -> str:
    """2:05pm, 9am, 12 noon: UK time, the NHS.UK way."""
    return clock_words(value.astimezone(CLINIC_TIMEZONE).strftime("%H:%M"))


def local_day(value: datetime) -> date:
    return value.astimezone(CLINIC_TIMEZONE).date()


def iso_date(text: str) -> date:
    return date.fromisoformat(text)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def init_app(app: Flask) -> None:
    app.add_template_filter(iso_date, "iso_date")
    app.add_template_filter(b64, "b64")
    app.add_template_filter(nhs_date, "nhs_date")
    app.add_template_filter(nhs_datetime, "nhs_datetime")
    app.add_template_filter(nhs_time, "nhs_time")
    app.add_template_filter(doses_that_cannot_be_made, "doses_that_cannot_be_made")
    app.add_template_filter(local_day, "local_day")
    app.add_template_filter(format_nhs_number, "nhs_number")
