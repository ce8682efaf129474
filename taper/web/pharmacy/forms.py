from __future__ import annotations

from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from taper.services.community_pharmacy import CONCERN_LABELS
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm


class SupplyForm(OnceForm):
    instalment = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    item = RadioField("Medicine and strength", validators=[InputRequired("Choose the medicine and strength")])
    quantity = StringField("Quantity supplied", validators=[InputRequired("Enter the quantity supplied"),
                                                            Length(max=12)])
    supplied_on = DatePartsField("Date supplied")
    override_reason = TextAreaField("Reason for supplying early or more than the schedule",
                                    validators=[Length(max=1000)],
                                    description="Only needed before the instalment starts, or for more than the "
                                                "schedule has left")


class ConcernForm(OnceForm):
    kind = RadioField("What is the concern?", choices=[SelectChoice(key, label)
                                                       for key, label in CONCERN_LABELS.items()],
                      validators=[InputRequired("Choose what the concern is about")])
    detail = TextAreaField("What happened", validators=[InputRequired("Say what happened"), Length(max=2000)])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
