"""Reading a prescription as a GP clinical system writes it: a dm+d drug name and a dosage instruction.

`read_medication("Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY", formulary)` gives the
product key and a regimen line of the schedule contract (docs/schedule-api.md), or no line and the problems a
pharmacist must resolve by hand. The conventions are issue 18's (docs/read-medication.md):

- a when-needed line's `dose_mg` is the largest single administration and `max_per_day` the most administrations
  in 24 hours at that dose, so that `dose_mg x max_per_day` is the stated daily maximum; with no stated maximum it
  comes from the number of times ("qds": 4), else 24 hours over the shortest interval ("every 4-6 hours": 6);
  its `usual_per_day` is not stated in a record, so it is the maximum (the cautious figure) until a pharmacist
  confirms it, and a note says so;
- a line is when-needed only when its words say so; a variable dose without them, "as directed", a liquid with a
  count but no volume, a patch interval that contradicts the product, or no frequency gives no line;
- durations ("7/7", "1/52", "for 5 days") change nothing; opioids the formulary lacks give no product.

It never guesses: whatever it cannot read exactly becomes a problem. Pure: the formulary is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from taper.domain.drug_names import Drug, Unreadable, drug_named, non_opioid, normal
from taper.domain.formulary import Formulary
from taper.domain.medication_vocabulary import (
    NUMBER_WORDS,
    REGULAR_EVERY_HOURS,
    TIMES_OF_DAY,
    TIMES_PER_DAY,
    UNREADABLE_PHRASES,
    WHEN_NEEDED_WORDS,
)
from taper.domain.regimen import RegimenError, json_number, parse_regimen

HOURS_IN_A_DAY = 24


@dataclass(frozen=True)
class Reading:
    """What one drug-and-dosage pair says: the product key (None if not an opioid of the formulary), the regimen
    line (None when it cannot be read exactly), the problems to resolve by hand, notes about a line that was
    read, and for a non-opioid its kind ("benzodiazepine", "gabapentinoid" or "other": risk factors are the first
    two)."""

    product: str | None
    line: dict[str, Any] | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    non_opioid: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product, "line": self.line, "problems": list(self.problems),
                "notes": list(self.notes), "non_opioid": self.non_opioid}


@dataclass(frozen=True)
class Amount:
    """One administration as written: `low`..`high` of `unit` ("tablet" for any counted unit, "mg" or "ml")."""

    low: Decimal
    high: Decimal
    unit: str


def read_medication(drug: str, dosage: str, formulary: Formulary) -> Reading:
    """Read one drug name and dosage instruction (any case and spacing) into a regimen line, or say why not."""
    name = normal(drug)
    kind = non_opioid(name)
    if kind is not None:
        return Reading(product=None, line=None, non_opioid=kind)
    try:
        found = drug_named(name, formulary)
    except Unreadable as problem:
        return Reading(product=None, line=None, problems=(str(problem),))
    try:
        line, notes = _line(found, _dosage_text(dosage))
        parse_regimen([line], formulary)
    except Unreadable as problem:
        return Reading(product=found.product.key, line=None, problems=(str(problem),))
    except RegimenError as refusal:  # read, but not a regimen line the schedule contract accepts
        return Reading(product=found.product.key, line=None,
                       problems=tuple(f"not a regimen Taper accepts: {error.message}" for error in refusal.errors))
    return Reading(product=found.product.key, line=line, notes=notes)


def add_patches(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Patch lines of one product (and brand) worn together, as one line adding up their labelled strengths (a 25
    and a 12 fentanyl patch: 37, as the schedule contract records patches); other lines unchanged, in order."""
    merged: list[dict[str, Any]] = []
    for line in lines:
        same = next((kept for kept in merged if "patch_mcg_per_hour" in kept and "patch_mcg_per_hour" in line
                     and kept["product"] == line["product"] and kept.get("brand") == line.get("brand")), None)
        if same is None:
            merged.append(dict(line))
        else:
            total = Decimal(str(same["patch_mcg_per_hour"])) + Decimal(str(line["patch_mcg_per_hour"]))
            same["patch_mcg_per_hour"] = json_number(total)
    return merged


# --- the dosage ----------------------------------------------------------------------------------------------

def _dosage_text(dosage: str) -> str:
    """The dosage in one spelling: lower case, single spaces, numbers in figures, ranges as "1-2", durations
    ("7/7", "1/52", "for 5 days") left out (issue 18: they do not change a regimen)."""
    text = normal(dosage).replace("p.r.n", "prn")
    for phrase in UNREADABLE_PHRASES:
        if phrase in text:
            raise Unreadable(f'the dosage says "{phrase}": the dose must be read from the record by hand')
    _refuse_ambiguous_numbers(text)
    text = re.sub(r"\b\d+\s*/\s*(7|52|12)\b", " ", text)
    text = re.sub(r"\b(for|x)\s*\d+\s*(days?|weeks?|months?|wks?)\b", " ", text)
    text = re.sub(r"\b(for|x)\s*(one|two|three|four|a)\s*(days?|weeks?|months?)\b", " ", text)
    for word, figure in NUMBER_WORDS.items():
        text = re.sub(rf"\b{word}\b", figure, text)
    text = re.sub(r"(\d)\s*(ml|mg|tablets?|tabs?|capsules?|caps?)?\s*(?:-|to|or)\s*(\d)", r"\1-\3", text)
    text = re.sub(r"(\d)(od|bd|tds|qds|mane|nocte|om|on|prn)\b", r"\1 \2", text)
    _refuse_ambiguous_numbers(text)  # again: "one.5ml" and ".two ml" are only numbers now
    text = re.sub(r"(?<!\d)\.|\.(?!\d)|[,;()]", " ", text)
    return " ".join(text.split())


_NUMBER = rf"(?:\d|\b(?:{'|'.join(NUMBER_WORDS)}))"
_LEADING_POINT = re.compile(r"(?<!\d)\.\d+(?:\s*(?:ml|mg|tablets?|tabs?|capsules?|caps?)\b)?")
_TIMES_OR_COUNT = re.compile(
    rf"{_NUMBER}\s*x\s*(?:daily|day|a day|per day|each day|every day|/\s*day|a week|per week|each week|every week|"
    r"weekly|(?:in|a|per|each|every|/)?\s*24\s*(?:hours?|hrs?|h))\b")


def _refuse_ambiguous_numbers(text: str) -> None:
    """Numbers the reader would otherwise read one way when a pharmacist could read them another (issue 18 review):
    ".5ml" (the point is easily missed: 0.5 mL or 5 mL?) and "2x daily" (two at a time once a day, or twice a
    day?)."""
    point = _LEADING_POINT.search(text)
    if point:
        raise Unreadable(f'a dose written without a leading 0 ("{point[0].strip()}"): check it by hand')
    times = _TIMES_OR_COUNT.search(text)
    if times:
        raise Unreadable(f'"{times[0].strip()}" may be a number taken at a time or a number of times: check it by '
                         "hand")


def _line(drug: Drug, text: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    if drug.product.is_patch:
        return _patch_line(drug, text), ()
    when_needed = any(re.search(rf"\b{word}\b", text) for word in WHEN_NEEDED_WORDS)
    timed = [] if when_needed else _timed_doses(text)
    if timed:
        return _named(drug, {"doses": [{"time": at, "dose_mg": json_number(_dose_mg(drug, amount))}
                                       for at, amount in timed]}), ()
    amount = _amount(text)
    if amount is None:
        raise Unreadable("the dosage gives no dose")
    if not when_needed:
        times = _times_per_day(text)
        if amount.low != amount.high:
            raise Unreadable("a variable dose on a regular line (no 'when required' or maximum): ask which dose "
                             "is taken")
        if times is None:
            raise Unreadable("the dosage gives no frequency a day")
        dose = _dose_mg(drug, amount)
        return _named(drug, {"doses": [{"time": at, "dose_mg": json_number(dose)} for at in times]}), ()
    dose = _dose_mg(drug, amount)
    maximum = _max_per_day(text, amount, dose)
    return _named(drug, {"prn": {"dose_mg": json_number(dose), "usual_per_day": maximum, "max_per_day": maximum}}), (
        "usual use is not stated in the record: usual_per_day is the maximum (OME counts the maximum, the cautious "
        "figure) until a pharmacist confirms it",)


def _named(drug: Drug, body: dict[str, Any]) -> dict[str, Any]:
    return {"product": drug.product.key} | ({"brand": drug.brand} if drug.brand else {}) | body


_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?\s*(ml|mg|tablets?|tabs?|capsules?|caps?|x\b)?")


def _amount(text: str) -> Amount | None:
    """The first amount in the text that is not a frequency, an interval or a maximum."""
    body = re.split(r"\b(max|maximum|up to|not more than|no more than)\b", text)[0]
    body = re.sub(r"\bevery\s+\d+(?:-\d+)?\s*(hours?|hrs?|days?)\b|\b\d+(?:-\d+)?\s*hourly\b|"
                  r"\b\d+\s*times\b|\bin 24 hours\b", " ", body)
    match = _AMOUNT.search(body)
    if match is None:
        return None
    if re.search(r"\d", body[match.end():]):
        raise Unreadable("more than one dose in the dosage: check by hand")
    unit = match[3] or "tablet"
    unit = unit if unit in ("ml", "mg") else "tablet"
    return Amount(Decimal(match[1]), Decimal(match[2] or match[1]), unit)


def _dose_mg(drug: Drug, amount: Amount) -> Decimal:
    """The largest administration in mg of the opioid (a liquid's mL at its concentration; co-codamol's codeine)."""
    product = drug.product
    if amount.unit == "mg":
        if product.paracetamol_mg_per_unit is not None:
            raise Unreadable("a dose in mg of co-codamol does not say whether it is codeine or the tablet: "
                             "give the number of tablets")
        return amount.high
    if product.is_liquid:
        if amount.unit != "ml":
            raise Unreadable("a liquid with a count but no volume: give the dose in mL or mg")
        assert product.concentration_mg_per_ml is not None
        return amount.high * product.concentration_mg_per_ml
    if amount.unit == "ml":
        raise Unreadable(f"a volume in mL for {product.label(in_sentence=True)}, which is not a liquid")
    if amount.high != amount.high.to_integral_value():
        raise Unreadable("part of a tablet or capsule: the formulary does not split this product; check by hand")
    if drug.strength == 0:
        raise Unreadable("the drug name gives no strength: give it, or the dose in mg")
    return amount.high * drug.strength


def _times_per_day(text: str) -> tuple[str, ...] | None:
    """The clinic's usual times for a regular frequency (docs/read-medication.md, Times of day)."""
    for pattern, times in TIMES_PER_DAY:
        if re.search(pattern, text):
            return times
    interval = re.search(r"\bevery\s+(\d+)\s*(?:hours?|hrs?)\b|\b(\d+)\s*hourly\b", text)
    if interval:
        hours = int(interval[1] or interval[2])
        if hours in REGULAR_EVERY_HOURS:
            return REGULAR_EVERY_HOURS[hours]
        raise Unreadable(f"a regular dose every {hours} hours: give the times it is taken")
    return None


def _timed_doses(text: str) -> list[tuple[str, Amount]]:
    """Doses at named times of day ("1 mane 2 nocte", "2 in the morning and 1 at night"), at the clinic's usual
    times; empty if the text names none, and unreadable if it names them unevenly."""
    found: dict[str, Amount] = {}
    rest = text
    for words, at in TIMES_OF_DAY:
        for match in re.finditer(rf"(\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?)\s*(ml|mg|tablets?|tabs?|capsules?|caps?)?"
                                 rf"\s*(?:to be taken\s*)?(?:{words})\b", text):
            amount = _amount(match[0])
            if amount is None or amount.low != amount.high:
                raise Unreadable("a variable dose at a time of day: ask which dose is taken")
            if at in found:
                raise Unreadable("two doses at the same time of day: check by hand")
            found[at] = amount
            rest = rest.replace(match[0], " ", 1)
    if found and re.search(r"\d", rest):
        raise Unreadable("more than one dose in the dosage: check by hand")
    several_a_day = (r"\b(bd|bid|tds|tid|qds|qid|times ?(a |per |each |/ ?)day|times daily|twice|every \d|"
                     r"\d+ hourly)\b")
    if found and (re.search(several_a_day, text) or (len(found) > 1 and re.search(r"\b(od|once)\b", text))):
        raise Unreadable("doses at times of day and a frequency together: check by hand")
    return sorted(found.items())


def _max_per_day(text: str, amount: Amount, dose_mg: Decimal) -> int:
    """The most administrations in 24 hours at the largest dose (issue 18): the stated daily maximum over that
    dose; else the number of times a day; else 24 hours over the shortest interval."""
    stated = re.search(r"\b(?:max|maximum|up to|not more than|no more than)\s*(?:of\s*)?(\d+(?:\.\d+)?)\s*"
                       r"(ml|mg|tablets?|tabs?|capsules?|caps?|doses?|times?|x)?\s*(?:in|a|per|each|/)?\s*"
                       r"(?:24\s*(?:hours?|hrs?|h)|day|daily|24h)?", text)
    if stated:
        figure, unit = Decimal(stated[1]), stated[2] or "tablet"
        if unit.startswith(("dose", "time", "x")):
            return _whole(figure, "the maximum number of doses")
        if unit == "mg":
            return _whole(figure / dose_mg, f"the stated maximum of {figure} mg over the largest dose")
        per_dose = amount.high if (unit == "ml") == (amount.unit == "ml") else None
        if per_dose is None or amount.unit == "mg":
            raise Unreadable("the maximum is in a different unit from the dose: check by hand")
        return _whole(figure / per_dose, f"the stated maximum of {figure} over the largest dose of {per_dose}")
    if re.search(r"\b(max|maximum|not more than|no more than|up to)\b", text):
        raise Unreadable("a maximum the reader cannot read: check by hand")
    times = next((times for pattern, times in TIMES_PER_DAY if re.search(pattern, text)), None)
    if times is not None:
        return len(times)
    interval = re.search(r"\bevery\s+(\d+)(?:-\d+)?\s*(?:hours?|hrs?)\b|\b(\d+)(?:-\d+)?\s*hourly\b", text)
    if interval:
        hours = int(interval[1] or interval[2])
        if hours == 0 or HOURS_IN_A_DAY % hours:
            raise Unreadable(f"every {hours} hours does not divide a day: give the maximum in 24 hours")
        return HOURS_IN_A_DAY // hours
    raise Unreadable("a when-needed dose with no maximum and no frequency: give the most doses in 24 hours")


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value() or not 1 <= value <= HOURS_IN_A_DAY:
        raise Unreadable(f"{what} is not a whole number of doses a day from 1 to 24: check by hand")
    return int(value)


def _patch_line(drug: Drug, text: str) -> dict[str, Any]:
    """A patch line: the patches applied together (labelled strengths added) at the product's own interval."""
    product = drug.product
    if re.search(r"\d\s*(mcg|micrograms?)|\btogether\b|\b(with|plus|and) (a|an|another|\d)\b|\+", text):
        raise Unreadable("the dosage names more than one patch or a strength: record each patch strength as its own "
                         "drug (they are added up as labelled)")
    hours = _patch_interval_hours(text)
    if hours is None:
        raise Unreadable("the dosage does not say how often the patch is changed")
    if hours != product.patch_wear_hours:
        raise Unreadable(f"the dosage changes the patch every {hours} hours but {product.label(in_sentence=True)} "
                         f"is worn for {product.patch_wear_hours} hours: check by hand")
    counted = re.sub(r"\b(?:every|each)\s+\d+\s*(hours?|hrs?|days?)\b|\b\d+\s*hourly\b|\b\d+\s*days?\b", " ", text)
    if re.search(r"\d\s*(ml|mg)|\d-\d", counted):
        raise Unreadable("a patch dosage with a volume, a dose in mg or a range: check by hand")
    count = re.search(r"\b(\d+(?:\.\d+)?)\s*(?:x\s*)?(?:patch|patches)?\b", counted)
    if count is not None:
        patches: Decimal | None = Decimal(count[1])
    else:
        patches = Decimal(1) if re.search(r"\b(a|the)\s+(new\s+)?patch\b", text) else None
    if patches is None or patches != patches.to_integral_value() or patches < 1:
        raise Unreadable("the dosage does not say how many patches are worn")
    if drug.strength == 0:
        raise Unreadable("the drug name gives no patch strength")
    return _named(drug, {"patch_mcg_per_hour": json_number(patches * drug.strength)})


def _patch_interval_hours(text: str) -> int | None:
    if re.search(r"\b(once a week|weekly|every week|each week|every 7 days|7 days)\b", text):
        return 168
    if re.search(r"\btwice (a |per )?week(ly)?\b", text):
        return 96  # the 4-day patch's own label: twice a week at regular intervals
    said = re.search(r"\b(?:every|each)\s+(\d+)\s*(hours?|hrs?|days?)\b|\b(\d+)\s*(?:hourly)\b", text)
    if said is None:
        return None
    if said[3]:
        return int(said[3])
    return int(said[1]) * (24 if said[2].startswith("day") else 1)
