"""Instalments: the pharmacy's quantities add up to the doses of every day of the plan."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from taper.domain.dispensing import instalments, prescription_dates
from taper.domain.engine import Schedule
from tests.domain.test_engine import SETTINGS, _plan, bd, plan, requests

D = Decimal


def _expected_totals(schedule: Schedule) -> dict[tuple[str, Decimal | None], Decimal]:
    """Worked out per step (days in the step times the daily units), not day by day."""
    totals: dict[tuple[str, Decimal | None], Decimal] = defaultdict(Decimal)
    start = schedule.steps[0].starts_on
    for step in schedule.steps:
        if not step.lines:
            continue
        assert step.ends_on is not None
        days = (step.ends_on - step.starts_on).days + 1
        for line in step.lines:
            if line.patch_mcg_per_hour is not None:
                wear = int(line.product.wear_days)  # type: ignore[arg-type]
                first = step.starts_on + timedelta(days=(-(step.starts_on - start).days) % wear)
                changes = 0 if first > step.ends_on else (step.ends_on - first).days // wear + 1
                for strength, count in line.patch_units:
                    totals[(line.product.key, strength)] += count * changes
                continue
            made = [(dose.units, 1) for dose in line.doses]
            if line.prn_dose_mg is not None:
                made.append((line.prn_units, line.prn_usual_per_day))
            for units, times in made:
                for amount, count in units:
                    key = (line.product.key, None if line.product.is_liquid else amount)
                    totals[key] += (amount if line.product.is_liquid else count) * times * days
    return {key: value for key, value in totals.items() if value}


@SETTINGS
@given(requests(), st.sampled_from([7, 14, 28]))
def test_instalments_add_up_to_every_day_of_the_plan(request, every: int) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    periods = instalments(schedule, instalment_days=every)
    if not periods:
        return  # the plan stops on its first day
    assert periods[0].starts_on == schedule.steps[0].starts_on
    for period, following in itertools.pairwise(periods):
        assert following.starts_on == period.ends_on + timedelta(days=1)
        assert (period.ends_on - period.starts_on).days + 1 == every
    assert periods[-1].ends_on == schedule.steps[-1].starts_on - timedelta(days=1)
    supplied: dict[tuple[str, Decimal | None], Decimal] = defaultdict(Decimal)
    for period in periods:
        for supply in period.supplies:
            assert supply.quantity > 0
            supplied[(supply.product, supply.strength)] += supply.quantity
    assert dict(supplied) == _expected_totals(schedule)


def test_morphine_mr_twice_daily_first_fortnight() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])
    first = instalments(schedule, instalment_days=14)[0]
    # step 1 (14 days): 55 mg twice a day from two strengths at most: three 15 mg tablets and one 10 mg tablet each time
    assert first.steps == (1,)
    assert {supply.strength: supply.quantity for supply in first.supplies} == {D(15): 84, D(10): 28}


def test_a_patch_is_supplied_once_per_patch_change_day() -> None:
    schedule = plan([{"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 20}])
    first = instalments(schedule, instalment_days=28)[0]
    assert schedule.steps[0].starts_on == date(2027, 1, 4)
    assert [(supply.strength, supply.quantity) for supply in first.supplies] == [(D(15), 4)]


def test_when_needed_doses_are_supplied_at_the_usual_use_never_the_maximum() -> None:
    """Issue 14: a prescription for a when-needed dose is for the use agreed; the maximum is in its directions."""
    schedule = plan([bd("morphine-mr-tablet-12h", 30),
                     {"product": "morphine-oral-solution-10mg-5ml",
                      "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}}])
    first = instalments(schedule, instalment_days=7)[0]
    prn = schedule.steps[0].lines[1]
    assert (prn.prn_usual_per_day, prn.prn_max_per_day) == (1, 3)  # when-needed doses come down first, one at a time
    liquid = [supply.quantity for supply in first.supplies if supply.strength is None]
    assert liquid == [D(35)]  # 10 mg is 5 mL, usually once a day in step 1 (at most 3), for 7 days


@SETTINGS
@given(requests(), st.sampled_from([7, 14, 28]), st.integers(-30, 30))
def test_no_prescription_is_dated_before_the_letter_is_issued(request, every: int, issued_after: int) -> None:  # type: ignore[no-untyped-def]
    """Each instalment still running when the letter goes out is prescribed once, on its first day or, if it
    began before the letter, on the day of the letter; nothing earlier."""
    periods = instalments(_plan(request), instalment_days=every)
    if not periods:
        return
    issued_on = periods[0].starts_on + timedelta(days=issued_after)
    dated = prescription_dates(periods, issued_on=issued_on)
    assert all(day >= issued_on for day in dated)
    running = [period for period in periods if period.ends_on >= issued_on and period.supplies]
    assert dated == [max(period.starts_on, issued_on) for period in running]
    assert dated == sorted(set(dated))
    if issued_after <= 0:  # issued in time: the first day of every instalment with something to supply
        assert dated == [period.starts_on for period in periods if period.supplies]


def test_a_version_stored_before_the_usual_use_rule_keeps_supplying_at_the_maximum() -> None:
    """Its documents were issued under that rule: its pages must keep agreeing with them. A new document says
    which rule it follows, and reads back to the same one."""
    import json

    from taper.domain.schedule_contract import schedule_from_document, schedule_from_request
    from tests.domain.test_engine import FORMULARY

    request = {"start_on": "2027-01-04", "regimen": [
        bd("morphine-mr-tablet-12h", 30),
        {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}}]}
    document = json.loads(json.dumps(schedule_from_request(request, FORMULARY)))
    assert document["when_needed_supply"] == "usual"
    older = {key: value for key, value in document.items() if key != "when_needed_supply"}

    def liquid(stored: dict[str, object]) -> list[Decimal]:
        first = instalments(schedule_from_document(stored, FORMULARY), instalment_days=7)[0]
        return [supply.quantity for supply in first.supplies if supply.strength is None]

    assert liquid(document) == [D(35)]  # step 1: usually once a day (at most 3), 5 mL, 7 days
    assert liquid(older) == [D(105)]  # the same step at its maximum, three times a day
