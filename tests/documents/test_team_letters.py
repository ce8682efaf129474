"""One consistent message: the patient plan, the GP letter and the dispensing schedule from one stored version."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import readability
from pypdf import PdfReader

from taper.documents.pharmacy import TEMPLATE as PHARMACY_TEMPLATE
from taper.documents.pharmacy import pharmacy_schedule_context, render_pharmacy_schedule
from taper.documents.render import LETTERS, LetterAssetFetcher, render_html, render_pdf
from taper.documents.team_letters import (
    EASY_READ_TEMPLATE,
    PATIENT_TEMPLATE,
    gp_letter_context,
    patient_plan_context,
    render_gp_letter,
    render_patient_plan,
    steps_in_words,
)
from taper.documents.timetable import times_a_day
from taper.domain.wording import clock_words, long_date
from tests.documents.conftest import HEAD, REQUEST, step_blocks


def _pages(pdf: bytes) -> list[str]:
    """Each page's words, lines joined; a line that ends after a slash ("microgram/" "hour") joined without one."""
    return [re.sub(r"/ ", "/", re.sub(r"\s+", " ", page.extract_text())) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def pack(schedule) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "patient": " ".join(_pages(render_patient_plan(HEAD, schedule))),
        "gp": " ".join(_pages(render_gp_letter(HEAD, REQUEST, schedule, practice_name="Riverside Surgery",
                                               practice_ods_code="A81001", prescriber="gp",
                                               risk="Level 3: pharmacist-led tapering service", instalment_days=14))),
        "pharmacy": " ".join(_pages(render_pharmacy_schedule(HEAD, schedule, instalment_days=14))),
    }


def test_every_step_has_the_same_dates_and_doses_in_the_gp_letter(pack, schedule) -> None:  # type: ignore[no-untyped-def]
    for step in steps_in_words(schedule):
        assert step["dates"] in pack["gp"], step["number"]
        for line in step["lines"]:
            assert line in pack["gp"], (step["number"], line)


def test_the_patients_timetable_adds_up_to_the_stored_doses_at_each_time(schedule) -> None:  # type: ignore[no-untyped-def]
    """Read each step's block off the PDF, time of day by time of day; the tablets it names must add up to the dose
    the stored version gives at that time, and nothing is named at a time the step takes nothing."""
    blocks = step_blocks(render_patient_plan(HEAD, schedule), schedule)
    assert len(blocks) == len(schedule["steps"])
    for step, block in zip(schedule["steps"], blocks, strict=True):
        assert block["heading"].startswith(f"Step {step['number']}: {long_date(date.fromisoformat(step['starts_on']))}")
        for line in step["lines"]:
            for dose in line.get("doses", []):
                cell = block[clock_words(dose["time"])]
                assert _mg_named(cell, "Morphine modified-release tablet") == Decimal(str(dose["dose_mg"])), cell
            if "patch_mcg_per_hour" in line:
                assert f"one {line['patch_mcg_per_hour']} microgram/hour patch" in block["Patch"]
                assert "Put on a new one every 3 days: take the old patch off first" in block["Patch"]
            if "prn" in line:
                assert f"one {line['prn']['dose_mg']} mg capsule if you need it, no more than " \
                       f"{times_a_day(line['prn']['max_per_day'])}, at least 4 hours apart" \
                       in block["Only if you need it"]  # oxycodone: the formulary's gap
        if not step["lines"]:
            assert "Stop. Take none of these medicines." in block["heading"] and "onwards" in block["heading"]
            continue
        expected = {clock_words(dose["time"]) for line in step["lines"] for dose in line.get("doses", [])}
        expected |= {"Patch" for line in step["lines"] if "patch_mcg_per_hour" in line}
        expected |= {"Only if you need it" for line in step["lines"] if "prn" in line}
        assert set(block) - {"heading"} == expected, (step["number"], block)


def _mg_named(cell: str, medicine: str) -> Decimal:
    """The milligrams of `medicine` a timetable cell tells the patient to take ("three 15 mg tablets and one 10 mg
    tablet"), up to the next medicine named in the cell."""
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    said = cell.split(f"{medicine}:")[1].split(":")[0]  # (another medicine's name ends with a colon)
    return sum((words[count] * Decimal(strength) for count, strength in re.findall(r"(\w+) (\d+(?:\.\d+)?) mg", said)),
               Decimal(0))


def test_the_pharmacy_supplies_the_doses_of_each_instalment(pack, schedule) -> None:  # type: ignore[no-untyped-def]
    context = pharmacy_schedule_context(HEAD, schedule, instalment_days=14)
    for period in context["instalments"]:
        assert f"Instalment {period['number']}: {period['starts']} to {period['ends']}" in pack["pharmacy"]
        for supply in period["supplies"]:
            assert f"{supply['item']} {supply['quantity']}" in pack["pharmacy"]
    # The GP's prescription dates are the dates of the instalments with something to supply.
    prescriptions = [period["starts"] for period in context["instalments"] if period["supplies"]]
    assert ", ".join(prescriptions) in pack["gp"]


def test_the_gp_letters_first_prescription_is_never_before_the_letter(schedule) -> None:  # type: ignore[no-untyped-def]
    """A plan that started in clinic three days before its letter: the GP is asked to prescribe from the day of
    the letter, for the rest of the first instalment, and is told why."""
    issued_on = date(2027, 1, 7)  # step 1 started on Monday 4 January
    text = " ".join(_pages(render_gp_letter(replace(HEAD, generated_on=issued_on), REQUEST, schedule,
                                            practice_name="Riverside Surgery", practice_ods_code="A81001",
                                            prescriber="gp", risk="", instalment_days=14)))
    due = re.search(r"Prescriptions are due at the start of each instalment: (.*?)\.", text)
    assert due is not None
    dates = [datetime.strptime(day, "%d %B %Y").date() for day in due.group(1).split(", ")]
    assert dates[0] == issued_on and dates[1] == date(2027, 1, 18) and min(dates) >= issued_on
    assert "Step 1 started on 4 January 2027, before this letter was written" in text


def test_the_gp_letter_leads_with_the_point(pack) -> None:  # type: ignore[no-untyped-def]
    assert ("has agreed to reduce their opioids from 195 mg oral morphine equivalent (OME) a day to stopping them, "
            "starting 4 January 2027") in pack["gp"]
    assert "Faculty of Pain Medicine Opioids Aware (2020) conversion factors" in pack["gp"]
    assert "fpm-2020" not in pack["gp"]  # no internal codes
    assert "We ask you, the GP, to prescribe" in pack["gp"] and "0113 496 0000" in pack["gp"]


def _body_size(pdf: bytes) -> float:
    """The font size, in points on the page, of most of the text."""
    sizes: Counter[float] = Counter()

    def visit(text, cm, tm, font, size) -> None:  # type: ignore[no-untyped-def]
        if text.strip():
            sizes[round(abs(size * tm[3] * cm[3]), 1)] += len(text.strip())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sizes.most_common(1)[0][0]


def test_large_print_body_text_is_at_least_16_point(schedule) -> None:  # type: ignore[no-untyped-def]
    assert _body_size(render_patient_plan(HEAD, schedule, large_print=True)) >= 16
    assert _body_size(render_patient_plan(HEAD, schedule)) < 16  # the check can tell the difference


def test_easy_read_is_large_has_a_picture_by_each_idea_and_every_step(schedule) -> None:  # type: ignore[no-untyped-def]
    pdf = render_patient_plan(HEAD, schedule, easy_read=True)
    assert _body_size(pdf) >= 16
    reader = PdfReader(io.BytesIO(pdf))
    assert "(easy read)" in reader.metadata.title
    text = " ".join(_pages(pdf))
    for step in steps_in_words(schedule):
        assert f"Step {step['number']}: {step['starts']}" in text
    pictures = sum(len(page["/Resources"].get("/XObject", {})) for page in reader.pages)  # SVG icons are forms
    assert pictures >= 10
    assert sum(len(page["/Resources"].get("/XObject", {})) for page in PdfReader(io.BytesIO(
        render_patient_plan(HEAD, schedule))).pages) < pictures


def _prose(html: str) -> str:
    """The sentences of a letter's paragraphs, one a line, for the readability formulas (tables and the
    banner are not prose)."""
    class Paragraphs(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = {"p": 0, "table": 0}
            self.texts: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in self.depth:
                self.depth[tag] += 1
                self.texts.append("")

        def handle_endtag(self, tag: str) -> None:
            if tag in self.depth:
                self.depth[tag] -= 1

        def handle_data(self, data: str) -> None:
            if self.depth["p"] and not self.depth["table"]:
                self.texts[-1] += data

    parser = Paragraphs()
    parser.feed(html)
    sentences = [sentence for text in parser.texts for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))]
    return "\n".join(re.sub(r"([.,!?:;])", r" \1", sentence) for sentence in sentences if sentence)


@pytest.mark.parametrize("template", [PATIENT_TEMPLATE, EASY_READ_TEMPLATE])
def test_the_patient_plan_reads_at_about_age_11(schedule, template: str) -> None:  # type: ignore[no-untyped-def]
    """Flesch-Kincaid grade 6 or below: a UK reading age of 11 or below (grade + 5)."""
    prose = _prose(render_html(template, patient_plan_context(HEAD, schedule, naloxone=True)))  # all it can say
    grades = readability.getmeasures(prose, lang="en")["readability grades"]
    assert grades["Kincaid"] <= 6, grades
    clinical = _prose("<p>Long-term opioid therapy for chronic non-cancer pain is associated with dose-dependent "
                      "harms, including endocrine dysfunction, opioid-induced hyperalgesia and respiratory "
                      "depression.</p>")
    assert readability.getmeasures(clinical, lang="en")["readability grades"]["Kincaid"] > 6  # it can tell


HOSTILE = ['<img src="http://127.0.0.1:9/x">', '<link rel="stylesheet" href="file:///etc/passwd">',
           "<script>document.write('x')</script>"]


@pytest.mark.parametrize("kind", ["patient_plan", "easy_read", "gp_letter", "pharmacy_schedule"])
def test_hostile_text_in_every_document_is_printed_and_fetches_nothing(schedule, kind: str) -> None:  # type: ignore[no-untyped-def]
    hostile = " ".join(HOSTILE)
    head = replace(HEAD, patient_name=f"Ada {HOSTILE[2]}", pharmacy_name=HOSTILE[0])
    template, context = {
        "patient_plan": (PATIENT_TEMPLATE, lambda: patient_plan_context(head, schedule, notes=hostile)),
        "easy_read": (EASY_READ_TEMPLATE, lambda: patient_plan_context(head, schedule, notes=hostile)),
        "gp_letter": ("gp_letter/template.html", lambda: gp_letter_context(
            head, REQUEST, schedule, practice_name=HOSTILE[1], practice_ods_code="A81001", prescriber="gp",
            risk=hostile, instalment_days=14)),
        "pharmacy_schedule": (PHARMACY_TEMPLATE, lambda: pharmacy_schedule_context(head, schedule, instalment_days=14,
                                                                                 notes=hostile)),
    }[kind]
    fetcher = LetterAssetFetcher()
    text = " ".join(_pages(render_pdf(template, context(), fetcher=fetcher)))
    assert fetcher.refused == []
    assert all(url.startswith(("data:", LETTERS.as_uri())) for url in fetcher.served)
    assert "Ada <script>document.write('x')</script>" in text
    if kind != "gp_letter":
        for each in HOSTILE:
            assert each in text.replace("- ", "-")


def test_the_pharmacy_supplies_the_daily_units_of_the_stored_version_summed_over_each_instalment(  # type: ignore[no-untyped-def]
        pack, schedule) -> None:
    """Worked out here day by day from the stored schedule document, independently of taper.domain.dispensing:
    regular doses as scheduled, when-needed doses at the agreed usual use (never the maximum; issue 14), a patch
    on each change day."""
    steps = schedule["steps"]
    first_day = date.fromisoformat(steps[0]["starts_on"])
    sections = re.split(r"(?=Instalment \d+: )", pack["pharmacy"])[1:]
    assert len(sections) >= 5
    for section in sections:
        starts, ends = (datetime.strptime(text, "%d %B %Y").date() for text in re.match(
            r"Instalment \d+: (\d+ \w+ \d{4}) to (\d+ \w+ \d{4})", section).groups())  # type: ignore[union-attr]
        totals: Counter[tuple[str, str]] = Counter()
        day = starts
        while day <= ends:
            step = next(each for each in reversed(steps) if date.fromisoformat(each["starts_on"]) <= day)
            for line in step["lines"]:
                if "patch_mcg_per_hour" in line:
                    if (day - first_day).days % 3 == 0:
                        for unit in line["units"]:
                            totals[("Fentanyl 72-hour transdermal patch", f"{unit['strength']} micrograms/hour")] \
                                += unit["count"]
                elif "prn" in line:
                    for unit in line["prn"]["units"]:
                        totals[("Oxycodone capsule", f"{unit['strength']} mg")] += (
                            unit["count"] * line["prn"]["usual_per_day"])
                else:
                    for dose in line["doses"]:
                        for unit in dose["units"]:
                            totals[("Morphine modified-release tablet", f"{unit['strength']} mg")] += unit["count"]
            day += timedelta(days=1)
        for (item, strength), count in totals.items():
            if not count:
                continue  # nothing to supply (a when-needed line usually not used)
            noun = {"Fentanyl": "patches", "Oxycodone": "capsules", "Morphine": "tablets"}[item.split()[0]]
            assert f"{item} {strength} {count} {noun}" in section, (section[:60], item, strength, count)


def test_a_dose_without_units_is_said_to_be_unmakeable_never_printed_blank() -> None:
    """Defence in depth: issuing refuses such plans, and the words never drop the amount or crash (liquids)."""
    from taper.domain.wording import describe_scheduled, doses_that_cannot_be_made

    liquid = {"product": "morphine-oral-solution-10mg-5ml", "doses": [{"time": "08:00", "dose_mg": 7.5, "units": []}]}
    tablet = {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 7, "units": []}]}
    assert describe_scheduled(liquid) == "Morphine oral solution 10 mg in 5 mL: 08:00 7.5 mg (cannot be made exactly)"
    assert describe_scheduled(tablet).endswith("08:00 7 mg (cannot be made exactly)")
    document = {"steps": [{"number": 1, "lines": [liquid, tablet]}]}
    assert doses_that_cannot_be_made(document) == [
        "step 1, Morphine oral solution 10 mg in 5 mL at 08:00: 7.5 mg",
        "step 1, Morphine modified-release tablet at 08:00: 7 mg"]
