"""The tapering engine: a regimen and a pace in, a dated schedule of dispensable steps out.

Pure and deterministic. The rules and their sources (shared/reference/domain-research.md, sections b1-b6):
- Pace: a percentage every so many days; default 10% every 14 days, the Faculty of Pain Medicine advice as
  quoted by NHS Sheffield ("10% every two weeks"); Opioids Aware now says 5-10% every 2-6 weeks (b1).
- Basis: `starting` (percentage of the starting total: a straight line), `current` (percentage of the
  current dose, slowing as it falls, with a minimum step so it ends), or `phased`, the CDC 2022 pattern:
  percentage of the original dose until about 30% remains, then of the remaining dose (b1, b2).
- No drift: the ideal total for step k is computed from the start; the step takes the makeable regimen
  nearest that ideal without going above the previous step.
- One medicine at a time, in the order the pharmacist sets (b5); when-needed medicines by lowering the doses
  a day; patches only on a patch-change day, through makeable combinations of at most two patches (b4).
- A step never raises the dose, never uses a dose that cannot be made, and the plan always ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import combinations_with_replacement

from taper.domain.formulary import LIQUID_MEASURE_ML, Formulary, Product
from taper.domain.makeable import Units, fewest_units, plain
from taper.domain.ome import FactorSet, ome_mg_per_day
from taper.domain.regimen import FieldError, Line, PatchLine, PrnLine, Regimen, RegimenError, RegularLine, TimedDose

PHASED_SWITCH_FRACTION = Decimal("0.3")  # CDC 2022: switch to % of the remaining dose at ~30% of the original
# The `current` basis slows as the dose falls; so that it ends, each step takes at least a quarter of the pace
# applied to the starting dose (Taper's own rule, issue 4: "with a minimum step so it ends").
MINIMUM_PACE_SHARE = Decimal("0.25")
MIN_REDUCTION_PCT, MAX_REDUCTION_PCT = Decimal(1), Decimal(50)
MIN_INTERVAL_DAYS, MAX_INTERVAL_DAYS = 3, 56
THOUSANDTH = Decimal("0.001")
MAX_STEPS = 400  # far beyond any real plan: reaching it means a bug, and the engine refuses rather than loops


class Basis(StrEnum):
    STARTING = "starting"
    CURRENT = "current"
    PHASED = "phased"


@dataclass(frozen=True)
class Policy:
    reduction_pct: Decimal = Decimal(10)
    interval_days: int = 14
    basis: Basis = Basis.STARTING
    target_ome_mg_per_day: Decimal = Decimal(0)
    order: tuple[str, ...] = ()  # product keys, first reduced first; empty: the order of the regimen
    order_reason: str = ""  # why the pharmacist chose this order (recorded with the plan)
    larger_dose_at: time | None = None  # where an unequal split puts the larger dose; None: the evening (latest)
    max_patches: int = 2


@dataclass(frozen=True)
class Hold:
    step: int
    extra_days: int


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


@dataclass(frozen=True)
class Step:
    number: int
    starts_on: date
    ends_on: date | None  # None: the last step (stopped, or the maintenance dose going on)
    ome_mg_per_day: Decimal
    lines: tuple[LineState, ...]
    explanation: str
    warnings: tuple[str, ...] = ()
    pace_mg_per_day: Decimal = Decimal(0)  # what the pace asked this step to remove


@dataclass(frozen=True)
class Schedule:
    factor_set: FactorSet
    starting_ome_mg_per_day: Decimal
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()
    starting_lines: tuple[LineState, ...] = ()  # the regimen as taken before step 1


@dataclass(frozen=True)
class _Ladder:
    """Every configuration a line can step down through, from its starting one (rung 0) down to stopped."""

    product: Product
    rungs: tuple[LineState, ...]
    smallest_unit_ome: Decimal  # the OME of the smallest change this line can make
    index: int  # position in the regimen
    patch_wear_days: int | None = None


def build_schedule(regimen: Regimen, *, formulary: Formulary, factor_set: FactorSet, start_on: date,
                   policy: Policy = Policy(), holds: Sequence[Hold] = ()) -> Schedule:
    """The whole plan from the regimen as taken today to the target. Raises RegimenError for a regimen or
    policy the engine cannot taper (naming the field)."""
    _check_policy(policy, regimen, holds)
    ladders = _ladders(regimen, formulary, factor_set, policy)
    ordered = _in_order(ladders, regimen, policy)
    starting = sum((ladder.rungs[0].ome_mg_per_day for ladder in ladders), Decimal(0))
    if starting == 0:
        raise RegimenError([FieldError("regimen", "the usual daily OME is 0 (when-needed doses not usually taken): "
                                                  "there is nothing to taper")])
    if policy.target_ome_mg_per_day >= starting:
        raise RegimenError([FieldError("policy.target_ome_mg_per_day",
                                       f"the target ({plain(policy.target_ome_mg_per_day)} mg a day) must be below "
                                       f"the starting dose ({plain(starting)} mg a day)")])
    configurations = _configurations(ordered, starting, policy)
    steps = _date_steps(configurations, ordered, starting, policy, holds, start_on)
    return Schedule(factor_set=factor_set, starting_ome_mg_per_day=starting, steps=tuple(steps),
                    starting_lines=tuple(ladder.rungs[0] for ladder in ladders))


def replan(previous: Schedule, *, formulary: Formulary, on: date, policy: Policy, holds: Sequence[Hold] = (),
           go_back: bool = False) -> Schedule:
    """Re-plan from `on` with new settings. Steps that started before `on` are history and are kept exactly
    (the one in force on `on` now ends the day before). The new steps continue from the dose in force, or,
    going back, begin on `on` with the previous step's dose (the only time a dose goes up) and continue
    from there. Holding the current step N more days is a re-plan `on` N days after its planned end."""
    past = [step for step in previous.steps if step.starts_on < on]
    if not past:
        raise RegimenError([FieldError("on", "a re-plan needs at least one step taken before it")])
    in_force = past[-1]
    if go_back and len(past) < 2:
        raise RegimenError([FieldError("go_back", "there is no earlier step to go back to")])
    base = past[-2] if go_back else in_force
    if not base.lines:
        raise RegimenError([FieldError("on", "the plan has already stopped: there is nothing to re-plan")])
    regimen = regimen_of(base)
    history = [*past[:-1], replace(in_force, ends_on=on - timedelta(days=1))]
    if go_back:
        back = replace(base, number=len(history) + 1, starts_on=on, ends_on=None,
                       explanation=f"Back to the dose of step {base.number} ({plain(base.ome_mg_per_day)} mg OME a "
                                   "day), as agreed.", warnings=(), pace_mg_per_day=Decimal(0))
        history.append(back)
        on = on + timedelta(days=policy.interval_days)
    rest = build_schedule(regimen, formulary=formulary, factor_set=previous.factor_set, start_on=on,
                          policy=policy, holds=holds)
    if go_back:
        history[-1] = replace(history[-1], ends_on=on - timedelta(days=1))
    offset = len(history)
    steps = history + [replace(step, number=step.number + offset) for step in rest.steps]
    return Schedule(factor_set=previous.factor_set, starting_ome_mg_per_day=previous.starting_ome_mg_per_day,
                    steps=tuple(steps), warnings=previous.warnings, starting_lines=previous.starting_lines)


def hold(previous: Schedule, *, on: date, extra_days: int) -> Schedule:
    """Hold the step in force on `on` for `extra_days` more days: every later step keeps its doses and moves
    by exactly that many days (rounded up to the next patch-change day if a later step changes a patch, and
    said so). Steps begun before `on` are unchanged."""
    if extra_days < 1:
        raise RegimenError([FieldError("extra_days", "a hold must be at least 1 day")])
    current = [step for step in previous.steps if step.starts_on <= on]
    later = [step for step in previous.steps if step.starts_on > on]
    if not current or not later:
        raise RegimenError([FieldError("on", "there is no later step to hold back")])
    wears = {int(line.product.wear_days) for step in later for line in step.lines  # type: ignore[arg-type]
             if line.patch_mcg_per_hour is not None and line.product.wear_days}
    shift = extra_days
    for wear in wears:
        shift = math.ceil(shift / wear) * wear
    note = (f" Held {extra_days} more days" + (f" (to {shift}, so patches still change on patch days)"
                                                if shift != extra_days else "") + ".")
    in_force = current[-1]
    held = replace(in_force, ends_on=in_force.ends_on + timedelta(days=shift) if in_force.ends_on else None,
                   explanation=in_force.explanation + note)
    moved = [replace(step, starts_on=step.starts_on + timedelta(days=shift),
                     ends_on=step.ends_on + timedelta(days=shift) if step.ends_on else None) for step in later]
    return replace(previous, steps=(*current[:-1], held, *moved))


def regimen_of(step: Step) -> Regimen:
    """The regimen a step asks the patient to take, to plan onward from it."""
    lines: list[Line] = []
    for state in step.lines:
        key = state.product.key
        if state.patch_mcg_per_hour is not None:
            lines.append(PatchLine(key, state.patch_mcg_per_hour, state.patch_units))
        elif state.prn_dose_mg is not None:
            lines.append(PrnLine(key, state.prn_dose_mg, state.prn_usual_per_day, state.prn_max_per_day))
        else:
            lines.append(RegularLine(key, tuple(TimedDose(dose.at, dose.dose_mg) for dose in state.doses)))
    return Regimen(lines=tuple(lines))


# Ladders --------------------------------------------------------------------------------------------------

def _ladders(regimen: Regimen, formulary: Formulary, factor_set: FactorSet, policy: Policy) -> list[_Ladder]:
    ladders = []
    errors = []
    for index, line in enumerate(regimen.lines):
        product = formulary.get(line.product)
        where = f"regimen[{index}].product"
        if not product.taper_automatically:
            errors.append(FieldError(where, f"{product.key} is never tapered automatically: specialist advice is "
                                            "needed"))
            continue
        factor = factor_set.factor_for(product)
        if factor is None or factor.value is None:
            errors.append(FieldError(where, f"{product.key} has no OME factor in {factor_set.key}, so it cannot be "
                                            "tapered by OME under that factor set"))
            continue
        ladder = _ladder(line, product, factor_set, policy.max_patches, policy.larger_dose_at)
        ladders.append(replace(ladder, index=index))
    if errors:
        raise RegimenError(errors)
    return ladders


@lru_cache(maxsize=512)
def _ladder(line: Line, product: Product, factor_set: FactorSet, max_patches: int,
            larger_dose_at: time | None) -> _Ladder:
    """A line's ladder; pure, so kept for the next plan of the same line (a pharmacist trying paces)."""
    def ome(amount: Decimal) -> Decimal:
        value = ome_mg_per_day(product, amount, factor_set)
        assert value is not None  # checked by the caller
        return value

    if isinstance(line, PatchLine):
        return _patch_ladder(line, product, ome, max_patches)
    if isinstance(line, PrnLine):
        units = _dose_units(product, line.dose_mg)
        rungs = tuple(
            LineState(product=product, ome_mg_per_day=ome(line.dose_mg * max(line.usual_per_day - step, 0)),
                      prn_dose_mg=line.dose_mg, prn_usual_per_day=max(line.usual_per_day - step, 0),
                      prn_max_per_day=line.max_per_day - step, prn_units=units or ())
            for step in range(line.max_per_day + 1))
        return _Ladder(product, rungs, ome(line.dose_mg), index=0)
    return _regular_ladder(line, product, ome, larger_dose_at)


def forget_ladders() -> None:
    """Empty the ladder cache (benchmarks use it to time a first build)."""
    _ladder.cache_clear()


def _regular_ladder(line: RegularLine, product: Product, ome, larger_dose_at: time | None) -> _Ladder:  # type: ignore[no-untyped-def]
    times = [dose.at for dose in line.doses]
    first = LineState(product=product, ome_mg_per_day=ome(line.amount_per_day()),
                      doses=tuple(Dose(dose.at, dose.dose_mg, _dose_units(product, dose.dose_mg) or ())
                                  for dose in line.doses))
    grain = _granularity(product)
    priority = _larger_dose_order(times, larger_dose_at)
    rungs = [first]
    multiple = math.floor(line.amount_per_day() / grain)
    if multiple * grain == line.amount_per_day():
        multiple -= 1
    for count in range(multiple, -1, -1):
        doses = _balanced(count, grain, priority, product)
        if doses is not None:
            rungs.append(LineState(product=product, ome_mg_per_day=ome(count * grain), doses=doses))
    return _Ladder(product, tuple(rungs), ome(grain), index=0)


def _balanced(count: int, grain: Decimal, priority: list[time], product: Product) -> tuple[Dose, ...] | None:
    """`count` grains a day over the dose times, each dose made from the strengths available, the doses
    differing by at most the smallest strength (as even as possible; then the fewest tablets); larger doses
    at the priority times first, and a dose of zero dropped. None if no such split exists."""
    base, extra = divmod(count, len(priority))
    even = [(base + (1 if position < extra else 0)) * grain for position in range(len(priority))]
    made = [_dose_units(product, amount) if amount else () for amount in even]
    if all(units is not None for units in made):  # the usual case: the most even split can be made
        return tuple(sorted((Dose(at, amount, units or ()) for at, amount, units in zip(priority, even, made,
                                                                                          strict=True) if amount),
                            key=lambda dose: dose.at))
    total = count * grain
    spread = product.strengths[0] if product.concentration_mg_per_ml is None else grain
    share = total / len(priority)
    lowest, highest = max(math.ceil((share - spread) / grain), 1), min(math.floor((share + spread) / grain), count)
    amounts = [Decimal(0)] + [grain * step for step in range(lowest, highest + 1)
                              if _dose_units(product, grain * step)]
    best: tuple[tuple[Decimal, int], tuple[Decimal, ...]] | None = None
    for split in combinations_with_replacement(sorted(amounts, reverse=True), len(priority)):
        if sum(split, Decimal(0)) != total or split[0] - split[-1] > spread:
            continue
        tablets = sum(sum(n for _, n in _dose_units(product, amount) or ()) for amount in split if amount)
        key = (split[0] - split[-1], tablets)
        if best is None or key < best[0]:
            best = (key, split)
    if best is None:
        return None
    doses = [Dose(at, amount, _dose_units(product, amount) or ()) for at, amount in zip(priority, best[1],
                                                                                      strict=True) if amount]
    return tuple(sorted(doses, key=lambda dose: dose.at))


def _patch_ladder(line: PatchLine, product: Product, ome, max_patches: int) -> _Ladder:  # type: ignore[no-untyped-def]
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
    return _Ladder(product, tuple(rungs), smallest, index=0, patch_wear_days=int(wear) if wear is not None else None)


def _fewer_patches(rung: LineState, other: LineState) -> bool:
    count, other_count = sum(n for _, n in rung.patch_units), sum(n for _, n in other.patch_units)
    return (count, -(rung.patch_mcg_per_hour or 0)) < (other_count, -(other.patch_mcg_per_hour or 0))


def _granularity(product: Product) -> Decimal:
    """The smallest step a daily dose can move by: a tenth of a millilitre of a liquid, or the greatest common
    divisor of the strengths of tablets and capsules."""
    if product.concentration_mg_per_ml is not None:
        return LIQUID_MEASURE_ML * product.concentration_mg_per_ml
    scale = 10 ** max(0, *(-int(strength.normalize().as_tuple().exponent) for strength in product.strengths))  # type: ignore[arg-type]
    divisor = 0
    for strength in product.strengths:
        divisor = math.gcd(divisor, int(strength * scale))
    return Decimal(divisor) / scale


def _dose_units(product: Product, dose: Decimal) -> Units | None:
    if product.concentration_mg_per_ml is not None:
        volume = dose / product.concentration_mg_per_ml
        return ((volume, 1),) if volume % LIQUID_MEASURE_ML == 0 else None
    return fewest_units(dose, product.strengths)


def _larger_dose_order(times: list[time], larger_at: time | None) -> list[time]:
    """Dose times in the order they receive the larger share: the chosen time first, then later times first
    (an evening dose before a morning one)."""
    ordered = sorted(times, reverse=True)
    if larger_at is not None and larger_at in ordered:
        ordered.remove(larger_at)
        ordered.insert(0, larger_at)
    return ordered


def _in_order(ladders: list[_Ladder], regimen: Regimen, policy: Policy) -> list[_Ladder]:
    if not policy.order:
        return ladders
    position = {key: rank for rank, key in enumerate(policy.order)}
    return sorted(ladders, key=lambda ladder: (position[ladder.product.key], ladder.index))


# Choosing each step's configuration ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Configuration:
    k: int  # the pace's step index this configuration answers (dates follow it)
    rungs: tuple[int, ...]  # rung index per ladder (in reduction order)
    ideal_mg: Decimal
    pace_mg: Decimal  # what the pace asked this step to remove (since the previous step)
    interval_pace_mg: Decimal  # what the pace asks of one interval at this point of the plan


def _ideal(k: int, starting: Decimal, policy: Policy, phase_start: tuple[int, Decimal] | None) -> Decimal:
    """The ideal total for step k, always computed from the start so that rounding never accumulates."""
    fraction = policy.reduction_pct / 100
    linear = starting - k * fraction * starting
    floor_line = starting - k * fraction * MINIMUM_PACE_SHARE * starting
    if policy.basis is Basis.STARTING or (policy.basis is Basis.PHASED and phase_start is None):
        value = linear
    elif policy.basis is Basis.CURRENT:
        value = min(starting * (1 - fraction) ** k, floor_line)
    else:
        assert phase_start is not None
        switch_step, switch_value = phase_start
        value = min(switch_value * (1 - fraction) ** (k - switch_step), floor_line)
    return max(value, policy.target_ome_mg_per_day)


def _configurations(ladders: list[_Ladder], starting: Decimal, policy: Policy) -> list[_Configuration]:
    """The distinct configurations the plan steps through. A pace step whose ideal still rounds to the current
    configuration adds no step: the current one simply lasts longer."""
    current = tuple(0 for _ in ladders)
    chosen: list[_Configuration] = []
    phase_start: tuple[int, Decimal] | None = None
    previous_ideal = last_ideal = starting
    for k in range(1, MAX_STEPS + 1):
        ideal = _ideal(k, starting, policy, phase_start)
        interval_pace, last_ideal = last_ideal - ideal, ideal
        if policy.basis is Basis.PHASED and phase_start is None and ideal <= PHASED_SWITCH_FRACTION * starting:
            phase_start = (k, ideal)
        at_target = ideal <= policy.target_ome_mg_per_day
        rungs = _nearest(ladders, current, starting - ideal)
        if rungs != current:
            # The pace's ask is shown and stored to a thousandth of a mg (it is guidance, not a dose).
            chosen.append(_Configuration(k, rungs, ideal, (previous_ideal - ideal).quantize(THOUSANDTH),
                                         interval_pace))
            current, previous_ideal = rungs, ideal
        if at_target:
            break
    else:
        raise RegimenError([FieldError("policy", "this plan would not reach its target: try a larger reduction")])
    if not chosen:
        raise RegimenError([FieldError("policy.target_ome_mg_per_day",
                                       "the target is so close to the starting dose that no step can be made")])
    return chosen


def _nearest(ladders: list[_Ladder], current: tuple[int, ...], reduction: Decimal) -> tuple[int, ...]:
    """Give the reduction to the lines in order, then round each line to its nearest rung at or below where
    it is now. Between rungs of equal OME, a line the reduction has reached takes the lower one (a
    when-needed medicine down to no doses at all); a line it has not reached stays where it is."""
    rungs = []
    remaining = reduction
    for ladder, now in zip(ladders, current, strict=True):
        reached = remaining > 0
        start_ome = ladder.rungs[0].ome_mg_per_day
        target = max(start_ome - remaining, Decimal(0))
        remaining -= start_ome - target
        direction = -1 if reached else 1
        here = ladder.rungs[now].ome_mg_per_day
        best, best_key = now, (abs(here - target), direction * now)
        for i in range(now + 1, len(ladder.rungs)):  # rungs fall in OME: stop once past the target and worse
            value = ladder.rungs[i].ome_mg_per_day
            if value >= here:
                continue
            key = (abs(value - target), direction * i)
            if key < best_key:
                best, best_key = i, key
            elif value < target and key[0] > best_key[0]:
                break
        rungs.append(best)
    return tuple(rungs)


def _total(ladders: list[_Ladder], rungs: tuple[int, ...]) -> Decimal:
    return sum((ladder.rungs[rung].ome_mg_per_day for ladder, rung in zip(ladders, rungs, strict=True)),
               Decimal(0))


# Dates, explanations and warnings -----------------------------------------------------------------------

def _date_steps(configurations: list[_Configuration], ladders: list[_Ladder], starting: Decimal, policy: Policy,
                holds: Sequence[Hold], start_on: date) -> list[Step]:
    """Date the configurations (dates follow the pace's step index, plus holds, moved to patch-change days
    where a patch changes) and explain each."""
    extra = {hold.step: hold.extra_days for hold in holds}
    first_k = configurations[0].k
    starts: list[date] = []
    held_days = 0
    previous_rungs = tuple(0 for _ in ladders)
    for number, configuration in enumerate(configurations, start=1):
        held_days += extra.get(number - 1, 0)
        day = start_on + timedelta(days=(configuration.k - first_k) * policy.interval_days + held_days)
        if starts:
            day = _patch_day(max(day, starts[-1] + timedelta(days=1)), ladders, previous_rungs, configuration.rungs,
                             start_on)
        starts.append(day)
        previous_rungs = configuration.rungs
    steps: list[Step] = []
    previous_rungs, previous_total = tuple(0 for _ in ladders), starting
    for number, (configuration, starts_on) in enumerate(zip(configurations, starts, strict=True), start=1):
        total = _total(ladders, configuration.rungs)
        is_last = number == len(configurations)
        stopped = is_last and total == 0
        lines = () if stopped else tuple(
            ladder.rungs[rung] for ladder, rung in sorted(zip(ladders, configuration.rungs, strict=True),
                                                          key=lambda pair: pair[0].index)
            if not ladder.rungs[rung].is_stopped)
        steps.append(Step(
            number=number, starts_on=starts_on, ends_on=None if is_last else starts[number] - timedelta(days=1),
            ome_mg_per_day=total, lines=lines,
            explanation=_explain(configuration, ladders, previous_rungs, policy, total, stopped),
            warnings=_warnings(configuration, ladders, previous_rungs, previous_total - total),
            pace_mg_per_day=configuration.pace_mg))
        previous_rungs, previous_total = configuration.rungs, total
    return steps


def _patch_day(candidate: date, ladders: list[_Ladder], before: tuple[int, ...], after: tuple[int, ...],
               start_on: date) -> date:
    """The first day from `candidate` on which every patch that changes in this step is due to be changed."""
    wears = [ladder.patch_wear_days for ladder, old, new in zip(ladders, before, after, strict=True)
             if ladder.patch_wear_days and old != new]
    day = candidate
    while any((day - start_on).days % wear for wear in wears if wear):
        day += timedelta(days=1)
    return day


def _explain(configuration: _Configuration, ladders: list[_Ladder], before: tuple[int, ...], policy: Policy,
             total: Decimal, stopped: bool) -> str:
    basis = {Basis.STARTING: "starting", Basis.CURRENT: "current", Basis.PHASED: "starting"}[policy.basis]
    parts = [f"{plain(policy.reduction_pct)}% of the {basis} dose brings the target to "
             f"{plain(configuration.ideal_mg.quantize(Decimal('0.1')))} mg OME a day; the nearest dose you "
             f"can make without going up is {plain(total)} mg."]
    for ladder, old, new in zip(ladders, before, configuration.rungs, strict=True):
        if old != new:
            parts.append(_change(ladder.rungs[old], ladder.rungs[new]))
    if stopped:
        parts.append("Stop: no more opioid doses.")
    return " ".join(parts)


def _change(old: LineState, new: LineState) -> str:
    name = old.product.label()
    if new.is_stopped:
        return f"Stop {name.lower()}."
    if old.patch_mcg_per_hour is not None:
        return (f"{name}: change from {plain(old.patch_mcg_per_hour)} to {plain(new.patch_mcg_per_hour or Decimal(0))} "
                "micrograms an hour.")
    if old.prn_dose_mg is not None:
        return (f"{name} when needed: at most {new.prn_max_per_day} a day (was {old.prn_max_per_day}), usually "
                f"{new.prn_usual_per_day}.")
    was = {dose.at: dose.dose_mg for dose in old.doses}
    now = {dose.at: dose.dose_mg for dose in new.doses}
    changes = []
    for at in sorted(was):
        label = _time_name(at)
        if at not in now:
            changes.append(f"stop the {label} dose")
        elif now[at] != was[at]:
            changes.append(f"{label} dose {plain(was[at])} mg to {plain(now[at])} mg")
    return f"{name}: " + "; ".join(changes) + "."


def _time_name(at: time) -> str:
    if at.hour < 11:
        return f"morning ({at:%H:%M})"
    if at.hour < 14:
        return f"midday ({at:%H:%M})"
    if at.hour < 18:
        return f"afternoon ({at:%H:%M})"
    return f"evening ({at:%H:%M})"


def _warnings(configuration: _Configuration, ladders: list[_Ladder], before: tuple[int, ...],
              removed: Decimal) -> tuple[str, ...]:
    """Explain a step that removes more than the pace asks plus the smallest change of the line reduced, or
    much more than one interval's pace because the smallest change possible is larger (a 12 microgram/hour
    fentanyl patch is about 30 mg OME a day): such a step waits, then removes a lot at once."""
    changed = [ladder for ladder, old, new in zip(ladders, before, configuration.rungs, strict=True) if old != new]
    if not changed:
        return ()
    unit = max(ladder.smallest_unit_ome for ladder in changed)
    much_larger = configuration.interval_pace_mg * Decimal("1.5")
    coarse = unit > much_larger and removed > much_larger
    if removed <= configuration.pace_mg + unit and not coarse:
        return ()
    advice = ("consider holding longer at each step, or, with specialist advice, switching to an oral opioid "
              "for smaller steps" if any(ladder.patch_wear_days for ladder in changed)
              else "consider holding this step longer if withdrawal is troublesome")
    return (f"This step removes {plain(removed)} mg OME a day at once, more than the pace asks of each interval "
            f"({plain(configuration.interval_pace_mg.quantize(Decimal('0.1')))} mg), because the smallest change "
            f"possible here is larger: {advice}.",)


def _check_policy(policy: Policy, regimen: Regimen, holds: Sequence[Hold]) -> None:
    errors = []
    if not MIN_REDUCTION_PCT <= policy.reduction_pct <= MAX_REDUCTION_PCT:
        errors.append(FieldError("policy.reduction_pct",
                                 f"must be from 1 to 50 (%), not {plain(policy.reduction_pct)}"))
    if not MIN_INTERVAL_DAYS <= policy.interval_days <= MAX_INTERVAL_DAYS:
        errors.append(FieldError("policy.interval_days", f"must be from 3 to 56 days, not {policy.interval_days}"))
    if policy.target_ome_mg_per_day < 0:
        errors.append(FieldError("policy.target_ome_mg_per_day", "must be 0 (stop) or a positive maintenance dose"))
    if len(policy.order_reason) > 500:
        errors.append(FieldError("policy.order_reason", "must be 500 characters or fewer"))
    if not 1 <= policy.max_patches <= 4:
        errors.append(FieldError("policy.max_patches", f"must be from 1 to 4, not {policy.max_patches}"))
    keys = [line.product for line in regimen.lines]
    if policy.order and sorted(set(policy.order)) != sorted(set(keys)):
        errors.append(FieldError("policy.order", "must list each product in the regimen once: "
                                                 + ", ".join(dict.fromkeys(keys))))
    for index, hold in enumerate(holds):
        if hold.step < 1 or not 1 <= hold.extra_days <= 365:
            errors.append(FieldError(f"holds[{index}]", "a hold needs a step from 1 and 1 to 365 extra days"))
    if errors:
        raise RegimenError(errors)
