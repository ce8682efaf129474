"""The patient plan's safety wording (issue 14, item 2), written from the formulary for each product of the plan:
patches (take the old one off, change dates, the last one off, disposal, heat), modified-release tablets
(swallow whole), liquids (oral syringe), combination products (both ingredients, no other paracetamol), the
danger of going back to an old dose after a break; and no "OME" anywhere a patient reads."""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from taper.documents.team_letters import render_patient_plan
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request
from taper.domain.step_changes import step_changes
from taper.domain.wording import clock_words, line_product, scheduled_units, units_words
from tests.documents.conftest import HEAD, step_blocks

START = date(2027, 1, 4)
FENTANYL_AND_MORE = {"start_on": START.isoformat(), "regimen": [
    {"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 25},
    {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
     "doses": [{"time": "08:00", "dose_mg": 10}, {"time": "20:00", "dose_mg": 10}]},
    {"product": "co-codamol-30-500-tablet",
     "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]},
    {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 5, "usual_per_day": 1, "max_per_day": 2}}]}


def _schedule(request: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(schedule_from_request(request, load_formulary())))


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def schedule() -> dict[str, Any]:
    return _schedule(FENTANYL_AND_MORE)


@pytest.fixture(scope="module", params=["standard", "large print", "easy read"])
def plan_text(request: pytest.FixtureRequest, schedule: dict[str, Any]) -> str:
    options = {"standard": {}, "large print": {"large_print": True}, "easy read": {"easy_read": True}}
    return _text(render_patient_plan(HEAD, schedule, **options[request.param]))


def test_a_patch_plan_says_to_take_the_old_patch_off_and_lists_each_change_date(schedule: dict[str, Any]) -> None:
    text = _text(render_patient_plan(HEAD, schedule))
    assert "take the old patch off first" in text
    fentanyl_steps = [step for step in schedule["steps"]
                      if any(line["product"] == "fentanyl-patch-72h" for line in step["lines"])]
    for step in fentanyl_steps[:-1]:  # every step that ends: each change day is listed
        starts, ends = date.fromisoformat(step["starts_on"]), date.fromisoformat(step["ends_on"])
        changes = [day for day in (starts + timedelta(days=n) for n in range((ends - starts).days + 1))
                   if (day - START).days % 3 == 0]
        listed = re.search(rf"{starts.day} {starts:%B %Y} to .*?Change it on ([^.]*)\.", text)
        assert listed is not None, step["number"]
        assert [int(day) for day in re.findall(r"\b(\d{1,2})\b", listed.group(1))
                if int(day) < 32][:len(changes)] == [day.day for day in changes], (step["number"], listed.group(1))


def test_the_step_after_the_last_patch_says_to_take_it_off(schedule: dict[str, Any]) -> None:
    steps = schedule["steps"]
    gone = next(step for step in steps if not any(line["product"] == "fentanyl-patch-72h" for line in step["lines"]))
    text = _text(render_patient_plan(HEAD, schedule))
    day = date.fromisoformat(gone["starts_on"])
    assert f"take your last patch off on {day.day} {day:%B %Y}. Do not put on a new one." in text


def test_each_kind_of_medicine_has_its_safety_advice_in_every_layout(plan_text: str) -> None:
    assert "Fold a used patch in half, sticky sides together" in plan_text
    assert "Heat makes a patch give more medicine at once" in plan_text and "fever" in plan_text
    assert "Morphine modified-release tablet (MST Continus): swallow it whole" in plan_text
    assert "Do not crush, chew or break it" in plan_text
    assert "oral syringe" in plan_text
    assert "codeine 30 mg and paracetamol 500 mg" in plan_text
    assert "Do not take any other medicine with paracetamol in it" in plan_text
    assert "do not go back to an old, higher dose" in plan_text
    assert "Codeine co-codamol" not in plan_text


def test_no_patient_plan_says_ome(plan_text: str) -> None:
    assert "OME" not in plan_text and "morphine equivalent" not in plan_text


def test_when_needed_doses_say_once_or_twice_a_day_in_words(schedule: dict[str, Any]) -> None:
    text = _text(render_patient_plan(HEAD, schedule))
    assert "no more than once a day" in text and "1 times a day" not in text


def test_advice_is_only_for_the_medicines_in_the_plan() -> None:
    tablets_only = _schedule({"start_on": START.isoformat(), "regimen": [
        {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
         "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}]})
    text = _text(render_patient_plan(HEAD, tablets_only))
    assert "swallow it whole" in text
    assert "patch" not in text.lower() and "oral syringe" not in text and "paracetamol" not in text


def test_a_when_needed_oral_solution_says_to_leave_4_hours_between_doses_in_every_layout(plan_text: str) -> None:
    """Issue 14, item 2: Oramorph when needed, with the formulary's least gap between doses in plain words."""
    assert ("Morphine oral solution 10 mg in 5 mL is only for when you need it. Leave at least 4 hours between "
            "doses.") in plan_text


def test_a_plan_with_no_when_needed_dose_gives_no_gap() -> None:
    tablets_only = _schedule({"start_on": START.isoformat(), "regimen": [
        {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
         "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}]})
    assert "hours between doses" not in _text(render_patient_plan(HEAD, tablets_only))


def test_each_step_after_the_first_says_what_changes_from_the_step_before_in_every_layout(
        plan_text: str, schedule: dict[str, Any]) -> None:
    """Issue 14, item 2: "Your morphine at 8am goes down from 10 mg to 5 mg.", "You stop taking co-codamol
    30/500.", "Your fentanyl patch goes down from 25 to 12 micrograms an hour." (taper.domain.step_changes)."""
    text = plan_text.replace("- ", "-")  # (a word broken after its hyphen at the end of a line)
    steps = schedule["steps"]
    for before, after in itertools.pairwise(steps):
        for sentence in step_changes(before, after):
            assert sentence in text, (after["number"], sentence)
    assert "You stop taking co-codamol 30/500." in text
    assert "Your fentanyl patch goes down from 25 to 12 micrograms an hour." in text
    assert "You stop using your fentanyl patch." in text
    assert text.count("What changes") == len(steps) - 1


@pytest.mark.parametrize("options", [{}, {"large_print": True}, {"easy_read": True}],
                         ids=["standard", "large print", "easy read"])
def test_one_block_a_step_gives_each_dose_under_its_time_of_day(schedule: dict[str, Any],
                                                                options: dict[str, Any]) -> None:
    """Every layout prints one block a step (issue 14, item 3): each step's block names every time of
    day with the tablets, patch or liquid of that step, made up as the stored version makes it up."""
    blocks = step_blocks(render_patient_plan(HEAD, schedule, **options), schedule)
    for step, block in zip(schedule["steps"], blocks, strict=True):
        for line in step["lines"]:
            product = line_product(line)
            for dose in line.get("doses", []):
                under = block[clock_words(dose["time"])]
                taken = units_words(product, scheduled_units(product, dose["units"]))
                assert f"{product.label()}: {taken}" in under, (step["number"], dose["time"], under)
            if "patch_mcg_per_hour" in line:
                assert f"{product.label()}: {units_words(product, scheduled_units(product, line['units']))}. " \
                       "Put on a new one" in block["Patch"], step["number"]
        if not step["lines"]:
            assert "Take none of these medicines" in block["heading"]


@pytest.mark.parametrize("options", [{}, {"large_print": True}, {"easy_read": True}],
                         ids=["standard", "large print", "easy read"])
def test_naloxone_is_explained_only_when_the_clinic_gives_it(schedule: dict[str, Any],
                                                             options: dict[str, Any]) -> None:
    given = _text(render_patient_plan(HEAD, schedule, naloxone=True, **options))
    assert "Naloxone: we have given you naloxone. It can undo too much pain medicine." in given
    assert "they should give you the naloxone and call 999" in given
    assert "naloxone" not in _text(render_patient_plan(HEAD, schedule, **options)).lower()


def test_the_pain_relief_agreed_is_printed_only_when_recorded(schedule: dict[str, Any]) -> None:
    agreed = _text(render_patient_plan(HEAD, schedule, pain_relief="A warm bath and your TENS machine"))
    assert "For pain, as your dose comes down, we agreed: A warm bath and your TENS machine" in agreed
    assert "we agreed:" not in _text(render_patient_plan(HEAD, schedule))
