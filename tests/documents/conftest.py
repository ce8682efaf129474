"""What the document tests share: one plan request, its letterhead, and its stored schedule document."""

from __future__ import annotations

import io
import itertools
import json
import re
from dataclasses import dataclass
from datetime import date

import pdfplumber
import pytest

from taper.documents.letterhead import Letterhead
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request

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
HEAD = Letterhead(patient_name="Ada Lovelace", nhs_number="943 476 5919", born="1960-12-10", plan_id=7,
                  plan_version=1, generated_on=date(2027, 1, 1), pharmacy_name="High Street Pharmacy",
                  pharmacy_ods_code="FA123", clinic_name="Community Pain Service", clinic_contact="0113 496 0000")


@pytest.fixture(scope="module")
def schedule() -> dict[str, object]:
    """The schedule document as stored (through real JSON text)."""
    return json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))


@dataclass(frozen=True)
class TimetableRow:
    header: tuple[str, ...]
    cells: dict[str, str]
    text: str  # the whole row, for a cell that spans the columns


def timetable_cells(pdf: bytes) -> list[TimetableRow]:
    """The rows of a patient plan's timetable, each cell's text read off the page by position: columns from
    the header row (repeated on every page), rows between the table's rules."""
    rows = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            words = page.extract_words()
            dates = next((word for word in words if word["text"] == "Dates"), None)
            if dates is None:
                continue
            header_words = [word for word in words if abs(word["top"] - dates["top"]) < 2]
            starts = sorted({round(word["x0"]) for word in header_words
                             if not any(0 < word["x0"] - other["x1"] < 5 for other in header_words)})
            ends = [*starts[1:], page.width]
            # The rules are the borders of the first column's cells (not the dose chart's lines, which may follow
            # the table on the same page).
            rules = sorted({round(edge["top"], 1) for edge in page.edges
                            if edge["orientation"] == "h" and edge["top"] > dates["top"]
                            and abs(edge["x0"] - starts[0]) < 8 and edge["width"] < starts[1] - starts[0] + 20})
            header = tuple(_clean(page.crop((x0 - 1, dates["top"] - 2, x1 - 1, rules[0])).extract_text())
                           for x0, x1 in zip(starts, ends, strict=True))
            for upper, lower in itertools.pairwise(rules):
                if lower - upper < 5:
                    continue
                cells = [_clean(page.crop((x0 - 1, upper, x1 - 1, lower)).extract_text())
                         for x0, x1 in zip(starts, ends, strict=True)]
                text = _clean(page.crop((starts[0] - 1, upper, page.width, lower)).extract_text())
                rows.append(TimetableRow(header, dict(zip(header, cells, strict=True)), text))
    return rows


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"-\n", "-", text)).strip()
