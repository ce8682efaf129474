"""Regimen doses entered as prescribers write them (tablets, capsules, patches, mL), and the "did you mean"
message for doses in mg that are really counts of tablets (issue 17, item 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.extensions import db
from taper.models import Patient, RecordedRegimen, User
from tests.conftest import Maker, page_text, submit


@pytest.fixture
def patient(pharmacist: User, make: Maker) -> Patient:
    return make.patient(pharmacist)


def _url(patient: Patient) -> str:
    return f"/patients/{patient.id}/regimens/new"


def _form(*lines: dict[str, str], **extra: str) -> dict[str, str]:
    data = {"recorded_on-day": "1", "recorded_on-month": "11", "recorded_on-year": "2026", **extra}
    for index, line in enumerate(lines):
        data |= {f"lines-{index}-{name}": value for name, value in line.items()}
    return data


CO_CODAMOL_QDS = {"product": "co-codamol-30-500-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "2",
                  "time_2": "12:00", "dose_2": "2", "time_3": "18:00", "dose_3": "2", "time_4": "22:00",
                  "dose_4": "2"}
DID_YOU_MEAN = "2 mg is less than one tablet (30 mg codeine). Did you mean 2 tablets (60 mg) each time?"


def _records() -> list[RecordedRegimen]:
    return list(db.session.scalars(select(RecordedRegimen)))


def test_doses_in_tablets_are_saved_in_mg_worked_out_exactly(signed_in: FlaskClient, patient: Patient) -> None:
    line = CO_CODAMOL_QDS | {"entered_in": "units"}
    page = page_text(submit(signed_in, _url(patient), _form(line, check="1")))
    assert "2 tablets = 60 mg" in page  # the worked mg, shown back by each dose
    assert 'id="total-ome"><strong>24 mg a day' in page  # 240 mg codeine at 0.1
    assert _records() == []
    response = submit(signed_in, _url(patient), _form(line, save="1"))
    assert response.status_code == 302
    [record] = _records()
    assert [dose["dose_mg"] for dose in record.lines[0]["doses"]] == [60, 60, 60, 60]
    assert record.total_ome_mg_per_day == Decimal(24)


def test_doses_in_mg_that_look_like_tablets_get_one_did_you_mean_and_are_not_saved(
        signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(CO_CODAMOL_QDS, save="1")))
    assert page.count(DID_YOU_MEAN) == 3  # the error summary, the message by the first dose, the offer
    assert page.count("Error: </span>") == 1  # one message by the fields, not four
    assert "0.8" not in page  # no OME worked out from the misreading
    assert _records() == []
    # Check does not take the suggestion up either: only the pharmacist's choice does.
    page = page_text(submit(signed_in, _url(patient), _form(CO_CODAMOL_QDS, check="1")))
    assert DID_YOU_MEAN in page and 'id="total-ome"' not in page


def test_choosing_the_suggestion_reads_the_doses_as_tablets_and_saves_nothing_until_saved(
        signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(CO_CODAMOL_QDS, use_units="0")))
    assert "2 tablets = 60 mg" in page and 'id="total-ome"><strong>24 mg a day' in page
    assert 'value="units" checked' in page
    assert DID_YOU_MEAN not in page
    assert _records() == []


def test_the_form_names_the_products_unit(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(CO_CODAMOL_QDS, check="1")))
    assert "Number of tablets" in page and "Enter these doses in tablets" in page


@pytest.mark.parametrize(
    ("line", "saved"),
    [
        ({"product": "tramadol-capsule", "taken": "prn", "entered_in": "units", "prn_dose": "1", "prn_usual": "2",
          "prn_max": "4"}, {"prn": {"dose_mg": 50, "usual_per_day": 2, "max_per_day": 4}}),
        ({"product": "morphine-oral-solution-10mg-5ml", "taken": "regular", "entered_in": "units",
          "time_1": "08:00", "dose_1": "2.5"}, {"doses": [{"time": "08:00", "dose_mg": 5}]}),
        ({"product": "morphine-mr-tablet-12h", "brand": "MST Continus", "taken": "regular", "entered_in": "units",
          "strength": "30", "time_1": "08:00", "dose_1": "2", "time_2": "20:00", "dose_2": "1"},
         {"doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 30}]}),
        ({"product": "fentanyl-patch-72h", "brand": "Matrifen", "taken": "patch", "entered_in": "units",
          "strength": "25", "patches": "2"}, {"patch_mcg_per_hour": 50}),
    ],
)
def test_capsules_ml_tablets_of_a_strength_and_patches(signed_in: FlaskClient, patient: Patient,
                                                        line: dict[str, str], saved: dict[str, object]) -> None:
    response = submit(signed_in, _url(patient), _form(line, save="1"))
    assert response.status_code == 302, page_text(response)
    [record] = _records()
    assert {key: value for key, value in record.lines[0].items() if key not in ("product", "brand")} == saved


@pytest.mark.parametrize(
    ("line", "field_id", "message"),
    [
        ({"product": "morphine-mr-tablet-12h", "taken": "regular", "entered_in": "units", "time_1": "08:00",
          "dose_1": "2"}, "lines-0-strength", "Choose the strength of each tablet: 5, 10, 15, 30, 60, 100 or 200 mg"),
        ({"product": "morphine-mr-tablet-12h", "taken": "regular", "entered_in": "units", "strength": "25",
          "time_1": "08:00", "dose_1": "2"}, "lines-0-strength", "25 mg is not a strength of this tablet"),
        ({"product": "co-codamol-30-500-tablet", "taken": "regular", "entered_in": "units", "time_1": "08:00",
          "dose_1": "1.5"}, "lines-0-dose_1", "Enter a whole number of tablets, not 1.5"),
        ({"product": "co-codamol-30-500-tablet", "taken": "regular", "entered_in": "units", "time_1": "08:00",
          "dose_1": "two"}, "lines-0-dose_1", "Enter the number of tablets as a number, like 2"),
    ],
)
def test_counts_that_cannot_be_used_are_refused_by_their_field(signed_in: FlaskClient, patient: Patient,
                                                               line: dict[str, str], field_id: str,
                                                               message: str) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(line, save="1")))
    assert f'href="#{field_id}"' in page and message in page
    assert _records() == []


def test_doses_in_mg_of_a_usual_size_pass_without_a_question(signed_in: FlaskClient, patient: Patient) -> None:
    line = CO_CODAMOL_QDS | {f"dose_{slot}": "60" for slot in (1, 2, 3, 4)}
    assert submit(signed_in, _url(patient), _form(line, save="1")).status_code == 302
    [record] = _records()
    assert record.total_ome_mg_per_day == Decimal(24)
    assert db.session.scalar(select(func.count()).select_from(RecordedRegimen)) == 1
