"""How to take and look after each medicine of a plan, in the patient's words (issue 14, item 2). Written from
the formulary's facts about each product (modified release, patch and its wear time, liquid, paracetamol
content, the least gap between when-needed doses), never by hand in a template, so every plan with that product
says the same. Sources: docs/clinical-sources.md, Safety advice for patients, and Minimum gap between when-needed
doses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taper.domain.formulary import Product, Release, load_formulary
from taper.domain.makeable import plain
from taper.domain.wording import hours_words

# Said in every plan: tolerance falls within days of stopping or taking less (MHRA; Opioids Aware).
AFTER_A_BREAK = ("If you miss doses for a few days, or stop, do not go back to an old, higher dose: your body gets "
                 "used to less within about a week, and an old dose could now be too strong. Call us first.")


# Said when the patient's clinic gives take-home naloxone (its setting): what it is for and who gives it when
# (GOV.UK, "Widening the availability of naloxone"; docs/clinical-sources.md, Safety advice for patients).
NALOXONE = ("Naloxone: we have given you naloxone. It can undo too much pain medicine. Keep it at home and show the "
            "people you live with where it is. If you are very sleepy and they cannot wake you, or your breathing is "
            "slow, they should give you the naloxone and call 999.")


def medicine_advice(schedule_document: dict[str, Any], *, naloxone: bool = False, pain_relief: str = "") -> list[str]:
    """One paragraph for each kind of medicine in the plan (in the order they first appear), then what the
    patient agreed to take for pain instead (`pain_relief`, as the pharmacist recorded it), the advice for every
    plan, and about naloxone when the clinic gives it."""
    formulary = load_formulary()
    lines = [line for step in schedule_document["steps"] for line in step["lines"]]
    products = {(line["product"], line.get("brand")): formulary.as_prescribed(line["product"], line.get("brand"))
                for line in lines}
    when_needed = {(line["product"], line.get("brand")) for line in lines if "prn" in line}
    regular = {(line["product"], line.get("brand")) for line in lines if "doses" in line}
    said: list[str] = []
    for key, product in products.items():
        said += _advice(product)
        if key in when_needed:
            said += _when_needed_advice(product, also_regular=key in regular)
    instead = [f"For pain, as your dose comes down, we agreed: {pain_relief.strip()}"] if pain_relief.strip() else []
    return [*dict.fromkeys(said), *instead, AFTER_A_BREAK, *([NALOXONE] if naloxone else [])]


def _when_needed_advice(product: Product, *, also_regular: bool) -> Iterable[str]:
    """The least time from one when-needed dose to the next (the formulary's `min_hours_between_doses`); a
    product with none in the formulary (not taken when needed in this service) is given no gap."""
    if product.min_hours_between_doses is None:
        return
    hours = hours_words(product.min_hours_between_doses)
    if also_regular:
        yield (f"{product.label()}: you may also take extra doses when you need them, on top of your usual doses. "
               f"Leave at least {hours} between these extra doses.")
    else:
        yield f"{product.label()} is only for when you need it. Leave at least {hours} between doses."


def _advice(product: Product) -> Iterable[str]:
    name = product.label()
    if product.release in (Release.MR_12H, Release.MR_24H):
        yield (f"{name}: swallow it whole with water. Do not crush, chew or break it: that would release the "
               "whole dose at once.")
    if product.is_patch and product.wear_days is not None:
        yield (f"{name}: take the old patch off before you put on a new one. Put each new patch on a different "
               f"place of clean, dry, hairless skin. A patch lasts {plain(product.wear_days)} days. Fold a "
               "used patch in half, sticky sides together, and take used patches back to the pharmacy. Keep "
               "children away from patches, new or used.")
        yield ("Heat makes a patch give more medicine at once. Do not put a hot water bottle, heat pad or electric "
               "blanket on it, and do not have hot baths or saunas. If you have a fever, tell your pharmacist or "
               "GP.")
    if product.is_liquid:
        yield f"{name}: measure each dose with the oral syringe from your pharmacy, not a kitchen spoon."
    if product.paracetamol_mg_per_unit is not None:
        yield (f"{name}: each {product.unit_form.value} has {product.drug} {plain(product.strengths[0])} mg and "
               f"paracetamol {plain(product.paracetamol_mg_per_unit)} mg. Do not take any other medicine with "
               "paracetamol in it. As the plan lowers your dose, ask your pharmacist what to take for pain, such as "
               "paracetamol on its own.")
