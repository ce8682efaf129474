"""Doses as counts of tablets, capsules, patches or mL: the mg worked out exactly, and "did you mean"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.formulary import Product, load_formulary
from taper.domain.regimen_units import (
    StrengthError,
    UnitEntryError,
    amount_from_units,
    did_you_mean,
    smallest_dose,
)

FORMULARY = load_formulary()
SOLID = [product for product in FORMULARY if not product.is_liquid]
LIQUIDS = [product for product in FORMULARY if product.is_liquid]


@st.composite
def solid_doses(draw: st.DrawFn) -> tuple[Product, int, Decimal]:
    product = draw(st.sampled_from(SOLID))
    return product, draw(st.integers(1, 1000)), draw(st.sampled_from(product.strengths))


@given(solid_doses())
def test_whole_tablets_capsules_and_patches_give_count_times_strength(dose: tuple[Product, int, Decimal]) -> None:
    product, count, strength = dose
    amount = amount_from_units(product, Decimal(count), strength)
    assert amount == count * strength and isinstance(amount, Decimal)
    assert amount / count == strength  # exact: nothing rounded


@given(st.sampled_from(LIQUIDS), st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3))
def test_ml_of_a_liquid_give_volume_times_concentration(product: Product, volume_ml: Decimal) -> None:
    assert product.concentration_mg_per_ml is not None
    assert amount_from_units(product, volume_ml) == volume_ml * product.concentration_mg_per_ml


@given(st.sampled_from([product for product in SOLID if not product.may_halve]),
       st.integers(0, 999).map(lambda whole: Decimal(whole) + Decimal("0.5")))
def test_part_tablets_are_refused_where_they_may_not_be_halved(product: Product, count: Decimal) -> None:
    with pytest.raises(UnitEntryError, match="whole number"):
        amount_from_units(product, count, product.strengths[0])


def test_a_product_with_several_strengths_needs_the_strength_and_one_of_its_own() -> None:
    morphine = FORMULARY.get("morphine-mr-tablet-12h")
    with pytest.raises(StrengthError, match="Choose the strength of each tablet: 5, 10, 15, 30, 60, 100 or 200 mg"):
        amount_from_units(morphine, Decimal(2))
    with pytest.raises(StrengthError, match="25 mg is not a strength of this tablet"):
        amount_from_units(morphine, Decimal(2), Decimal(25))
    assert amount_from_units(FORMULARY.get("co-codamol-30-500-tablet"), Decimal(2)) == 60  # one strength


@pytest.mark.parametrize("count", [Decimal(0), Decimal(-1), Decimal(1001), Decimal("0.0001")])
def test_counts_that_are_not_doses_are_refused(count: Decimal) -> None:
    with pytest.raises(UnitEntryError):
        amount_from_units(FORMULARY.get("morphine-oral-solution-10mg-5ml"), count)


def test_co_codamol_2_mg_asks_did_you_mean_2_tablets() -> None:
    suggestion = did_you_mean(FORMULARY.get("co-codamol-30-500-tablet"), [Decimal(2)])
    assert suggestion is not None
    assert suggestion.message == "2 mg is less than one tablet (30 mg codeine). Did you mean 2 tablets (60 mg)?"
    assert suggestion.counts == (Decimal(2),) and suggestion.strength == 30


def test_four_doses_get_one_message() -> None:
    suggestion = did_you_mean(FORMULARY.get("co-codamol-30-500-tablet"), [Decimal(2)] * 4)
    assert suggestion is not None
    assert suggestion.message == ("2 mg is less than one tablet (30 mg codeine). Did you mean 2 tablets (60 mg) "
                                  "each time?")


def test_several_strengths_suggest_the_count_and_ask_for_the_strength() -> None:
    suggestion = did_you_mean(FORMULARY.as_prescribed("morphine-mr-tablet-12h", None), [Decimal(2), Decimal(1)])
    assert suggestion is not None and suggestion.strength is None
    assert suggestion.message == ("2 mg and 1 mg are less than the smallest tablet (5 mg morphine). Did you mean "
                                  "2 tablets and 1 tablet? Enter the doses in tablets and choose their strength.")


def test_a_line_with_one_small_dose_among_usual_ones_is_questioned_without_a_reading() -> None:
    suggestion = did_you_mean(FORMULARY.get("co-codamol-30-500-tablet"), [Decimal(60), Decimal(2)])
    assert suggestion is not None and suggestion.counts == ()
    assert suggestion.message == ("2 mg is less than one tablet (30 mg codeine). Check the dose: doses are in mg of "
                                  "codeine.")


def test_a_liquid_below_one_ml_is_questioned() -> None:
    suggestion = did_you_mean(FORMULARY.get("morphine-oral-solution-10mg-5ml"), [Decimal("1.5")])
    assert suggestion is not None
    assert suggestion.message == ("1.5 mg is less than 1 mL (2 mg morphine), the smallest dose that can be "
                                  "measured. Did you mean 1.5 mL (3 mg)?")


@given(solid_doses())
def test_doses_of_at_least_the_smallest_are_never_questioned(dose: tuple[Product, int, Decimal]) -> None:
    product, count, strength = dose
    assert did_you_mean(product, [count * strength]) is None
    assert did_you_mean(product, [smallest_dose(product)]) is None
