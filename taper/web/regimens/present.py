"""Regimen lines in words a pharmacist reads at a glance: "08:00 60 mg (one 60 mg tablet)"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from taper.domain.assessment import LineOme
from taper.domain.formulary import Product, load_formulary
from taper.domain.makeable import Units, plain
from taper.domain.regimen import PatchLine, PrnLine

_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def count_words(count: int) -> str:
    return _WORDS[count] if count < len(_WORDS) else str(count)


def units_words(product: Product, units: Units | None) -> str:
    """'one 30 mg and one 5 mg tablet', '2.5 mL', or a plain warning when the dose cannot be made."""
    if units is None:
        return "cannot be made exactly"
    if product.is_liquid:
        return f"{plain(units[0][0])} mL"
    noun = product.unit_form.value
    unit = "microgram/hour" if product.is_patch else "mg"
    parts = [f"{count_words(count)} {plain(strength)} {unit}" for strength, count in units]
    plural = "s" if len(units) == 1 and units[0][1] > 1 else ""
    return " and ".join(parts) + f" {noun}{plural}"


def describe(line: LineOme) -> str:
    product = line.product
    if isinstance(line.line, PatchLine):
        wear = f", changed every {plain(product.wear_days or Decimal(0))} days" if product.wear_days else ""
        return f"{plain(line.line.mcg_per_hour)} micrograms/hour: {units_words(product, line.units[0])}{wear}"
    if isinstance(line.line, PrnLine):
        prn = line.line
        return (f"{plain(prn.dose_mg)} mg ({units_words(product, line.units[0])}) when needed: usually "
                f"{prn.usual_per_day}, at most {prn.max_per_day} a day")
    return "; ".join(f"{dose.at:%H:%M} {plain(dose.dose_mg)} mg ({units_words(product, units)})"
                     for dose, units in zip(line.line.doses, line.units, strict=True))


def describe_scheduled(line: dict[str, Any]) -> str:
    """A line of a schedule document (docs/schedule-api.md) in words, with how each dose is made up."""
    product = load_formulary().get(line["product"])

    def units(entries: list[dict[str, Any]]) -> Units:
        key = "volume_ml" if product.is_liquid else "strength"
        return tuple((Decimal(str(entry[key])), entry.get("count", 1)) for entry in entries)

    if "patch_mcg_per_hour" in line:
        return (f"{product.label()}: {plain(Decimal(str(line['patch_mcg_per_hour'])))} micrograms/hour "
                f"({units_words(product, units(line['units']))})")
    if "prn" in line:
        prn = line["prn"]
        return (f"{product.label()} when needed: {plain(Decimal(str(prn['dose_mg'])))} mg "
                f"({units_words(product, units(prn['units']))}), usually {prn['usual_per_day']}, at most "
                f"{prn['max_per_day']} a day")
    return f"{product.label()}: " + "; ".join(
        f"{dose['time']} {plain(Decimal(str(dose['dose_mg'])))} mg ({units_words(product, units(dose['units']))})"
        for dose in line["doses"])


def init_app(app: Flask) -> None:
    app.add_template_global(describe, "describe_line")
    app.add_template_global(describe_scheduled, "describe_scheduled")
    app.add_template_filter(lambda value: "" if value is None else plain(Decimal(value)), "plain")
