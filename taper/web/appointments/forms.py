from __future__ import annotations

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
from wtforms.validators import InputRequired, Length, Optional

from taper.domain.booking import LENGTHS_MINUTES, WORKING_WEEKDAYS
from taper.domain.follow_up import Mode
from taper.services.capacity import WEEKDAYS
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm

MODE_CHOICES = [SelectChoice(mode.value, mode.label) for mode in Mode]


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
