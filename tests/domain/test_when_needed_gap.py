"""When-needed doses with their minimum gap (issue 14, item 2): the GP's prescription directions, the step
descriptions and the patient's advice give the formulary's least gap between when-needed doses; a product with
none (not taken when needed in this service) is still described, without a gap, as before."""

from __future__ import annotations

import json
from typing import Any

from taper.domain.advice import medicine_advice
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request
from taper.domain.wording import describe_scheduled, directions, when_needed_gap

START = "2027-01-04"


def _prn(product: str, dose_mg: float, usual: int, most: int) -> dict[str, Any]:
    return {"product": product, "prn": {"dose_mg": dose_mg, "usual_per_day": usual, "max_per_day": most}}


def _schedule(*regimen: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(schedule_from_request({"start_on": START, "regimen": list(regimen)},
                                                       load_formulary())))


def _first_line(schedule: dict[str, Any], product: str) -> dict[str, Any]:
    return next(line for line in schedule["steps"][0]["lines"] if line["product"] == product and "prn" in line)


def test_the_directions_of_a_when_needed_liquid_give_its_gap_before_its_maximum() -> None:
    """Oramorph 10 mg (5 mL), usually twice, at most five times: step 1 takes one dose a day off the maximum."""
    schedule = _schedule(_prn("morphine-oral-solution-10mg-5ml", 10, 2, 5))
    line = _first_line(schedule, "morphine-oral-solution-10mg-5ml")
    assert directions(line) == ("10 mg (5 mL) when required for pain, at least 4 hours apart, at most four times in "
                                "24 hours")


def test_codeine_is_six_hours_apart_and_every_when_needed_product_says_its_own_gap() -> None:
    formulary = load_formulary()
    assert when_needed_gap(formulary.get("codeine-tablet")) == "at least 6 hours apart"
    assert when_needed_gap(formulary.get("oxycodone-ir-capsule")) == "at least 4 hours apart"
    line = _first_line(_schedule(_prn("codeine-tablet", 30, 1, 3)), "codeine-tablet")
    assert "when required for pain, at least 6 hours apart, at most" in directions(line)


def test_the_step_description_of_a_when_needed_line_ends_with_its_gap() -> None:
    line = _first_line(_schedule(_prn("oxycodone-ir-capsule", 5, 2, 4)), "oxycodone-ir-capsule")
    described = describe_scheduled(line)
    assert described.startswith("Oxycodone capsule when needed: 5 mg (one 5 mg capsule), usually ")
    assert described.endswith(" a day, at least 4 hours apart")


def test_the_patients_advice_says_to_leave_the_gap_between_when_needed_doses() -> None:
    advice = medicine_advice(_schedule(_prn("oxycodone-oral-solution-5mg-5ml", 5, 1, 3)))
    assert ("Oxycodone oral solution 5 mg in 5 mL is only for when you need it. Leave at least 4 hours between "
            "doses.") in advice


def test_a_product_taken_regularly_and_when_needed_says_the_gap_is_between_the_extra_doses() -> None:
    schedule = _schedule({"product": "morphine-oral-solution-10mg-5ml",
                          "doses": [{"time": "08:00", "dose_mg": 10}, {"time": "20:00", "dose_mg": 10}]},
                         _prn("morphine-oral-solution-10mg-5ml", 5, 1, 2))
    advice = " ".join(medicine_advice(schedule))
    assert "Leave at least 4 hours between these extra doses." in advice
    assert "is only for when you need it" not in advice


def test_a_plan_without_when_needed_doses_says_nothing_about_a_gap() -> None:
    schedule = _schedule({"product": "oxycodone-ir-capsule",
                          "doses": [{"time": "08:00", "dose_mg": 10}, {"time": "20:00", "dose_mg": 10}]})
    assert not any("hours between" in said for said in medicine_advice(schedule))


def test_a_when_needed_line_for_a_product_with_no_gap_is_still_planned_and_described_without_one() -> None:
    """Stored regimens may hold a when-needed line for a modified-release product: it is not refused (that would
    leave stored plans that cannot be re-planned), and nothing invents a gap the formulary does not give."""
    schedule = _schedule(_prn("morphine-mr-tablet-12h", 10, 1, 2))
    line = _first_line(schedule, "morphine-mr-tablet-12h")
    assert when_needed_gap(load_formulary().get("morphine-mr-tablet-12h")) is None
    assert directions(line) == "10 mg (one 10 mg tablet) when required for pain, at most one time in 24 hours"
    assert "apart" not in directions(line) and "apart" not in describe_scheduled(line)
    assert not any("hours between" in said for said in medicine_advice(schedule))
