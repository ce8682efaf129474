"""The tapering engine: a regimen and a pace in, a dated schedule of dispensable steps out.

Pure and deterministic. The rules and their sources (docs/clinical-sources.md, in the sections named in brackets;
holds and re-planning: Holds, slowing down and going back):
- Pace: a percentage every so many days; default 10% every 14 days, the Faculty of Pain Medicine advice as
  quoted by NHS Sheffield ("10% every two weeks"); Opioids Aware now says 5-10% every 2-6 weeks (Pace of
  tapering).
- Basis: `starting` (percentage of the starting total: a straight line, whose pace halves from a third of the
  starting dose unless the tail is turned off), `current` (percentage of the current dose, slowing as it
  falls, with a minimum step so it ends), or `phased`, the CDC 2022 pattern: percentage of the original dose
  until about 30% remains, then of the remaining dose (Pace of tapering; The tail of a taper).
- No drift: the ideal total for step k is computed from the start; the step takes the makeable regimen
  nearest that ideal without going above the previous step.
- Gentle steps (issue 13): no step but the last removes more than half of the dose then taken, a line stops
  only from its smallest doses, a when-needed line loses one dose a day at a time, no single dose ever rises,
  and a step uses at most two strengths of a product and four units a dose, keeping to the strengths of the
  step before where it can; each exception is warned. Each line's possible doses are its ladder
  (taper.domain.ladders), whose rungs are made only when a step looks at them.
- One medicine at a time, in the order the pharmacist sets, or by default when-needed doses first, then
  immediate-release, modified-release and patches (Order of medicines); patches only on a patch-change day,
  through makeable combinations of at most two patches (Patches).
- A step never raises the dose, never uses a dose that cannot be made, and the plan always ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal
from enum import StrEnum

from taper.domain.formulary import Formulary, Product
from taper.domain.ladders import MAX_UNITS_PER_DOSE, Ladder, LineState, ladder_for
from taper.domain.makeable import plain
from taper.domain.ome import FactorSet, ome_mg_per_day
from taper.domain.regimen import FieldError, Line, PatchLine, PrnLine, Regimen, RegimenError, RegularLine, TimedDose
from taper.domain.switches import PROPOSALS, Switch, apply

PHASED_SWITCH_FRACTION = Decimal("0.3")  # CDC 2022: switch to % of the remaining dose at ~30% of the original
# The `current` basis slows as the dose falls; so that it ends, each step takes at least a quarter of the pace
# applied to the starting dose (Taper's own rule, issue 4: "with a minimum step so it ends").
MINIMUM_PACE_SHARE = Decimal("0.25")
# A gentle tail (issue 13 rule 2; docs/clinical-sources.md, Pace of tapering): from one third of the starting
# dose the `starting` basis halves its pace (the Canadian 2017 guideline; CDC 2022 slows at about 30%; Opioids
# Aware: the longer on opioids, the slower), and no step but the last removes more than half of the dose then
# taken unless it says why.
TAIL_FROM_FRACTION = Decimal(1) / 3
TAIL_PACE_SHARE = Decimal("0.5")
HALF = Decimal("0.5")
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
    # The `starting` basis halves its pace from one third of the starting dose (a gentle tail; issue 13 rule 2).
    tail: bool = True
    switches: tuple[Switch, ...] = ()  # same-drug switches made at step 1 (taper.domain.switches)


@dataclass(frozen=True)
class Hold:
    step: int
    extra_days: int


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
    ome_at_max_mg_per_day: Decimal | None = None  # with when-needed doses at their maximum; None: as ome_mg_per_day
    held_days: int = 0  # days this step was held longer than the pace (after rounding to patch-change days)


@dataclass(frozen=True)
class Schedule:
    factor_set: FactorSet
    starting_ome_mg_per_day: Decimal
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()
    starting_lines: tuple[LineState, ...] = ()  # the regimen as taken before step 1
    order: tuple[str, ...] = ()  # the products in the order they were reduced (the pharmacist's or the default)
    # How its when-needed doses are supplied (taper.domain.dispensing): at the usual use agreed, or, for versions
    # stored before issue 14, at their daily maximum, so that their issued documents and pages still agree.
    when_needed_supply: str = "usual"


def build_schedule(regimen: Regimen, *, formulary: Formulary, factor_set: FactorSet, start_on: date,
                   policy: Policy = Policy(), holds: Sequence[Hold] = ()) -> Schedule:
    """The whole plan from the regimen as taken today to the target. Raises RegimenError for a regimen or
    policy the engine cannot taper (naming the field). Same-drug switches come first, as a step of their own."""
    if policy.switches:
        return _switched_first(regimen, formulary=formulary, factor_set=factor_set, start_on=start_on,
                               policy=policy, holds=holds)
    _check_policy(policy, regimen, holds)
    ladders = _ladders(regimen, formulary, factor_set, policy)
    ordered = _in_order(ladders, regimen, policy)
    starting = sum((ladder.first.ome_mg_per_day for ladder in ladders), Decimal(0))
    if starting == 0 and not any(ladder.is_prn and ladder.first.prn_max_per_day for ladder in ladders):
        raise RegimenError([FieldError("regimen", "the usual daily OME is 0 (when-needed doses not usually taken): "
                                                  "there is nothing to taper")])
    # (A usual dose of 0 with when-needed doses allowed still tapers: the maximum comes down a dose at a time.)
    if policy.target_ome_mg_per_day and policy.target_ome_mg_per_day >= starting:
        raise RegimenError([FieldError("policy.target_ome_mg_per_day",
                                       f"the target ({plain(policy.target_ome_mg_per_day)} mg a day) must be below "
                                       f"the starting dose ({plain(starting)} mg a day)")])
    configurations = _configurations(ordered, starting, policy)
    steps = _date_steps(configurations, ordered, starting, policy, holds, start_on)
    return Schedule(factor_set=factor_set, starting_ome_mg_per_day=starting, steps=tuple(steps),
                    starting_lines=tuple(ladder.first for ladder in ladders),
                    order=tuple(dict.fromkeys(ladder.product.key for ladder in ordered)))


def _switched_first(regimen: Regimen, *, formulary: Formulary, factor_set: FactorSet, start_on: date,
                    policy: Policy, holds: Sequence[Hold]) -> Schedule:
    """Step 1 is the switch (the same dose in the new product, or the confirmed lower patch) for one interval,
    rounded up to whole patch periods so that patches keep their days; the taper of the switched regimen
    follows, with the new product in the old one's place in the order. A hold of step 1 lengthens the switch."""
    _check_policy(replace(policy, switches=()), regimen, holds)
    original = _ladders(regimen, formulary, factor_set, policy)
    switched, said = apply(regimen, policy.switches, formulary)
    renamed = {switch.from_product: switch.to_product for switch in policy.switches}
    onward = replace(policy, switches=(), order=tuple(renamed.get(key, key) for key in policy.order))
    held = sum(hold.extra_days for hold in holds if hold.step == 1)
    days = _whole_patch_periods(policy.interval_days + held, (
        int(formulary.get(line.product).wear_days or 1) for line in switched.lines if isinstance(line, PatchLine)))
    rest = build_schedule(switched, formulary=formulary, factor_set=factor_set,
                          start_on=start_on + timedelta(days=days), policy=onward,
                          holds=[replace(hold, step=hold.step - 1) for hold in holds if hold.step > 1])
    first_lines = rest.starting_lines  # (in the regimen's order)
    first = Step(number=1, starts_on=start_on, ends_on=start_on + timedelta(days=days - 1),
                 ome_mg_per_day=rest.starting_ome_mg_per_day, lines=first_lines, explanation=" ".join(said),
                 ome_at_max_mg_per_day=sum((_line_at_max(line, factor_set) for line in first_lines), Decimal(0)),
                 held_days=held)
    steps = (first, *(replace(step, number=step.number + 1) for step in rest.steps))
    starting = sum((ladder.first.ome_mg_per_day for ladder in original), Decimal(0))
    return Schedule(factor_set=factor_set, starting_ome_mg_per_day=starting, steps=steps, warnings=rest.warnings,
                    starting_lines=tuple(ladder.first for ladder in original), order=rest.order)


def _line_at_max(line: LineState, factor_set: FactorSet) -> Decimal:
    """A line's OME with its when-needed doses at their maximum a day."""
    if line.prn_dose_mg is None:
        return line.ome_mg_per_day
    return ome_mg_per_day(line.product, line.prn_dose_mg * line.prn_max_per_day, factor_set) or Decimal(0)


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
    policy = replace(policy, switches=())  # made at the start of the plan, once
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
                    steps=tuple(steps), warnings=previous.warnings, starting_lines=previous.starting_lines,
                    order=rest.order)


def hold(previous: Schedule, *, on: date, extra_days: int) -> Schedule:
    """Hold the step in force on `on` for `extra_days` more days: every later step keeps its doses and moves
    by exactly that many days, rounded up to whole patch periods while a patch is worn (the held step says so
    in a warning and records the days actually held). Steps begun before `on` are unchanged."""
    if extra_days < 1:
        raise RegimenError([FieldError("extra_days", "a hold must be at least 1 day")])
    current = [step for step in previous.steps if step.starts_on <= on]
    later = [step for step in previous.steps if step.starts_on > on]
    if not current or not later:
        raise RegimenError([FieldError("on", "there is no later step to hold back")])
    wears = {int(line.product.wear_days) for step in (current[-1], *later)  # type: ignore[arg-type]
             for line in step.lines if line.patch_mcg_per_hour is not None and line.product.wear_days}
    shift = _whole_patch_periods(extra_days, wears)
    note = (f" Held {extra_days} more days" + (f" (to {shift}, so patches still change on patch days)"
                                                if shift != extra_days else "") + ".")
    rounded = (f"Held {shift} days, rounded to the patch-change day (asked: {extra_days} days).",) \
        if shift != extra_days else ()
    in_force = current[-1]
    held = replace(in_force, ends_on=in_force.ends_on + timedelta(days=shift) if in_force.ends_on else None,
                   explanation=in_force.explanation + note, warnings=in_force.warnings + rounded,
                   held_days=in_force.held_days + shift)
    moved = [replace(step, starts_on=step.starts_on + timedelta(days=shift),
                     ends_on=step.ends_on + timedelta(days=shift) if step.ends_on else None) for step in later]
    return replace(previous, steps=(*current[:-1], held, *moved))


def regimen_of(step: Step) -> Regimen:
    """The regimen a step asks the patient to take, to plan onward from it."""
    lines: list[Line] = []
    for state in step.lines:
        key, brand = state.product.key, state.product.brand
        if state.patch_mcg_per_hour is not None:
            lines.append(PatchLine(key, state.patch_mcg_per_hour, state.patch_units, brand))
        elif state.prn_dose_mg is not None:
            lines.append(PrnLine(key, state.prn_dose_mg, state.prn_usual_per_day, state.prn_max_per_day, brand))
        else:
            doses = tuple(TimedDose(dose.at, dose.dose_mg, dose.units) for dose in state.doses)
            lines.append(RegularLine(key, doses, brand))
    return Regimen(lines=tuple(lines))


# Ladders --------------------------------------------------------------------------------------------------

def _ladders(regimen: Regimen, formulary: Formulary, factor_set: FactorSet, policy: Policy) -> list[Ladder]:
    ladders = []
    errors = []
    for index, line in enumerate(regimen.lines):
        product = formulary.as_prescribed(line.product, line.brand)  # the brand's strengths (or generic ones)
        where = f"regimen[{index}].product"
        if not product.taper_automatically:
            errors.append(FieldError(where, f"{product.label()} is never tapered automatically: specialist advice is "
                                            "needed"))
            continue
        factor = factor_set.factor_for(product)
        if factor is None or factor.value is None:
            errors.append(FieldError(where, f"{product.label()} has no OME factor in {factor_set.key}, so it cannot be "
                                            "tapered by OME under that factor set"))
            continue
        ladders.append(replace(ladder_for(line, product, factor.value, policy.max_patches, policy.larger_dose_at),
                               index=index))
    if errors:
        raise RegimenError(errors)
    return ladders


def _in_order(ladders: list[Ladder], regimen: Regimen, policy: Policy) -> list[Ladder]:
    """The pharmacist's order; by default, UK practice (issue 13 rule 5): when-needed doses first, then regular
    immediate-release, then modified-release, patches last (regimen order within each)."""
    if not policy.order:
        return sorted(ladders, key=lambda ladder: (_default_rank(regimen.lines[ladder.index], ladder.product),
                                                   ladder.index))
    position = {key: rank for rank, key in enumerate(policy.order)}
    return sorted(ladders, key=lambda ladder: (position[ladder.product.key], ladder.index))


def default_order(regimen: Regimen, formulary: Formulary) -> tuple[str, ...]:
    """The products in the order the engine reduces them when the pharmacist sets none (for the builder to offer
    as its starting order): a product with a when-needed line goes where that line goes."""
    ranked = sorted(range(len(regimen.lines)), key=lambda index: (
        _default_rank(regimen.lines[index], formulary.get(regimen.lines[index].product)), index))
    return tuple(dict.fromkeys(regimen.lines[index].product for index in ranked))


def _default_rank(line: Line, product: Product) -> int:
    if isinstance(line, PrnLine):
        return 0
    if product.is_patch:
        return 3
    return 1 if product.release.value == "ir" else 2


# Choosing each step's configuration ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Configuration:
    k: int  # the pace's step index this configuration answers (dates follow it)
    rungs: tuple[int, ...]  # rung index per ladder (in reduction order)
    states: tuple[LineState, ...]  # each line as taken (in reduction order)
    practical: tuple[bool, ...]  # each line's doses keep to two strengths and four units a dose
    ideal_mg: Decimal
    pace_mg: Decimal  # what the pace asked this step to remove (since the previous step)
    interval_pace_mg: Decimal  # what the pace asks of one interval at this point of the plan
    total: Decimal  # the daily OME of the configuration


def _ideal(k: int, starting: Decimal, policy: Policy, phase_start: tuple[int, Decimal] | None) -> Decimal:
    """The ideal total for step k, always computed from the start so that rounding never accumulates."""
    fraction = policy.reduction_pct / 100
    linear = starting - k * fraction * starting
    floor_line = starting - k * fraction * MINIMUM_PACE_SHARE * starting
    if policy.basis is Basis.STARTING:
        tail_from = starting * TAIL_FROM_FRACTION
        value = tail_from - (tail_from - linear) * TAIL_PACE_SHARE if policy.tail and linear < tail_from else linear
    elif policy.basis is Basis.PHASED and phase_start is None:
        value = linear
    elif policy.basis is Basis.CURRENT:
        value = min(starting * (1 - fraction) ** k, floor_line)
    else:
        assert phase_start is not None
        switch_step, switch_value = phase_start
        value = min(switch_value * (1 - fraction) ** (k - switch_step), floor_line)
    return max(value, policy.target_ome_mg_per_day)


def _configurations(ladders: list[Ladder], starting: Decimal, policy: Policy) -> list[_Configuration]:
    """The distinct configurations the plan steps through. A pace step whose ideal still rounds to the current
    configuration adds no step: the current one simply lasts longer. A step held back by the gentle rules (at
    most half; a line stops from its smallest doses; one when-needed dose at a time) leaves the next step to
    catch up, and that step's ask is from the dose actually taken. Each step's doses are made from the step
    before (no dose rises; the strengths the patient has are kept where they can be)."""
    current, current_total = tuple(0 for _ in ladders), starting
    states = tuple(ladder.first for ladder in ladders)
    chosen: list[_Configuration] = []
    phase_start: tuple[int, Decimal] | None = None
    previous_ideal = last_ideal = starting
    for k in range(1, MAX_STEPS + 1):
        ideal = _ideal(k, starting, policy, phase_start)
        interval_pace, last_ideal = last_ideal - ideal, ideal
        if policy.basis is Basis.PHASED and phase_start is None and ideal <= PHASED_SWITCH_FRACTION * starting:
            phase_start = (k, ideal)
        at_target = ideal <= policy.target_ome_mg_per_day
        rungs = _at_most_half(ladders, current, states, current_total,
                              _nearest(ladders, current, states, starting - ideal))
        if rungs != current:
            made = [(state, True) if rung == now else ladder.made(rung, state)
                    for ladder, now, rung, state in zip(ladders, current, rungs, states, strict=True)]
            assert all(made_up is not None for made_up in made)  # every rung chosen was made from `states`
            states = tuple(state for state, _ in made)  # type: ignore[misc]
            current, current_total = rungs, _total(ladders, rungs)
            # The pace's ask is shown and stored to a thousandth of a mg (it is guidance, not a dose).
            chosen.append(_Configuration(k, rungs, states, tuple(practical for _, practical in made),  # type: ignore[misc]
                                         ideal, (previous_ideal - ideal).quantize(THOUSANDTH), interval_pace,
                                         current_total))
            previous_ideal = max(ideal, current_total)  # behind the pace: the next step catches up
        if at_target and (policy.target_ome_mg_per_day > 0 or all(
                ladder.is_stopped(rung) for ladder, rung in zip(ladders, current, strict=True))):
            break  # (to stop, every line's last dose comes down first: a when-needed maximum too)
    else:
        raise RegimenError([FieldError("policy", "this plan would not reach its target: try a larger reduction")])
    if not chosen:
        raise RegimenError([FieldError("policy.target_ome_mg_per_day",
                                       "the target is so close to the starting dose that no step can be made")])
    return chosen


def _nearest(ladders: list[Ladder], current: tuple[int, ...], states: tuple[LineState, ...],
             reduction: Decimal) -> tuple[int, ...]:
    """Give the reduction to the lines in order, then round each line to its nearest rung at or below where
    it is now (Ladder.nearest). A reduction of everything reaches every line."""
    rungs = []
    remaining = reduction
    everything = reduction >= sum((ladder.first.ome_mg_per_day for ladder in ladders), Decimal(0))
    for ladder, now, state in zip(ladders, current, states, strict=True):
        reached = remaining > 0 or everything
        start_ome = ladder.first.ome_mg_per_day
        target = max(start_ome - remaining, Decimal(0))
        remaining -= start_ome - target
        rungs.append(_gently(ladder, now, state, ladder.nearest(now, state, target, reached)))
    return tuple(rungs)


def _gently(ladder: Ladder, now: int, state: LineState, chosen: int) -> int:
    """Where a line may go this step: a when-needed line gives up at most one dose a day, and a line stops only
    from two of its smallest units a day (one patch) or less; otherwise it goes to its smallest dose first."""
    if ladder.is_prn:
        return min(chosen, now + 1)
    if ladder.is_stopped(chosen) and ladder.ome(now) > ladder.stop_from_ome:
        lowest = ladder.lowest_before_stop(now, state)
        if lowest > now:
            return lowest
    return chosen


def _at_most_half(ladders: list[Ladder], current: tuple[int, ...], states: tuple[LineState, ...],
                  current_total: Decimal, rungs: tuple[int, ...]) -> tuple[int, ...]:
    """Hold a step back so that it removes at most half of the dose then taken (the last step, a stop from the
    smallest doses, excepted): the lines reduced last give way first, and each line keeps the largest reduction
    that leaves half. Where even the smallest change of the first line removes more, that change is taken (and
    the step warns)."""
    if rungs == current:
        return rungs
    floor, total = current_total * HALF, _total(ladders, rungs)
    if total >= floor or total == 0:
        return rungs
    adjusted = list(rungs)
    for position in reversed(range(len(ladders))):
        ladder = ladders[position]
        others = _total(ladders, tuple(adjusted)) - ladder.ome(adjusted[position])
        adjusted[position] = ladder.highest_at_least(current[position], adjusted[position], floor - others,
                                                     states[position])
        if _total(ladders, tuple(adjusted)) >= floor and tuple(adjusted) != current:
            return tuple(adjusted)
    first = next(position for position, (old, new) in enumerate(zip(current, rungs, strict=True)) if old != new)
    smallest = list(current)
    smallest[first] = ladders[first].next_lower(current[first], states[first])
    return tuple(smallest)


def _total(ladders: list[Ladder], rungs: tuple[int, ...]) -> Decimal:
    return sum((ladder.ome(rung) for ladder, rung in zip(ladders, rungs, strict=True)), Decimal(0))


# Dates, explanations and warnings -----------------------------------------------------------------------

def _date_steps(configurations: list[_Configuration], ladders: list[Ladder], starting: Decimal, policy: Policy,
                holds: Sequence[Hold], start_on: date) -> list[Step]:
    """Date the configurations (dates follow the pace's step index, plus holds, moved to patch-change days
    where a patch changes) and explain each. A hold moves every later step by exactly its days, rounded up to
    whole patch periods on a plan with patches (issue 13 rule 7)."""
    extra = {hold.step: _rounded_hold(hold, ladders, configurations) for hold in holds}
    asked = {hold.step: hold.extra_days for hold in holds}
    first_k = configurations[0].k
    starts: list[date] = []
    previous_rungs = tuple(0 for _ in ladders)
    for configuration in configurations:
        day = start_on + timedelta(days=(configuration.k - first_k) * policy.interval_days)
        if starts:
            day = _patch_day(max(day, starts[-1] + timedelta(days=1)), ladders, previous_rungs, configuration.rungs,
                             start_on)
        starts.append(day)
        previous_rungs = configuration.rungs
    # Holds last, so that each moves every later step by exactly its (whole patch periods of) days.
    held_days = 0
    for number in range(1, len(starts)):
        held_days += extra.get(number, 0)
        starts[number] += timedelta(days=held_days)
    steps: list[Step] = []
    previous_rungs, previous_total = tuple(0 for _ in ladders), starting
    previous_states = tuple(ladder.first for ladder in ladders)
    for number, (configuration, starts_on) in enumerate(zip(configurations, starts, strict=True), start=1):
        total = configuration.total
        is_last = number == len(configurations)
        stopped = is_last and total == 0
        lines = () if stopped else tuple(
            state for ladder, state in sorted(zip(ladders, configuration.states, strict=True),
                                              key=lambda pair: pair[0].index)
            if not state.is_stopped)
        held = extra.get(number, 0) if not is_last else 0
        rounded = (f"Held {held} days, rounded to the patch-change day (asked: {asked[number]} days).",) \
            if held != asked.get(number, 0) else ()
        steps.append(Step(
            number=number, starts_on=starts_on, ends_on=None if is_last else starts[number] - timedelta(days=1),
            ome_mg_per_day=total, lines=lines,
            explanation=_explain(configuration, ladders, previous_rungs, previous_states, policy, total, stopped),
            warnings=_warnings(configuration, ladders, previous_rungs, previous_states, previous_total, total)
            + rounded,
            pace_mg_per_day=configuration.pace_mg,
            ome_at_max_mg_per_day=total if stopped else _at_max(ladders, configuration.states, total),
            held_days=held))
        previous_rungs, previous_states, previous_total = configuration.rungs, configuration.states, total
    return steps


def _at_max(ladders: list[Ladder], states: tuple[LineState, ...], total: Decimal) -> Decimal:
    """The daily OME with every when-needed line at its maximum doses a day (a PRN ladder's smallest unit is
    one dose)."""
    extra = sum((ladder.smallest_unit_ome * (state.prn_max_per_day - state.prn_usual_per_day)
                 for ladder, state in zip(ladders, states, strict=True) if ladder.is_prn), Decimal(0))
    return total + extra


def _rounded_hold(hold: Hold, ladders: list[Ladder], configurations: list[_Configuration]) -> int:
    """A hold's days, rounded up to whole periods of every patch still worn from the held step on, so that
    patches keep changing on their patch-change days."""
    worn = [ladder.patch_wear_days for position, ladder in enumerate(ladders) if ladder.patch_wear_days and any(
        not ladder.is_stopped(configuration.rungs[position]) for configuration in configurations[hold.step - 1:])]
    return _whole_patch_periods(hold.extra_days, (days for days in worn if days))


def _whole_patch_periods(days: int, wear_days: Iterable[int]) -> int:
    """`days` rounded up to a whole number of periods after which every patch worn is changed on the same day
    (`days` itself without patches)."""
    period = math.lcm(1, *wear_days)
    return math.ceil(days / period) * period


def _patch_day(candidate: date, ladders: list[Ladder], before: tuple[int, ...], after: tuple[int, ...],
               start_on: date) -> date:
    """The first day from `candidate` on which every patch that changes in this step is due to be changed."""
    wears = [ladder.patch_wear_days for ladder, old, new in zip(ladders, before, after, strict=True)
             if ladder.patch_wear_days and old != new]
    day = candidate
    while any((day - start_on).days % wear for wear in wears if wear):
        day += timedelta(days=1)
    return day


def _explain(configuration: _Configuration, ladders: list[Ladder], before: tuple[int, ...],
             before_states: tuple[LineState, ...], policy: Policy, total: Decimal, stopped: bool) -> str:
    basis = {Basis.STARTING: "starting", Basis.CURRENT: "current", Basis.PHASED: "starting"}[policy.basis]
    parts = [f"{plain(policy.reduction_pct)}% of the {basis} dose brings the target to "
             f"{plain(configuration.ideal_mg.quantize(Decimal('0.1')))} mg OME a day; the nearest dose you "
             f"can make without going up is {plain(total)} mg."]
    for old, new, old_state, new_state in zip(before, configuration.rungs, before_states, configuration.states,
                                              strict=True):
        if old != new:
            parts.append(_change(old_state, new_state))
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


def _warnings(configuration: _Configuration, ladders: list[Ladder], before: tuple[int, ...],
              before_states: tuple[LineState, ...], before_total: Decimal, total: Decimal) -> tuple[str, ...]:
    """Explain a step that removes more than half of the dose then taken (other than the last), or more than the
    pace asks plus the smallest change of the line reduced, or much more than one interval's pace because the
    smallest change possible is larger (a 12 microgram/hour fentanyl patch is about 30 mg OME a day): such a
    step waits, then removes a lot at once."""
    changed = [ladder for ladder, old, new in zip(ladders, before, configuration.rungs, strict=True) if old != new]
    if not changed:
        return ()
    removed = before_total - total
    abrupt = [_abrupt_stop(ladder, state) for ladder, old, new, state in zip(
        ladders, before, configuration.rungs, before_states, strict=True) if old != new
        and ladder.is_stopped(new) and ladder.ome(old) > ladder.stop_from_ome]
    abrupt += [f"{ladder.product.label()}: these doses cannot be made from two strengths with at most "
               f"{MAX_UNITS_PER_DOSE} units a dose, so this step needs more; check that the patient can manage them."
               for ladder, old, new, practical in zip(ladders, before, configuration.rungs, configuration.practical,
                                                      strict=True)
               if old != new and not practical]
    if total and removed > before_total * HALF:
        abrupt.append(f"This step removes {plain(removed)} of {plain(before_total)} mg OME a day, more than half of "
                      "the dose then taken, because no smaller step can be made with these strengths: consider "
                      "holding this step longer, or a switch to a product that comes in smaller strengths.")
    if abrupt:
        return tuple(abrupt)
    reduced = [ladder for ladder, old, new in zip(ladders, before, configuration.rungs, strict=True)
               if ladder.ome(old) != ladder.ome(new)] or changed
    unit = max(ladder.smallest_unit_ome for ladder in reduced)
    # Twice one interval's pace: the tail's "same step at twice the interval" where no smaller step exists.
    much_larger = configuration.interval_pace_mg * 2
    coarse = configuration.interval_pace_mg > 0 and unit > much_larger and removed > much_larger
    if removed <= configuration.pace_mg + unit and not coarse:
        return ()
    switch = next((PROPOSALS[ladder.product.key] for ladder in reduced if ladder.product.key in PROPOSALS), None)
    if switch:
        advice = f"consider {switch} (the pharmacist's decision)"
    elif any(ladder.patch_wear_days for ladder in changed):
        advice = ("consider holding longer at each step, or, with specialist advice, switching to an oral opioid "
                  "for smaller steps")
    else:
        advice = "consider holding this step longer if withdrawal is troublesome"
    return (f"This step removes {plain(removed)} mg OME a day at once, more than the pace asks of each interval "
            f"({plain(configuration.interval_pace_mg.quantize(Decimal('0.1')))} mg), because the smallest change "
            f"possible here is larger: {advice}.",)


def _abrupt_stop(ladder: Ladder, last: LineState) -> str:
    """Why a line stops from more than two of its smallest units a day (or one patch), and what would help."""
    name = ladder.product.label()
    switch = PROPOSALS.get(ladder.product.key)
    advice = f"consider {switch} first (the pharmacist's decision)" if switch else "consider holding this step longer"
    return (f"{name} stops from {plain(last.ome_mg_per_day)} mg OME a day, more than its smallest doses, because "
            f"no smaller dose can be made with its strengths: {advice}.")


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
