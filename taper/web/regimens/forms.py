"""The regimen form: a few medicine lines (more on request, no JavaScript needed), each taken regularly at
up to four times of day, as needed, or as patches; turned into the regimen's JSON shape for the domain.

A line's doses are typed in mg (micrograms an hour for patches) or, as prescribers write them, as a number of
tablets, capsules, patches or mL of one strength; the mg worked out (exactly) is shown back by each dose. Doses
typed in mg that look like counts of tablets get one "did you mean" message and are not used until the
pharmacist chooses (taper.domain.regimen_units)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request
from wtforms import BooleanField, Field, FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from taper import clock
from taper.domain.formulary import Product, UnknownBrand, UnknownProduct, load_formulary
from taper.domain.makeable import plain
from taper.domain.pasted_record import MAX_PASTED_CHARACTERS
from taper.domain.regimen_units import (
    DidYouMean,
    EnteredIn,
    StrengthError,
    UnitEntryError,
    amount_from_units,
    amount_unit,
    did_you_mean,
    parse_count,
    single_strength,
    unit_noun,
)
from taper.services.regimens import RegimenEntry
from taper.web.fields import DatePartsField
from taper.web.once import OnceForm

DOSE_SLOTS = (1, 2, 3, 4)
DEFAULT_TIMES = {1: "08:00", 2: "12:00", 3: "18:00", 4: "22:00"}
MAX_LINES = 8
_LINE_PRODUCT = re.compile(r"lines-(\d+)-product")
_PATCH_SEPARATORS = re.compile(r"\s*(?:\+|,|and)\s*")


def _product_choices() -> list[SelectChoice]:
    return [SelectChoice("", "Choose a medicine")] + [
        SelectChoice(product.key, f"{product.label()} ({_strengths(product)})") for product in load_formulary()]


def _brand_choices() -> list[SelectChoice]:
    """Every brand in the formulary, named with its medicine ("MST Continus (morphine modified-release tablet)");
    the domain refuses a brand of another medicine than the line's, naming the right ones."""
    return [SelectChoice("", "No brand (generic)")] + [
        SelectChoice(brand.name, f"{brand.name} ({product.label(in_sentence=True)})")
        for product in load_formulary() for brand in product.brands]


def _strengths(product: Product) -> str:
    if product.is_liquid:
        return f"{plain(product.concentration_mg_per_ml or Decimal(0))} mg/mL"
    unit = "micrograms/hour" if product.is_patch else "mg"
    return ", ".join(plain(strength) for strength in product.strengths) + f" {unit}"


class LineForm(Form):
    product = SelectField("Medicine", choices=_product_choices(), validators=[Optional()])
    brand = SelectField("Brand", choices=_brand_choices(), validators=[Optional()],
                        description="Modified-release opioids and patches are prescribed by brand: choose the one "
                                    "the patient takes, and the plan uses that brand's strengths")
    taken = RadioField("How it is taken", default="regular", choices=[
        SelectChoice("regular", "Regular doses at set times"),
        SelectChoice("prn", "When needed (PRN)"),
        SelectChoice("patch", "Patches")])
    entered_in = RadioField("Doses entered in", default=EnteredIn.AMOUNT.value, choices=[
        SelectChoice(EnteredIn.AMOUNT.value, "mg (micrograms/hour for patches)"),
        SelectChoice(EnteredIn.UNITS.value, "Number of tablets, capsules, patches or mL")])
    strength = StringField("Strength of each tablet, capsule or patch", validators=[Length(max=12)],
                           description="Only for doses entered as a number of tablets, capsules or patches of a "
                                       "medicine with more than one strength, in mg (micrograms/hour for patches)")
    time_1 = StringField("Time", default=DEFAULT_TIMES[1], validators=[Length(max=5)])
    dose_1 = StringField("Dose", validators=[Length(max=12)])
    time_2 = StringField("Time", default=DEFAULT_TIMES[2], validators=[Length(max=5)])
    dose_2 = StringField("Dose", validators=[Length(max=12)])
    time_3 = StringField("Time", default=DEFAULT_TIMES[3], validators=[Length(max=5)])
    dose_3 = StringField("Dose", validators=[Length(max=12)])
    time_4 = StringField("Time", default=DEFAULT_TIMES[4], validators=[Length(max=5)])
    dose_4 = StringField("Dose", validators=[Length(max=12)])
    prn_dose = StringField("Dose each time", validators=[Length(max=12)])
    prn_usual = StringField("Usual doses a day", validators=[Length(max=3)])
    prn_max = StringField("Maximum doses a day", validators=[Length(max=3)])
    patches = StringField("Patches worn together", validators=[Length(max=60)],
                          description="In micrograms/hour, for example 25 + 12 for one 25 and one 12 "
                                      "microgram/hour patch; or the number of patches of the strength above")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.worked: dict[str, str] = {}  # dose field name -> "2 tablets = 60 mg", shown back by the field
        self.suggestion: DidYouMean | None = None

    def product_as_prescribed(self) -> Product | None:
        """The line's product with the strengths of its brand (None if either is not in the formulary)."""
        try:
            return load_formulary().as_prescribed(self.product.data, self.brand.data or None) \
                if self.product.data else None
        except (UnknownProduct, UnknownBrand):
            return None

    def in_units(self) -> bool:
        return self.entered_in.data == EnteredIn.UNITS.value

    def name_units(self) -> None:
        """Say which units the line's doses are in, by the product chosen ("Number of tablets")."""
        product = self.product_as_prescribed()
        if product is not None:
            self.entered_in.choices = [SelectChoice(EnteredIn.AMOUNT.value, amount_unit(product)),
                                       SelectChoice(EnteredIn.UNITS.value, f"Number of {unit_noun(product)}"
                                                    if not product.is_liquid else "mL")]

    def suggestion_action(self) -> str:
        """The words of the button that takes up the "did you mean" reading: "Enter these doses in tablets"."""
        product = self.product_as_prescribed()
        return f"Enter these doses in {unit_noun(product) if product is not None else 'units'}"

    def use_suggestion(self) -> None:
        """The pharmacist chose the "did you mean" reading: the same numbers, now counts of units."""
        self.entered_in.data = EnteredIn.UNITS.value
        product = self.product_as_prescribed()
        if product is not None and not self.strength.data and single_strength(product) is None:
            self.strength.errors = [f"Choose the strength of each {unit_noun(product, 1)}"]


class RegimenForm(OnceForm):
    lines = FieldList(FormField(LineForm), min_entries=2, max_entries=MAX_LINES)
    benzodiazepine = BooleanField("Co-prescribed benzodiazepine")
    gabapentinoid = BooleanField("Co-prescribed gabapentinoid (pregabalin or gabapentin)")
    recorded_on = DatePartsField("Date recorded")
    notes = TextAreaField("Notes", validators=[Length(max=2000)])
    pasted = TextAreaField("Paste from the record", validators=[Length(max=MAX_PASTED_CHARACTERS)],
                           description="Copy the medication list from the GP record: one medicine a line, the drug "
                                       "and its dosage separated by a tab (as a copied table has), or \" - \", or "
                                       "written straight after the drug's form (\"tablets\", \"capsules\", "
                                       "\"patches\", \"oral solution\" ...)")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.recorded_on.process(None, clock.today())
        self.paths: dict[str, Field] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own checks, and a form with more medicines than it has lines refused as a whole:
        the lines past MAX_LINES would otherwise be dropped without a word (issue 15)."""
        valid = super().validate(extra_validators)
        submitted = {int(match.group(1)) for key, value in request.form.items(multi=True)
                     if value.strip() and (match := _LINE_PRODUCT.fullmatch(key))}
        if len(submitted) > MAX_LINES:
            self.form_errors.append(f"Record at most {MAX_LINES} medicines in one regimen: this form had "
                                    f"{len(submitted)}, so nothing was saved")
            return False
        return valid

    def entry(self) -> RegimenEntry:
        """The regimen in its JSON shape, remembering which form field each JSON path came from, so the
        domain's messages can be shown by the right field."""
        lines: list[dict[str, Any]] = []
        self.paths = {}
        for line_form in (entry.form for entry in self.lines):
            if not line_form.product.data:
                continue
            path = f"regimen[{len(lines)}]"
            self.paths[path] = line_form.product
            lines.append(self._line(line_form, path))
        if not lines:
            self.paths["regimen"] = self.lines.entries[0].form.product
        return RegimenEntry(lines=lines, benzodiazepine=self.benzodiazepine.data,
                            gabapentinoid=self.gabapentinoid.data, recorded_on=self.recorded_on.data,
                            notes=self.notes.data or "")

    def has_field_errors(self) -> bool:
        """True if building the entry found problems of its own (a patch strength not in the formulary, a count of
        tablets that cannot be used, doses in mg that look like counts of tablets)."""
        return any(field.errors for entry in self.lines
                   for field in (entry.form.patches, entry.form.strength, entry.form.prn_dose,
                                 *(getattr(entry.form, f"dose_{slot}") for slot in DOSE_SLOTS)))

    def name_units(self) -> None:
        for entry in self.lines:
            entry.form.name_units()

    def fill(self, lines: list[dict[str, Any]], *, benzodiazepine: bool | None = None,
             gabapentinoid: bool | None = None, confirm_usual: bool = True) -> list[str]:
        """Put regimen lines (their JSON shape) in the form's medicine lines, replacing those there, with doses
        in mg (micrograms/hour for patches). With `confirm_usual`, a when-needed line's usual doses a day is left
        empty, with the record's maximum shown by it, for the pharmacist to ask the patient (a record never says
        usual use). Returns the lines that do not fit the form, each with the reason."""
        left_out: list[str] = []
        while len(self.lines):
            self.lines.pop_entry()
        for line in lines:
            if len(self.lines) >= MAX_LINES:
                left_out.append(f"{line['product']}: the form holds at most {MAX_LINES} medicines; enter it by hand")
                continue
            data, problem = _line_data(line, confirm_usual=confirm_usual)
            if problem:
                left_out.append(problem)
                continue
            entry = self.lines.append_entry(data)
            if "prn" in line and confirm_usual:
                entry.form.worked[entry.form.prn_usual.name] = (
                    f"The record allows up to {line['prn']['max_per_day']} a day: ask the patient how many they "
                    "usually take")
        while len(self.lines) < self.lines.min_entries:
            self.lines.append_entry()
        if benzodiazepine is not None:
            self.benzodiazepine.data = benzodiazepine
        if gabapentinoid is not None:
            self.gabapentinoid.data = gabapentinoid
        return left_out

    def use_suggestion(self, index: int) -> None:
        """Take up the "did you mean" reading of line `index` (counted from 0), as the pharmacist chose."""
        if 0 <= index < len(self.lines):
            self.lines.entries[index].form.use_suggestion()

    def field_for(self, path: str) -> Field | None:
        """The form field a domain error path points at (the closest one known)."""
        while path:
            if path in self.paths:
                return self.paths[path]
            path = path.rpartition(".")[0] if "." in path else ""
        return None

    def _line(self, line: LineForm, path: str) -> dict[str, Any]:
        product = line.product.data
        self.paths[f"{path}.brand"] = line.brand
        return {"product": product} | ({"brand": line.brand.data} if line.brand.data else {}) | self._doses(line, path)

    def _doses(self, line: LineForm, path: str) -> dict[str, Any]:
        product = line.product.data
        if line.taken.data == "patch":
            self.paths[f"{path}.patch_mcg_per_hour"] = line.patches
            if line.in_units():
                return {"patch_mcg_per_hour": _amount(line, line.patches)}
            return {"patch_mcg_per_hour": self._patch_total(line, product)}
        if line.taken.data == "prn":
            self.paths[f"{path}.prn"] = line.prn_dose
            self.paths[f"{path}.prn.dose_mg"] = line.prn_dose
            self.paths[f"{path}.prn.usual_per_day"] = line.prn_usual
            self.paths[f"{path}.prn.max_per_day"] = line.prn_max
            _check_amounts(line, [line.prn_dose])
            return {"prn": {"dose_mg": _amount(line, line.prn_dose), "usual_per_day": _whole(_text(line.prn_usual)),
                            "max_per_day": _whole(_text(line.prn_max))}}
        doses: list[dict[str, Any]] = []
        self.paths[f"{path}.doses"] = line.dose_1
        typed = [getattr(line, f"dose_{slot}") for slot in DOSE_SLOTS if _text(getattr(line, f"dose_{slot}"))]
        _check_amounts(line, typed)
        for slot in DOSE_SLOTS:
            dose = getattr(line, f"dose_{slot}")
            if _text(dose):
                self.paths[f"{path}.doses[{len(doses)}].dose_mg"] = dose
                self.paths[f"{path}.doses[{len(doses)}].time"] = getattr(line, f"time_{slot}")
                doses.append({"time": _text(getattr(line, f"time_{slot}")), "dose_mg": _amount(line, dose)})
        return {"doses": doses}

    def _patch_total(self, line: LineForm, product_key: str) -> str:
        """The patches typed ("25 + 12"), each checked against the product's strengths, added up."""
        typed = [part for part in _PATCH_SEPARATORS.split(_text(line.patches)) if part]
        strengths = load_formulary().get(product_key).strengths if product_key in load_formulary() else ()
        total = Decimal(0)
        for part in typed:
            try:
                strength = Decimal(part)
            except InvalidOperation:
                return part  # not a number: the domain says so, by this field
            if strengths and strength not in strengths:
                line.patches.errors = [*line.patches.errors,
                                       f"{part} micrograms/hour is not a strength of this patch: choose from "
                                       + ", ".join(plain(value) for value in strengths)]
            total += strength
        return plain(total) if typed else ""


def _line_data(line: dict[str, Any], *, confirm_usual: bool) -> tuple[dict[str, Any], str]:
    """A regimen line (JSON shape) as the values of a LineForm, or a reason it does not fit the form."""
    product = load_formulary().get(line["product"]) if line.get("product") in load_formulary() else None
    name = product.label() if product is not None else str(line.get("product"))
    data: dict[str, Any] = {"product": line.get("product", ""), "brand": line.get("brand", ""),
                            "entered_in": EnteredIn.AMOUNT.value}
    if "patch_mcg_per_hour" in line:
        strengths = sorted(product.strengths, reverse=True) if product is not None else []
        return data | {"taken": "patch", "patches": _patches_worn(Decimal(str(line["patch_mcg_per_hour"])),
                                                                   strengths)}, ""
    if "prn" in line:
        prn = line["prn"]
        return data | {"taken": "prn", "prn_dose": plain(Decimal(str(prn["dose_mg"]))),
                       "prn_usual": "" if confirm_usual else str(prn["usual_per_day"]),
                       "prn_max": str(prn["max_per_day"])}, ""
    doses = line.get("doses", [])
    if len(doses) > len(DOSE_SLOTS):
        return data, (f"{name}: {len(doses)} doses a day, more than the form's {len(DOSE_SLOTS)} times; "
                      "enter it by hand")
    data["taken"] = "regular"
    for slot in DOSE_SLOTS:
        dose = doses[slot - 1] if slot <= len(doses) else None
        data[f"time_{slot}"] = dose["time"] if dose else DEFAULT_TIMES[slot]
        data[f"dose_{slot}"] = plain(Decimal(str(dose["dose_mg"]))) if dose else ""
    return data, ""


def _patches_worn(total: Decimal, strengths: list[Decimal]) -> str:
    """Patches worn together making up `total` micrograms/hour, largest strength first ("25 + 12" for 37), as the
    form's patches field takes them; the total as it stands when the strengths do not make it up exactly."""
    parts: list[Decimal] = []
    left = total
    for strength in strengths:
        while strength > 0 and left >= strength:
            parts.append(strength)
            left -= strength
    return " + ".join(plain(part) for part in parts) if parts and left == 0 else plain(total)


def _text(field: Field) -> str:
    return str(field.data or "").strip()


def _amount(line: LineForm, dose: Field) -> str:
    """The dose in mg (micrograms an hour for patches) as the domain reads it: as typed, or worked out exactly
    from a count of units (then shown back by the field: "2 tablets = 60 mg")."""
    typed = _text(dose)
    product = line.product_as_prescribed()
    if not line.in_units() or not typed or product is None:
        return typed
    count = parse_count(typed)
    strength = parse_count(_text(line.strength)) if _text(line.strength) else None
    if count is None:
        _refuse(dose, f"Enter the number of {unit_noun(product)} as a number, like 2")
        return typed
    if strength is None and _text(line.strength):
        _refuse(line.strength, "Enter the strength as a number, like 30")
        return typed
    try:
        amount = amount_from_units(product, count, strength)
    except StrengthError as refusal:
        _refuse(line.strength, str(refusal))
        return typed
    except UnitEntryError as refusal:
        _refuse(dose, str(refusal))
        return typed
    line.worked[dose.name] = f"{plain(count)} {unit_noun(product, count)} = {plain(amount)} {amount_unit(product)}"
    return plain(amount)


def _refuse(field: Field, message: str) -> None:
    """Put a message by a field, once however many doses of the line find it."""
    if message not in field.errors:
        field.errors = [*field.errors, message]


def _check_amounts(line: LineForm, doses: list[Field]) -> None:
    """Doses typed in mg below the smallest that can be given: one "did you mean" message, by the first dose."""
    product = line.product_as_prescribed()
    if line.in_units() or product is None or not doses:
        return
    amounts = [parse_count(_text(dose)) for dose in doses]
    if any(amount is None or amount <= 0 for amount in amounts):
        return  # not numbers: the domain names each one
    line.suggestion = did_you_mean(product, [amount for amount in amounts if amount is not None])
    if line.suggestion is not None:
        doses[0].errors = [*doses[0].errors, line.suggestion.message]


def _whole(text: str) -> int | str | None:
    """A count as typed: a whole number if it is one, otherwise the text, for the domain to refuse by name."""
    if not text:
        return None
    return int(text) if text.isdecimal() else text  # isdecimal: what int() reads ("²" is a digit, not a number)
