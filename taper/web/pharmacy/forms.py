from __future__ import annotations

from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from taper.services.pharmacy_concerns import CONCERN_LABELS
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm

OVERRIDE_HINT = "Only needed before the instalment starts, or for more than the schedule has left"


class InstalmentForm(OnceForm):
    """The whole instalment in one form: a quantity for each medicine and strength (see `instalment_form`)."""

    instalment = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    plan_version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    supplied_on = DatePartsField("Date supplied")
    override_reason = TextAreaField("Reason for supplying early or more than the schedule",
                                    validators=[Length(max=1000)], description=OVERRIDE_HINT)

    quantity_fields: dict[str, StringField]  # item key: its quantity field


def instalment_form(items: list[tuple[str, str]], **kwargs: object) -> InstalmentForm:
    """An InstalmentForm with a quantity field for each (item key, label) of the instalment, in order."""
    form_class = type("InstalmentForm", (InstalmentForm,), {
        f"quantity_{index}": StringField(label, validators=[Length(max=12)])
        for index, (_, label) in enumerate(items)})
    form_class.__qualname__ = InstalmentForm.__qualname__  # (one identity for its submission keys)
    form = form_class(**kwargs)
    form.quantity_fields = {key: getattr(form, f"quantity_{index}") for index, (key, _) in enumerate(items)}
    return form


class CorrectionForm(OnceForm):
    quantity = StringField("Quantity really supplied", validators=[InputRequired("Enter the quantity supplied"),
                                                                   Length(max=12)],
                           description="0 if none was supplied. Tablets, capsules or patches; mL for a liquid")
    supplied_on = DatePartsField("Date supplied")
    note = TextAreaField("What was wrong with the record", validators=[InputRequired("Say what was wrong"),
                                                                        Length(max=1000)])
    override_reason = TextAreaField("Reason for supplying early or more than the schedule",
                                    validators=[Length(max=1000)], description=OVERRIDE_HINT)


class ConcernForm(OnceForm):
    kind = RadioField("What is the concern?", choices=[SelectChoice(key, label)
                                                       for key, label in CONCERN_LABELS.items()],
                      validators=[InputRequired("Choose what the concern is about")])
    detail = TextAreaField("What happened", validators=[InputRequired("Say what happened"), Length(max=2000)])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
