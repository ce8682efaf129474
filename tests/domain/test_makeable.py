from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from taper.domain.formulary import load_formulary
from taper.domain.makeable import fewest_units, plain

D = Decimal
SOLID = [product for product in load_formulary() if not product.is_liquid]


def test_fewest_units_prefers_fewer_then_larger() -> None:
    assert fewest_units(D(35), [D(5), D(10), D(15), D(20), D(30)]) == ((D(30), 1), (D(5), 1))
    assert fewest_units(D("3.9"), [D("1.3"), D("2.6")]) == ((D("2.6"), 1), (D("1.3"), 1))
    assert fewest_units(D(7), [D(5), D(10)]) is None
    assert fewest_units(D(37), [D(12), D(25)], max_units=2) == ((D(25), 1), (D(12), 1))
    assert fewest_units(D(36), [D(12), D(25)], max_units=2) is None


@given(st.sampled_from(SOLID), st.lists(st.integers(0, 4), min_size=1, max_size=9))
def test_fewest_units_makes_any_sum_of_strengths_exactly_and_no_worse(product, counts) -> None:  # type: ignore[no-untyped-def]
    picked = list(zip(product.strengths, counts, strict=False))
    amount = sum((strength * count for strength, count in picked), D(0))
    made = fewest_units(amount, product.strengths)
    if amount == 0:
        assert made is None
        return
    assert made is not None
    assert sum(strength * count for strength, count in made) == amount
    assert all(strength in product.strengths for strength, _ in made)
    assert sum(count for _, count in made) <= sum(count for _, count in picked)


def test_plain_writes_numbers_as_people_do() -> None:
    assert [plain(D(value)) for value in ("195.0", "52.50", "1E+2", "0.25", "7")] == ["195", "52.5", "100", "0.25",
                                                                                     "7"]
