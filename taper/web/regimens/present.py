"""Regimen lines in words a pharmacist reads at a glance: "08:00 60 mg (one 60 mg tablet)"."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from taper.domain.assessment import LineOme
from taper.domain.makeable import plain
from taper.domain.regimen import PatchLine, PrnLine
from taper.domain.wording import describe_scheduled, units_words


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


def init_app(app: Flask) -> None:
    app.add_template_global(describe, "describe_line")
    app.add_template_global(describe_scheduled, "describe_scheduled")
    app.add_template_filter(lambda value: "" if value is None else plain(Decimal(value)), "plain")
