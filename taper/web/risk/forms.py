from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from taper.domain.risk import ASKED, RiskFactor, SupportLevel
from taper.services.risk import RiskAnswers
from taper.web.once import OnceForm


class RiskForm(OnceForm):
    factors = SelectMultipleField("Which of these apply?", choices=[SelectChoice(f.value, f.label) for f in ASKED],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    active_substance_misuse = BooleanField("Active substance misuse now (complex needs)")
    chosen_level = RadioField("Level of support", choices=[SelectChoice(str(level.value), level.label)
                                                           for level in SupportLevel],
                              # (only nothing chosen is optional: a blank or other value is refused, never read)
                              validators=[Optional(strip_whitespace=False)])
    override_reason = TextAreaField("Why a different level from the one suggested", validators=[Length(max=2000)])

    def answers(self) -> RiskAnswers:
        return RiskAnswers(factors=frozenset(RiskFactor(value) for value in self.factors.data or ()),
                           active_substance_misuse=self.active_substance_misuse.data)
