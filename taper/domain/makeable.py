"""Which doses can be made from the strengths a pharmacy can supply, with the fewest tablets, capsules or
patches. Exact decimal arithmetic: a dose is either made exactly or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache

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
