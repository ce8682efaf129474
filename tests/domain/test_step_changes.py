"""What changes from one step to the next, in the patient's words (issue 14): worked examples, and properties
over random plans from the whole formulary (tests/domain/test_engine.py's regimens)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import readability
from hypothesis import HealthCheck, given, settings

from taper.domain.engine import Policy, replan
from taper.domain.schedule_contract import schedule_document
from taper.domain.step_changes import PAUSE, plain_name, step_changes
from taper.domain.wording import clock_words, line_product
from tests.domain.test_engine import FORMULARY, _plan, bd, plan, requests


def _tablets(product: str, doses: dict[str, tuple[int, ...]], brand: str | None = None) -> dict[str, Any]:
    """A regular line of a schedule document; each time's dose as the strengths of its tablets."""
    return {"product": product} | ({"brand": brand} if brand else {}) | {"doses": [
        {"time": at, "dose_mg": sum(strengths),
         "units": [{"strength": strength, "count": strengths.count(strength)} for strength in sorted(set(strengths),
                                                                                                      reverse=True)]}
        for at, strengths in doses.items()]}


def _liquid(product: str, doses: dict[str, float], mg_per_ml: float) -> dict[str, Any]:
    return {"product": product, "doses": [{"time": at, "dose_mg": volume * mg_per_ml, "units": [{"volume_ml": volume}]}
                                          for at, volume in doses.items()]}


def _prn(product: str, dose_mg: float, usual: int, most: int, units: list[dict[str, Any]]) -> dict[str, Any]:
    return {"product": product, "prn": {"dose_mg": dose_mg, "usual_per_day": usual, "max_per_day": most,
                                        "units": units}}


def _patch(product: str, strengths: tuple[float, ...], brand: str | None = None) -> dict[str, Any]:
    return {"product": product} | ({"brand": brand} if brand else {}) | {
        "patch_mcg_per_hour": sum(strengths),
        "units": [{"strength": strength, "count": strengths.count(strength)} for strength in sorted(set(strengths),
                                                                                                     reverse=True)]}


def _step(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"lines": list(lines)}


MST = "morphine-mr-tablet-12h"
FENTANYL = "fentanyl-patch-72h"
CO_CODAMOL = "co-codamol-30-500-tablet"
ORAMORPH = "morphine-oral-solution-10mg-5ml"


def test_a_dose_coming_down_at_one_time_of_day_says_the_time_and_both_doses() -> None:
    before = _step(_tablets(MST, {"08:00": (30,), "20:00": (30,)}, "MST Continus"))
    after = _step(_tablets(MST, {"08:00": (30,), "20:00": (10, 10)}, "MST Continus"))
    assert step_changes(before, after) == ["Your morphine at 8pm goes down from 30 mg to 20 mg."]


def test_times_with_the_same_change_are_said_together() -> None:
    before = _step(_tablets(MST, {"08:00": (30,), "12:00": (15,), "20:00": (30,)}))
    after = _step(_tablets(MST, {"08:00": (15, 5), "12:00": (10,), "20:00": (15, 5)}))
    assert step_changes(before, after) == ["Your morphine at 8am and 8pm goes down from 30 mg to 20 mg.",
                                           "Your morphine at 12 noon goes down from 15 mg to 10 mg."]


def test_a_patch_coming_down_is_said_in_micrograms_an_hour() -> None:
    before, after = _step(_patch(FENTANYL, (25,), "Matrifen")), _step(_patch(FENTANYL, (12,), "Matrifen"))
    assert " ".join(step_changes(before, after)) == "Your fentanyl patch goes down from 25 to 12 micrograms an hour."


def test_a_medicine_that_stops_is_named_and_the_last_patch_too() -> None:
    before = _step(_patch(FENTANYL, (12,)), _tablets(CO_CODAMOL, {"08:00": (30,), "20:00": (30,)}))
    assert step_changes(before, _step(_patch(FENTANYL, (12,)))) == ["You stop taking co-codamol 30/500."]
    assert step_changes(before, _step()) == ["You stop using your fentanyl patch.",
                                             "You stop taking co-codamol 30/500."]


def test_the_same_medicines_as_the_step_before_is_a_pause() -> None:
    step = _step(_tablets(MST, {"08:00": (30,), "20:00": (30,)}), _patch(FENTANYL, (25,)),
                 _prn(ORAMORPH, 5, 1, 2, [{"volume_ml": 2.5}]))
    assert step_changes(step, step) == [PAUSE] == ["No change to your medicines: this step is a pause."]


def test_a_combination_product_is_counted_in_tablets_a_liquid_in_millilitres() -> None:
    """A '60 mg' co-codamol dose is 60 mg of codeine in two tablets (and 1 g of paracetamol): the patient counts
    tablets. A liquid is measured in mL, as the timetable says."""
    before = _step(_tablets(CO_CODAMOL, {"08:00": (30, 30)}), _liquid(ORAMORPH, {"20:00": 5}, 2))
    after = _step(_tablets(CO_CODAMOL, {"08:00": (30,)}), _liquid(ORAMORPH, {"20:00": 2.5}, 2))
    assert step_changes(before, after) == ["Your co-codamol 30/500 at 8am goes down from two tablets to one tablet.",
                                           "Your morphine liquid at 8pm goes down from 5 mL to 2.5 mL."]


def test_a_time_of_day_that_stops_and_a_medicine_that_stops_while_another_of_its_drug_goes_on() -> None:
    before = _step(_tablets(MST, {"08:00": (10,), "20:00": (10,)}), _prn(ORAMORPH, 5, 1, 2, [{"volume_ml": 2.5}]))
    assert step_changes(before, _step(_tablets(MST, {"20:00": (10,)}), before["lines"][1])) == [
        "You stop taking morphine at 8am."]
    # Morphine liquid goes on when needed: "You stop taking morphine" would not be true.
    assert step_changes(before, _step(before["lines"][1])) == ["You stop taking morphine at 8am and 8pm."]


def test_when_needed_doses_say_the_new_most_a_day_and_when_they_stop() -> None:
    capsule = [{"strength": 5, "count": 1}]
    before = _step(_prn("oxycodone-ir-capsule", 5, 2, 3, capsule))
    after = _step(_prn("oxycodone-ir-capsule", 5, 1, 2, capsule))
    assert step_changes(before, after) == [
        "You may take oxycodone when you need it, but now no more than twice a day. It was 3 times a day."]
    assert step_changes(after, _step()) == ["You no longer have oxycodone for when you need it."]
    usual_only = _step(_prn("oxycodone-ir-capsule", 5, 0, 3, capsule))
    assert step_changes(before, usual_only) == ["On most days, try not to need oxycodone at all."]


def test_two_medicines_with_one_plain_name_are_named_in_full() -> None:
    before = _step(_tablets(MST, {"08:00": (30,)}, "MST Continus"), _tablets("morphine-ir-tablet", {"08:00": (10,)}))
    after = _step(_tablets(MST, {"08:00": (15, 5)}, "MST Continus"), _tablets("morphine-ir-tablet", {"08:00": (10,)}))
    assert step_changes(before, after) == [
        "Your morphine modified-release tablet (MST Continus) at 8am goes down from 30 mg to 20 mg."]


def test_the_same_dose_made_up_another_way_is_said() -> None:
    before = _step(_tablets(MST, {"08:00": (20,)}))
    after = _step(_tablets(MST, {"08:00": (10, 10)}))
    assert step_changes(before, after) == ["Your morphine at 8am is still 20 mg, made up of two 10 mg tablets."]


def test_going_back_a_step_says_the_dose_goes_up() -> None:
    """The only time a dose rises: the patient and pharmacist agree to go back to the step before."""
    schedule = plan([bd(MST, 30)])
    back = replan(schedule, formulary=FORMULARY, on=schedule.steps[2].starts_on + timedelta(days=3), policy=Policy(),
                  go_back=True)
    steps = schedule_document(back, FORMULARY, Policy())["steps"]
    said = " ".join(step_changes(steps[2], steps[3]))
    assert "goes up" in said and "morphine" in said, said


def test_a_whole_plan_reads_at_about_age_11_and_never_says_ome() -> None:
    """Flesch-Kincaid grade 6 or below, as the patient plan (tests/documents/test_team_letters.py)."""
    regimen = [bd("oxycodone-mr-tablet-12h", 20),
               {"product": CO_CODAMOL, "doses": [{"time": at, "dose_mg": 60} for at in ("07:00", "12:00", "17:00",
                                                                                        "22:00")]},
               {"product": FENTANYL, "brand": "Matrifen", "patch_mcg_per_hour": 25},
               {"product": ORAMORPH, "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}]
    steps = schedule_document(plan(regimen), FORMULARY, Policy())["steps"]
    sentences = [sentence for before, after in itertools.pairwise(steps) for sentence in step_changes(before, after)]
    assert len(sentences) >= len(steps) - 1
    prose = "\n".join(sentence.replace(".", " .").replace(",", " ,") for sentence in sentences)
    assert readability.getmeasures(prose, lang="en")["readability grades"]["Kincaid"] <= 6
    assert not any("OME" in sentence or "equivalent" in sentence for sentence in sentences)


def _what_a_line_is(line: dict[str, Any]) -> Any:
    """Everything about a line the patient does: doses and their tablets, when-needed limits, patches."""
    return {key: value for key, value in line.items() if key not in ("product", "brand")}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_every_line_that_changes_is_named_and_a_step_with_no_change_says_so(request) -> None:  # type: ignore[no-untyped-def]
    steps = schedule_document(_plan(request), FORMULARY, request[1])["steps"]
    for before, after in itertools.pairwise(steps):
        said = " ".join(step_changes(before, after))
        old = {(line["product"], line.get("brand"), "prn" in line): line for line in before["lines"]}
        new = {(line["product"], line.get("brand"), "prn" in line): line for line in after["lines"]}
        changed = [key for key in old.keys() | new.keys()
                   if key not in old or key not in new or _what_a_line_is(old[key]) != _what_a_line_is(new[key])]
        for key in changed:
            product = line_product(old.get(key) or new[key])
            assert plain_name(product) in said or product.label(in_sentence=True) in said, (key, said)
            for time in {dose["time"] for dose in (old.get(key) or {}).get("doses", [])} ^ {
                    dose["time"] for dose in (new.get(key) or {}).get("doses", [])}:
                if key in new:  # (a time of day that stops while the medicine goes on)
                    assert clock_words(time) in said, (key, time, said)
        assert (said == PAUSE) == (not changed), said
        assert "goes up" not in said  # no dose ever rises in a plan the engine makes
        assert "OME" not in said and "mg a day" not in said
