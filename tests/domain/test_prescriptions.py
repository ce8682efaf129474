"""The prescriptions a plan needs (issue 14): one per supply period, never dated before the letter, each for
exactly the days it covers, and never more than 30 days of a Schedule 2, 3 or 4 drug."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.dispensing import instalments, supplies_between
from taper.domain.prescriptions import TooLongForAControlledDrug, prescriptions
from tests.domain.test_engine import FORMULARY, SETTINGS, START, _plan, bd, plan, requests


def _totals(supplies) -> dict[tuple[str, Decimal | None, str | None], Decimal]:  # type: ignore[no-untyped-def]
    totals: dict[tuple[str, Decimal | None, str | None], Decimal] = defaultdict(Decimal)
    for supply in supplies:
        totals[(supply.product, supply.strength, supply.brand)] += supply.quantity
    return dict(totals)


@SETTINGS
@given(requests(), st.sampled_from([7, 14, 28]), st.integers(-10, 40))
def test_prescriptions_cover_every_day_from_the_letter_once_and_exactly(request, every: int, after: int) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    if not instalments(schedule, instalment_days=every):
        return  # the plan stops on its first day
    issued_on = schedule.steps[0].starts_on + timedelta(days=after)
    written = prescriptions(schedule, instalment_days=every, issued_on=issued_on, formulary=FORMULARY)
    last_day = instalments(schedule, instalment_days=every)[-1].ends_on
    if last_day < issued_on:
        assert written == []
        return
    first_day = max(issued_on, schedule.steps[0].starts_on)
    if not written:  # nothing at all to supply from the letter on (say, when-needed doses no longer used)
        assert supplies_between(schedule, first_day, last_day)[0] == ()
        return
    assert all(prescription.on >= issued_on and 1 <= prescription.days <= every and prescription.supplies
               for prescription in written)
    # Back to back, but for periods with nothing to supply (the last patch still worn), which get none.
    gaps = [(first_day, written[0].on - timedelta(days=1)),
            *((earlier.covers_to + timedelta(days=1), later.on - timedelta(days=1))
              for earlier, later in itertools.pairwise(written)),
            (written[-1].covers_to + timedelta(days=1), last_day)]
    for first_gap_day, last_gap_day in gaps:
        if first_gap_day <= last_gap_day:
            assert supplies_between(schedule, first_gap_day, last_gap_day)[0] == ()
    # Together they supply exactly what the days from the first prescription to the plan's end take.
    together: dict[tuple[str, Decimal | None, str | None], Decimal] = defaultdict(Decimal)
    for prescription in written:
        for key, quantity in _totals(prescription.supplies).items():
            together[key] += quantity
    assert dict(together) == _totals(supplies_between(schedule, written[0].on, last_day)[0])


def test_a_letter_written_mid_period_prescribes_only_the_days_left() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])  # step 1: 55 mg twice a day (three 15s and one 10 each)
    first = prescriptions(schedule, instalment_days=14, issued_on=START + timedelta(days=3), formulary=FORMULARY)[0]
    assert (first.on, first.days) == (START + timedelta(days=3), 11)
    assert {supply.strength: supply.quantity for supply in first.supplies} == {15: 66, 10: 22}


def test_more_than_30_days_of_a_schedule_2_drug_is_refused() -> None:
    schedule = plan([bd("morphine-mr-tablet-12h", 60)])
    with pytest.raises(TooLongForAControlledDrug):
        prescriptions(schedule, instalment_days=35, issued_on=START, formulary=FORMULARY)


def test_controlled_drug_schedules_follow_the_regulations_by_product_and_strength() -> None:
    schedules = {key: {str(strength): schedule for strength, schedule in FORMULARY.get(key).cd_schedules.items()}
                 for key in ("morphine-mr-tablet-12h", "morphine-oral-solution-10mg-5ml", "tramadol-mr-tablet-12h",
                             "buprenorphine-patch-7day", "codeine-tablet", "dihydrocodeine-mr-tablet-12h",
                             "hydromorphone-ir-capsule", "fentanyl-patch-72h")}
    assert set(schedules["morphine-mr-tablet-12h"].values()) == {2}
    assert schedules["morphine-oral-solution-10mg-5ml"] == {"2": 5}  # 10 mg in 5 mL: at most 0.2% morphine
    assert set(schedules["tramadol-mr-tablet-12h"].values()) == {3}
    assert set(schedules["buprenorphine-patch-7day"].values()) == {3}
    assert set(schedules["codeine-tablet"].values()) == {5}
    assert schedules["dihydrocodeine-mr-tablet-12h"] == {"60": 5, "90": 5, "120": 2}  # over 100 mg a unit
    assert set(schedules["hydromorphone-ir-capsule"].values()) == {2}
    assert set(schedules["fentanyl-patch-72h"].values()) == {2}
    assert all(product.cd_schedules.keys() == set(product.strengths) for product in FORMULARY)
