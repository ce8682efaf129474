from __future__ import annotations

from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length

from taper.web.once import OnceForm


class CloseConcernForm(OnceForm):
    note = TextAreaField("What the clinic did", validators=[
        InputRequired("Say what the clinic did about the concern: the pharmacy sees this note"), Length(max=2000)],
        description="The pharmacy sees this note")
    changes_seen = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class ReopenConcernForm(OnceForm):
    changes_seen = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
