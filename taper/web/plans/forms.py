from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import request
from wtforms import BooleanField, FieldList, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from taper.domain.engine import MAX_INTERVAL_DAYS, MAX_REDUCTION_PCT, MIN_INTERVAL_DAYS, MIN_REDUCTION_PCT
from taper.services.plans import Decision, PlanSettings
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm

_ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"]
_ORDER_ENTRY = re.compile(r"order-\d+")


class PlanForm(OnceForm):
    start_on = DatePartsField("Start date")
    reduction_pct = StringField("Reduce by (%)", default="10", validators=[InputRequired("Enter the percentage"),
                                                                          Length(max=6)])
    interval_days = IntegerField("Every (days)", default=14,
                                 validators=[InputRequired("Enter how many days between reductions"),
                                             NumberRange(MIN_INTERVAL_DAYS, MAX_INTERVAL_DAYS,
                                                         f"Choose from {MIN_INTERVAL_DAYS} to "
                                                         f"{MAX_INTERVAL_DAYS} days")])
    basis = RadioField("Percentage of", default="starting", choices=[
        SelectChoice("starting", "the starting dose (the same amount each time)"),
        SelectChoice("current", "the current dose (smaller steps as the dose falls)"),
        SelectChoice("phased", "the starting dose, then the current dose from 30% (CDC pattern)")])
    target = RadioField("Target", default="stop", choices=[
        SelectChoice("stop", "Stop opioids"), SelectChoice("maintenance", "A maintenance dose")])
    maintenance_ome = StringField("Maintenance dose (mg OME a day)", validators=[Length(max=8)])
    order = FieldList(SelectField("Medicine"), min_entries=0, max_entries=8)
    order_reason = TextAreaField("Why this order", validators=[Length(max=500)])
    instalment_days = RadioField("Instalments from the pharmacy", default="14", choices=[
        SelectChoice("7", "Every 7 days"), SelectChoice("14", "Every 14 days"), SelectChoice("28", "Every 28 days")])
    switch_from = RadioField("Same-drug switch", default="", choices=[SelectChoice("", "No switch")],
                             description="Where a medicine cannot come down gently, switch it to the same drug in "
                                         "smaller steps first: step 1 is the switch")
    switch_brand = SelectField("Brand to switch to", default="", choices=[SelectChoice("", "No brand (generic)")],
                               validators=[Optional()],
                               description="Modified-release opioids and patches are prescribed by brand")
    review_every_days = RadioField("Reviews", default="14", choices=[
        SelectChoice("7", "Every week"), SelectChoice("14", "Every 2 weeks")],
        description="Reviews are booked a few days after a step change, in your first free session slot")

    def validate_reduction_pct(self, field: StringField) -> None:
        try:
            value = Decimal(field.data.strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():  # ("NaN" and "Infinity" read as decimals, but are not numbers)
            raise ValidationError("Enter the percentage as a number, like 10")
        if not MIN_REDUCTION_PCT <= value <= MAX_REDUCTION_PCT:
            raise ValidationError(f"Choose from {MIN_REDUCTION_PCT} to {MAX_REDUCTION_PCT}%")

    def validate_maintenance_ome(self, field: StringField) -> None:
        if self.target.data != "maintenance":
            return
        try:
            value = Decimal((field.data or "").strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValidationError("Enter the maintenance dose in mg OME a day, like 40")
        if value <= 0:
            raise ValidationError("A maintenance dose must be more than 0 mg a day")

    def set_order_choices(self, products: list[str], labels: dict[str, str]) -> None:
        """One "reduce nth" choice per medicine of the regimen, first to last, in the regimen's order at first."""
        while len(self.order) < len(products):
            self.order.append_entry(products[len(self.order)])
        for position, entry in enumerate(self.order):
            entry.label.text = f"{_ORDINALS[position]} to reduce"
            entry.choices = [SelectChoice(key, labels[key]) for key in products]

    def set_switch_choices(self, offered: dict[str, str], brands: list[str]) -> None:
        """The switches this regimen allows, besides no switch (the field is left out when there are none), and
        the brands of the products they switch to."""
        self.switch_from.choices = [SelectChoice("", "No switch"),
                                    *(SelectChoice(key, label) for key, label in offered.items())]
        self.switch_brand.choices = [SelectChoice("", "No brand (generic)"),
                                     *(SelectChoice(name, name) for name in brands)]

    def validate_order(self, field: FieldList) -> None:
        # WTForms keeps the first max_entries and drops the rest without a word: refuse instead (issue 15).
        submitted = {key for key in request.form if _ORDER_ENTRY.fullmatch(key)}
        if len(submitted) > (field.max_entries or 0):
            raise ValidationError(f"Choose an order for at most {field.max_entries} medicines: this form had "
                                  f"{len(submitted)}, so nothing was saved")
        chosen = [entry.data for entry in field]
        if len(chosen) != len(set(chosen)):
            raise ValidationError("Choose each medicine once in the order")

    def settings(self, products: list[str], *, max_start_days_ago: int) -> PlanSettings:
        order = tuple(entry.data for entry in self.order) if self.order.entries else ()
        return PlanSettings(
            start_on=self.start_on.data, reduction_pct=Decimal(self.reduction_pct.data.strip()),
            interval_days=self.interval_days.data, basis=self.basis.data,
            target_ome_mg_per_day=Decimal(self.maintenance_ome.data.strip())
            if self.target.data == "maintenance" else Decimal(0),
            order=order, order_reason=self.order_reason.data or "", instalment_days=int(self.instalment_days.data),
            review_every_days=int(self.review_every_days.data), max_start_days_ago=max_start_days_ago,
            switch_from=self.switch_from.data or "", switch_brand=self.switch_brand.data or "")


class DraftForm(PlanForm):
    """The builder opened on a draft, carrying the plan's version it was opened at (optimistic locking)."""

    version = IntegerField(validators=[InputRequired()])

    def fill(self, settings: PlanSettings, products: list[str]) -> None:
        """Show the settings that made the draft's current version (on first opening, not on a post)."""
        self.start_on.process(None, settings.start_on)
        self.reduction_pct.data = f"{settings.reduction_pct.normalize():f}"
        self.interval_days.data = settings.interval_days
        self.basis.data = settings.basis
        self.target.data = "maintenance" if settings.target_ome_mg_per_day else "stop"
        self.maintenance_ome.data = f"{settings.target_ome_mg_per_day.normalize():f}" \
            if settings.target_ome_mg_per_day else ""
        if sorted(settings.order) == sorted(products):  # the order chosen, if the regimen still has these medicines
            for entry, key in zip(self.order, settings.order, strict=True):
                entry.data = key
        self.order_reason.data = settings.order_reason
        self.instalment_days.data = str(settings.instalment_days)
        self.review_every_days.data = str(settings.review_every_days)
        self.switch_from.data = settings.switch_from
        self.switch_brand.data = settings.switch_brand


class DeleteDraftForm(OnceForm):
    version = IntegerField(validators=[InputRequired()])


class DecisionForm(OnceForm):
    what_matters = TextAreaField("What matters to the patient", validators=[InputRequired("Record what matters"),
                                                                            Length(max=2000)])
    goals = TextAreaField("Their goals", validators=[InputRequired("Record the patient's goals"), Length(max=2000)])
    agreed_pace = StringField("The pace they agreed", validators=[InputRequired("Record the pace agreed"),
                                                                  Length(max=200)])
    pain_relief = TextAreaField(
        "What they can take for pain instead, as the opioid comes down (optional)", validators=[Length(max=1000)],
        description="In the patient's words, for their plan: for example \"Paracetamol 1 g up to four times a day, "
                    "a warm bath, your TENS machine\". Left empty, their plan tells them to ask you.")
    prescriber = RadioField("Who prescribes", choices=[
        SelectChoice("pharmacist", "The pharmacist (independent prescriber)"), SelectChoice("gp", "The GP")],
                            validators=[InputRequired("Choose who prescribes")])
    consent_share_with_gp = BooleanField("The patient agrees to share the plan with their GP")
    consent_share_with_pharmacy = BooleanField("The patient agrees to share the plan with their pharmacy")
    agreed_on = DatePartsField("Date agreed")

    def decision(self) -> Decision:
        return Decision(what_matters=self.what_matters.data, goals=self.goals.data,
                        agreed_pace=self.agreed_pace.data, prescriber=self.prescriber.data,
                        pain_relief=self.pain_relief.data or "",
                        consent_share_with_gp=self.consent_share_with_gp.data,
                        consent_share_with_pharmacy=self.consent_share_with_pharmacy.data,
                        agreed_on=self.agreed_on.data)


class StatusForm(OnceForm):
    to = RadioField("Change", choices=[SelectChoice("active", "Start or resume"), SelectChoice("paused", "Pause"),
                                       SelectChoice("completed", "Complete"), SelectChoice("stopped", "Stop")],
                    validators=[InputRequired("Choose a change")])
    reason = TextAreaField("Reason (needed to complete or stop)", validators=[Length(max=2000)])
    version = IntegerField(validators=[InputRequired()])
