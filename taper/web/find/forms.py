"""The find worklist's filters (a GET form: nothing changes) and the form that carries the chosen patients to
the invitations page."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from taper.domain.finding import PathwayState
from taper.domain.risk import SupportLevel
from taper.services.finding import FindFilter, StateFilter


class FilterForm(FlaskForm):
    """Which patients the worklist shows; kept in the address, so it stays across pages."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    state = SelectField("Place in the pathway", default=StateFilter.TO_FIND.value, validators=[Optional()],
                        choices=[SelectChoice(each.value, each.label) for each in StateFilter]
                        + [SelectChoice(state.value, state.label) for state in PathwayState])
    practice = SelectField("GP practice", default="", validators=[Optional()])
    min_level = SelectField("Level of support, at least", default="", validators=[Optional()],
                            choices=[SelectChoice("", "Any level")]
                            + [SelectChoice(str(level.value), level.label) for level in SupportLevel])

    def __init__(self, *args: Any, practices: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.practice.choices = [SelectChoice("", "Every practice")] + [
            SelectChoice(str(practice_id), name) for practice_id, name in practices]

    def chosen(self) -> FindFilter:
        """The filters chosen (an unknown value is the default, as for a link kept after the choices changed)."""
        states = {choice.value for choice in self.state.choices}  # type: ignore[union-attr]
        practices = {choice.value for choice in self.practice.choices}  # type: ignore[union-attr]
        state = self.state.data if self.state.data in states else StateFilter.TO_FIND.value
        practice = self.practice.data if self.practice.data in practices and self.practice.data else None
        level = self.min_level.data if (self.min_level.data or "") in {"1", "2", "3", "4"} else None
        return FindFilter(state=state, gp_practice_id=int(practice) if practice else None,
                          min_level=int(level) if level else None)

    def arguments(self) -> dict[str, str]:
        """The filters as address arguments (for the pages' links), the defaults left out."""
        chosen = self.chosen()
        return {key: value for key, value in (
            ("state", chosen.state if chosen.state != StateFilter.TO_FIND.value else ""),
            ("practice", str(chosen.gp_practice_id or "")), ("min_level", str(chosen.min_level or ""))) if value}


class ChooseForm(FlaskForm):
    """The worklist's checkboxes go to the invitations page in this form (its CSRF token only)."""
