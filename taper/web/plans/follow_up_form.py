from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from taper.domain.follow_up import PEG_ITEMS, PEG_MAX, SOWS_GOSSOP_ITEMS, SOWS_SCORES, Mode, Outcome
from taper.services.follow_ups import NOT_ASSESSED, FollowUpDetails
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm


class FollowUpForm(OnceForm):
    held_on = DatePartsField("Date of the follow-up")
    mode = RadioField("How it was held", choices=[SelectChoice(mode.value, mode.label) for mode in Mode],
                      validators=[InputRequired("Choose how the follow-up was held")])
    duration_minutes = IntegerField("Length (minutes)", validators=[
        InputRequired("Enter the length in minutes"),
        NumberRange(5, 180, "Enter the length in minutes, from 5 to 180")])
    dose_taken = TextAreaField("The dose the patient is actually taking", validators=[
        InputRequired("Record the dose the patient is actually taking"), Length(max=2000)])
    notes = TextAreaField("Notes", validators=[Length(max=5000)])
    outcome = RadioField("The patient's decision", choices=[SelectChoice(o.value, o.label) for o in Outcome],
                         validators=[InputRequired("Choose the patient's decision")])
    hold_days = IntegerField("Hold for how many more days", validators=[Optional()])
    reduction_pct = StringField("New percentage", validators=[Optional(), Length(max=6)])
    interval_days = IntegerField("New interval (days)", validators=[Optional()])
    stop_reason = TextAreaField("Why the plan is stopping", validators=[Length(max=2000)])
    version = IntegerField(validators=[InputRequired()])

    def validate_reduction_pct(self, field: StringField) -> None:
        if field.data:
            try:
                Decimal(field.data.strip())
            except InvalidOperation:
                raise ValidationError("Enter the percentage as a number, like 5") from None

    def details(self) -> FollowUpDetails:
        return FollowUpDetails(
            held_on=self.held_on.data, mode=self.mode.data, duration_minutes=self.duration_minutes.data,
            dose_taken=self.dose_taken.data, notes=self.notes.data or "", outcome=self.outcome.data,
            peg={item: getattr(self, f"peg_{item}").data for item in PEG_ITEMS},
            sows={item: _score(getattr(self, f"sows_{item}").data) for item in SOWS_GOSSOP_ITEMS},
            hold_days=self.hold_days.data or 0,
            reduction_pct=Decimal(self.reduction_pct.data.strip()) if self.reduction_pct.data else None,
            interval_days=self.interval_days.data, stop_reason=self.stop_reason.data or "")


for _item, _label in PEG_ITEMS.items():
    setattr(FollowUpForm, f"peg_{_item}", IntegerField(f"{_label} (0 to {PEG_MAX})", validators=[
        InputRequired(f"Score {_label.lower()} from 0 to {PEG_MAX}"),
        NumberRange(0, PEG_MAX, f"Score from 0 to {PEG_MAX}")]))
def _score(value: str | None) -> int | None:
    """A withdrawal item's score, or None when it was not assessed (never taken as 0)."""
    return int(value) if value else None


# Each withdrawal item starts "Not assessed": a score of 0 is an answer ("none"), so it is never filled in for the
# pharmacist.
for _item, _label in SOWS_GOSSOP_ITEMS.items():
    setattr(FollowUpForm, f"sows_{_item}", SelectField(_label, default="", choices=[
        SelectChoice("", NOT_ASSESSED), *(SelectChoice(str(score), f"{score}: {word}")
                                          for score, word in SOWS_SCORES.items())]))
