from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from taper.domain.booking import KIND_LENGTHS_MINUTES, LENGTHS_MINUTES, WORKING_WEEKDAYS
from taper.domain.follow_up import Mode
from taper.services.capacity import WEEKDAYS
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm

MODE_CHOICES = [SelectChoice(mode.value, mode.label) for mode in Mode]
BOOKABLE_KINDS = [SelectChoice("initial", "Initial consultation (60 or 90 minutes), before or on a plan"),
                  SelectChoice("follow_up", "Review of the plan"),
                  SelectChoice("extra_review", "Extra review, for a patient who is struggling")]
OTHER_TIME = "other"


class SessionForm(OnceForm):
    weekday = SelectField("Day of the week", coerce=int, choices=[SelectChoice(str(number), WEEKDAYS[number])
                                                                  for number in WORKING_WEEKDAYS])
    starts = TimeField("Starts", validators=[InputRequired("Enter the time the session starts, like 09:00")])
    ends = TimeField("Ends", validators=[InputRequired("Enter the time the session ends, like 12:30")])
    remote = RadioField("Where", default="site", choices=[
        SelectChoice("site", "At a site (face to face, phone or video)"),
        SelectChoice("remote", "Remote (phone and video only)")])
    location = StringField("Site", validators=[Length(max=200)], description="For example, Room 4, Outpatients")


class LeaveForm(OnceForm):
    first_day = DatePartsField("First day of leave")
    last_day = DatePartsField("Last day of leave")
    note = StringField("Note", validators=[Length(max=200)])


class MoveForm(OnceForm):
    day = DatePartsField("Date")
    starts = TimeField("Time", validators=[InputRequired("Enter the time, like 10:30")])
    length_minutes = RadioField("Length", coerce=int, choices=[
        SelectChoice(str(minutes), f"{minutes} minutes") for minutes in LENGTHS_MINUTES])
    mode = RadioField("How", choices=MODE_CHOICES)
    extra_session = BooleanField("I will hold an extra session then",
                                 description="Only for a time outside your sessions: a weekend, a bank holiday, "
                                             "your leave, or other hours")
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class StatusForm(OnceForm):
    """Confirm, mark attended or did not attend, or cancel (with a reason)."""

    action = HiddenField(validators=[InputRequired()])
    reason = TextAreaField("Why is it cancelled?", validators=[Length(max=500)])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class OptionalDatePartsField(DatePartsField):
    """A date in day, month and year boxes that may be left empty (then its data is None)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.type = "DatePartsField"  # drawn as one by the form macros

    def pre_validate(self, form: Any) -> None:
        if not any(self.typed.values()):
            self.data = None
            raise StopValidation()
        super().pre_validate(form)


class FindPatientForm(FlaskForm):
    """Which patient to book (a search of the caseload, sent by GET: it changes nothing)."""

    class Meta:
        csrf = False

    query = StringField("NHS number, name or date of birth", validators=[Length(max=100)])


class ChooseAppointmentForm(FlaskForm):
    """What to book, sent by GET: the page then offers the first free times for it."""

    class Meta:
        csrf = False

    kind = RadioField("What kind of appointment", default="follow_up", choices=BOOKABLE_KINDS)
    length_minutes = RadioField("Length", coerce=int, choices=[
        SelectChoice(str(minutes), f"{minutes} minutes") for minutes in LENGTHS_MINUTES])
    mode = RadioField("How", default="phone", choices=MODE_CHOICES,
                      description="Face to face only in a session at a site; a remote session takes phone and "
                                  "video")

    def settle(self) -> None:
        """Fill in what was not chosen, or does not fit the kind: its first length."""
        if self.kind.data not in KIND_LENGTHS_MINUTES:
            self.kind.data = "follow_up"
        if self.mode.data not in {mode.value for mode in Mode}:
            self.mode.data = Mode.PHONE.value
        if self.length_minutes.data not in KIND_LENGTHS_MINUTES[self.kind.data]:
            self.length_minutes.data = KIND_LENGTHS_MINUTES[self.kind.data][0]
        self.length_minutes.choices = [SelectChoice(str(minutes), f"{minutes} minutes")
                                       for minutes in sorted(KIND_LENGTHS_MINUTES[self.kind.data])]


class BookForm(OnceForm):
    """When: one of the first free times offered, or another day and time (what to book is in the address,
    from ChooseAppointmentForm)."""

    when = RadioField("When", validate_choice=False,  # a time offered may since have been taken: book() says
                      validators=[InputRequired("Choose a time, or another day and time")])
    day = OptionalDatePartsField("Date")
    starts = TimeField("Time", validators=[Optional()])
    extra_session = BooleanField("I will hold an extra session then",
                                 description="Only for a time outside your sessions: a weekend, a bank holiday, "
                                             "your leave, or other hours")
