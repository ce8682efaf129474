""""Paste from the record" on the regimen form (issue 18): medication lines as a GP record shows them, read by the
one reader into the form's lines; lines it cannot read listed with the reader's problems; nothing saved until the
pharmacist saves."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.extensions import db
from taper.models import Patient, RecordedRegimen, User
from tests.conftest import TODAY, Maker, page_text, submit
from tests.web.test_practice_record_regimens import checked, selected, value

# As EMIS Web's medication screen copies: a header, then drug, dosage, quantity and last issue, tab-separated.
EMIS_TABLE = (
    "Drug\tDosage\tQuantity\tLast Issue Date\n"
    "Zomorph 30mg modified-release capsules\tONE TO BE TAKEN TWICE A DAY\t56 capsule\t12-Nov-2026\n"
    "Co-codamol 30mg/500mg tablets\t1-2 QDS PRN max 8 in 24 hours\t100 tablet\t02-Nov-2026\n"
    "Fentanyl 25micrograms/hour transdermal patches\tapply one every 72 hours\t10 patch\t20-Nov-2026\n"
    "Fentanyl 12micrograms/hour transdermal patches\tapply one every 72 hours\t10 patch\t20-Nov-2026\n"
    "Diazepam 2mg tablets\tONE AT NIGHT\t28 tablet\t12-Nov-2026\n"
    "Pregabalin 75mg capsules\t1 bd\t56 capsule\t12-Nov-2026\n"
    "Oramorph 10mg/5ml oral solution\tas directed\t300 ml\t01-Oct-2026\n"
    "MST Continus 10mg tablets\t1-2 bd\t112 tablet\t01-Oct-2026\n"
    "Paracetamol 500mg tablets\t2 QDS\t100 tablet\t02-Nov-2026\n"
)
# As typed into a letter or copied from SystmOne's one-line view: "drug - dosage", or the dosage straight after
# the drug's form.
DASHED_AND_RUN_ON = (
    "Morphine sulfate 10mg/5ml oral solution - 5ml-10ml four times a day when required\n"
    "\n"
    "OxyContin 10mg modified-release tablets 1 mane 2 nocte\n"
    "Gabapentin 300mg capsules three times a day\n"
    "Tramadol hydrochloride\n"
)


@pytest.fixture
def patient(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist)


def _read(client: FlaskClient, patient: Patient, pasted: str, **fields: str) -> str:
    url = f"/patients/{patient.id}/regimens/new"
    return page_text(submit(client, url, {"pasted": pasted, "read_pasted": "1", "recorded_on-day": "1",
                                          "recorded_on-month": "12", "recorded_on-year": "2026", **fields}))


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(RecordedRegimen)) or 0


def test_an_emis_table_is_read_into_the_form_and_nothing_is_saved(signed_in: FlaskClient, patient: Patient) -> None:
    page = _read(signed_in, patient, EMIS_TABLE)
    assert "3 opioid lines read into the form below" in page
    assert selected(page, "lines-0-product") == "morphine-mr-capsule-12h"
    assert selected(page, "lines-0-brand") == "Zomorph"
    assert [value(page, f"lines-0-dose_{slot}") for slot in (1, 2, 3, 4)] == ["30", "30", "", ""]
    assert [value(page, f"lines-0-time_{slot}") for slot in (1, 2)] == ["08:00", "20:00"]
    assert selected(page, "lines-1-product") == "co-codamol-30-500-tablet"
    assert checked_value(page, "lines-1-taken") == "prn"
    # "1-2 ... max 8 in 24 hours": 60 mg (two tablets) at most 4 times; usual use left for the pharmacist to ask.
    assert (value(page, "lines-1-prn_dose"), value(page, "lines-1-prn_max"), value(page, "lines-1-prn_usual")) == (
        "60", "4", "")
    assert "The record allows up to 4 a day: ask the patient how many they usually take" in page
    assert selected(page, "lines-2-product") == "fentanyl-patch-72h"
    assert value(page, "lines-2-patches") == "25 + 12"  # the two patches worn together
    assert checked(page, "benzodiazepine") and checked(page, "gabapentinoid")
    unread = page[page.index('id="pasted-unread"'):]
    assert "Line 8:</strong> Oramorph 10mg/5ml oral solution as directed" in unread
    assert "the dose must be read from the record by hand" in unread
    assert "Line 9:" in unread and "a variable dose on a regular line" in unread
    assert ("Not opioids" in page and "Diazepam 2mg tablets; Pregabalin 75mg capsules; Paracetamol 500mg tablets"
            in page and "Ticked below: a benzodiazepine and a gabapentinoid" in page)
    assert "Drug" not in page[page.index('id="pasted-unread"'):page.index("Not opioids")]  # the header left out
    assert _records() == 0


def test_dashes_and_run_on_lines_are_read_and_an_unsplit_line_is_listed(signed_in: FlaskClient,
                                                                      patient: Patient) -> None:
    page = _read(signed_in, patient, DASHED_AND_RUN_ON)
    assert selected(page, "lines-0-product") == "morphine-oral-solution-10mg-5ml"
    assert (value(page, "lines-0-prn_dose"), value(page, "lines-0-prn_max")) == ("20", "4")
    assert selected(page, "lines-1-product") == "oxycodone-mr-tablet-12h"
    assert [(value(page, f"lines-1-time_{slot}"), value(page, f"lines-1-dose_{slot}")) for slot in (1, 2)] == [
        ("08:00", "10"), ("22:00", "20")]
    assert checked(page, "gabapentinoid") and not checked(page, "benzodiazepine")
    unread = page[page.index('id="pasted-unread"'):]
    assert "Line 5:</strong> Tramadol hydrochloride" in unread
    assert "no dosage found: put a tab or &#34; - &#34; between the drug and its dosage" in unread
    assert _records() == 0


def test_read_lines_are_saved_only_by_the_usual_save(signed_in: FlaskClient, patient: Patient,
                                                     pharmacist: User) -> None:
    page = _read(signed_in, patient, "Zomorph 30mg modified-release capsules\tONE TO BE TAKEN TWICE A DAY\n")
    assert _records() == 0
    form = {name: value(page, name) or "" for name in (
        "lines-0-time_1", "lines-0-dose_1", "lines-0-time_2", "lines-0-dose_2")}
    response = submit(signed_in, f"/patients/{patient.id}/regimens/new", {
        **form, "lines-0-product": selected(page, "lines-0-product"), "lines-0-brand": selected(page, "lines-0-brand"),
        "lines-0-taken": "regular", "lines-0-entered_in": "amount", "save": "1",
        "recorded_on-day": str(TODAY.day), "recorded_on-month": str(TODAY.month), "recorded_on-year": str(TODAY.year)})
    assert response.status_code == 302
    record = db.session.scalar(select(RecordedRegimen))
    assert record.source == "pharmacist" and record.recorded_by_id == pharmacist.id
    assert record.lines == [{"product": "morphine-mr-capsule-12h", "brand": "Zomorph",
                             "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}]


def test_a_paste_too_long_is_refused_whole(signed_in: FlaskClient, patient: Patient) -> None:
    page = _read(signed_in, patient, "Zomorph 30mg modified-release capsules - 1 bd\n" * 60)
    assert "Paste at most 50 medicines" in page and 'id="pasted-reading"' not in page
    assert selected(page, "lines-0-product") in (None, "")


def checked_value(page: str, name: str) -> str | None:
    """The value of the radio `name` that is checked."""
    for found in re.finditer(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page):
        if " checked" in found.group(0):
            chosen = re.search(r'value="([^"]*)"', found.group(0))
            return chosen.group(1) if chosen else None
    return None
