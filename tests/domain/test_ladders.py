"""A regular line's ladder makes only the rungs the plan looks at (issue 15: the engine's cost does not grow with
the size of a dose), and finds the same rungs as a walk down every rung would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.engine import Basis, Policy, build_schedule, regimen_of, replan
from taper.domain.formulary import load_formulary
from taper.domain.ladders import LineState, RegularLadder, _made, forget_ladders, ladder_for
from taper.domain.ome import default_factor_set
from taper.domain.regimen import parse_regimen

FORMULARY, FACTORS = load_formulary(), default_factor_set()
REGULAR = sorted(product.key for product in FORMULARY if not product.is_patch and product.taper_automatically)


def _twice_a_day(key: str, dose_mg: int | str) -> list[dict[str, object]]:
    return [{"product": key, "doses": [{"time": "08:00", "dose_mg": dose_mg}, {"time": "20:00", "dose_mg": dose_mg}]}]


@pytest.mark.parametrize("basis", [Basis.STARTING, Basis.CURRENT])
@pytest.mark.parametrize("dose_mg", [60, 600, 2400])
def test_rungs_made_follow_the_steps_not_the_dose(dose_mg: int, basis: Basis) -> None:
    """Morphine MR 2,400 mg twice a day has 959 rungs below its starting dose; a plan makes about two for each
    of its steps, as it does at 60 mg."""
    regimen = parse_regimen(_twice_a_day("morphine-mr-tablet-12h", dose_mg), FORMULARY)
    forget_ladders()
    schedule = build_schedule(regimen, formulary=FORMULARY, factor_set=FACTORS, start_on=date(2027, 1, 4),
                              policy=Policy(basis=basis))
    made = _made.cache_info().misses
    assert schedule.steps[-1].ome_mg_per_day == 0
    assert made <= 3 * len(schedule.steps)
    assert len(schedule.steps) <= 50


def _every_rung_from(ladder: RegularLadder, now: int, before: LineState) -> list[int]:
    return [rung for rung in range(now + 1, ladder.stopped + 1) if ladder.made(rung, before) is not None]


@st.composite
def _ladders_and_targets(draw: st.DrawFn) -> tuple[RegularLadder, int, LineState, Decimal, bool]:
    product = FORMULARY.get(draw(st.sampled_from(REGULAR)))
    strengths = product.strengths if not product.is_liquid else (Decimal(5),)
    dose = sum((strength * draw(st.integers(0, 3)) for strength in strengths), Decimal(0)) or strengths[-1]
    line = parse_regimen(_twice_a_day(product.key, str(dose)), FORMULARY).lines[0]
    factor = FACTORS.factor_for(product).value  # type: ignore[union-attr]
    ladder = ladder_for(line, product, factor, 2, None)
    assert isinstance(ladder, RegularLadder)
    now = draw(st.integers(0, ladder.top))
    before = ladder.made(now, ladder.first) if now else (ladder.first, True)
    if before is None:
        now, before = 0, (ladder.first, True)
    target = Decimal(draw(st.integers(0, int(ladder.first.ome_mg_per_day * 11)))) / 10
    return ladder, now, before[0], target, draw(st.booleans())


@given(_ladders_and_targets())
def test_the_nearest_rung_is_the_one_a_walk_down_every_rung_finds(case) -> None:  # type: ignore[no-untyped-def]
    ladder, now, before, target, reached = case
    direction = -1 if reached else 1
    walked = min([now, *_every_rung_from(ladder, now, before)],
                 key=lambda rung: (abs(ladder.ome(rung) - target), direction * rung))
    assert ladder.nearest(now, before, target, reached) == walked


@given(_ladders_and_targets())
def test_the_rungs_the_gentle_rules_ask_for_are_those_a_walk_finds(case) -> None:  # type: ignore[no-untyped-def]
    ladder, now, before, minimum, _ = case
    below = _every_rung_from(ladder, now, before)
    high = below[-1]  # stopped
    assert ladder.highest_at_least(now, high, minimum, before) == max(
        [rung for rung in below if ladder.ome(rung) >= minimum], default=now)
    assert ladder.next_lower(now, before) == below[0]
    assert ladder.lowest_before_stop(now, before) == max([rung for rung in below if rung < ladder.stopped],
                                                         default=now)


def test_a_re_plan_keeps_to_the_strengths_of_the_step_in_force() -> None:
    """Step 2 of morphine MR 60 mg twice a day is 45 mg (3 x 15 mg) and 50 mg (2 x 15 mg and 2 x 10 mg); the
    re-plan's next step is made from those strengths, not from the fewest tablets of a fresh start."""
    regimen = parse_regimen(_twice_a_day("morphine-mr-tablet-12h", 60), FORMULARY)
    schedule = build_schedule(regimen, formulary=FORMULARY, factor_set=FACTORS, start_on=date(2027, 1, 4))
    in_force = schedule.steps[1]
    had = {strength for line in in_force.lines for dose in line.doses for strength, _ in dose.units}
    assert regimen_of(in_force).lines[0].doses[0].units == in_force.lines[0].doses[0].units
    slower = replan(schedule, formulary=FORMULARY, on=schedule.steps[2].starts_on, policy=Policy(interval_days=28))
    following = slower.steps[2]
    used = {strength for line in following.lines for dose in line.doses for strength, _ in dose.units}
    assert following.ome_mg_per_day < in_force.ome_mg_per_day
    assert used <= had
