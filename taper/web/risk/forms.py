from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from taper.domain.risk import ASKED_OF_EVERYONE, Answer, RiskFactor, SupportLevel
from taper.services.risk import RiskAnswers
from taper.web.once import OnceForm


class RiskForm(OnceForm):
    factors = SelectMultipleField("Which of these apply?",
                                  choices=[SelectChoice(f.value, f.label) for f in ASKED_OF_EVERYONE],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    # Shown unless the patient is male (female, indeterminate or not known); for a male patient it is recorded
    # "not applicable" without asking.
    by_sex = RadioField("Does the patient have a history of pre-adolescent sexual abuse?",
                        choices=[SelectChoice(answer.value, answer.label) for answer in Answer],
                        validators=[Optional(strip_whitespace=False)],
                        description="Choose not applicable if it was not appropriate to ask")
    active_substance_misuse = BooleanField("Active substance misuse now (complex needs)")
    chosen_level = RadioField("Level of support", choices=[SelectChoice(str(level.value), level.label)
                                                           for level in SupportLevel],
                              # (only nothing chosen is optional: a blank or other value is refused, never read)
                              validators=[Optional(strip_whitespace=False)])
    override_reason = TextAreaField("Why a different level from the one suggested", validators=[Length(max=2000)])

    def answers(self) -> RiskAnswers:
        return RiskAnswers(factors=frozenset(RiskFactor(value) for value in self.factors.data or ()),
                           active_substance_misuse=self.active_substance_misuse.data,
                           by_sex=Answer(self.by_sex.data) if self.by_sex.data else None)
