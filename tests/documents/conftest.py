"""What the document tests share: one plan request, its letterhead, and its stored schedule document."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from typing import Any

import pdfplumber
import pytest

from taper.documents.letterhead import Letterhead
from taper.documents.timetable import timetable
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request
from taper.domain.step_changes import step_changes

# Tablets in two strengths (morphine MR 55 mg = 30 + 15 + 10), an MR twice-daily line, a PRN line and a patch.
REQUEST = {
    "start_on": "2027-01-04",
    "regimen": [
        {"product": "morphine-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
        {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 25},
    ],
}
HEAD = Letterhead(patient_name="Ada Lovelace", nhs_number="943 476 5919", born="1960-12-10", plan_number=7,
                  plan_version=1, generated_on=date(2027, 1, 1), pharmacy_name="High Street Pharmacy",
                  pharmacy_ods_code="FA123", clinic_name="Community Pain Service", clinic_contact="0113 496 0000")


@pytest.fixture(scope="module")
def schedule() -> dict[str, object]:
    """The schedule document as stored (through real JSON text)."""
    return json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))


def step_blocks(pdf: bytes, schedule: dict[str, Any]) -> list[dict[str, str]]:
    """The patient plan's step blocks read back from the PDF: for each step, the text beside each time of day
    ("8am", "Patch", "Only if you need it") and under "heading" the block's first line with its dates; the
    "What changes" sentences are left out (they may name times of day too)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = _clean(" ".join(page.extract_text() for page in document.pages))
    text = text[:text.index("How to take your medicines")]
    steps = schedule["steps"]
    starts = [text.index(f"Step {step['number']}: ") for step in steps]
    labels = timetable(schedule).columns
    blocks = []
    for step, before, begins, ends in zip(steps, [None, *steps[:-1]], starts, [*starts[1:], len(text)], strict=True):
        block = text[begins:ends]
        for sentence in step_changes(before, step) if before else []:
            block = block.replace(sentence, "")
        found = sorted((at, label) for label in labels if (at := block.find(f" {label} ")) >= 0)
        cells = {"heading": block[:found[0][0] if found else len(block)]}
        ends_at = [at for at, _ in found[1:]] + [len(block)] if found else []
        for (at, label), following in zip(found, ends_at, strict=True):
            cells[label] = block[at + len(label) + 2:following].strip()
        blocks.append(cells)
    return blocks


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"-\n", "-", text)).strip()
