"""Nothing is ever cut off at the edge of the page (issue 14, item 3): for the widest plans, every character of
every page of every document lies inside the page's printable area.

The widest plans have four lines (a patch, two kinds of tablets at six times of day between them, and a liquid
when needed) with the longest brand names. Each document variant (the patient plan standard, in large print and
in easy read, the GP letter, the pharmacy's dispensing schedule) is rendered once, through the real renderer, and
read back with pdfplumber: each character's box must lie inside the page less its margins (from the @page rule
of letters/print.css), except the banner, alone in the top margin, and "Page x of y", alone in the bottom one.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, replace
from typing import Any

import pdfplumber
import pytest
from weasyprint import HTML

from taper.documents.pack import Pack, render_document
from taper.documents.render import LETTERS, LetterAssetFetcher
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request
from tests.documents.conftest import HEAD

POINTS_PER_MM = 72 / 25.4
TOLERANCE = 0.1  # points (0.04 mm): right-aligned text may end a rounding error past its box

# Fentanyl with its longest brand, oxycodone MR twice a day, co-codamol at four other times, Oramorph when needed:
# eight times of day, a patch and when needed.
FENTANYL_OXYCODONE_CO_CODAMOL_ORAMORPH = {"start_on": "2027-01-04", "regimen": [
    {"product": "fentanyl-patch-72h", "brand": "Durogesic DTrans", "patch_mcg_per_hour": 25},
    {"product": "oxycodone-mr-tablet-12h", "brand": "OxyContin",
     "doses": [{"time": "08:00", "dose_mg": 20}, {"time": "20:00", "dose_mg": 20}]},
    {"product": "co-codamol-30-500-tablet",
     "doses": [{"time": at, "dose_mg": 60} for at in ("07:00", "12:00", "17:00", "22:00")]},
    {"product": "morphine-oral-solution-10mg-5ml", "brand": "Oramorph",
     "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}]}
# The brand-only 37.5 patch (two patches), morphine MR by a two-word brand, co-codamol at times with the longest
# clock words ("11:30pm"), oxycodone liquid when needed.
MEZOLAR_MORPHGESIC_CO_CODAMOL_OXYCODONE_LIQUID = {"start_on": "2027-01-04", "regimen": [
    {"product": "fentanyl-patch-72h", "brand": "Mezolar Matrix", "patch_mcg_per_hour": 37.5},
    {"product": "morphine-mr-tablet-12h", "brand": "Morphgesic SR",
     "doses": [{"time": "09:00", "dose_mg": 30}, {"time": "21:00", "dose_mg": 30}]},
    {"product": "co-codamol-30-500-tablet",
     "doses": [{"time": at, "dose_mg": 60} for at in ("06:30", "11:30", "16:30", "23:30")]},
    {"product": "oxycodone-oral-solution-5mg-5ml", "prn": {"dose_mg": 5, "usual_per_day": 1, "max_per_day": 4}}]}
PLANS = {"fentanyl, oxycodone, co-codamol, Oramorph": FENTANYL_OXYCODONE_CO_CODAMOL_ORAMORPH,
         "Mezolar, Morphgesic, co-codamol, oxycodone liquid": MEZOLAR_MORPHGESIC_CO_CODAMOL_OXYCODONE_LIQUID}
VARIANTS = {"patient plan": ("patient_plan", {}), "large print": ("patient_plan", {"large_print": True}),
            "easy read": ("patient_plan", {"easy_read": True}), "GP letter": ("gp_letter", {}),
            "pharmacy schedule": ("pharmacy_schedule", {})}


@dataclass(frozen=True)
class Margins:
    """The page margins of letters/print.css, in points."""

    top: float
    right: float
    bottom: float
    left: float


def page_margins() -> Margins:
    """Read from the @page rule's `margin` (four lengths in mm), so the test follows the stylesheet."""
    css = (LETTERS / "print.css").read_text()
    page_rule = re.search(r"@page\s*\{(.*?)\n\}", css, re.S)
    assert page_rule is not None, "letters/print.css has no @page rule"
    margin = re.search(r"(?<![-\w])margin:\s*([\d.]+)mm\s+([\d.]+)mm\s+([\d.]+)mm\s+([\d.]+)mm\s*;", page_rule.group(1))
    assert margin is not None, "the @page rule gives its margin as four lengths in mm"
    return Margins(*(float(length) * POINTS_PER_MM for length in margin.groups()))


def _pack(request: dict[str, Any], **options: Any) -> Pack:
    schedule = json.loads(json.dumps(schedule_from_request(request, load_formulary())))
    return replace(Pack(head=HEAD, version_request=request, schedule=schedule, practice_name="Riverside Surgery",
                        practice_ods_code="A81001", prescriber="gp", risk="Level 3: pharmacist-led tapering service",
                        instalment_days=28, appointments=("Wednesday 13 January 2027 at 10:30am, by phone",)),
                   **options)


@pytest.fixture(scope="module", params=[(plan, variant) for plan in PLANS for variant in VARIANTS],
                ids=lambda param: f"{param[0]} - {param[1]}")
def rendered(request: pytest.FixtureRequest) -> bytes:
    plan, variant = request.param
    kind, options = VARIANTS[variant]
    return render_document(kind, _pack(PLANS[plan], **options))


def outside_the_printable_area(pdf: bytes) -> list[str]:
    """Every character outside the page less its margins (but for the banner and the page number, each alone
    in its margin), as 'page 2: "Fentanyl 72-hour transderma" runs 30 pt past the right margin'."""
    margins = page_margins()
    problems = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = len(document.pages)
        for number, page in enumerate(document.pages, 1):
            left, right = margins.left, float(page.width) - margins.right
            top, bottom = margins.top, float(page.height) - margins.bottom
            chars = [char for char in page.chars if char["text"].strip()]
            wide = [char for char in chars if char["x0"] < left - TOLERANCE or char["x1"] > right + TOLERANCE]
            if wide:
                text = "".join(char["text"] for char in wide)
                past = max(max(left - char["x0"], char["x1"] - right) for char in wide)
                problems.append(f"page {number}: {text[:60]!r} runs {past:.0f} pt past the side margins")
            straddling = [char for char in chars if char["top"] < top - TOLERANCE < char["bottom"]
                          or char["top"] < bottom + TOLERANCE < char["bottom"] or char["top"] < -TOLERANCE
                          or char["bottom"] > float(page.height) + TOLERANCE]
            if straddling:
                problems.append(f"page {number}: {''.join(char['text'] for char in straddling)[:60]!r} is cut by "
                                "a margin or the page's edge")
            head = "".join(char["text"] for char in chars if char["bottom"] <= top + TOLERANCE)
            if not head.startswith(HEAD.patient_name.replace(" ", "")) or "NHSnumber" not in head:
                problems.append(f"page {number}: the top margin holds {head[:80]!r}, not the banner alone")
            foot = "".join(char["text"] for char in chars if char["top"] >= bottom - TOLERANCE)
            if foot != f"Page{number}of{pages}":
                problems.append(f"page {number}: the bottom margin holds {foot[:80]!r}, not the page number alone")
    return problems


def test_every_character_lies_inside_the_printable_area(rendered: bytes) -> None:
    assert outside_the_printable_area(rendered) == []


def test_the_check_finds_text_past_the_edge() -> None:
    """A line of text wider than the page is found: the check can fail."""
    html = (f'<html lang="en-GB"><head><title>Too wide</title><link rel="stylesheet" href="print.css"></head><body>'
            f'<div class="banner">{HEAD.patient_name} · NHS number {HEAD.nhs_number}</div>'
            '<p style="white-space: nowrap">Fentanyl 72-hour transdermal patch (Durogesic DTrans): one 25 '
            "microgram/hour patch. Put on a new one every 3 days: take the old patch off first.</p></body></html>")
    pdf = HTML(string=html, base_url=LETTERS.as_uri() + "/", url_fetcher=LetterAssetFetcher()).write_pdf()
    assert pdf is not None
    problems = outside_the_printable_area(pdf)
    assert len(problems) == 1 and "past the side margins" in problems[0], problems
