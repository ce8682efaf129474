"""A schedule a clinic can sign off (issue 13): a gentle tail, when-needed doses first and one at a time, stops
from the smallest doses, and holds that move every later step by exactly the days held. Properties over random
regimens of one to four lines (tablets, liquids, when-needed lines and patches), and the findings of the
review as examples."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from taper.domain.engine import Hold, LineState, Policy, Schedule, _ideal, hold
from tests.domain.test_engine import (
    FORMULARY,
    SETTINGS,
    START,
    UK,
    _plan,
    bd,
    doses,
    plan,
    requests,
    smallest_unit_ome,
)

D = Decimal
HALF_WARNING = "more than half of the dose then taken"
REGULAR = sorted(product.key for product in FORMULARY if product.taper_automatically and not product.is_patch
                 and not product.is_liquid)


def _previous_lines(schedule: Schedule) -> list[dict[str, LineState]]:
    """For each step, the lines as taken before it (by product)."""
    before = [{line.product.key: line for line in schedule.starting_lines}]
    before += [{line.product.key: line for line in step.lines} for step in schedule.steps[:-1]]
    return before


@SETTINGS
@given(requests())
def test_no_step_but_the_last_removes_more_than_half_of_the_dose_then_taken_unless_it_says_why(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    previous_total = schedule.starting_ome_mg_per_day
    for step in schedule.steps:
        final_stop = step.ome_mg_per_day == 0  # the last usual dose stops (a when-needed maximum may follow)
        if not final_stop and step.ome_mg_per_day < previous_total / 2:
            assert any(HALF_WARNING in warning for warning in step.warnings), (step.number, step.ome_mg_per_day,
                                                                               previous_total)
        previous_total = step.ome_mg_per_day


@SETTINGS
@given(requests())
def test_a_line_stops_only_from_its_smallest_doses_and_when_needed_lines_lose_one_dose_at_a_time(request) -> None:  # type: ignore[no-untyped-def]
    """Regular lines stop from at most two of their smallest units a day, patches from one patch, when-needed
    lines from at most one dose a day; a when-needed maximum never falls by more than one dose a day a step
    and reaches the last step before the stop no higher than one."""
    schedule = _plan(request)
    for step, before in zip(schedule.steps, _previous_lines(schedule), strict=True):
        now = {line.product.key: line for line in step.lines}
        for key, was in before.items():
            line = now.get(key)
            if was.prn_dose_mg is not None:
                allowed = was.prn_max_per_day - 1
                assert (line.prn_max_per_day if line else 0) >= allowed, (step.number, key)
            elif line is None:
                unit = smallest_unit_ome(was.product, was)
                limit = unit if was.patch_mcg_per_hour is not None else 2 * unit
                assert was.ome_mg_per_day <= limit or step.warnings, (step.number, key, was.ome_mg_per_day, limit)


@given(st.decimals(D(1), D(5000), places=1), st.integers(1, 50), st.integers(1, 200))
def test_the_tail_halves_the_pace_from_a_third_of_the_starting_dose(starting: Decimal, pct: int, k: int) -> None:
    """The pace itself (the ideal dose after k intervals): a straight line down to a third of the starting dose,
    then half as steep; without the tail, the straight line throughout."""
    with_tail, without = Policy(reduction_pct=D(pct)), Policy(reduction_pct=D(pct), tail=False)
    line = starting - k * starting * pct / 100
    third = starting / 3
    expected = line if line >= third else third - (third - line) / 2
    exact = D("1e-20")  # (a third of a decimal is rounded at the 28th digit, whichever way it is worked out)
    assert abs(_ideal(k, starting, with_tail, None) - max(expected, D(0))) < exact
    assert abs(_ideal(k, starting, without, None) - max(line, D(0))) < exact


@SETTINGS
@given(st.sampled_from(REGULAR), st.integers(1, 2), st.integers(5, 20), st.sampled_from([7, 14, 28]))
def test_with_a_tail_one_regular_medicine_ends_no_sooner(product: str, tablets: int, pct: int, every: int) -> None:
    """For one regular medicine at an ordinary pace the gentle rules seldom bind, and the tail can only delay
    the end. (With several lines, when-needed caps and steep paces, the half rule and the order of reduction
    shape the plan more than the pace does: the examples below check the tail in full.)"""
    dose = FORMULARY.get(product).strengths[-1] * tablets
    lines = [{"product": product, "doses": [{"time": "08:00", "dose_mg": str(dose)},
                                            {"time": "20:00", "dose_mg": str(dose)}]}]
    shape = {"reduction_pct": D(pct), "interval_days": every}
    with_tail, without = plan(lines, policy=Policy(**shape)), plan(lines, policy=Policy(**shape, tail=False))  # type: ignore[arg-type]
    assert with_tail.steps[-1].starts_on >= without.steps[-1].starts_on
    assert len(with_tail.steps) >= len(without.steps)


@SETTINGS
@given(requests(), st.integers(1, 28), st.integers(1, 4))
def test_a_hold_moves_every_later_step_by_exactly_the_days_held(request, extra_days: int, at: int) -> None:  # type: ignore[no-untyped-def]
    """Holds in the request and holds of a running plan alike: every later step moves by one number of days,
    the days asked, rounded up to whole patch periods on a plan with patches (and the held step says so)."""
    lines, policy, _ = request
    base = _plan((lines, policy, []))
    if at >= len(base.steps):
        return
    held = _plan((lines, policy, [Hold(step=at, extra_days=extra_days)]))
    wears = [int(line.product.wear_days) for step in base.steps[at - 1:] for line in step.lines  # type: ignore[arg-type]
             if line.patch_mcg_per_hour is not None]  # the patches still worn from the held step on
    period = math.lcm(1, *wears)
    days = math.ceil(extra_days / period) * period
    assert held.steps[:at - 1] == base.steps[:at - 1]
    assert held.steps[at - 1].held_days == days
    assert [step.starts_on - before.starts_on for before, step in zip(base.steps[at:], held.steps[at:],
                                                                       strict=True)] == [timedelta(days=days)] * (
        len(base.steps) - at)
    rounded = [warning for warning in held.steps[at - 1].warnings if "rounded to the patch-change day" in warning]
    assert bool(rounded) == (days != extra_days)
    running = hold(base, on=base.steps[at - 1].starts_on, extra_days=extra_days)
    assert [step.starts_on for step in running.steps[at:]] == [step.starts_on for step in held.steps[at:]]
    assert running.steps[at - 1].held_days == days


# The review's findings -----------------------------------------------------------------------------------

def test_morphine_mr_200_twice_daily_no_longer_stops_40_mg_at_once() -> None:
    """Found: 80 -> 40 (20 mg twice a day) -> stop. Now the tail halves the pace from 133 mg, and the stop comes
    from 5 mg twice a day."""
    schedule = plan([bd("morphine-mr-tablet-12h", 200)])
    totals = [step.ome_mg_per_day for step in schedule.steps]
    assert totals[-3:] == [15, 10, 0] and doses(schedule.steps[-2].lines[0]) == {"08:00": 5, "20:00": 5}
    tail = [total for total in totals if total <= D(400) / 3]
    assert all(earlier - later <= 20 for earlier, later in itertools.pairwise(tail))  # 20 = half of 40


def test_when_needed_oxycodone_comes_down_one_dose_at_a_time_and_first_by_default() -> None:
    """Found: up to 4 a day to up to 2 a day in one step, and the MR reduced first by default."""
    schedule = plan([bd("oxycodone-mr-tablet-12h", 40),
                     {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}])
    maxima = [next((line.prn_max_per_day for line in step.lines if line.prn_dose_mg is not None), 0)
              for step in schedule.steps]
    assert maxima[:5] == [3, 2, 1, 0, 0]
    assert doses(schedule.steps[0].lines[0]) == {"08:00": 40, "20:00": 40}  # the MR waits for the PRN dose


def test_a_when_needed_line_with_usual_use_0_comes_down_and_shows_its_ome_at_the_maximum() -> None:
    """Found: Oramorph 'up to 4 a day' (40 mg) carried until the final stop while the plan said 5 mg OME."""
    schedule = plan([bd("morphine-mr-tablet-12h", 30),
                     {"product": "morphine-oral-solution-10mg-5ml",
                      "prn": {"dose_mg": 10, "usual_per_day": 0, "max_per_day": 4}}])
    first = schedule.steps[0]
    assert first.ome_at_max_mg_per_day == first.ome_mg_per_day + 30  # 3 more doses of 10 mg allowed
    last_before_stop = schedule.steps[-2]
    assert all(line.prn_dose_mg is None for line in last_before_stop.lines)


def test_a_five_day_hold_on_a_patch_plan_moves_every_later_step_by_six_days_and_says_so() -> None:
    """Found: later steps moved by +3 and +6 days for a 5-day hold on a fentanyl plan."""
    fentanyl = [{"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 50}]
    base, held = plan(fentanyl), plan(fentanyl, holds=[Hold(step=1, extra_days=5)])
    assert {later.starts_on - earlier.starts_on for earlier, later in zip(base.steps[1:], held.steps[1:],
                                                                           strict=True)} == {timedelta(days=6)}
    assert held.steps[0].held_days == 6
    assert "Held 6 days, rounded to the patch-change day (asked: 5 days)." in held.steps[0].warnings


def test_without_a_tail_the_starting_basis_keeps_one_pace_to_the_end_but_still_stops_gently() -> None:
    with_tail = plan([bd("morphine-mr-tablet-12h", 60)])
    without = plan([bd("morphine-mr-tablet-12h", 60)], policy=Policy(tail=False))
    assert len(without.steps) < len(with_tail.steps)
    assert doses(without.steps[-2].lines[0]) == {"08:00": 5, "20:00": 5}  # the stop still from 5 mg twice a day
    assert UK.key == "fpm-2020"


# Published examples, run as published (rule 9) ---------------------------------------------------------------

def test_the_australian_tramadol_mr_example_25_percent_of_the_original_dose_weekly() -> None:
    """Therapeutic Guidelines, "Examples of opioid deprescribing": tramadol MR 100 mg twice a day, 25% of the
    original dose weekly: 50 mg morning and 100 mg night, 50 mg twice a day, 50 mg at night, stop."""
    schedule = plan([bd("tramadol-mr-tablet-12h", 100)],
                    policy=Policy(reduction_pct=D(25), interval_days=7, tail=False))  # the example sets its end
    assert [doses(step.lines[0]) if step.lines else {} for step in schedule.steps] == [
        {"08:00": 50, "20:00": 100}, {"08:00": 50, "20:00": 50}, {"20:00": 50}, {}]
    assert [(step.starts_on - START).days for step in schedule.steps] == [0, 7, 14, 21]


def test_the_australian_oxycodone_mr_example_25_percent_monthly_with_a_5_mg_step_before_stopping() -> None:
    """Therapeutic Guidelines: oxycodone MR 40 mg twice a day, 25% of the original dose monthly: 30, 20 and
    10 mg twice a day, then an oxycodone MR 5 mg step before stopping."""
    schedule = plan([bd("oxycodone-mr-tablet-12h", 40)],
                    policy=Policy(reduction_pct=D(25), interval_days=28, tail=False))
    assert [doses(step.lines[0]) if step.lines else {} for step in schedule.steps] == [
        {"08:00": 30, "20:00": 30}, {"08:00": 20, "20:00": 20}, {"08:00": 10, "20:00": 10},
        {"08:00": 5, "20:00": 5}, {}]
    assert all((later.starts_on - earlier.starts_on).days == 28 for earlier, later in itertools.pairwise(
        schedule.steps))


def test_the_canadian_rule_halves_the_rate_once_a_third_of_the_original_dose_is_reached() -> None:
    """The 2017 Canadian guideline, applied to morphine MR 100 mg twice a day at 10% every two weeks: 20 mg a
    fortnight down to a third of 200 mg, then 10 mg a fortnight."""
    schedule = plan([bd("morphine-mr-tablet-12h", 100)])
    totals = [D(200)] + [step.ome_mg_per_day for step in schedule.steps]
    above = [earlier - later for earlier, later in itertools.pairwise(totals) if later >= D(200) / 3]
    below = [earlier - later for earlier, later in itertools.pairwise(totals) if earlier <= D(200) / 3 and later]
    assert set(above) == {20}
    assert below[:-1] == [10] * (len(below) - 1) and below[-1] <= 10  # then 10 mg a day, stopped from 5 mg twice


def test_products_with_no_smaller_strength_say_so_and_propose_the_same_drug_in_smaller_steps() -> None:
    """Found: MXL 60 mg went to 30 mg and stopped, Transtec 35 stopped on day 1, and the only advice was to hold
    longer. Each such step now names the same-drug switch that would let the dose come down gently."""
    mxl = plan([{"product": "morphine-mr-capsule-24h", "doses": [{"time": "08:00", "dose_mg": 60}]}])
    stop = mxl.steps[-1]
    assert stop.ome_mg_per_day == 0 and any(
        "stops from 30 mg OME a day" in warning and "12-hourly morphine modified-release tablets" in warning
        for warning in stop.warnings)
    transtec = plan([{"product": "buprenorphine-patch-96h", "patch_mcg_per_hour": 35}])
    assert any("7-day buprenorphine patch at the nearest lower rate" in warning and "not interchangeable" in warning
               for warning in transtec.steps[0].warnings)


def test_an_uneven_regimen_comes_down_by_its_larger_dose_first() -> None:
    """Found: 30 mg in the morning and 60 mg at night was rebalanced by raising the morning dose to 40 mg."""
    schedule = plan([{"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 30},
                                                                      {"time": "20:00", "dose_mg": 60}]}])
    mornings = [doses(step.lines[0]).get("08:00", D(0)) for step in schedule.steps if step.lines]
    assert mornings[:3] == [30, 30, 30] and all(later <= earlier for earlier, later in itertools.pairwise(mornings))


def test_no_step_uses_more_than_two_strengths_of_morphine_mr() -> None:
    """Found: 30 + 15 + 10 mg in one dose, and up to four strengths in a step."""
    for start in (60, 100, 200):
        for step in plan([bd("morphine-mr-tablet-12h", start)]).steps:
            for line in step.lines:
                assert len({strength for dose in line.doses for strength, _ in dose.units}) <= 2, (start, step)
                assert all(sum(count for _, count in dose.units) <= 4 for dose in line.doses), (start, step)


def test_liquids_are_measured_in_half_millilitres_and_never_below_1_ml() -> None:
    """Found: Oramorph doses of 2.2 and 2.3 mL in one day, falling to 0.1 mL."""
    schedule = plan([{"product": "morphine-oral-solution-10mg-5ml",
                      "doses": [{"time": at, "dose_mg": 10} for at in ("08:00", "14:00", "20:00")]}])
    volumes = [dose.units[0][0] for step in schedule.steps for line in step.lines for dose in line.doses]
    assert all(volume % D("0.5") == 0 and volume >= 1 for volume in volumes)
    for step in schedule.steps:
        if step.lines:
            day = [dose.units[0][0] for dose in step.lines[0].doses]
            assert max(day) - min(day) <= D("0.5"), step.number
