"""Same-drug switches at the start of a plan (issue 13 rule 6): MXL to 12-hourly morphine, co-codamol to codeine,
Transtec to a 7-day patch (confirmed), each a step of its own; and what is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from taper.domain.engine import Hold, Policy, replan
from taper.domain.regimen import RegimenError
from taper.domain.schedule_contract import read_policy, schedule_document, schedule_from_document
from taper.domain.switches import Switch
from tests.domain.test_engine import FORMULARY, START, doses, plan

MXL = [{"product": "morphine-mr-capsule-24h", "doses": [{"time": "08:00", "dose_mg": 60}]}]
TO_12_HOURLY = Switch("morphine-mr-capsule-24h", "morphine-mr-tablet-12h")


def test_mxl_switches_to_12_hourly_morphine_at_the_same_dose_then_comes_down_gently() -> None:
    schedule = plan(MXL, policy=Policy(switches=(TO_12_HOURLY,)))
    first, second = schedule.steps[0], schedule.steps[1]
    assert schedule.starting_ome_mg_per_day == 60 and first.ome_mg_per_day == 60
    assert [line.product.key for line in first.lines] == ["morphine-mr-tablet-12h"]
    assert doses(first.lines[0]) == {"08:00": 30, "20:00": 30}  # the first 12-hourly dose when MXL was due
    assert "Switch from morphine modified-release capsule to morphine modified-release tablet" in first.explanation
    assert (first.ends_on, second.starts_on) == (START + timedelta(days=13), START + timedelta(days=14))
    assert second.ome_mg_per_day < 60
    assert doses(schedule.steps[-2].lines[0]) in ({"08:00": 5, "20:00": 5}, {"20:00": 5})  # no longer 30 to 0
    assert not any("stops from" in warning for step in schedule.steps for warning in step.warnings)


def test_co_codamol_switches_to_codeine_at_the_same_codeine_doses() -> None:
    qds = [{"product": "co-codamol-30-500-tablet",
            "doses": [{"time": at, "dose_mg": 60} for at in ("08:00", "12:00", "16:00", "22:00")]}]
    schedule = plan(qds, policy=Policy(switches=(Switch("co-codamol-30-500-tablet", "codeine-tablet"),)))
    first = schedule.steps[0]
    assert [line.product.key for line in first.lines] == ["codeine-tablet"]
    assert doses(first.lines[0]) == {"08:00": 60, "12:00": 60, "16:00": 60, "22:00": 60}
    assert first.ome_mg_per_day == schedule.starting_ome_mg_per_day
    assert all(line.product.key == "codeine-tablet" for step in schedule.steps for line in step.lines)


def test_transtec_switches_to_a_lower_7_day_patch_only_when_confirmed() -> None:
    transtec = [{"product": "buprenorphine-patch-96h", "patch_mcg_per_hour": 35}]
    switch = Switch("buprenorphine-patch-96h", "buprenorphine-patch-7day")
    with pytest.raises(RegimenError) as refusal:
        plan(transtec, policy=Policy(switches=(switch,)))
    assert [error.field for error in refusal.value.errors] == ["policy.switches[0].confirmed"]
    assert "lowers the rate from 35" in refusal.value.errors[0].message
    schedule = plan(transtec, policy=Policy(switches=(Switch(switch.from_product, switch.to_product,
                                                             confirmed=True),)))
    rates = [step.lines[0].patch_mcg_per_hour if step.lines else Decimal(0) for step in schedule.steps]
    assert rates == [20, 15, 10, 5, 0]  # instead of 35 to nothing on day 1
    assert "this is itself a reduction" in schedule.steps[0].explanation
    assert all((step.starts_on - START).days % 7 == 0 for step in schedule.steps)


@pytest.mark.parametrize(("switch", "field", "says"), [
    (Switch("morphine-mr-capsule-24h", "oxycodone-mr-tablet-12h"), "policy.switches[0]", "not a same-drug switch"),
    (Switch("morphine-mr-capsule-24h", "morphine-mr-tablet-12h", at_step=3), "policy.switches[0].at_step",
     "at the start of a plan"),
    (Switch("co-codamol-30-500-tablet", "codeine-tablet"), "policy.switches[0].from", "not in the regimen"),
])
def test_a_switch_taper_does_not_make_is_refused_by_its_field(switch: Switch, field: str, says: str) -> None:
    with pytest.raises(RegimenError) as refusal:
        plan(MXL, policy=Policy(switches=(switch,)))
    assert [(error.field, says in error.message) for error in refusal.value.errors] == [(field, True)]


def test_a_switched_plan_is_stored_read_back_and_revised_without_switching_again() -> None:
    policy = Policy(switches=(TO_12_HOURLY,))
    schedule = plan(MXL, policy=policy, holds=[Hold(step=1, extra_days=7), Hold(step=3, extra_days=7)])
    assert schedule.steps[0].held_days == 7 and schedule.steps[1].starts_on == START + timedelta(days=21)
    document = json.loads(json.dumps(schedule_document(schedule, FORMULARY, policy)))
    assert document["policy"]["switches"] == [{"from": "morphine-mr-capsule-24h", "to": "morphine-mr-tablet-12h",
                                               "at_step": 1, "confirmed": False}]
    assert document["policy"]["order"] == ["morphine-mr-tablet-12h"]
    stored = schedule_from_document(document, FORMULARY)
    assert stored.steps == schedule.steps
    on = schedule.steps[2].starts_on + timedelta(days=3)
    slower = replan(stored, formulary=FORMULARY, on=on, policy=read_policy(document["policy"]))
    assert slower.steps[:2] == stored.steps[:2]
    assert all(line.product.key == "morphine-mr-tablet-12h" for step in slower.steps for line in step.lines)
