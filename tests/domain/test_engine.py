"""The tapering engine: worked examples and properties over random regimens from the whole formulary."""

from __future__ import annotations

import itertools
import json
import math
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from taper.domain.engine import MAX_STEPS, Basis, Hold, LineState, Policy, Schedule, build_schedule, replan
from taper.domain.formulary import MIN_LIQUID_DOSE_ML, Product, load_formulary
from taper.domain.ome import get_factor_set
from taper.domain.regimen import PrnLine, RegimenError, parse_regimen

FORMULARY = load_formulary()
UK = get_factor_set("fpm-2020")
START = date(2027, 1, 4)
D = Decimal


def plan(lines: list[dict[str, object]], **options: object) -> Schedule:
    return build_schedule(parse_regimen(lines, FORMULARY), formulary=FORMULARY, factor_set=UK, start_on=START,
                          **options)  # type: ignore[arg-type]


def bd(product: str, dose: float) -> dict[str, object]:
    return {"product": product, "doses": [{"time": "08:00", "dose_mg": dose}, {"time": "20:00", "dose_mg": dose}]}


def doses(line: LineState) -> dict[str, Decimal]:
    return {f"{dose.at:%H:%M}": dose.dose_mg for dose in line.doses}


# Examples ------------------------------------------------------------------------------------------------

def test_morphine_mr_60_twice_daily_at_10_percent_every_14_days_slows_from_a_third_and_stops_gently() -> None:
    """12 mg a fortnight down to 40 mg (a third of the start), then 6 mg; the stop comes from 5 mg twice a day
    (issue 13 found 25 -> 10 mg a day, 60% of the dose then taken, in one step)."""
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])
    assert schedule.starting_ome_mg_per_day == 120
    assert [step.ome_mg_per_day for step in schedule.steps] == [110, 95, 85, 70, 60, 50, 40, 30, 25, 20, 15, 10, 0]
    assert doses(schedule.steps[-2].lines[0]) == {"08:00": 5, "20:00": 5}
    first, last = schedule.steps[0], schedule.steps[-1]
    assert (first.starts_on, first.ends_on, first.ome_mg_per_day) == (START, START + timedelta(days=13), 110)
    assert doses(first.lines[0]) == {"08:00": 55, "20:00": 55}
    assert "10% of the starting dose brings the target to 108 mg" in first.explanation
    assert (last.ome_mg_per_day, last.lines, last.ends_on) == (0, (), None)


def test_oxycodone_mr_40_twice_daily_with_oxycodone_ir_when_needed() -> None:
    schedule = plan([bd("oxycodone-mr-tablet-12h", 40),
                     {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}],
                    policy=Policy(order=("oxycodone-ir-capsule", "oxycodone-mr-tablet-12h")))
    assert schedule.starting_ome_mg_per_day == 135  # 80 x 1.5 + 10 x 1.5
    first = schedule.steps[0]
    prn = [line for line in first.lines if line.prn_dose_mg is not None]
    assert [(line.prn_usual_per_day, line.prn_max_per_day) for line in prn] == [(1, 3)]  # one dose a day less
    assert "oxycodone capsule when needed: at most 3 a day (was 4), usually 1" in first.explanation.lower()
    assert any("Stop oxycodone capsule" in step.explanation for step in schedule.steps)
    assert schedule.steps[-1].ome_mg_per_day == 0


def test_co_codamol_two_tablets_four_times_a_day_drops_one_tablet_at_a_time() -> None:
    qds = {"product": "co-codamol-30-500-tablet",
           "doses": [{"time": at, "dose_mg": 60} for at in ("08:00", "12:00", "16:00", "22:00")]}
    schedule = plan([qds])
    first = schedule.steps[0].lines[0]
    assert doses(first) == {"08:00": 30, "12:00": 60, "16:00": 60, "22:00": 60}  # the evening keeps the larger dose
    assert first.doses[0].units == ((D(30), 1),)
    later = next(step for step in schedule.steps if step.lines and len(step.lines[0].doses) == 3)
    assert "stop the morning (08:00) dose" in later.explanation


def test_fentanyl_50_steps_down_through_patches_on_patch_change_days_with_warnings() -> None:
    schedule = plan([{"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 50}])
    # No brand named: never the brand-only 37.5 patch (Mezolar Matrix), but a 25 and a 12 (tests/domain/test_brands.py).
    assert [step.lines[0].patch_mcg_per_hour for step in schedule.steps[:-1]] == [37, 25, 12]
    assert all((step.starts_on - START).days % 3 == 0 for step in schedule.steps)
    assert any("smallest change possible" in warning for step in schedule.steps for warning in step.warnings)
    assert schedule.steps[-1].ome_mg_per_day == 0


def test_buprenorphine_20_steps_down_a_patch_strength_at_a_time_on_weekly_change_days() -> None:
    schedule = plan([{"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 20}])
    assert [step.lines[0].patch_mcg_per_hour for step in schedule.steps[:-1]] == [15, 10, 5]
    assert all((step.starts_on - START).days % 7 == 0 for step in schedule.steps)


def test_current_basis_slows_as_the_dose_falls_and_still_ends() -> None:
    starting = plan([bd("morphine-mr-tablet-12h", 60)])
    current = plan([bd("morphine-mr-tablet-12h", 60)], policy=Policy(basis=Basis.CURRENT))
    assert len(current.steps) > len(starting.steps)
    assert current.steps[-1].starts_on > starting.steps[-1].starts_on
    assert current.steps[-1].ome_mg_per_day == 0


def test_phased_basis_follows_the_start_then_the_remaining_dose() -> None:
    starting = plan([bd("morphine-mr-tablet-12h", 60)], policy=Policy(tail=False))
    phased = plan([bd("morphine-mr-tablet-12h", 60)], policy=Policy(basis=Basis.PHASED))
    early = [step.ome_mg_per_day for step in phased.steps if step.ome_mg_per_day >= 40]
    assert early == [step.ome_mg_per_day for step in starting.steps if step.ome_mg_per_day >= 40]
    assert phased.steps[-1].starts_on > starting.steps[-1].starts_on


def test_a_14_day_hold_at_step_3_shifts_later_steps_by_exactly_14_days() -> None:
    plain_plan = plan([bd("morphine-mr-tablet-12h", 60)])
    held = plan([bd("morphine-mr-tablet-12h", 60)], holds=[Hold(step=3, extra_days=14)])
    assert held.steps[:2] == plain_plan.steps[:2]
    assert held.steps[2].ends_on == plain_plan.steps[2].ends_on + timedelta(days=14)
    for before, after in zip(plain_plan.steps[3:], held.steps[3:], strict=True):
        assert after.starts_on == before.starts_on + timedelta(days=14)
        assert (after.lines, after.ome_mg_per_day) == (before.lines, before.ome_mg_per_day)


def test_going_back_one_step_returns_to_the_previous_dose_then_continues() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])
    on = schedule.steps[2].starts_on + timedelta(days=5)  # five days into step 3
    again = replan(schedule, formulary=FORMULARY, on=on, policy=Policy(reduction_pct=D(5)), go_back=True)
    assert again.steps[:2] == schedule.steps[:2]
    assert again.steps[2].ends_on == on - timedelta(days=1)
    back = again.steps[3]
    assert (back.starts_on, back.ome_mg_per_day, back.lines) == (on, schedule.steps[1].ome_mg_per_day,
                                                                 schedule.steps[1].lines)
    assert again.steps[4].ome_mg_per_day < back.ome_mg_per_day
    assert again.steps[-1].ome_mg_per_day == 0


def test_slowing_down_keeps_the_past_and_takes_smaller_steps() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])
    on = schedule.steps[3].starts_on
    slower = replan(schedule, formulary=FORMULARY, on=on, policy=Policy(reduction_pct=D(5), interval_days=28))
    assert slower.steps[:2] == schedule.steps[:2]
    assert slower.steps[3].starts_on == on and slower.steps[3].ome_mg_per_day < slower.steps[2].ome_mg_per_day
    assert slower.steps[4].starts_on - slower.steps[3].starts_on >= timedelta(days=28)


@pytest.mark.parametrize(
    ("policy", "field"),
    [(Policy(reduction_pct=D(0)), "policy.reduction_pct"), (Policy(reduction_pct=D(80)), "policy.reduction_pct"),
     (Policy(interval_days=2), "policy.interval_days"), (Policy(order=("codeine-tablet",)), "policy.order")],
)
def test_a_pace_outside_the_allowed_ranges_is_refused(policy: Policy, field: str) -> None:
    with pytest.raises(RegimenError) as refusal:
        plan([bd("morphine-mr-tablet-12h", 60)], policy=policy)
    assert [error.field for error in refusal.value.errors] == [field]


def test_methadone_is_never_tapered_automatically() -> None:
    with pytest.raises(RegimenError, match="never tapered automatically"):
        plan([{"product": "methadone-oral-solution-1mg-ml", "doses": [{"time": "09:00", "dose_mg": 20}]}])


def test_a_maintenance_target_ends_near_it_and_the_last_step_goes_on() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)], policy=Policy(target_ome_mg_per_day=D(40)))
    last = schedule.steps[-1]
    assert abs(last.ome_mg_per_day - 40) <= 5 and last.ends_on is None and last.lines


# Properties over random regimens from the whole formulary ---------------------------------------------

TAPERABLE = sorted(product.key for product in FORMULARY if product.taper_automatically)


def _at_max(line: LineState) -> Decimal:
    """A line's OME with when-needed doses at their maximum, worked out here from the formulary's factor."""
    if line.prn_dose_mg is None:
        return line.ome_mg_per_day
    return line.prn_dose_mg * line.prn_max_per_day * UK.factor_for(line.product).value  # type: ignore[union-attr,operator]


def smallest_unit_ome(product: Product, line: LineState | None) -> Decimal:
    """Worked out independently of the engine: the smallest change one line can make, in mg OME a day."""
    factor = UK.factor_for(product).value  # type: ignore[union-attr]
    if product.is_patch:
        return product.release_rate(product.strengths[0]) * factor
    if line is not None and line.prn_dose_mg is not None:
        return line.prn_dose_mg * factor
    if product.concentration_mg_per_ml is not None:
        return product.measure_ml * product.concentration_mg_per_ml * factor  # type: ignore[operator]
    scale = 10
    grain = math.gcd(*(int(strength * scale) for strength in product.strengths))
    return D(grain) / scale * factor


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[dict[str, object]], Policy, list[Hold]]:
    keys = draw(st.lists(st.sampled_from(TAPERABLE), min_size=1, max_size=4, unique=True))
    lines: list[dict[str, object]] = []
    for key in keys:
        brand = draw(st.sampled_from([None, *(brand.name for brand in FORMULARY.get(key).brands)]))
        product = FORMULARY.as_prescribed(key, brand)  # the strengths of its brand, or those supplied generically
        named = {"product": key} | ({"brand": brand} if brand else {})
        if product.is_patch:
            strengths = draw(st.lists(st.sampled_from(product.strengths), min_size=1, max_size=2))
            lines.append(named | {"patch_mcg_per_hour": str(sum(strengths))})
            continue
        if product.is_liquid:  # a volume a patient can measure: 1 mL and up, in 0.5 mL steps
            volume = D(1) + product.measure_ml * draw(st.integers(0, 19))  # type: ignore[operator]
            dose = str(volume * product.concentration_mg_per_ml)  # type: ignore[operator]
        else:
            dose = str(product.strengths[-1] * draw(st.integers(1, 2)))
        if draw(st.integers(0, 3)) == 0:
            usual = draw(st.integers(0, 3))
            lines.append(named | {"prn": {"dose_mg": dose, "usual_per_day": usual,
                                          "max_per_day": usual + draw(st.integers(1, 3))}})
        else:
            times = draw(st.lists(st.sampled_from(["07:00", "12:00", "17:00", "22:00"]), min_size=1, max_size=4,
                                  unique=True))
            lines.append(named | {"doses": [{"time": at, "dose_mg": dose} for at in times]})
    policy = Policy(reduction_pct=D(draw(st.integers(5, 50))), interval_days=draw(st.integers(3, 56)),
                    basis=draw(st.sampled_from(list(Basis))),
                    order=tuple(draw(st.permutations(keys))) if draw(st.booleans()) else (),
                    larger_dose_at=draw(st.sampled_from([None, time(7), time(22)])))
    holds = [Hold(step=draw(st.integers(1, 5)), extra_days=draw(st.integers(1, 28)))] if draw(st.booleans()) else []
    return lines, policy, holds


def _plan(request: tuple[list[dict[str, object]], Policy, list[Hold]]) -> Schedule:
    lines, policy, holds = request
    regimen = parse_regimen(lines, FORMULARY)
    assume(any(not (isinstance(line, PrnLine) and line.usual_per_day == 0) for line in regimen.lines))
    return plan(lines, policy=policy, holds=holds)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(requests())
def test_total_ome_never_rises_and_ends_at_the_target(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    totals = [schedule.starting_ome_mg_per_day] + [step.ome_mg_per_day for step in schedule.steps]
    assert all(later <= earlier for earlier, later in itertools.pairwise(totals))
    at_max = [sum((_at_max(line) for line in schedule.starting_lines), D(0))] + [
        step.ome_at_max_mg_per_day for step in schedule.steps]
    assert all(later <= earlier for earlier, later in itertools.pairwise(at_max))  # type: ignore[operator]
    # Every step changes: the usual dose, or (a when-needed maximum coming down) the dose at the maximum.
    assert all(pair_total[1] < pair_total[0] or pair_max[1] < pair_max[0]  # type: ignore[operator]
               for pair_total, pair_max in zip(itertools.pairwise(totals), itertools.pairwise(at_max), strict=True))
    assert schedule.steps[-1].ome_mg_per_day == 0 and schedule.steps[-1].lines == ()
    assert len(schedule.steps) <= MAX_STEPS


@SETTINGS
@given(requests())
def test_no_step_removes_more_than_the_pace_plus_one_unit_unless_it_says_why(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    previous_total = schedule.starting_ome_mg_per_day
    previous_lines = {line.product.key: line for line in schedule.starting_lines}
    for step in schedule.steps:
        now = {line.product.key: line for line in step.lines}
        changed = [key for key in previous_lines if previous_lines[key] != now.get(key)]
        unit = max(smallest_unit_ome(previous_lines[key].product, previous_lines[key]) for key in changed)
        removed = previous_total - step.ome_mg_per_day
        assert removed <= step.pace_mg_per_day + unit or step.warnings, (step.number, removed, step.pace_mg_per_day)
        previous_total, previous_lines = step.ome_mg_per_day, now


@SETTINGS
@given(requests())
def test_every_dose_is_made_exactly_from_available_strengths_two_at_most(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    starting = {line.product.key: line for line in schedule.starting_lines}
    previous = dict(starting)
    for step in schedule.steps:
        entered = {line.product.key for line in step.lines if line != previous.get(line.product.key)}
        previous = {line.product.key: line for line in step.lines}
        for line in step.lines:
            product = line.product
            amounts = [(dose.dose_mg, dose.units) for dose in line.doses]
            if line.prn_dose_mg is not None:
                amounts.append((line.prn_dose_mg, line.prn_units))
            for amount, units in amounts:
                if product.is_liquid:
                    assert units[0][0] * product.concentration_mg_per_ml == amount  # type: ignore[operator]
                    assert units[0][0] % product.measure_ml == 0 and units[0][0] >= MIN_LIQUID_DOSE_ML  # type: ignore[operator]
                else:
                    assert sum(strength * count for strength, count in units) == amount
                    assert all(strength in product.strengths for strength, _ in units)
            if line.patch_mcg_per_hour is not None:
                assert sum(strength * count for strength, count in line.patch_units) == line.patch_mcg_per_hour
                assert all(strength in product.strengths for strength, _ in line.patch_units)
            if line.doses and line != starting.get(product.key) and product.is_liquid:  # equal, or one measure apart
                volumes = [dose.units[0][0] for dose in line.doses]
                assert max(volumes) - min(volumes) <= product.measure_ml  # type: ignore[operator]
            if line.doses and product.key in entered and not product.is_liquid:  # (warned where it is entered)
                used = {strength for dose in line.doses for strength, _ in dose.units}
                most = max(sum(count for _, count in dose.units) for dose in line.doses)
                assert (len(used) <= 2 and most <= 4) or any("cannot be made from two strengths" in warning
                                                             for warning in step.warnings), (step.number, line)


@SETTINGS
@given(requests())
def test_no_single_dose_ever_rises_from_one_step_to_the_next(request) -> None:  # type: ignore[no-untyped-def]
    """An uneven regimen comes down by its larger dose first: at no time of day does a dose go up (a step that
    goes back is a re-plan, not part of a schedule)."""
    schedule = _plan(request)
    previous = {line.product.key: line for line in schedule.starting_lines}
    for step in schedule.steps:
        for line in step.lines:
            before = {dose.at: dose.dose_mg for dose in previous[line.product.key].doses}
            assert all(dose.at in before and dose.dose_mg <= before[dose.at] for dose in line.doses), step.number
        previous = {line.product.key: line for line in step.lines}


@SETTINGS
@given(requests())
def test_dates_are_contiguous_and_patches_change_on_patch_days(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    assert schedule.steps[0].starts_on == START
    for step, following in zip(schedule.steps, schedule.steps[1:], strict=False):
        assert step.ends_on is not None and following.starts_on == step.ends_on + timedelta(days=1)
        assert step.ends_on >= step.starts_on
    assert schedule.steps[-1].ends_on is None
    previous = {line.product.key: line for line in schedule.starting_lines}
    for step in schedule.steps:
        now = {line.product.key: line for line in step.lines}
        for key, line in previous.items():
            if line.patch_mcg_per_hour is not None and now.get(key) != line and step.lines:
                assert (step.starts_on - START).days % int(line.product.wear_days) == 0  # type: ignore[arg-type]
        previous = now


@SETTINGS
@given(requests(), st.integers(0, 60), st.booleans())
def test_a_replan_leaves_every_past_step_unchanged(request, days_in: int, go_back: bool) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    on = START + timedelta(days=days_in + 1)
    past = [step for step in schedule.steps if step.starts_on < on]
    if not past or not past[-1].lines or (go_back and len(past) < 2):
        return
    again = replan(schedule, formulary=FORMULARY, on=on, policy=Policy(reduction_pct=D(5)), go_back=go_back)
    assert again.steps[:len(past) - 1] == tuple(past[:-1])
    in_force = again.steps[len(past) - 1]
    assert (in_force.starts_on, in_force.lines, in_force.ome_mg_per_day) == (
        past[-1].starts_on, past[-1].lines, past[-1].ome_mg_per_day)
    assert in_force.ends_on == on - timedelta(days=1)


@SETTINGS
@given(requests())
def test_a_schedule_document_reads_back_exactly(request) -> None:  # type: ignore[no-untyped-def]
    from taper.domain.schedule_contract import schedule_document, schedule_from_document

    _, policy, _ = request
    schedule = _plan(request)
    document = json.loads(json.dumps(schedule_document(schedule, FORMULARY, policy)))  # through real JSON text
    again = schedule_from_document(document, FORMULARY)
    assert again.steps == schedule.steps
    assert again.starting_ome_mg_per_day == schedule.starting_ome_mg_per_day
