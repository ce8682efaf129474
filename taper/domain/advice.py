"""How to take and look after each medicine of a plan, in the patient's words (issue 14, item 2). Written from
the formulary's facts about each product (modified release, patch and its wear time, liquid, paracetamol
content), never by hand in a template, so every plan with that product says the same. Sources:
docs/clinical-sources.md, Safety advice for patients.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taper.domain.formulary import Product, Release, load_formulary
from taper.domain.makeable import plain

# Said in every plan: tolerance falls within days of stopping or taking less (MHRA; Opioids Aware).
AFTER_A_BREAK = ("If you miss doses for a few days, or stop, do not go back to an old, higher dose: your body gets "
                 "used to less within about a week, and an old dose could now be too strong. Call us first.")


def medicine_advice(schedule_document: dict[str, Any]) -> list[str]:
    """One paragraph for each kind of medicine in the plan (in the order they first appear), then the advice
    for every plan."""
    formulary = load_formulary()
    products = {(line["product"], line.get("brand")): formulary.as_prescribed(line["product"], line.get("brand"))
                for step in schedule_document["steps"] for line in step["lines"]}
    said = [advice for product in products.values() for advice in _advice(product)]
    return [*dict.fromkeys(said), AFTER_A_BREAK]


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
