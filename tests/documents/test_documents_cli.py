"""`flask taper documents`: the three PDFs from a JSON request, without a database, through the app's code."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from taper import PROJECT_ROOT, clock
from taper.documents.pack import FILE_NAMES, render_document, render_pack
from taper.documents.pack_request import pack_from_request
from tests.conftest import clock_environment
from tests.documents.conftest import REQUEST

PACK_REQUEST: dict[str, Any] = {
    "patient": {"name": "Ada Lovelace", "nhs_number": "9434765919", "date_of_birth": "1960-12-10",
                "needs": {"large_print": False}},
    "clinic": {"name": "Community Pain Service", "phone": "0113 496 0000"},
    "gp_practice": {"name": "Riverside Surgery"},
    "pharmacy": {"name": "High Street Pharmacy"},
    "instalment_days": 7,
    "schedule_request": REQUEST,
}


# Oxycodone is reduced first, so the morphine MR 7 mg dose (no 7 mg tablet, no combination of strengths
# makes it) stays unmade for several steps: no document may go out with it.
UNMAKEABLE = {"start_on": "2027-01-04", "policy": {"reduction_pct": 5}, "regimen": [
    {"product": "oxycodone-ir-capsule", "doses": [{"time": "08:00", "dose_mg": 20}]},
    {"product": "morphine-mr-tablet-12h",
     "doses": [{"time": "08:00", "dose_mg": 7}, {"time": "20:00", "dose_mg": 60}]}]}


SENDER = {"name": "Sam Signer", "job_title": "Specialist pain pharmacist", "registration_body": "GPhC",
          "registration_number": "0001234"}


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_writes_the_three_documents_the_app_would_render(tmp_path: Path) -> None:
    """Run as support staff would, in a new process, with a database URL that cannot be opened: the
    command must not need one."""
    request = tmp_path / "request.json"
    request.write_text(json.dumps(PACK_REQUEST))
    environment = {**os.environ, **clock_environment(), "TAPER_DATABASE_URL": "sqlite:////nonexistent/folder/taper.db",
                   "TAPER_INSTANCE_PATH": str(tmp_path / "instance")}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "taper", "documents",
                             "--request", str(request), "--out", str(tmp_path / "out")],
                            cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [document["file"] for document in summary["documents"]] == list(FILE_NAMES.values())
    expected = render_pack(pack_from_request(PACK_REQUEST, today=clock.today()))
    for document in summary["documents"]:
        written = (tmp_path / "out" / document["file"]).read_bytes()
        assert len(written) == document["bytes"]
        assert _text(written) == _text(expected[document["kind"]])  # the same words as the app's own path
    patient_plan = _text((tmp_path / "out" / "patient-plan.pdf").read_bytes())
    assert "checking copy, not an issued plan" in patient_plan and "0113 496 0000" in patient_plan
    assert "Instalments every 7 days" in _text((tmp_path / "out" / "pharmacy-schedule.pdf").read_bytes())


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda request: request["patient"].update(nhs_number="9434765918"), "patient.nhs_number", "not valid"),
    (lambda request: request["patient"].update(date_of_birth="2999-01-01"), "patient.date_of_birth", "future"),
    (lambda request: request["patient"]["needs"].update(large_print="yes"), "patient.needs.large_print",
     "true or false"),
    (lambda request: request.update(instalment_days=10), "instalment_days", "7, 14, 28"),
    (lambda request: request.update(colour="blue"), "colour", "unknown field"),
    (lambda request: request.pop("pharmacy"), "pharmacy", "is missing"),
    (lambda request: request["clinic"].update(phone="call us"), "clinic.phone", "UK phone number"),
    (lambda request: request["schedule_request"]["regimen"][0].update(product="morphine-mr-tablet-8h"),
     "schedule_request.regimen[0].product", "unknown product"),
    (lambda request: request.update(schedule_request=None), "schedule_request.request", "JSON object"),
    (lambda request: request["schedule_request"].update(start_on="9999-12-01"), "schedule_request.start_on",
     "calendar cannot hold"),
    (lambda request: request.update(instalment_days=7.0), "instalment_days", "7, 14, 28"),
    (lambda request: request["patient"].update(date_of_birth="19601210"), "patient.date_of_birth", "YYYY-MM-DD"),
    (lambda request: request["clinic"].update(phone="+1 212 555 0123"), "clinic.phone", "UK phone number"),
    (lambda request: request.update(schedule_request=UNMAKEABLE), "schedule_request",
     "cannot be made from the strengths available: step"),
    (lambda request: request.update(sender={**SENDER, "registration_number": "12345"}), "sender.registration_number",
     "A GPhC registration number is 7 digits"),
    (lambda request: request.update(sender={**SENDER, "registration_body": "PSNI"}), "sender.registration_number",
     "Choose the register"),
    (lambda request: request.update(sender={"name": "Sam"}), "sender.job_title", "is missing"),
    (lambda request: request["clinic"].update(address="1 Park Row, Leeds"), "clinic.address", "list of 1 to 6 lines"),
    (lambda request: request["clinic"].update(supplies_naloxone="yes"), "clinic.supplies_naloxone", "true or false"),
])
def test_invalid_input_exits_2_with_every_problem_and_writes_nothing(app, tmp_path: Path, change, field: str,  # type: ignore[no-untyped-def]
                                                                     message: str) -> None:
    request = json.loads(json.dumps(PACK_REQUEST))
    change(request)
    request["patient"]["name"] = ""  # a second problem, reported with the first
    (tmp_path / "request.json").write_text(json.dumps(request))
    result = app.test_cli_runner().invoke(args=["taper", "documents", "--request", str(tmp_path / "request.json"),
                                                "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    errors = {error["field"]: error["message"] for error in json.loads(result.output)["errors"]}
    assert message in errors[field] and "patient.name" in errors
    assert not (tmp_path / "out").exists()


def test_malformed_or_missing_request_files_exit_2(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "twice.json").write_text('{"instalment_days": 7, "instalment_days": 28}')  # which one was meant?
    for name in ("broken.json", "missing.json", "twice.json"):
        result = app.test_cli_runner().invoke(args=["taper", "documents", "--request", str(tmp_path / name),
                                                    "--out", str(tmp_path / "out")])
        assert result.exit_code == 2
        assert json.loads(result.output)["errors"][0]["field"] == "request"


def test_a_sender_and_the_clinics_address_are_printed_on_the_gp_letter(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    request = {**PACK_REQUEST, "sender": SENDER,
               "clinic": {**PACK_REQUEST["clinic"], "address": ["Pain Service", "2 Park Row", "Leeds LS1 5HD"]}}
    letter = _text(render_document("gp_letter", pack_from_request(request, today=clock.today())))
    assert letter.index("Pain Service 2 Park Row Leeds LS1 5HD Phone 0113 496 0000") < letter.index("To Riverside")
    signed = "Yours sincerely, Sam Signer Specialist pain pharmacist GPhC registration number 0001234"
    assert letter.index(signed) > letter.index("Contacts")  # signed at the end
    unsigned = _text(render_document("gp_letter", pack_from_request(PACK_REQUEST, today=clock.today())))
    assert "Yours sincerely" not in unsigned and "Checking copy: not signed." in unsigned
