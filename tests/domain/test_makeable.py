from __future__ import annotations

from decimal import Decimal
from itertools import combinations, combinations_with_replacement

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.formulary import load_formulary
from taper.domain.makeable import Units, fewest_units, plain, practical_units

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


def _table_fewest(target: int, coins: tuple[int, ...]) -> tuple[int, ...] | None:
    """The change-making table Taper used before issue 15 (its time grew with the dose): the oracle the search
    must agree with, fewest coins and ties to the larger coins included."""
    best, last = [0] + [target + 1] * target, [0] * (target + 1)
    for value in range(1, target + 1):
        for coin in coins:
            if coin <= value and best[value - coin] + 1 < best[value]:
                best[value], last[value] = best[value - coin] + 1, coin
    if best[target] > target:
        return None
    counts = dict.fromkeys(coins, 0)
    while target:
        counts[last[target]] += 1
        target -= last[target]
    return tuple(counts[coin] for coin in coins)


@given(st.integers(min_value=1, max_value=1500),
       st.sets(st.integers(min_value=1, max_value=250), min_size=1, max_size=7),
       st.one_of(st.none(), st.integers(min_value=1, max_value=60)))
def test_the_search_finds_what_the_table_found(target: int, strengths: set[int], most: int | None) -> None:
    coins = tuple(sorted(strengths, reverse=True))
    expected = _table_fewest(target, coins)
    if expected is not None and most is not None and sum(expected) > most:
        expected = None
    made = fewest_units(Decimal(target), [Decimal(coin) for coin in coins], max_units=most)
    assert made == (None if expected is None else tuple(
        (Decimal(coin), count) for coin, count in zip(coins, expected, strict=True) if count))


@pytest.mark.parametrize("dose_mg", [600, 2400])
def test_very_high_doses_below_the_hard_limit_are_still_planned_to_the_end(dose_mg: int) -> None:
    """Morphine MR 600 mg twice a day, and 2,400 mg twice a day (just under the 5,000 mg OME a day that is
    refused), planned down to stopping. How long they take is measured in benchmarks/bench_engine.py."""
    from taper.domain.schedule_contract import schedule_from_request

    request = {"start_on": "2027-01-04", "regimen": [{"product": "morphine-mr-tablet-12h", "doses": [
        {"time": "08:00", "dose_mg": dose_mg}, {"time": "20:00", "dose_mg": dose_mg}]}]}
    schedule = schedule_from_request(request, load_formulary())
    assert schedule["starting_ome_mg_per_day"] == 2 * dose_mg and not schedule["steps"][-1]["lines"]


def _fewest_by_listing(amount: Decimal, chosen: tuple[Decimal, ...], most: int) -> Units | None:
    """Every way to make `amount` from at most `most` units, listed: the fewest units, then the most of the
    largest strength."""
    ways = [picked for count in range(1, most + 1) for picked in combinations_with_replacement(chosen, count)
            if sum(picked) == amount]
    if not ways:
        return None
    best = min(ways, key=lambda picked: (len(picked), tuple(-picked.count(strength) for strength in chosen)))
    return tuple((strength, best.count(strength)) for strength in chosen if best.count(strength))


@given(st.sampled_from(SOLID), st.data())
def test_practical_units_are_the_best_of_every_way_listed(product, data) -> None:  # type: ignore[no-untyped-def]
    """Checked against listing every way to make each amount with two strengths and four units a dose (so the
    shortcuts in practical_units, such as passing over strengths too small for an amount, change nothing)."""
    strengths = tuple(sorted(product.strengths, reverse=True))
    amounts = data.draw(st.lists(st.sampled_from([sum(picked) for count in range(1, 6)
                                                   for picked in combinations_with_replacement(strengths, count)]),
                                 min_size=1, max_size=3))
    preferred = frozenset(data.draw(st.sets(st.sampled_from(strengths), max_size=2)))
    best = None
    for size in (1, 2):
        for chosen in combinations(strengths, size):
            made = [_fewest_by_listing(amount, chosen, 4) for amount in amounts]
            if any(units is None for units in made):
                continue
            used = {strength for units in made for strength, _ in units or ()}
            key = (len(used - preferred), sum(count for units in made for _, count in units or ()),
                   tuple(-strength for strength in sorted(used, reverse=True)))
            if best is None or key < best[0]:
                best = (key, tuple(made))
    expected = None if best is None else best[1]
    assert practical_units(amounts, product.strengths, max_strengths=2, max_units_per_dose=4,
                           preferred=preferred) == expected
