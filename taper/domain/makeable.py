"""Which doses can be made from the strengths a pharmacy can supply, with the fewest tablets, capsules or
patches. Exact decimal arithmetic: a dose is either made exactly or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from itertools import combinations

Units = tuple[tuple[Decimal, int], ...]  # (strength, count), largest strength first


def fewest_units(amount: Decimal, strengths: Sequence[Decimal], *, max_units: int | None = None) -> Units | None:
    """The combination of strengths adding up to exactly `amount` with the fewest units (ties: the one using
    larger strengths), or None if none exists within `max_units`."""
    return _fewest_units(amount, tuple(strengths), max_units)


@cache
def _fewest_units(amount: Decimal, strengths: tuple[Decimal, ...], max_units: int | None) -> Units | None:
    if amount <= 0:
        return None
    scale = _scale([amount, *strengths])
    target = int(amount * scale)
    coins = tuple(sorted({int(strength * scale) for strength in strengths}, reverse=True))
    counts = _fewest(target, coins, max_units)
    if counts is None:
        return None
    return tuple((Decimal(coin) / scale, count) for coin, count in zip(coins, counts, strict=True) if count)


def practical_units(amounts: Sequence[Decimal], strengths: Sequence[Decimal], *, max_strengths: int,
                    max_units_per_dose: int, preferred: frozenset[Decimal] = frozenset()) -> tuple[Units, ...] | None:
    """Each amount made from one set of at most `max_strengths` strengths shared by all the amounts (what one
    step asks the pharmacy to supply), each in at most `max_units_per_dose` units: the fewest strengths not in
    `preferred` (those the patient already has: no new item to prescribe and supply), then the fewest units in
    all, then larger strengths. None if no such set exists."""
    return _practical(tuple(amounts), tuple(strengths), max_strengths, max_units_per_dose, preferred)


@cache
def _practical(amounts: tuple[Decimal, ...], strengths: tuple[Decimal, ...], max_strengths: int, max_units: int,
               preferred: frozenset[Decimal]) -> tuple[Units, ...] | None:
    best: tuple[tuple[int, int, tuple[Decimal, ...]], tuple[Units, ...]] | None = None  # (key, units per amount)
    largest = max(amounts, default=Decimal(0))
    for size in range(1, max_strengths + 1):
        for chosen in combinations(sorted(strengths, reverse=True), size):
            if largest > chosen[0] * max_units:  # even all in the largest strength would be too many units
                continue
            made = [fewest_units(amount, chosen, max_units=max_units) for amount in amounts]
            if any(units is None for units in made):
                continue
            used = {strength for units in made for strength, _ in units or ()}
            key = (len(used - preferred), sum(count for units in made for _, count in units or ()),
                   tuple(-strength for strength in sorted(used, reverse=True)))
            if best is None or key < best[0]:
                best = (key, tuple(units or () for units in made))
    return None if best is None else best[1]


def plain(value: Decimal) -> str:
    """A decimal as people write it: 195, 52.5, 0.25 (no trailing zeros, no exponent)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scale(numbers: Sequence[Decimal]) -> int:
    """The power of ten that makes every number whole."""
    exponent = min(min(number.normalize().as_tuple().exponent for number in numbers), 0)  # type: ignore[type-var]
    return int(10 ** -int(exponent))


@cache
def _fewest(target: int, coins: tuple[int, ...], most: int | None = None) -> tuple[int, ...] | None:
    """The fewest coins (largest first) adding up to `target`, at most `most` of them; of several such, the one
    with the most of the largest coin, then of the next, and so on (larger strengths).

    A depth-first search, largest coin first and its count from high to low, that gives up on a branch as soon
    as it cannot beat the best found: its cost follows the number of strengths, not the size of the dose (a
    table over every amount up to the dose took seconds for 2,400 mg: Taper issue 15)."""
    best: list[int] | None = None
    limit = [target + 1 if most is None else most + 1]  # a solution must use fewer coins than this

    def search(index: int, remaining: int, used: int, counts: list[int]) -> None:
        nonlocal best
        if remaining == 0:
            if used < limit[0]:
                best, limit[0] = counts + [0] * (len(coins) - len(counts)), used
            return
        if index == len(coins):
            return
        coin = coins[index]
        if used + -(-remaining // coin) >= limit[0]:  # even all in this coin could not beat the best
            return
        for count in range(remaining // coin, -1, -1):
            if used + count >= limit[0]:
                continue
            counts.append(count)
            search(index + 1, remaining - count * coin, used + count, counts)
            counts.pop()

    search(0, target, 0, [])
    return None if best is None else tuple(best)
