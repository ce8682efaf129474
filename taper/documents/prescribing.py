"""The GP letter's prescriptions (issue 14): for each prescription date, every item with its brand, strength,
form, directions and quantity, in words and figures where the law asks for both."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from num2words import num2words

from taper.domain.engine import Schedule
from taper.domain.formulary import Product, load_formulary
from taper.domain.makeable import plain
from taper.domain.prescriptions import prescriptions
from taper.domain.wording import directions, long_date

# A Schedule 2 or 3 controlled-drug prescription gives the total quantity in both words and figures (Misuse of
# Drugs Regulations 2001, regulation 15; docs/clinical-sources.md, Controlled drugs).
SCHEDULES_IN_WORDS = (2, 3)


def quantity_words(product: Product, strength: Decimal | None, quantity: Decimal) -> str:
    """'28 (twenty-eight) tablets' for a Schedule 2 or 3 drug, '28 tablets' otherwise; liquids in mL."""
    noun = "mL" if product.is_liquid else product.unit_form.value + (
        "" if quantity == 1 else "es" if product.unit_form.value == "patch" else "s")
    if product.cd_schedule(strength) in SCHEDULES_IN_WORDS:
        return f"{plain(quantity)} ({num2words(quantity, lang='en_GB')}) {noun}"
    return f"{plain(quantity)} {noun}"


def prescriptions_in_words(schedule: Schedule, schedule_document: dict[str, Any], *, instalment_days: int,
                           issued_on: date) -> list[dict[str, Any]]:
    """Each prescription: its date, the days it covers, and its items, each with its directions for every step
    it covers (when a step changes within the prescription, each step's doses with its dates)."""
    formulary = load_formulary()
    steps = {step["number"]: step for step in schedule_document["steps"]}
    written = []
    for prescription in prescriptions(schedule, instalment_days=instalment_days, issued_on=issued_on,
                                      formulary=formulary):
        by_medicine: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
        for supply in prescription.supplies:
            product = formulary.as_prescribed(supply.product, supply.brand)
            by_medicine[(supply.product, supply.brand)].append({
                "strength": _strength(product, supply.strength),
                "quantity": quantity_words(product, supply.strength, supply.quantity),
                "schedule": f"Schedule {product.cd_schedule(supply.strength)}"})
        items = []
        for (key, brand), strengths in by_medicine.items():
            product = formulary.as_prescribed(key, brand)
            items.append({"medicine": product.label(), "strengths": strengths,
                          "directions": _directions(key, brand, prescription.steps, steps)})
        written.append({"on": long_date(prescription.on), "to": long_date(prescription.covers_to),
                        "days": prescription.days, "items": items})
    return written


def _strength(product: Product, strength: Decimal | None) -> str:
    if strength is None:
        return f"{plain(product.concentration_mg_per_ml or Decimal(0))} mg/mL"
    unit = "micrograms/hour" if product.is_patch else "mg"
    return f"{plain(strength)} {unit} {product.unit_form.value}"


def _directions(key: str, brand: str | None, numbers: tuple[int, ...], steps: dict[int, Any]) -> list[str]:
    said = []
    for number in numbers:
        step = steps[number]
        lines = [line for line in step["lines"] if line["product"] == key and line.get("brand") == brand]
        if not lines:
            continue
        when = f"Step {number}, from {long_date(date.fromisoformat(step['starts_on']))}"
        said.append(f"{when}: " + "; and ".join(directions(line) for line in lines))
    return said
