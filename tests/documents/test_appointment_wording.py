"""Issued documents never show an appointment time as fixed (Taper issue 17, item 2): an appointment can be
moved after a version's documents are issued, and they never change. The patient plan (every layout) and the
GP letter say how many appointments were booked when they were made, that each time (and any change) is sent
to the patient separately, and the clinic's number to check; `flask taper documents` keeps accepting its
`appointments` field. Checked in the text of real PDFs."""

from __future__ import annotations

import io
import json
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from taper import clock
from taper.documents.pack import render_document
from taper.documents.pack_request import PackRequestError, pack_from_request
from taper.domain.wording import count_words
from taper.extensions import db
from taper.models import PlanDocument, PlanVersion, User
from taper.services import appointments, capacity
from taper.services.capacity import SessionDetails
from tests.conftest import TODAY, Maker
from tests.documents.conftest import REQUEST

BOOKED = ["Wednesday 13 January 2027 at 11:45am, by phone (20 minutes)",
          "Thursday 28 January 2027 at 2:15pm, face to face at Room 4 (30 minutes)"]
PACK_REQUEST: dict[str, Any] = {
    "patient": {"name": "Ada Lovelace", "nhs_number": "9434765919", "date_of_birth": "1960-12-10"},
    "clinic": {"name": "Community Pain Service", "phone": "0113 496 0000"},
    "gp_practice": {"name": "Riverside Surgery"},
    "pharmacy": {"name": "High Street Pharmacy"},
    "instalment_days": 7,
    "schedule_request": REQUEST,
    "appointments": BOOKED,
}
LAYOUTS = {"patient plan": ("patient_plan", {}), "large print": ("patient_plan", {"large_print": True}),
           "easy read": ("patient_plan", {"easy_read": True}), "GP letter": ("gp_letter", {})}
# Any part of an appointment's date or time, as the documents would print it.
TIME_WORDS = ("11:45am", "2:15pm", "13 January", "28 January", "Wednesday", "Thursday", "Room 4")


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _rendered(layout: str, booked: list[str], **more: Any) -> str:
    kind, needs = LAYOUTS[layout]
    request = {**PACK_REQUEST, "patient": {**PACK_REQUEST["patient"], "needs": needs}, "appointments": booked,
               **more}
    return _text(render_document(kind, pack_from_request(request, today=clock.today())))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_document_prints_an_appointment_time(layout: str) -> None:
    text = _rendered(layout, BOOKED)
    assert not [words for words in TIME_WORDS if words in text], text
    assert "0113 496 0000" in text


def test_the_patient_plan_says_how_many_were_booked_and_where_the_times_come_from() -> None:
    text = _rendered("patient plan", BOOKED)
    assert ("Your appointments When we made this plan on 2 December 2026, we had booked two appointments with you. "
            "We send you the date and time of each appointment separately, and tell you if a time changes. This "
            "plan does not list them, because a time can change after it is printed. To check when your next "
            "appointment is, call us on 0113 496 0000.") in text
    easy = _rendered("easy read", BOOKED)
    assert "When we made this plan, we had booked two appointments with you." in easy
    assert "If a time changes, we will tell you." in easy
    assert "Not sure when your next appointment is? Call us on 0113 496 0000." in easy
    unbooked = _rendered("patient plan", [])
    assert "Your pharmacist will book your appointments with you." in unbooked and "we had booked" not in unbooked


def test_a_patient_who_gets_no_messages_is_told_their_pharmacist_gives_the_times() -> None:
    # A patient who chose no way to be contacted is sent nothing: the plan must not promise messages.
    text = _rendered("patient plan", BOOKED, appointment_times_sent=False)
    assert "We send you the date and time" not in text
    assert ("Your pharmacist gives you the date and time of each appointment, and tells you if a time changes."
            in text)
    easy = _rendered("easy read", BOOKED, appointment_times_sent=False)
    assert "We will send you" not in easy and "Your pharmacist will tell you the date and time" in easy
    assert not [words for words in TIME_WORDS if words in text + easy]


def test_appointment_times_sent_must_be_true_or_false() -> None:
    with pytest.raises(PackRequestError) as refused:
        pack_from_request({**PACK_REQUEST, "appointment_times_sent": "no"}, today=clock.today())
    assert "appointment_times_sent" in str(refused.value.errors)


def test_the_gp_letter_gives_the_rhythm_and_how_to_find_the_next_review() -> None:
    text = _rendered("GP letter", BOOKED[:1])
    assert "When this letter was written on 2 December 2026, one review was booked." in text
    assert ("The clinic sends the patient the date and time of each review, and any change to it, directly. This "
            "letter does not list them, because a time can change after it is sent. To know when the next review "
            "is, call Community Pain Service on 0113 496 0000.") in text
    assert "review was booked" not in _rendered("GP letter", [])


def test_the_documents_command_still_takes_appointments(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "request.json").write_text(json.dumps(PACK_REQUEST))
    result = app.test_cli_runner().invoke(args=["taper", "documents", "--request", str(tmp_path / "request.json"),
                                                "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert [document["kind"] for document in json.loads(result.output)["documents"]] == [
        "patient_plan", "gp_letter", "pharmacy_schedule"]
    patient_plan = _text((tmp_path / "out" / "patient-plan.pdf").read_bytes())
    assert "we had booked two appointments with you" in patient_plan and "11:45am" not in patient_plan
    (tmp_path / "wrong.json").write_text(json.dumps({**PACK_REQUEST, "appointments": "Monday at 10"}))
    refused = app.test_cli_runner().invoke(args=["taper", "documents", "--request", str(tmp_path / "wrong.json"),
                                                 "--out", str(tmp_path / "out2")])
    assert refused.exit_code == 2 and json.loads(refused.output)["errors"][0]["field"] == "appointments"


def test_an_issued_plan_counts_its_booked_reviews_but_prints_none_of_their_times(make: Maker,
                                                                                  pharmacist: User) -> None:
    for weekday in range(5):  # sessions every weekday morning: starting the plan books its reviews in them
        capacity.add_session(by=pharmacist, details=SessionDetails(weekday, time(9), time(12), remote=False,
                                                                   location="Room 4"))
    patient = make.patient(pharmacist)
    plan = make.running_plan(pharmacist, patient, start_on=TODAY + timedelta(days=7))
    booked = [appointments.describe(each) for each in appointments.upcoming(plan.id)]
    assert booked, "starting a plan proposes its reviews"
    issued = {document.kind: _text(document.pdf) for document in db.session.scalars(
        select(PlanDocument).join(PlanVersion).where(PlanVersion.plan_id == plan.id))}
    count = count_words(len(booked))
    for kind in ("patient_plan", "gp_letter"):
        assert not [each for each in booked if each.split(", ")[0] in issued[kind]], kind  # no date and time
    assert f"we had booked {count} appointment" in issued["patient_plan"]
    assert f"{count} review" in issued["gp_letter"]
