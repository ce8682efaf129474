"""Which formulary product a drug name names, as dm+d and GP records write it ("Zomorph 30mg modified-release
capsules", "Fentanyl 25micrograms/hour transdermal patches", "Co-codamol 30mg/500mg tablets"), for
`medication_reader`; and which non-opioids it recognises (docs/read-medication.md). It never guesses: a name that
fits no product, or more than one, raises Unreadable saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from taper.domain.formulary import Formulary, Product, Release, UnitForm
from taper.domain.medication_vocabulary import (
    BENZODIAZEPINES,
    BRAND_SYNONYMS,
    DRUG_WORDS,
    GABAPENTINOIDS,
    OTHER_FORMS,
    OTHER_NON_OPIOIDS,
)


class Unreadable(ValueError):
    """The text cannot be read exactly; the message says why, for the pharmacist."""


@dataclass(frozen=True)
class Drug:
    """The product a drug name names, its brand (as the formulary spells it) and the labelled strength (mg, or
    micrograms an hour for a patch; for a liquid its mg per mL)."""

    product: Product
    brand: str | None
    strength: Decimal


def normal(text: str) -> str:
    return " ".join(str(text).casefold().replace("\u00b5", "micro").split())


def non_opioid(name: str) -> str | None:
    """A non-opioid's kind, if the name is one (paracetamol on its own, not in co-codamol)."""
    if any(re.search(rf"\b{word}\b", name) for word, _ in DRUG_WORDS):
        return None
    for kind, words in (("benzodiazepine", BENZODIAZEPINES), ("gabapentinoid", GABAPENTINOIDS),
                        ("other", OTHER_NON_OPIOIDS)):
        if any(re.search(rf"\b{word}\b", name) for word in words):
            return kind
    return None


def drug_named(name: str, formulary: Formulary) -> Drug:
    """The one formulary product the name describes; by its brand if the brand's product fits the name's form and
    strength (OxyNorm capsules), else by the drug (OxyNorm liquid: the oxycodone oral solution)."""
    brand_product, brand = _brand(name, formulary)
    combination = bool(re.search(r"\bco-?codamol\b|\bparacetamol\b", name))
    strength = _labelled_strength(name, combination)
    if brand_product is not None:
        strength = _as_labelled(brand_product, strength)
        if _form_fits(brand_product, name, True):
            if not _strength_fits(brand_product, strength, brand):
                raise Unreadable(f'{brand} ("{name}") is not made in this strength in the formulary: check by hand')
            return Drug(product=brand_product, brand=brand, strength=strength or Decimal(0))
    drug = brand_product.drug if brand_product else next(
        (drug for word, drug in DRUG_WORDS if re.search(rf"\b{word}\b", name)), None)
    if drug is None:
        raise Unreadable("not an opioid Taper knows, nor a known non-opioid: check the drug by hand")
    candidates = [product for product in formulary if product.drug == drug
                  and (product.paracetamol_mg_per_unit is not None) == combination
                  and _form_fits(product, name, False)
                  and _strength_fits(product, _as_labelled(product, strength), None)]
    if len(candidates) != 1:
        described = f'{drug} ("{name}")'
        if not candidates:
            raise Unreadable(f"{described} is not a product of the formulary (for example an oral concentrate "
                             f"or a strength not made): check by hand")
        keys = ", ".join(product.key for product in candidates)
        raise Unreadable(f"{described} could be any of {keys}: the name does not say which (give the brand "
                         f"or how often it is taken, 12-hourly or 24-hourly)")
    product = candidates[0]
    return Drug(product=product, brand=None, strength=_as_labelled(product, strength) or Decimal(0))


def _as_labelled(product: Product, strength: Decimal | None) -> Decimal | None:
    """The labelled strength for a release rate written instead ("12.5 micrograms/hour": the patch labelled 12)."""
    return next((label for label, rate in product.release_rates.items() if rate == strength), strength)


def _brand(name: str, formulary: Formulary) -> tuple[Product | None, str | None]:
    """The product and brand a brand name in the name gives (the longest brand that matches: "Zydol SR", not
    "Zydol"), from the formulary's brands and a few usual short names (docs/read-medication.md)."""
    known = [(brand.name.casefold(), product, brand.name) for product in formulary for brand in product.brands]
    known += [(short, formulary.get(key), brand) for short, (key, brand) in BRAND_SYNONYMS.items()
              if key in formulary]
    for words, product, brand in sorted(known, key=lambda entry: -len(entry[0])):
        if re.search(rf"(?<![\w-]){re.escape(words)}(?![\w-])", name):
            return product, brand
    return None, None


def _labelled_strength(name: str, combination: bool) -> Decimal | None:
    """The strength on the label: mg (co-codamol: its codeine, the first figure of 30mg/500mg), micrograms an
    hour for patches, mg per mL for liquids ("10mg/5ml": 2). None if the name gives none."""
    if combination:
        match = re.search(r"(\d+(?:\.\d+)?)\s*(?:mg)?\s*/\s*(?:paracetamol\s*)?500", name)
        return Decimal(match[1]) if match else None
    liquid = re.search(r"(\d+(?:\.\d+)?)\s*mg\s*(?:/|in|per)\s*(\d+(?:\.\d+)?)?\s*ml", name)
    if liquid:
        return Decimal(liquid[1]) / Decimal(liquid[2] or 1)
    patch = re.search(r"(\d+(?:\.\d+)?)\s*(?:micrograms?|mcg|microgram)\s*(?:/|per|an|a)?\s*(?:hour|hr|h)\b", name)
    if patch:
        return Decimal(patch[1])
    plain = re.search(r"(\d+(?:\.\d+)?)\s*mg\b", name)
    return Decimal(plain[1]) if plain else None


def _form_fits(product: Product, name: str, named_by_brand: bool) -> bool:
    """Whether the name's form (patch, liquid, modified release, capsule or tablet, wear time) allows the product."""
    if any(form in name for form in OTHER_FORMS):
        return False
    is_patch = bool(re.search(r"\bpatch(es)?\b|transdermal", name))
    is_liquid = bool(re.search(r"\b(oral solution|liquid|solution|oral suspension|syrup)\b", name))
    if is_patch != product.is_patch or is_liquid != product.is_liquid:
        return named_by_brand and not is_patch and not is_liquid and not product.is_liquid
    if product.is_patch:
        return _patch_days_fit(product, name)
    if product.is_liquid:
        return True
    modified = bool(re.search(r"modified[- ]release|prolonged[- ]release|\bm/?r\b|\bs/?r\b|\bretard\b|"
                              r"\bcontinus\b|\b(12|24)[- ]hour", name))
    if modified != (product.release is not Release.IR) and not named_by_brand:
        return False
    if product.release is Release.MR_24H and re.search(r"\b12[- ]hour", name):
        return False
    if product.release is Release.MR_12H and re.search(r"\b24[- ]hour|once daily", name):
        return False
    capsule, tablet = bool(re.search(r"\bcapsules?\b", name)), bool(re.search(r"\btablets?\b", name))
    return not (capsule and product.unit_form is UnitForm.TABLET) and not (tablet and product.unit_form is
                                                                           UnitForm.CAPSULE)


def _patch_days_fit(product: Product, name: str) -> bool:
    said = re.search(r"\b(\d+|seven|four|three)[- ]?(day|hour)", name)
    if said is None or product.patch_wear_hours is None:
        return True
    figure = {"seven": 7, "four": 4, "three": 3}.get(said[1]) or int(said[1])
    hours = figure * (24 if said[2] == "day" else 1)
    return hours == product.patch_wear_hours


def _strength_fits(product: Product, strength: Decimal | None, brand: str | None) -> bool:
    if strength is None:
        return not product.is_liquid  # a liquid is known only by its concentration
    if product.is_liquid:
        return product.concentration_mg_per_ml == strength
    if brand is not None and product.brands:
        return any(strength in known.strengths for known in product.brands if known.name == brand)
    return strength in product.strengths or strength in product.brand_only_strengths
