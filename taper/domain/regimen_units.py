"""Doses as prescribers write them: a number of tablets, capsules or patches of one strength, or mL of a liquid.

The regimen itself stays in mg of the opioid (micrograms an hour for patches; `taper.domain.regimen`); this module
turns "2 tablets of co-codamol 30/500" into 60 mg exactly (Decimal arithmetic, never a float), and spots a dose
typed in mg that is really a count of tablets ("2" mg of co-codamol 30/500), so that the pharmacist is asked
"did you mean 2 tablets (60 mg)?" instead of being given 0.8 mg OME a day. The rule is in docs/clinical-sources.md
(Regimen entry in tablets, capsules, patches or mL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from taper.domain.formulary import MIN_LIQUID_DOSE_ML, Product
from taper.domain.makeable import plain

HALF = Decimal("0.5")
# More than this many tablets, capsules, patches or mL in one dose is a typing error, not a dose.
MAX_UNITS_PER_DOSE = 1000


class EnteredIn(StrEnum):
    """How a line's doses were typed: in mg of the opioid (micrograms an hour for patches), or in units."""

    AMOUNT = "amount"
    UNITS = "units"


class UnitEntryError(ValueError):
    """A count of units that cannot be turned into a dose exactly; the message says why, in words."""


class StrengthError(UnitEntryError):
    """The strength the units are of is missing (the product has several) or is not one of the product's."""


@dataclass(frozen=True)
class DidYouMean:
    """One message for a line whose doses in mg look like counts of units, and the counts it suggests (empty
    when no single reading can be offered, for example a medicine with several strengths)."""

    message: str
    counts: tuple[Decimal, ...] = ()
    strength: Decimal | None = None


def unit_noun(product: Product, count: Decimal | int = 2) -> str:
    """'tablet' or 'tablets', 'capsule(s)', 'patch(es)', 'mL' (the same for any volume)."""
    if product.is_liquid:
        return "mL"
    noun = product.unit_form.value
    if count == 1:
        return noun
    return f"{noun}es" if noun.endswith("ch") else f"{noun}s"


def amount_unit(product: Product) -> str:
    """The unit a regimen dose of this product is in: 'mg', or 'micrograms/hour' for a patch."""
    return "micrograms/hour" if product.is_patch else "mg"


def single_strength(product: Product) -> Decimal | None:
    """The strength a count of units is of when the product (as prescribed) has only one; None if it has several.
    For a liquid: its concentration in mg per mL."""
    if product.is_liquid:
        return product.concentration_mg_per_ml
    return product.strengths[0] if len(product.strengths) == 1 else None


def amount_from_units(product: Product, count: Decimal, strength: Decimal | None = None) -> Decimal:
    """The dose, exactly, of `count` units of `strength`: mg for tablets, capsules and liquids (a liquid's count is
    in mL, at its concentration), micrograms an hour for patches (their labelled strengths). Tablets, capsules
    and patches come whole (a tablet may be halved only where the formulary says so). UnitEntryError if the
    count or strength cannot be used."""
    noun = unit_noun(product)
    if not count.is_finite() or count <= 0:
        raise UnitEntryError(f"Enter the number of {noun} as a number more than zero")
    if count > MAX_UNITS_PER_DOSE or count.as_tuple().exponent < -3:  # type: ignore[operator]
        raise UnitEntryError(f"{plain(count)} {noun} is not a plausible dose")
    if product.is_liquid:
        assert product.concentration_mg_per_ml is not None
        return count * product.concentration_mg_per_ml
    if count % 1 and not (product.may_halve and count % HALF == 0):
        whole = "whole or half" if product.may_halve else "whole"
        raise UnitEntryError(f"Enter a {whole} number of {noun}, not {plain(count)}")
    chosen = strength if strength is not None else single_strength(product)
    strengths = " or ".join([", ".join(plain(s) for s in product.strengths[:-1]), plain(product.strengths[-1])]
                            if len(product.strengths) > 1 else [plain(product.strengths[0])])
    if chosen is None:
        raise StrengthError(f"Choose the strength of each {unit_noun(product, 1)}: {strengths} "
                             f"{amount_unit(product)}")
    if chosen not in product.strengths:
        raise StrengthError(f"{plain(chosen)} {amount_unit(product)} is not a strength of this "
                             f"{unit_noun(product, 1)}: choose {strengths} {amount_unit(product)}")
    return count * chosen


def smallest_dose(product: Product) -> Decimal:
    """The smallest dose of a tablet, capsule or liquid that can be given: one of the smallest strength (half
    where the tablet may be halved), or 1 mL of a liquid."""
    if product.is_liquid:
        assert product.concentration_mg_per_ml is not None
        return product.concentration_mg_per_ml * MIN_LIQUID_DOSE_ML
    return product.strengths[0] * (HALF if product.may_halve else 1)


def did_you_mean(product: Product, doses_mg: Sequence[Decimal]) -> DidYouMean | None:
    """One message when doses typed in mg are less than the smallest dose that can be given (so are likely counts
    of tablets, capsules or mL); None when every dose is at least that. Patches are entered by their labelled
    strengths and are checked against them elsewhere. The suggestion is only offered, never applied."""
    if product.is_patch or not doses_mg:
        return None
    least = smallest_dose(product)
    small = [dose for dose in doses_mg if dose < least]
    if not small:
        return None
    one = (f"{'half a' if product.may_halve and not product.is_liquid else 'one'} {unit_noun(product, 1)}"
           if not product.is_liquid else f"{plain(MIN_LIQUID_DOSE_ML)} mL")
    smallest = ("the smallest dose that can be measured" if product.is_liquid
                else f"the smallest {unit_noun(product, 1)}" if len(product.strengths) > 1 else one)
    what = f"{plain(least)} mg {product.drug}"
    said = _and([f"{plain(dose)} mg" for dose in dict.fromkeys(small)])
    verb = "is" if len(set(small)) == 1 else "are"
    opening = (f"{said} {verb} less than {one} ({what}), {smallest}." if product.is_liquid
               else f"{said} {verb} less than {smallest} ({what}).")
    counts = tuple(doses_mg)
    if len(small) != len(doses_mg) or not all(_countable(product, count) for count in counts):
        return DidYouMean(f"{opening} Check the dose: doses are in mg of {product.drug}.")
    strength = single_strength(product)
    if strength is None:
        return DidYouMean(f"{opening} Did you mean {_and([_units(product, c) for c in dict.fromkeys(counts)])}? "
                          f"Enter the doses in {unit_noun(product)} and choose their strength.", counts)
    readings = _and([f"{_units(product, count)} ({plain(count * strength)} mg)" for count in dict.fromkeys(counts)])
    each = " each time" if len(counts) > 1 and len(set(counts)) == 1 else ""
    return DidYouMean(f"{opening} Did you mean {readings}{each}?", counts, strength)


def parse_count(text: str) -> Decimal | None:
    """A count as typed ('2', '1.5', '½' is not accepted); None if it is not a number."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _countable(product: Product, count: Decimal) -> bool:
    if product.is_liquid:
        assert product.measure_ml is not None
        return product.measurable(count)
    return count > 0 and (count % 1 == 0 or (product.may_halve and count % HALF == 0))


def _units(product: Product, count: Decimal) -> str:
    return f"{plain(count)} {unit_noun(product, count)}"


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

