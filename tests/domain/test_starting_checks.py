"""Checks on the starting regimen in the engine's JSON contract (issue 13, rule 1), unknown fields refused at
every level, and the contract's new fields (`policy.tail`, each step's `ome_at_max_mg_per_day` and
`held_days`) written and read back exactly. Pure: the contract without Flask (the CLI and the API, which share
it, are in tests/test_schedule_contract.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taper.domain.engine import Policy, build_schedule
from taper.domain.formulary import load_formulary
from taper.domain.limits import DEFAULT_LIMITS
from taper.domain.ome import get_factor_set
from taper.domain.regimen import RegimenError, parse_regimen
from taper.domain.schedule_contract import (
    read_policy,
    schedule_document,
    schedule_from_document,
    schedule_from_request,
    stored_limits,
)
from taper.domain.starting_checks import MAX_OME_MG_PER_DAY, MAX_UNITS_PER_DOSE, refusals

PLAUSIBLE_UNITS_PER_DOSE = DEFAULT_LIMITS.plausible_units_per_dose
PLAUSIBLE_OME_MG_PER_DAY = DEFAULT_LIMITS.plausible_ome_mg_per_day

FORMULARY = load_formulary()
UK = get_factor_set("fpm-2020")
START = "2027-01-04"
QDS = ("08:00", "12:00", "16:00", "22:00")


def regular(product: str, *doses: tuple[str, object]) -> dict[str, Any]:
    return {"product": product, "doses": [{"time": at, "dose_mg": dose} for at, dose in doses]}


def bd(product: str, dose: object) -> dict[str, Any]:
    return regular(product, ("08:00", dose), ("20:00", dose))


def qds(product: str, dose: object) -> dict[str, Any]:
    return regular(product, *((at, dose) for at in QDS))


def prn(product: str, dose: object, usual: int, most: int) -> dict[str, Any]:
    return {"product": product, "prn": {"dose_mg": dose, "usual_per_day": usual, "max_per_day": most}}


def answer(*lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return schedule_from_request({"start_on": START, "regimen": list(lines), **fields}, FORMULARY)


def refused(*lines: dict[str, Any], **fields: Any) -> list[tuple[str, str]]:
    with pytest.raises(RegimenError) as refusal:
        answer(*lines, **fields)
    return [(error.field, error.message) for error in refusal.value.errors]


def warnings_naming(document: dict[str, Any], *words: str) -> list[str]:
    return [warning for warning in document["warnings"] if all(word in warning for word in words)]


# Warnings: the request is answered, and the top-level warnings say what to look at -------------------------

def test_co_codamol_30_500_three_tablets_four_times_a_day_proposes_separate_codeine_and_paracetamol() -> None:
    document = answer(qds("co-codamol-30-500-tablet", 90))  # 12 tablets a day: 6 g of paracetamol
    [paracetamol] = warnings_naming(document, "6000 mg of paracetamol")
    assert "4 g" in paracetamol
    assert "at step 1 by switching co-codamol 30/500 tablets (co-codamol-30-500-tablet) to codeine tablets " \
           "(codeine-tablet) at the same codeine doses (360 mg of codeine a day)" in paracetamol
    assert "rather than cutting the opioid at once" in paracetamol
    # 360 mg of codeine a day is also above co-codamol's maximum of 8 tablets (240 mg of codeine).
    assert warnings_naming(document, "360 mg a day", "maximum of 240", "BNF monograph co-codamol")
    assert document["steps"] and document["steps"][-1]["ome_mg_per_day"] == 0


def test_tramadol_600_mg_a_day_is_above_the_400_mg_maximum_with_its_source() -> None:
    document = answer(qds("tramadol-capsule", 150))
    [above] = warnings_naming(document, "Tramadol capsule")
    assert "600 mg a day" in above and "maximum of 400" in above and "BNF monograph tramadol" in above


def test_when_needed_doses_count_at_their_maximum_against_the_products_maximum() -> None:
    usual = answer(bd("tramadol-capsule", 150), prn("tramadol-capsule", 50, 0, 1))  # 350 mg at most: within 400
    assert not warnings_naming(usual, "maximum of 400")
    at_most = answer(bd("tramadol-capsule", 150), prn("tramadol-capsule", 50, 0, 3))  # usually 300, at most 450
    assert warnings_naming(at_most, "450 mg a day", "maximum of 400")


def test_codeine_20_mg_twice_a_day_cannot_be_made_from_15_30_or_60_mg_tablets() -> None:
    document = answer(bd("codeine-tablet", 20))
    [unmade] = warnings_naming(document, "20 mg of codeine tablet cannot be made")
    assert "15 mg, 30 mg, 60 mg" in unmade and "cannot be issued" in unmade
    assert not warnings_naming(answer(bd("codeine-tablet", 30)), "cannot be made")


def test_an_oramorph_dose_of_1_275_ml_cannot_be_measured() -> None:
    document = answer(regular("morphine-oral-solution-10mg-5ml", ("08:00", 2.55), ("20:00", 5)))
    [unmeasured] = warnings_naming(document, "2.55 mg of morphine oral solution")
    assert "measurable" in unmeasured and "1.275 mL" in unmeasured
    assert "5 mg" not in unmeasured.replace("2.55 mg", "")  # the 2.5 mL evening dose can be measured


def test_more_than_20_units_in_one_dose_is_implausible() -> None:
    limit = PLAUSIBLE_UNITS_PER_DOSE * 20  # oxycodone capsules: 20 mg at most each
    assert not warnings_naming(answer(regular("oxycodone-ir-capsule", ("08:00", limit))), "in one dose")
    [many] = warnings_naming(answer(regular("oxycodone-ir-capsule", ("08:00", limit + 20))), "in one dose")
    assert f"{limit + 20} mg of oxycodone capsule is 21 capsules" in many and f"more than {PLAUSIBLE_UNITS_PER_DOSE}" \
        in many


def test_the_clinics_limits_replace_the_defaults_and_are_echoed() -> None:
    """Rule 1: the paracetamol maximum and the plausibility limits are a clinic's settings (`limits`)."""
    co_codamol = regular("co-codamol-30-500-tablet", *((at, 60) for at in ("08:00", "12:00", "18:00")))  # 3 g
    assert not warnings_naming(answer(co_codamol), "paracetamol a day")
    lower = {"paracetamol_max_mg_per_day": 2000, "plausible_units_per_dose": 2, "plausible_ome_mg_per_day": 100}
    document = answer(co_codamol, limits=lower)
    [paracetamol] = warnings_naming(document, "paracetamol a day")
    assert "3000 mg of paracetamol a day" in paracetamol and "the clinic's maximum of 2 g in 24 hours" in paracetamol
    assert "at no more than 2 g a day" in paracetamol
    assert document["limits"] == lower and answer(co_codamol)["limits"] == {
        "paracetamol_max_mg_per_day": 4000, "plausible_units_per_dose": 20, "plausible_ome_mg_per_day": 1000}
    [many] = warnings_naming(answer(regular("codeine-tablet", ("08:00", 180)), limits=lower), "in one dose")
    assert "is three 60 mg" not in many and "3 tablets in one dose, more than 2" in many
    assert warnings_naming(answer(bd("morphine-mr-tablet-12h", 60), limits=lower), "above 100 mg OME a day")


@pytest.mark.parametrize(("limits", "field"), [
    ({"paracetamol_max_mg_per_day": 6000}, "limits.paracetamol_max_mg_per_day"),
    ({"plausible_units_per_dose": 60}, "limits.plausible_units_per_dose"),
    ({"plausible_ome_mg_per_day": 5000}, "limits.plausible_ome_mg_per_day"),
    ({"plausible_units_per_dose": "20"}, "limits.plausible_units_per_dose"),
    ({"paracetamol_max_mg_per_day": "NaN"}, "limits.paracetamol_max_mg_per_day"),
    ({"ome": 10}, "limits.ome"),
    ([], "limits"),
])
def test_limits_outside_their_ranges_are_refused(limits: Any, field: str) -> None:
    """No clinic setting can raise paracetamol above 4 g, or turn a refused dose into a warning."""
    assert [name for name, _ in refused(bd("morphine-mr-tablet-12h", 30), limits=limits)] == [field]


def test_more_than_1000_mg_ome_a_day_is_implausible() -> None:
    at_limit = answer(bd("morphine-mr-tablet-12h", PLAUSIBLE_OME_MG_PER_DAY / 2))
    assert not warnings_naming(at_limit, "rarely a real regimen")
    [above] = warnings_naming(answer(bd("morphine-mr-tablet-12h", 500), prn("morphine-ir-tablet", 10, 0, 2)),
                              "rarely a real regimen")
    assert "1020 mg OME a day (when-needed doses at their maximum)" in above and "above 1000 mg OME a day" in above


def test_starting_warnings_lead_and_a_sound_regimen_has_none() -> None:
    assert answer({**bd("morphine-mr-tablet-12h", 60), "brand": "MST Continus"})["warnings"] == []
    document = answer(bd("codeine-tablet", 20))
    assert document["warnings"][0].startswith("Starting regimen: ")


# Refusals: nothing is planned ------------------------------------------------------------------------------

def test_morphine_mr_5_g_twice_a_day_is_refused_before_the_engine_runs() -> None:
    # The engine itself would refuse a maintenance target above the starting dose; that it says nothing
    # shows the hard limit refused the request before the engine was called.
    errors = refused(bd("morphine-mr-tablet-12h", 5000), policy={"target_ome_mg_per_day": 20000})
    assert errors == [("regimen[0].doses[0].dose_mg",
                       "the regimen comes to 10000 mg OME a day (when-needed doses at their maximum), above the limit "
                       "of 5000 mg OME a day beyond which no tapering plan makes sense: check this dose (5000 mg of "
                       "morphine modified-release tablet), the largest part of it")]


def test_the_ome_hard_limit_counts_when_needed_doses_at_their_maximum() -> None:
    limit = MAX_OME_MG_PER_DAY
    assert refusals(parse_regimen([bd("morphine-mr-tablet-12h", limit / 2)], FORMULARY), FORMULARY, UK) == []
    over = parse_regimen([bd("morphine-mr-tablet-12h", limit / 2), prn("morphine-ir-tablet", 10, 0, 1)], FORMULARY)
    [error] = refusals(over, FORMULARY, UK)
    assert error.field == "regimen[0].doses[0].dose_mg" and "5010 mg OME a day" in error.message
    [error] = refused(prn("morphine-ir-tablet", 250, 1, 24))  # usually 250 mg OME a day; 6000 at the maximum
    assert error[0] == "regimen[0].prn.dose_mg" and "6000 mg OME a day" in error[1]


def test_a_dose_needing_more_than_60_units_is_refused_naming_the_dose_as_given() -> None:
    largest = FORMULARY.get("co-codamol-30-500-tablet").strengths[-1]
    most = largest * MAX_UNITS_PER_DOSE
    assert refusals(parse_regimen([regular("co-codamol-30-500-tablet", ("08:00", most))], FORMULARY),
                    FORMULARY, UK) == []
    # Given out of time order: the field is the request's own index, not the time order the regimen keeps.
    errors = refused(regular("co-codamol-30-500-tablet", ("20:00", 30), ("08:00", most + largest)))
    assert errors == [("regimen[0].doses[1].dose_mg",
                       f"{most + largest} mg of co-codamol 30/500 tablet needs at least 61 tablets in one dose "
                       "(the largest strength is 30 mg): more than 60 is refused as a mistyped dose")]


@pytest.mark.parametrize(("first", "second", "kind"), [
    (bd("morphine-mr-tablet-12h", 30), regular("morphine-mr-tablet-12h", ("12:00", 10)), "regular doses"),
    (prn("oxycodone-ir-capsule", 5, 1, 4), prn("oxycodone-ir-capsule", 10, 0, 2), "when-needed doses"),
    ({"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 25},
     {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 12}, "patches"),
])
def test_the_same_product_on_two_lines_of_the_same_kind_is_refused(first: dict[str, Any], second: dict[str, Any],
                                                                     kind: str) -> None:
    [(field, message)] = refused(first, bd("codeine-tablet", 30), second)
    assert field == "regimen[2].product" and f"is already on regimen[0] as {kind}" in message


def test_regular_and_when_needed_oramorph_is_ordinary_and_planned() -> None:
    document = answer(bd("morphine-oral-solution-10mg-5ml", 10), prn("morphine-oral-solution-10mg-5ml", 5, 1, 4))
    assert document["starting_ome_mg_per_day"] == 25 and document["steps"][-1]["ome_mg_per_day"] == 0


def test_every_problem_is_listed_together() -> None:
    fields = [field for field, _ in refused(bd("morphine-mr-tablet-12h", 30), bd("morphine-mr-tablet-12h", 3000),
                                            policy={"tail": "yes"})]
    assert sorted(fields) == ["policy.tail", "regimen[1].doses[0].dose_mg", "regimen[1].product"]


# Unknown fields, at every level ----------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field", "expected"), [
    (lambda request: request.update(speed="fast"), "speed", "start_on, regimen, policy, holds, factor_set"),
    (lambda request: request["regimen"][0].update(strength=30), "regimen[0].strength",
     "product, brand, doses, prn, patch_mcg_per_hour"),
    (lambda request: request["regimen"][0]["doses"][1].update(route="oral"), "regimen[0].doses[1].route",
     "time, dose_mg"),
    (lambda request: request["regimen"][1]["prn"].update(every_hours=4), "regimen[1].prn.every_hours",
     "dose_mg, usual_per_day, max_per_day"),
    (lambda request: request["policy"].update(pace="slow"), "policy.pace", "reduction_pct"),
    (lambda request: request["holds"][0].update(days=7), "holds[0].days", "step, extra_days"),
])
def test_an_unknown_field_is_refused_at_every_level_by_its_path(change: Any, field: str, expected: str) -> None:
    request: dict[str, Any] = {
        "start_on": START, "regimen": [bd("morphine-mr-tablet-12h", 30), prn("oxycodone-ir-capsule", 5, 1, 4)],
        "policy": {"reduction_pct": 10}, "holds": [{"step": 1, "extra_days": 7}]}
    schedule_from_request(request, FORMULARY)  # as written, it is answered
    change(request)
    with pytest.raises(RegimenError) as refusal:
        schedule_from_request(request, FORMULARY)
    [error] = refusal.value.errors
    assert error.field == field and "unknown field" in error.message and expected in error.message


def test_each_unknown_field_is_named() -> None:
    line = {**bd("morphine-mr-tablet-12h", 30), "brand_name": "MST Continus", "notes": "with food"}
    assert [field for field, _ in refused(line)] == ["regimen[0].brand_name", "regimen[0].notes"]


# New fields: policy.tail, and each step's ome_at_max_mg_per_day and held_days -------------------------------

def test_tail_is_on_by_default_read_as_a_boolean_and_echoed() -> None:
    assert answer(bd("morphine-mr-tablet-12h", 60))["policy"]["tail"] is True
    document = answer(bd("morphine-mr-tablet-12h", 60), policy={"tail": False})
    assert document["policy"]["tail"] is False and read_policy(document["policy"]).tail is False
    for not_a_boolean in ("false", 0, None):
        assert refused(bd("morphine-mr-tablet-12h", 60), policy={"tail": not_a_boolean}) == [
            ("policy.tail", f"must be true or false, not {not_a_boolean!r}")]


def test_the_requests_tail_is_the_one_the_engine_plans_with() -> None:
    regimen = parse_regimen([bd("morphine-mr-tablet-12h", 200)], FORMULARY)
    steps = {}
    for tail in (True, False):
        policy = Policy(tail=tail, order=("morphine-mr-tablet-12h",))
        expected = schedule_document(build_schedule(regimen, formulary=FORMULARY, factor_set=UK,
                                                    start_on=date.fromisoformat(START), policy=policy),
                                     FORMULARY, policy)
        assert answer(bd("morphine-mr-tablet-12h", 200), policy={"tail": tail})["steps"] == expected["steps"]
        steps[tail] = expected["steps"]
    assert steps[True] != steps[False]  # the tail changes this plan, so the test would see it dropped


def test_every_step_says_its_ome_at_the_maximum_and_the_days_held() -> None:
    document = answer(bd("morphine-mr-tablet-12h", 60), prn("oxycodone-ir-capsule", 5, 1, 4),
                      holds=[{"step": 2, "extra_days": 7}])
    for step in document["steps"]:
        assert step["ome_at_max_mg_per_day"] >= step["ome_mg_per_day"]
        assert step["held_days"] == (7 if step["number"] == 2 else 0)


def test_a_document_stored_before_the_new_fields_reads_back_with_their_defaults() -> None:
    document = json.loads(json.dumps(answer(bd("morphine-mr-tablet-12h", 60))))
    for step in document["steps"]:
        del step["ome_at_max_mg_per_day"], step["held_days"]
    del document["policy"]["tail"]
    schedule = schedule_from_document(document, FORMULARY)
    assert all(step.ome_at_max_mg_per_day is None and step.held_days == 0 for step in schedule.steps)
    again = schedule_document(schedule, FORMULARY, read_policy(document["policy"]))
    assert [step["ome_at_max_mg_per_day"] for step in again["steps"]] == [step["ome_mg_per_day"]
                                                                         for step in document["steps"]]
    assert again["policy"]["tail"] is True


# The whole response reads back exactly ---------------------------------------------------------------------

TAPERABLE = sorted(product.key for product in FORMULARY if product.taper_automatically)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """Requests of one to four lines from the whole formulary: regular, when-needed, patches and liquids, with
    doses that can and cannot be made, and any policy; some are refused, and those are left out."""
    keys = draw(st.lists(st.sampled_from(TAPERABLE), min_size=1, max_size=4, unique=True))
    lines: list[dict[str, Any]] = []
    for key in keys:
        product = FORMULARY.get(key)
        if product.is_patch:
            patches = draw(st.lists(st.sampled_from(product.strengths), min_size=1, max_size=2))
            lines.append({"product": key, "patch_mcg_per_hour": str(sum(patches))})
            continue
        unit = Decimal("0.1") * product.strengths[0] if product.is_liquid else product.strengths[0]
        dose = str(unit * draw(st.integers(1, 60)))
        if draw(st.booleans()):
            dose = str(Decimal(dose) + draw(st.sampled_from([Decimal("0.05"), Decimal(1), Decimal(5)])))
        if draw(st.integers(0, 3)) == 0:
            usual = draw(st.integers(0, 3))
            lines.append(prn(key, dose, usual, usual + draw(st.integers(1, 3))))
        else:
            times = draw(st.lists(st.sampled_from(QDS), min_size=1, max_size=4, unique=True))
            lines.append(regular(key, *((at, dose) for at in times)))
    policy: dict[str, Any] = {
        "reduction_pct": draw(st.integers(5, 50)), "interval_days": draw(st.integers(3, 56)),
        "basis": draw(st.sampled_from(["starting", "current", "phased"])), "tail": draw(st.booleans())}
    if draw(st.booleans()):
        policy["order"] = draw(st.permutations(keys))
    holds = [{"step": draw(st.integers(1, 5)), "extra_days": draw(st.integers(1, 28))}] if draw(st.booleans()) else []
    return {"start_on": START, "regimen": lines, "policy": policy, "holds": holds,
            "factor_set": draw(st.sampled_from(["fpm-2020", "cdc-2022", "openprescribing-2024"]))}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_any_accepted_response_reads_back_and_writes_again_exactly(request: dict[str, Any]) -> None:
    try:
        answered = schedule_from_request(request, FORMULARY)
    except RegimenError:
        return  # refused requests have no response to read back
    document = json.loads(json.dumps(answered))  # through real JSON text, as stored
    again = schedule_document(schedule_from_document(document, FORMULARY), FORMULARY, read_policy(document["policy"]),
                              stored_limits(document))
    assert json.loads(json.dumps(again)) == document
