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
    counts = _fewest(target, coins)
    if counts is None or (max_units is not None and sum(counts) > max_units):
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
    for size in range(1, max_strengths + 1):
        for chosen in combinations(sorted(strengths, reverse=True), size):
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
def _fewest(target: int, coins: tuple[int, ...]) -> tuple[int, ...] | None:
    """Minimum-count change-making by dynamic programming over 0..target."""
    infinity = target + 1
    best = [0] + [infinity] * target
    last = [0] * (target + 1)
    for value in range(1, target + 1):
        for coin in coins:  # larger coins first, so ties keep the larger strengths
            if coin <= value and best[value - coin] + 1 < best[value]:
                best[value] = best[value - coin] + 1
                last[value] = coin
    if best[target] >= infinity:
        return None
    counts = dict.fromkeys(coins, 0)
    value = target
    while value:
        counts[last[value]] += 1
        value -= last[value]
    return tuple(counts[coin] for coin in coins)
