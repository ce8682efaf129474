"""Regimens from a practice record (issue 18): shown as such until a pharmacist checks and confirms them, and
never the start of a plan."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.assessment import assess
from taper.domain.formulary import load_formulary
from taper.domain.ome import get_factor_set
from taper.domain.regimen import parse_regimen
from taper.extensions import db
from taper.models import AuditEvent, Patient, RecordedRegimen, User
from taper.services import plans
from taper.services.errors import InvalidInput
from tests.conftest import TODAY, Maker, page_text, submit

ZOMORPH_BD = {"product": "morphine-mr-capsule-12h", "brand": "Zomorph",
              "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}
CO_CODAMOL_PRN = {"product": "co-codamol-30-500-tablet", "prn": {"dose_mg": 60, "usual_per_day": 4, "max_per_day": 4}}
FENTANYL_37 = {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 37}
RECORD_DATE = date(2026, 11, 20)


def practice_record_regimen(patient: Patient, lines: list[dict[str, Any]], *, source_date: date = RECORD_DATE,
                            benzodiazepine: bool = False, gabapentinoid: bool = False) -> RecordedRegimen:
    """A regimen as the cohort import records it: from the practice's record, no pharmacist, OME counted with
    when-needed lines at their most a day."""
    formulary = load_formulary()
    factor_set = get_factor_set("fpm-2020")
    assessment = assess(parse_regimen(lines, formulary), formulary=formulary, factor_set=factor_set,
                        high_dose_threshold_mg=Decimal(120), benzodiazepine=benzodiazepine,
                        gabapentinoid=gabapentinoid)
    record = RecordedRegimen(
        patient_id=patient.id, recorded_on=source_date, recorded_by_id=None, lines=lines,
        benzodiazepine=benzodiazepine, gabapentinoid=gabapentinoid, factor_set=factor_set.key,
        factor_set_version=factor_set.version, formulary_version=formulary.version,
        high_dose_threshold_mg=Decimal(120), total_ome_mg_per_day=assessment.total_ome_mg_per_day,
        source="practice_record", source_date=source_date)
    db.session.add(record)
    db.session.commit()
    return record


def value(page: str, name: str) -> str | None:
    """The value of the text input `name` in a page."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return None if found is None else found.group(1)


def selected(page: str, name: str) -> str | None:
    """The option chosen in the select `name`."""
    found = re.search(rf'<select[^>]*name="{re.escape(name)}".*?</select>', page)
    chosen = re.search(r'<option value="([^"]*)" selected', found.group(0)) if found else None
    return None if chosen is None else chosen.group(1)


def checked(page: str, name: str) -> bool:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    return found is not None and " checked" in found.group(0)


@pytest.fixture
def patient(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist)


def test_a_practice_record_regimen_is_shown_as_not_yet_confirmed(signed_in: FlaskClient, patient: Patient,
                                                                  pharmacist: User) -> None:
    practice_record_regimen(patient, [ZOMORPH_BD, CO_CODAMOL_PRN], gabapentinoid=True)
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert "From practice record, 20 November 2026: not yet confirmed by a pharmacist." in page
    assert f"by {pharmacist.full_name}" not in page
    # 60 mg morphine + 4 x 60 mg codeine (factor 0.1: 24) = 84, the when-needed line at its most.
    assert 'id="total-ome"><strong>84 mg a day' in page
    assert ("When-needed medicines count the most allowed a day (the cautious figure) until a pharmacist confirms "
            "the patient's usual use.") in page
    assert "Check and confirm" in page
    history = page_text(signed_in.get(f"/patients/{patient.id}/regimens/"))
    assert "From practice record, 20 November 2026: not yet confirmed by a pharmacist." in history
    assert "the cautious figure" in history


def test_check_and_confirm_fills_the_form_and_saving_records_a_pharmacist_regimen(
        signed_in: FlaskClient, patient: Patient, pharmacist: User) -> None:
    imported = practice_record_regimen(patient, [ZOMORPH_BD, CO_CODAMOL_PRN, FENTANYL_37], benzodiazepine=True)
    url = f"/patients/{patient.id}/regimens/new?confirm={imported.id}"
    page = page_text(signed_in.get(url))
    assert "from the practice record, 20 November 2026" in page
    assert selected(page, "lines-0-product") == "morphine-mr-capsule-12h"
    assert selected(page, "lines-0-brand") == "Zomorph"
    assert (value(page, "lines-0-time_1"), value(page, "lines-0-dose_1")) == ("08:00", "30")
    assert (value(page, "lines-0-time_2"), value(page, "lines-0-dose_2")) == ("20:00", "30")
    assert (value(page, "lines-1-prn_dose"), value(page, "lines-1-prn_max")) == ("60", "4")
    assert value(page, "lines-1-prn_usual") == ""  # the record never says usual use: the pharmacist asks
    assert "The record allows up to 4 a day: ask the patient how many they usually take" in page
    assert value(page, "lines-2-patches") == "25 + 12"
    assert checked(page, "benzodiazepine") and not checked(page, "gabapentinoid")

    form = {"recorded_on-day": str(TODAY.day), "recorded_on-month": str(TODAY.month),
            "recorded_on-year": str(TODAY.year), "save": "1",
            "benzodiazepine": "y",
            "lines-0-product": "morphine-mr-capsule-12h", "lines-0-brand": "Zomorph", "lines-0-taken": "regular",
            "lines-0-entered_in": "amount", "lines-0-time_1": "08:00", "lines-0-dose_1": "30",
            "lines-0-time_2": "20:00", "lines-0-dose_2": "30",
            "lines-1-product": "co-codamol-30-500-tablet", "lines-1-taken": "prn", "lines-1-entered_in": "amount",
            "lines-1-prn_dose": "60", "lines-1-prn_usual": "1", "lines-1-prn_max": "4",
            "lines-2-product": "fentanyl-patch-72h", "lines-2-taken": "patch", "lines-2-entered_in": "amount",
            "lines-2-patches": "25 + 12"}
    response = submit(signed_in, f"/patients/{patient.id}/regimens/new", form, form_url=url)
    assert response.status_code == 302
    confirmed = db.session.scalar(select(RecordedRegimen).where(RecordedRegimen.source == "pharmacist"))
    assert confirmed.recorded_by_id == pharmacist.id and confirmed.benzodiazepine
    assert confirmed.lines[1]["prn"] == {"dose_mg": 60, "usual_per_day": 1, "max_per_day": 4}
    assert db.session.scalar(select(func.count()).select_from(RecordedRegimen)) == 2  # the import stays
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "regimen", AuditEvent.entity_id == str(confirmed.id))) == 1
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert f"by {pharmacist.full_name}" in page and "not yet confirmed" not in page
    history = page_text(signed_in.get(f"/patients/{patient.id}/regimens/"))
    assert "From practice record, 20 November 2026" in history and "Earlier regimen" in history


def test_confirm_opens_only_a_practice_record_of_the_same_patient(signed_in: FlaskClient, patient: Patient,
                                                                  make: Maker, pharmacist: User) -> None:
    other = make.patient(pharmacist)
    imported = practice_record_regimen(other, [ZOMORPH_BD])
    assert signed_in.get(f"/patients/{patient.id}/regimens/new?confirm={imported.id}").status_code == 404


def test_a_plan_is_not_built_from_a_practice_record(pharmacist: User, patient: Patient) -> None:
    practice_record_regimen(patient, [ZOMORPH_BD])
    with pytest.raises(InvalidInput) as refusal:
        plans.preview(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
    assert refusal.value.errors == {"regimen": "Check the regimen from the practice record with the patient and "
                                               "confirm it before building a plan"}
    with pytest.raises(InvalidInput):
        plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))


@pytest.mark.parametrize("confirm", ["²", "٣x", "99999999999999999999", "-1"])
def test_a_confirm_argument_that_cannot_be_a_regimen_id_is_not_found(signed_in: FlaskClient, make: Maker,
                                                                     pharmacist: User, confirm: str) -> None:
    patient = make.patient(pharmacist)
    assert signed_in.get(f"/patients/{patient.id}/regimens/new", query_string={"confirm": confirm}).status_code == 404
