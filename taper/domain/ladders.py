"""Ladders: the doses one line of a regimen can step down through, from its starting doses (rung 0) to stopped.

A when-needed line or a patch has few rungs, all listed. A regular line has one rung per grain (the strengths'
common divisor) of its daily total, which is many at a high dose (about 960 for morphine MR 2,400 mg twice a
day), so its rungs are known by their daily total alone and a rung's doses are made only when the engine asks,
from the doses taken in the step before (Taper issue 15: the engine's cost does not grow with the size of a
dose). The rules for making them (issue 13 rule 3; docs/clinical-sources.md, Doses a patient can take): the
total shared over the dose times as evenly as it can be, no dose above the dose at that time in the step before
(an uneven regimen loses its larger dose first), made from at most two strengths with at most four units a dose
where that is possible, keeping to the strengths the patient already has where it can; a rung that cannot keep
those limits is made anyway and marked not practical (the engine warns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import lru_cache
from itertools import combinations_with_replacement, permutations

from taper.domain.formulary import Product
from taper.domain.makeable import Units, fewest_units, practical_units
from taper.domain.regimen import Line, PatchLine, PrnLine, RegularLine

# A line stops only from at most two of its smallest units a day (the VA taper tool ends with the smallest
# tablet, then at night only), or from one patch of the smallest strength.
STOP_FROM_UNITS = 2
# Doses a patient can take (issue 13 rule 3): at most two strengths of a product in a step, four units a dose.
MAX_STRENGTHS_PER_STEP = 2
MAX_UNITS_PER_DOSE = 4


@dataclass(frozen=True)
class Dose:
    at: time
    dose_mg: Decimal
    units: Units


@dataclass(frozen=True)
class LineState:
    """One medicine as taken during a step."""

    product: Product
    ome_mg_per_day: Decimal
    doses: tuple[Dose, ...] = ()  # regular
    prn_dose_mg: Decimal | None = None
    prn_usual_per_day: int = 0
    prn_max_per_day: int = 0
    prn_units: Units = ()
    patch_mcg_per_hour: Decimal | None = None
    patch_units: Units = ()

    @property
    def is_stopped(self) -> bool:
        if self.patch_mcg_per_hour is not None:
            return not self.patch_units
        if self.prn_dose_mg is not None:
            return self.prn_max_per_day == 0
        return not self.doses


Made = tuple[LineState, bool]  # a rung's doses, and whether they keep to two strengths and four units a dose


@dataclass(frozen=True)
class ListedLadder:
    """A when-needed line (one dose a day less at each rung) or a patch line (each makeable combination of
    patches below the starting one): every rung listed, falling in OME."""

    product: Product
    rungs: tuple[LineState, ...]
    smallest_unit_ome: Decimal  # the OME of the smallest change this line can make
    index: int = 0  # position in the regimen
    patch_wear_days: int | None = None

    @property
    def first(self) -> LineState:
        return self.rungs[0]

    @property
    def is_prn(self) -> bool:
        return self.first.prn_dose_mg is not None

    @property
    def stop_from_ome(self) -> Decimal:
        """The most this line may be taking when it stops: two of its smallest units a day, or one patch."""
        return self.smallest_unit_ome * (1 if self.patch_wear_days is not None else STOP_FROM_UNITS)

    def ome(self, rung: int) -> Decimal:
        return self.rungs[rung].ome_mg_per_day

    def is_stopped(self, rung: int) -> bool:
        return self.rungs[rung].is_stopped

    def made(self, rung: int, before: LineState) -> Made:
        return self.rungs[rung], True

    def nearest(self, now: int, before: LineState, target: Decimal, reached: bool) -> int:
        """The rung at or below `now` nearest `target`. Between rungs of equal OME, a line the reduction has
        reached takes the lower one (a when-needed medicine down to no doses at all); one it has not reached
        stays where it is."""
        direction = -1 if reached else 1
        here = self.ome(now)
        best, best_key = now, (abs(here - target), direction * now)
        for rung in range(now + 1, len(self.rungs)):  # rungs fall in OME: stop once past the target and worse
            value = self.ome(rung)
            if value > here or (value == here and not reached):  # equal: a when-needed maximum
                continue
            key = (abs(value - target), direction * rung)
            if key < best_key:
                best, best_key = rung, key
            elif value < target and key[0] > best_key[0]:
                break
        return best

    def highest_at_least(self, low: int, high: int, minimum: Decimal, before: LineState) -> int:
        """The highest rung from `high` back to `low` whose OME is at least `minimum` (else `low`)."""
        return next((rung for rung in range(high, low, -1) if self.ome(rung) >= minimum), low)

    def next_lower(self, now: int, before: LineState) -> int:
        """The first rung below `now` with a smaller OME (a when-needed line: the next rung)."""
        return next(rung for rung in range(now + 1, len(self.rungs))
                    if self.is_prn or self.ome(rung) < self.ome(now))

    def lowest_before_stop(self, now: int, before: LineState) -> int:
        """The rung just above stopped (the smallest dose this line can be given)."""
        return len(self.rungs) - 2 if len(self.rungs) > 1 and self.rungs[-1].is_stopped else len(self.rungs) - 1


@dataclass(frozen=True)
class RegularLadder:
    """A regular line's rungs: rung 0 the starting doses, rung r (1 to `top`) `top + 1 - r` grains a day, rung
    `top + 1` stopped. A rung's OME follows from its total alone; its doses are made from the step before, and
    a total that cannot be made from it (strengths that cannot add up to it) is passed over."""

    product: Product
    first: LineState
    grain: Decimal
    factor: Decimal  # OME per mg (the factor set's factor for the product)
    priority: tuple[time, ...]  # dose times in the order they keep the larger share
    top: int  # grains a day at rung 1: the largest whole number of grains below the starting total
    index: int = 0
    patch_wear_days: None = None
    is_prn = False

    @property
    def smallest_unit_ome(self) -> Decimal:
        return self.grain * self.factor

    @property
    def stop_from_ome(self) -> Decimal:
        return self.smallest_unit_ome * STOP_FROM_UNITS

    @property
    def stopped(self) -> int:
        return self.top + 1

    def ome(self, rung: int) -> Decimal:
        return self.first.ome_mg_per_day if rung == 0 else (self.top + 1 - rung) * self.grain * self.factor

    def is_stopped(self, rung: int) -> bool:
        return rung == self.stopped

    def made(self, rung: int, before: LineState) -> Made | None:
        """The rung's doses coming down from `before`, or None if its total cannot be made from it."""
        if rung == 0:
            return self.first, True
        if rung == self.stopped:
            return LineState(product=self.product, ome_mg_per_day=Decimal(0) * self.factor, doses=()), True
        shares_before = {dose.at: int(dose.dose_mg // self.grain) for dose in before.doses}
        caps = tuple(shares_before.get(at, 0) for at in self.priority)
        preferred = frozenset(strength for dose in before.doses for strength, _ in dose.units)
        return _made(self.product, self.grain, self.factor, self.priority, self.top + 1 - rung, caps, preferred)

    def nearest(self, now: int, before: LineState, target: Decimal, reached: bool) -> int:
        """As ListedLadder.nearest: OME falls strictly with the rung, so the nearest rung is the one at or just
        above the target or the one just below it (the nearest that can be made, each way)."""
        direction = -1 if reached else 1
        best, best_key = now, (abs(self.ome(now) - target), direction * now)
        at_or_above = self.stopped - max(math.ceil(target / self.smallest_unit_ome), 0)
        above = self._makeable(range(min(at_or_above, self.stopped), now, -1), before)
        below = self._makeable(range(max(at_or_above + 1, now + 1), self.stopped + 1), before)
        for rung in (rung for rung in (above, below) if rung is not None):
            key = (abs(self.ome(rung) - target), direction * rung)
            if key < best_key:
                best, best_key = rung, key
        return best

    def highest_at_least(self, low: int, high: int, minimum: Decimal, before: LineState) -> int:
        highest = self.stopped - max(math.ceil(minimum / self.smallest_unit_ome), 0)
        return self._makeable(range(min(high, highest), low, -1), before) or low

    def next_lower(self, now: int, before: LineState) -> int:
        rung = self._makeable(range(now + 1, self.stopped + 1), before)
        assert rung is not None  # stopped can always be made
        return rung

    def lowest_before_stop(self, now: int, before: LineState) -> int:
        return self._makeable(range(self.top, now, -1), before) or now

    def _makeable(self, rungs: range, before: LineState) -> int | None:
        """The first of `rungs` that can be made from `before`. Only totals too small for the strengths to add
        up to are passed over (beyond the largest such, every multiple of the grain can be made), so the walk
        is short whatever the dose."""
        return next((rung for rung in rungs if self.made(rung, before) is not None), None)


Ladder = ListedLadder | RegularLadder


@lru_cache(maxsize=512)
def ladder_for(line: Line, product: Product, factor: Decimal, max_patches: int, larger_dose_at: time | None) -> Ladder:
    """A line's ladder; pure, so kept for the next plan of the same line (a pharmacist trying paces)."""
    def ome(amount: Decimal) -> Decimal:
        return amount * factor

    if isinstance(line, PatchLine):
        return _patch_ladder(line, product, ome, max_patches)
    if isinstance(line, PrnLine):
        units = dose_units(product, line.dose_mg)
        rungs = tuple(
            LineState(product=product, ome_mg_per_day=ome(line.dose_mg * max(line.usual_per_day - step, 0)),
                      prn_dose_mg=line.dose_mg, prn_usual_per_day=max(line.usual_per_day - step, 0),
                      prn_max_per_day=line.max_per_day - step, prn_units=units or ())
            for step in range(line.max_per_day + 1))
        return ListedLadder(product, rungs, ome(line.dose_mg))
    assert isinstance(line, RegularLine)
    grain = _granularity(product)
    top = math.floor(line.amount_per_day() / grain)
    if top * grain == line.amount_per_day():
        top -= 1
    first = LineState(product=product, ome_mg_per_day=ome(line.amount_per_day()),
                      doses=tuple(Dose(dose.at, dose.dose_mg, dose.units or dose_units(product, dose.dose_mg) or ())
                                  for dose in line.doses))
    priority = tuple(_larger_dose_order([dose.at for dose in line.doses], larger_dose_at))
    return RegularLadder(product, first, grain, factor, priority, top)


def forget_ladders() -> None:
    """Empty the ladder caches (benchmarks use it to time a first build)."""
    ladder_for.cache_clear()
    _made.cache_clear()


@lru_cache(maxsize=8192)
def _made(product: Product, grain: Decimal, factor: Decimal, priority: tuple[time, ...], count: int,
          caps: tuple[int, ...], preferred: frozenset[Decimal]) -> Made | None:
    """`count` grains a day, no dose above its cap (the step before), made as _split says; None if it cannot be."""
    split = _split(count, grain, caps, product, preferred)
    if split is None:
        return None
    shares, units, practical = split
    by_time = sorted(range(len(priority)), key=lambda position: priority[position])
    doses = tuple(Dose(priority[position], shares[position] * grain, units[position]) for position in by_time
                  if shares[position])
    return LineState(product=product, ome_mg_per_day=count * grain * factor, doses=doses), practical


def _split(count: int, grain: Decimal, caps: tuple[int, ...], product: Product,
           preferred: frozenset[Decimal]) -> tuple[tuple[int, ...], tuple[Units, ...], bool] | None:
    """`count` grains a day over the dose times (in priority order), no dose above its cap: the most even share
    first (larger doses at the priority times), then near-even ones; the first whose doses can be made within
    the limits, else the first that can be made at all (marked not practical). The shares, each dose's units
    (none for a share of 0), and whether practical; None if nothing can be made."""
    fallback = None
    for shares in _shares(count, caps):
        amounts = [share * grain for share in shares]
        if product.is_liquid:
            volumes = [dose_units(product, amount) if amount else () for amount in amounts]
            if all(units is not None for units in volumes):
                return shares, tuple(volumes), True  # type: ignore[arg-type]
            continue
        practical = practical_units([amount for amount in amounts if amount], product.strengths,
                                    max_strengths=MAX_STRENGTHS_PER_STEP, max_units_per_dose=MAX_UNITS_PER_DOSE,
                                    preferred=preferred)
        if practical is not None:
            made = iter(practical)
            return shares, tuple(next(made) if amount else () for amount in amounts), True
        if fallback is None:
            fewest = [fewest_units(amount, product.strengths) if amount else () for amount in amounts]
            if all(units is not None for units in fewest):
                fallback = (shares, tuple(fewest), False)
    return fallback  # type: ignore[return-value]


def _shares(count: int, caps: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Ways to give `count` grains to doses with these caps (in priority order): the most even first (filled
    to one level, the priority doses taking any remainder), then that share with up to three grains moved
    from one dose to another, least uneven first. Nothing if the caps hold fewer than `count` grains."""
    if sum(caps) < count:
        return
    level = -(-count // len(caps))  # the even share, rounded up; higher where caps hold some doses below it
    while sum(min(cap, level) for cap in caps) < count:
        level += 1
    even = [min(cap, level) for cap in caps]
    excess = sum(even) - count
    for position in reversed(range(len(even))):  # the lowest-priority doses at the level give up the excess
        if excess and even[position] == level and caps[position] >= level:
            even[position] -= 1
            excess -= 1
    yield tuple(even)
    moves = []
    for moved in range(1, 4):
        for giver, taker in permutations(range(len(even)), 2):
            moved_shares = list(even)
            moved_shares[giver] -= moved
            moved_shares[taker] += moved
            if moved_shares[giver] >= 0 and moved_shares[taker] <= caps[taker]:
                moves.append((max(moved_shares) - min(moved_shares), moved, giver, taker, tuple(moved_shares)))
    for *_, shares in sorted(moves):
        yield shares


def _patch_ladder(line: PatchLine, product: Product, ome: Callable[[Decimal], Decimal],
                  max_patches: int) -> ListedLadder:
    def delivered(units: Units) -> Decimal:
        return sum((product.release_rate(strength) * count for strength, count in units), Decimal(0))

    first = LineState(product=product, ome_mg_per_day=ome(delivered(line.patches)),
                      patch_mcg_per_hour=line.mcg_per_hour, patch_units=line.patches)
    limit = min(max_patches, product.max_patches or max_patches)
    by_ome: dict[Decimal, LineState] = {}  # one rung per OME: the fewest patches, then the larger label
    for size in range(1, limit + 1):
        for picked in combinations_with_replacement(product.strengths, size):
            units = fewest_units(sum(picked, Decimal(0)), product.strengths, max_units=limit)
            if units is None:
                continue
            rung = LineState(product=product, ome_mg_per_day=ome(delivered(units)),
                             patch_mcg_per_hour=sum(picked, Decimal(0)), patch_units=units)
            known = by_ome.get(rung.ome_mg_per_day)
            if rung.ome_mg_per_day < first.ome_mg_per_day and (known is None or _fewer_patches(rung, known)):
                by_ome[rung.ome_mg_per_day] = rung
    rungs = [first] + [by_ome[value] for value in sorted(by_ome, reverse=True)]
    rungs.append(LineState(product=product, ome_mg_per_day=Decimal(0), patch_mcg_per_hour=Decimal(0)))
    smallest = ome(product.release_rate(product.strengths[0]))
    wear = product.wear_days
    return ListedLadder(product, tuple(rungs), smallest, patch_wear_days=int(wear) if wear is not None else None)


def _fewer_patches(rung: LineState, other: LineState) -> bool:
    count, other_count = sum(n for _, n in rung.patch_units), sum(n for _, n in other.patch_units)
    return (count, -(rung.patch_mcg_per_hour or 0)) < (other_count, -(other.patch_mcg_per_hour or 0))


def _granularity(product: Product) -> Decimal:
    """The smallest step a daily dose can move by: one measure of a liquid (0.5 mL), or the greatest common
    divisor of the strengths of tablets and capsules."""
    if product.concentration_mg_per_ml is not None:
        assert product.measure_ml is not None
        return product.measure_ml * product.concentration_mg_per_ml
    scale = 10 ** max(0, *(-int(strength.normalize().as_tuple().exponent) for strength in product.strengths))  # type: ignore[arg-type]
    divisor = 0
    for strength in product.strengths:
        divisor = math.gcd(divisor, int(strength * scale))
    return Decimal(divisor) / scale


def dose_units(product: Product, dose: Decimal) -> Units | None:
    """The units one dose is made of: its volume for a liquid (if it can be measured), else the fewest
    tablets, capsules or patches."""
    if product.concentration_mg_per_ml is not None:
        volume = dose / product.concentration_mg_per_ml
        return ((volume, 1),) if product.measurable(volume) else None
    return fewest_units(dose, product.strengths)


def _larger_dose_order(times: list[time], larger_at: time | None) -> list[time]:
    """Dose times in the order they receive the larger share: the chosen time first, then later times first
    (an evening dose before a morning one)."""
    ordered = sorted(times, reverse=True)
    if larger_at is not None and larger_at in ordered:
        ordered.remove(larger_at)
        ordered.insert(0, larger_at)
    return ordered
