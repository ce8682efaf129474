"""One consistent message: the patient plan, the GP letter and the dispensing schedule from one stored version."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from pypdf import PdfReader

from taper.documents.pharmacy import pharmacy_schedule_context, render_pharmacy_schedule
from taper.documents.team_letters import render_gp_letter, render_patient_plan, steps_in_words
from tests.documents.conftest import HEAD, REQUEST


def _pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def pack(schedule) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "patient": " ".join(_pages(render_patient_plan(HEAD, schedule))),
        "gp": " ".join(_pages(render_gp_letter(HEAD, REQUEST, schedule, practice_name="Riverside Surgery",
                                               practice_ods_code="A81001", prescriber="gp",
                                               risk="Level 3: pharmacist-led tapering service", instalment_days=14))),
        "pharmacy": " ".join(_pages(render_pharmacy_schedule(HEAD, schedule, instalment_days=14))),
    }


def test_every_step_has_the_same_dates_and_doses_in_the_patient_plan_and_gp_letter(pack, schedule) -> None:  # type: ignore[no-untyped-def]
    for step in steps_in_words(schedule):
        for document in ("patient", "gp"):
            assert step["starts"] in pack[document], (document, step["number"])
            for line in step["lines"]:
                assert line in pack[document], (document, step["number"], line)
        assert step["dates"] in pack["gp"]


def test_the_pharmacy_supplies_the_doses_of_each_instalment(pack, schedule) -> None:  # type: ignore[no-untyped-def]
    context = pharmacy_schedule_context(HEAD, schedule, instalment_days=14)
    for period in context["instalments"]:
        assert f"Instalment {period['number']}: {period['starts']} to {period['ends']}" in pack["pharmacy"]
        for supply in period["supplies"]:
            assert f"{supply['item']} {supply['quantity']}" in pack["pharmacy"]
    prescriptions = [period["starts"] for period in context["instalments"]]
    assert ", ".join(prescriptions) in pack["gp"]  # the GP's prescription dates are the instalment dates


def test_the_gp_letter_leads_with_the_point(pack) -> None:  # type: ignore[no-untyped-def]
    assert "has agreed to reduce their opioids, from 195 mg to no opioids" in pack["gp"]
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
