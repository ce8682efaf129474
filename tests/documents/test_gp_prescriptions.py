"""The GP letter as a prescribing document (issue 14, item 1): a table for each prescription date with each
item's brand, strength, form, directions and quantity, in words and figures for Schedule 2 and 3 drugs; a
when-needed line with its maximum and the agreed usual quantity; a plain opening sentence."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader

from taper.documents.team_letters import render_gp_letter
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request
from tests.documents.conftest import HEAD

# MST Continus 30 mg twice a day, and Oramorph (Schedule 5) 5 mg when needed, usually twice, at most three times.
REQUEST: dict[str, Any] = {"start_on": "2027-01-04", "regimen": [
    {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
     "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]},
    {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 3}}]}


@pytest.fixture(scope="module")
def letter() -> str:
    schedule = json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))
    pdf = render_gp_letter(HEAD, REQUEST, schedule, practice_name="Riverside Surgery", practice_ods_code="A81001",
                           prescriber="gp", risk="", instalment_days=14)
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _prescription(letter: str, number: int) -> str:
    return letter.split(f"Prescription {number}: ")[1].split("Prescription ")[0]


def test_each_prescription_has_its_dates_and_days(letter: str) -> None:
    dates = re.findall(r"Prescription \d+: (\d+ \w+ \d{4}) \((\d+) days, to (\d+ \w+ \d{4})\)", letter)
    assert dates[0] == ("4 January 2027", "14", "17 January 2027")
    assert all(int(days) <= 30 for _, days, _ in dates)  # a controlled-drug prescription: at most 30 days
    due = re.search(r"Prescriptions are due at the start of each instalment: (.*?)\.", letter)
    assert due is not None and [start for start, _, _ in dates] == due.group(1).split(", ")


def test_a_schedule_2_quantity_is_in_words_and_figures_with_its_brand_and_directions(letter: str) -> None:
    """Step 1 (14 days) keeps 30 mg twice a day: 28 tablets of MST Continus 30 mg."""
    first = _prescription(letter, 1)
    assert "Morphine modified-release tablet (MST Continus) 30 mg tablet (Schedule 2) 28 (twenty-eight) tablets" \
        in first.replace("- ", "-")
    assert "Step 1, from 4 January 2027: 8am 30 mg (one 30 mg tablet); 8pm 30 mg (one 30 mg tablet)" in first


def test_a_when_needed_line_gives_its_maximum_and_the_usual_quantity_in_figures_for_schedule_5(letter: str) -> None:
    """Oramorph 10 mg/5 mL is Schedule 5: figures only. Step 1 takes one when-needed dose a day off the usual two:
    5 mg (2.5 mL) once a day for 14 days is 35 mL, never the maximum (three a day would be 105 mL)."""
    first = _prescription(letter, 1)
    assert "2 mg/mL (Schedule 5) 35 mL" in first and "(thirty-five)" not in first
    assert "5 mg (2.5 mL) when required for pain, at least 4 hours apart, at most two times in 24 hours" in first
    assert "as directed" not in letter


def test_the_letter_opens_with_one_plain_sentence_and_names_the_factor_set_in_words(letter: str) -> None:
    assert ("Ada Lovelace has agreed to reduce their opioids from 70 mg oral morphine equivalent (OME) a day to "
            "stopping them, starting 4 January 2027") in letter
    assert "Faculty of Pain Medicine Opioids Aware (2020) conversion factors" in letter and "fpm-2020" not in letter


def test_a_version_stored_under_the_earlier_rule_says_its_when_needed_doses_are_prescribed_to_the_maximum() -> None:
    schedule = json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))
    del schedule["when_needed_supply"]  # as stored before issue 14
    pdf = render_gp_letter(HEAD, REQUEST, schedule, practice_name="Riverside Surgery", practice_ods_code="A81001",
                           prescriber="gp", risk="", instalment_days=14)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "prescribed up to their most in 24 hours" in text and "at the usual use agreed" not in text
    first = text.split("Prescription 1: ")[1].split("Prescription ")[0]
    assert "2 mg/mL (Schedule 5) 70 mL" in first  # step 1 at its maximum, twice a day: 5 mL a day for 14 days


def test_a_new_version_says_its_when_needed_doses_are_prescribed_at_the_usual_use(letter: str) -> None:
    assert "at the usual use agreed with the patient" in letter and "up to their most in 24 hours" not in letter


def test_a_when_needed_oral_solution_is_prescribed_at_least_4_hours_apart_in_every_prescription(letter: str) -> None:
    """Issue 14, item 2: the least gap between when-needed doses (the formulary's, 4 hours for Oramorph) is in the
    directions of every prescription that has the when-needed line, before its maximum in 24 hours."""
    numbers = sorted({int(number) for number in re.findall(r"Prescription (\d+): ", letter)})
    with_oramorph = [_prescription(letter, number) for number in numbers
                     if "when required for pain" in _prescription(letter, number)]
    assert with_oramorph, "the plan prescribes Oramorph when needed"
    for prescription in with_oramorph:
        said = re.findall(r"when required for pain, [^;.]*?in 24 hours", prescription)
        assert said and all(directions.startswith("when required for pain, at least 4 hours apart, at most ")
                            for directions in said), said
    assert "when required for pain, at most" not in letter
