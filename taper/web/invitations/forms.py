from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from taper.models.finding import ANSWERS
from taper.services.invitations import ANSWER_LABELS, Shown
from taper.web.once import OnceForm


class InviteForm(OnceForm):
    """Send the invitations. The patients (`patient_id`) and the ways chosen for each (`letter` and `text`, each
    a list of patient ids) are repeated inputs of the page's table, read by the view."""

    send = HiddenField(default="yes")
    invite_again = BooleanField("Invite again",
                                description="Send another invitation to a patient who was invited in the last "
                                            "28 days and has not answered yet")


class AnswerForm(OnceForm):
    answer = RadioField("What did the patient say?", choices=[SelectChoice(answer, ANSWER_LABELS[answer])
                                                              for answer in ANSWERS],
                        validators=[InputRequired("Choose whether the patient accepted or declined")])
    note = TextAreaField("Note (optional)", validators=[Length(max=2000)],
                         description="For example, when they would like to be seen, or why they said no")
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class CarryOnForm(OnceForm):
    """Render a batch's letters again from the first (a restart of the server stopped them, or they failed)."""


class ShowForm(FlaskForm):
    """Which invitations the list shows (sent by GET: it changes nothing)."""

    class Meta:
        csrf = False

    show = SelectField("Show", default=Shown.ALL.value, choices=[SelectChoice(each.value, each.label)
                                                                 for each in Shown])
