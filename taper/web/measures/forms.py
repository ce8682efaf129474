"""The measures page's choices, sent by GET (they change nothing): the period, a GP practice, and for an admin
the clinic."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, ValidationError

from taper.domain.typed_dates import UnreadableDate, parse_typed_date


class TypedDateField(StringField):
    """A date typed as people type dates ("1 March 2026", "1/3/2026"); `day` is the date read, None if empty."""

    day: date | None = None

    def pre_validate(self, form: Any) -> None:
        self.day = None
        if not (self.data or "").strip():
            return
        try:
            self.day = parse_typed_date(self.data)
        except UnreadableDate as refusal:
            raise ValidationError(f"{self.label.text} must be a real date: {refusal}") from None


class MeasuresForm(FlaskForm):
    class Meta:
        csrf = False

    # Read as ids by taper.web.arguments.record_id (404 for anything that cannot be one); here for the page.
    clinic = SelectField("Clinic", validate_choice=False)
    start = TypedDateField("From", validators=[Length(max=40)])
    end = TypedDateField("To", validators=[Length(max=40)])
    practice = SelectField("GP practice", validate_choice=False)
