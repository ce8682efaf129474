"""Form fields and helpers shared by the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import Field, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from taper.domain.typed_dates import UnreadableDate, date_from_parts
from taper.extensions import db
from taper.services.errors import InvalidInput, StaleEdit
from taper.web import once

T = TypeVar("T")


class DatePartsField(Field):
    """A date typed as day, month and year boxes (the NHS.UK date input pattern).

    Reads `<name>-day`, `<name>-month` and `<name>-year` (the month as a number or a name, "3", "Mar" or
    "March"; the year in full); keeps what was typed so a form re-shown with errors loses nothing.
    """

    PARTS = ("day", "month", "year")

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any):
        super().__init__(label, validators, **kwargs)
        self.typed: dict[str, str] = {}

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors: list[str] = []
        self.data = data if data is not None else self.default
        if isinstance(self.data, date):
            self.typed = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is not None:
            self.typed = {part: formdata.get(f"{self.name}-{part}", "").strip() for part in self.PARTS}
            self.data = None

    def pre_validate(self, form: Any) -> None:
        if not any(self.typed.values()):
            raise StopValidation(f"Enter the {self.label.text.lower()}")
        missing = [part for part in self.PARTS if not self.typed.get(part)]
        if missing:
            raise StopValidation(f"{self.label.text} must include a {' and '.join(missing)}")
        try:
            self.data = date_from_parts(self.typed["day"], self.typed["month"], self.typed["year"])
        except UnreadableDate as refusal:
            raise StopValidation(f"{self.label.text} must be a real date: {refusal}") from None


def optional_id(value: Any) -> int | None:
    """Coerce a select's value to an id, with "" meaning none chosen."""
    if value in (None, "", "None"):
        return None
    return int(value)


def organisation_choices(field: SelectField, organisations: list[Any], *, blank: str | None) -> None:
    field.choices = ([SelectChoice("", blank)] if blank is not None else []) + [
        SelectChoice(str(organisation.id), f"{organisation.name} ({organisation.ods_code})")
        for organisation in organisations
    ]


def save(form: FlaskForm, change: Callable[[], T], *, locate: Callable[[str], Field | None] | None = None,
         commit: bool = True) -> T | None:
    """Run one service change and commit it (or, with `commit=False`, just run it, as for a preview). If the
    service refuses the input, roll back, put its messages on the form's fields (found by name, or by
    `locate` for other kinds of path) and return None, so the view re-shows the form with nothing saved.
    A change claims the form's submission key first, in the same transaction (taper.web.once)."""
    try:
        if commit:
            once.claim(form)
        result = change()
    except InvalidInput as refusal:
        db.session.rollback()
        for name, message in refusal.errors.items():
            field = locate(name) if locate is not None else getattr(form, name, None)
            if field is None:
                form.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]
        return None
    except StaleEdit:
        db.session.rollback()
        form.form_errors.append(
            "Someone else saved changes to this record after you opened it. Nothing was saved: "
            "reload the page to see their changes, then make yours again."
        )
        return None
    if commit:
        db.session.commit()
    return result
