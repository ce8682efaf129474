"""The README's pictures of the documents, made from the synthetic plan of benchmarks/bench_documents.py through
the app's own rendering path (taper.documents.pack), at 50 dots per inch.

    .venv/bin/python docs/images/make_pictures.py

Writes the first page of the patient's plan, its easy read layout, the GP letter and the dispensing schedule;
the second page of the large-print plan (its first steps); and the first page of a revised GP letter, version 2
of the plan after holding step 3 for 14 more days.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_documents import HEAD, REQUEST, _pack  # noqa: E402

from taper.documents.letterhead import Sender  # noqa: E402
from taper.documents.pack import render_document  # noqa: E402
from taper.domain.engine import hold  # noqa: E402
from taper.domain.formulary import load_formulary  # noqa: E402
from taper.domain.plan_diff import revision_in_words  # noqa: E402
from taper.domain.schedule_contract import (  # noqa: E402
    read_policy,
    schedule_document,
    schedule_from_document,
    schedule_from_request,
)

IMAGES = Path(__file__).resolve().parent
DOTS_PER_INCH = 50
SIGNED = replace(HEAD, clinic_address="Demo Health Centre\n1 Example Street\nLeeds\nLS1 1AA",
                 sender=Sender(name="Priya Shah", job_title="Specialist pain pharmacist, independent prescriber",
                               registration="GPhC registration number 0000101"))


def main() -> None:
    formulary = load_formulary()
    first = json.loads(json.dumps(schedule_from_request(REQUEST, formulary)))
    pack = replace(_pack(first), head=SIGNED)
    picture("patient-plan.png", render_document("patient_plan", pack))
    picture("patient-plan-easy-read.png", render_document("patient_plan", replace(pack, easy_read=True)))
    picture("patient-plan-large-print.png", render_document("patient_plan", replace(pack, large_print=True)), page=1)
    picture("gp-letter.png", render_document("gp_letter", pack))
    picture("pharmacy-schedule.png", render_document("pharmacy_schedule", pack))
    held_on = date.fromisoformat(first["steps"][2]["starts_on"])
    second = json.loads(json.dumps(schedule_document(
        hold(schedule_from_document(first, formulary), on=held_on, extra_days=14), formulary,
        read_policy(first["policy"]))))
    revised = replace(pack, schedule=second, changes=tuple(revision_in_words(first, second)),
                      reason="A hard fortnight at home: agreed to stay on this dose longer",
                      head=replace(SIGNED, plan_version=2, replaces=(1, SIGNED.generated_on)))
    picture("gp-letter-revised.png", render_document("gp_letter", revised))


def picture(name: str, pdf: bytes, *, page: int = 0) -> None:
    document = pypdfium2.PdfDocument(pdf)
    try:
        document[page].render(scale=DOTS_PER_INCH / 72).to_pil().save(IMAGES / name, optimize=True)
    finally:
        document.close()


if __name__ == "__main__":
    main()
