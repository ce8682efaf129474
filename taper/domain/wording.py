"""Doses in words: how a dose is made up ("one 30 mg tablet and one 5 mg tablet") and a step's line of a schedule
document in one sentence. The same words on screen and in every letter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from taper.domain.formulary import Product, load_formulary
from taper.domain.makeable import Units, plain


def long_date(value: date) -> str:
    """15 March 1984: dates the way NHS.UK writes them, on screen and in letters."""
    return f"{value.day} {value:%B %Y}"


def clock_words(time: str) -> str:
    """'08:00' -> '8am', '13:30' -> '1:30pm', '12:00' -> '12 noon', '00:00' -> '12 midnight'."""
    hours, minutes = (int(part) for part in time.split(":"))
    if minutes == 0 and hours in (0, 12):
        return "12 midnight" if hours == 0 else "12 noon"
    suffix = "am" if hours < 12 else "pm"
    shown = hours % 12 or 12
    return f"{shown}{suffix}" if minutes == 0 else f"{shown}:{minutes:02d}{suffix}"


_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def count_words(count: int) -> str:
    return _WORDS[count] if count < len(_WORDS) else str(count)


def units_words(product: Product, units: Units | None) -> str:
    """'one 30 mg tablet', 'three 15 mg tablets and one 10 mg tablet' (each strength with its own count and
    noun, so no count can be read as another's), '2.5 mL', or a plain warning when the dose cannot be made."""
    if units is None:
        return "cannot be made exactly"
    if product.is_liquid:
        return f"{plain(units[0][0])} mL"
    noun = product.unit_form.value
    unit = "microgram/hour" if product.is_patch else "mg"
    return " and ".join(f"{count_words(count)} {plain(strength)} {unit} {noun}{'s' if count > 1 else ''}"
                        for strength, count in units)


def scheduled_units(product: Product, entries: list[dict[str, Any]]) -> Units | None:
    """The `units` of a schedule document's dose (docs/schedule-api.md) as (strength or volume, count) pairs;
    None when the engine could not make the dose from the strengths available (it stores no units then)."""
    if not entries:
        return None
    key = "volume_ml" if product.is_liquid else "strength"
    return tuple((Decimal(str(entry[key])), entry.get("count", 1)) for entry in entries)


def hours_words(hours: int) -> str:
    """'4 hours', '1 hour'."""
    return f"{hours} {'hour' if hours == 1 else 'hours'}"


def when_needed_gap(product: Product) -> str | None:
    """'at least 4 hours apart': the product's minimum gap between when-needed doses (the formulary's
    `min_hours_between_doses`), or None for a product with none (modified release, patch, methadone), whose
    when-needed line is then described without a gap, as before."""
    hours = product.min_hours_between_doses
    return None if hours is None else f"at least {hours_words(hours)} apart"


def directions(line: dict[str, Any]) -> str:
    """How a schedule document's line is taken, as a prescription's directions: every dose with its time, a
    when-needed dose with its minimum gap and its maximum in 24 hours, a patch with its wear time (never "as
    directed")."""
    product = line_product(line)
    if "patch_mcg_per_hour" in line:
        return (f"apply {units_words(product, scheduled_units(product, line['units']))} every "
                f"{plain(product.wear_days or Decimal(0))} days, removing the old patch first")
    if "prn" in line:
        prn = line["prn"]
        made = units_words(product, scheduled_units(product, prn["units"]))
        times = f"{count_words(prn['max_per_day'])} {'time' if prn['max_per_day'] == 1 else 'times'}"
        gap = when_needed_gap(product)
        return (f"{plain(Decimal(str(prn['dose_mg'])))} mg ({made}) when required for pain, "
                + (f"{gap}, " if gap else "") + f"at most {times} in 24 hours")
    return "; ".join(f"{clock_words(dose['time'])} {plain(Decimal(str(dose['dose_mg'])))} mg "
                     f"({units_words(product, scheduled_units(product, dose['units']))})" for dose in line["doses"])


def line_product(line: dict[str, Any]) -> Product:
    """The product of a schedule or regimen line as prescribed: with its brand, when the line names one."""
    return load_formulary().as_prescribed(line["product"], line.get("brand"))


def doses_that_cannot_be_made(schedule_document: dict[str, Any]) -> list[str]:
    """Every dose of a schedule document that no combination of available strengths makes, in words. A plan
    with any is not issued: a patient cannot take, nor a pharmacy supply, a dose nobody can make up."""
    found = []
    for step in schedule_document["steps"]:
        for line in step["lines"]:
            product = line_product(line)
            if "prn" in line:
                amounts = [("when needed", line["prn"]["dose_mg"], line["prn"]["units"])]
            elif "patch_mcg_per_hour" in line:
                amounts = [("patch", f"{line['patch_mcg_per_hour']} micrograms/hour", line["units"])]
            else:
                amounts = [(dose["time"], dose["dose_mg"], dose["units"]) for dose in line["doses"]]
            found += [f"step {step['number']}, {product.label()} at {when}: {amount}"
                      + ("" if "micrograms" in str(amount) else " mg")
                      for when, amount, units in amounts if not units]
    return found


def describe_scheduled(line: dict[str, Any]) -> str:
    """A line of a schedule document (docs/schedule-api.md) in words, with how each dose is made up."""
    product = line_product(line)

    def units(entries: list[dict[str, Any]]) -> Units | None:
        return scheduled_units(product, entries)

    if "patch_mcg_per_hour" in line:
        return (f"{product.label()}: {plain(Decimal(str(line['patch_mcg_per_hour'])))} micrograms/hour "
                f"({units_words(product, units(line['units']))})")
    if "prn" in line:
        prn = line["prn"]
        gap = when_needed_gap(product)
        return (f"{product.label()} when needed: {plain(Decimal(str(prn['dose_mg'])))} mg "
                f"({units_words(product, units(prn['units']))}), usually {prn['usual_per_day']}, at most "
                f"{prn['max_per_day']} a day" + (f", {gap}" if gap else ""))
    return f"{product.label()}: " + "; ".join(
        f"{dose['time']} {plain(Decimal(str(dose['dose_mg'])))} mg ({units_words(product, units(dose['units']))})"
        for dose in line["doses"])


def describe_regimen_line(line: dict[str, Any]) -> str:
    """A line of a regimen (its JSON shape, taper.domain.regimen) in words."""
    product = line_product(line)
    if "patch_mcg_per_hour" in line:
        return f"{product.label()}: {plain(Decimal(str(line['patch_mcg_per_hour'])))} micrograms/hour"
    if "prn" in line:
        prn = line["prn"]
        return (f"{product.label()} when needed: {plain(Decimal(str(prn['dose_mg'])))} mg, usually "
                f"{prn['usual_per_day']}, at most {prn['max_per_day']} a day")
    return f"{product.label()}: " + "; ".join(
        f"{dose['time']} {plain(Decimal(str(dose['dose_mg'])))} mg" for dose in line["doses"])
