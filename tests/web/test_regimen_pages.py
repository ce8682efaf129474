"""Recording a patient's regimen in the browser's form: OME breakdown, findings, and refused input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from taper.domain.limits import Limits
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, RecordedRegimen, User
from taper.services import accounts
from tests.conftest import Maker, page_text, sign_in, submit


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


MORPHINE_BD = {"product": "morphine-mr-tablet-12h", "taken": "regular", "time_1": "08:00", "dose_1": "60",
               "time_2": "20:00", "dose_2": "60"}
OXYCODONE_PRN = {"product": "oxycodone-ir-capsule", "taken": "prn", "prn_dose": "5", "prn_usual": "2",
                 "prn_max": "4"}
FENTANYL = {"product": "fentanyl-patch-72h", "taken": "patch", "patches": "25 + 12"}


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(RecordedRegimen))


def test_check_shows_the_breakdown_and_findings_and_saves_nothing(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(MORPHINE_BD, OXYCODONE_PRN, FENTANYL, check="1")))
    assert "08:00 60 mg (one 60 mg tablet); 20:00 60 mg (one 60 mg tablet)" in page
    assert "5 mg (one 5 mg capsule) when needed: usually 2, at most 4 a day" in page
    assert ("37 micrograms/hour: one 25 microgram/hour patch and one 12 microgram/hour patch, changed every 3 "
            "days") in page
    assert 'id="total-ome"><strong>225 mg a day' in page  # 120 + 15 + 90 (the 12 patch releases 12.5)
    assert "at or above 200 mg a day" in page and "high-dose threshold of 120 mg a day" in page
    assert 'value="25 + 12"' in page  # nothing typed is lost
    assert _records() == 0


def test_save_records_the_regimen_with_its_factor_set_and_shows_it_on_the_record(
        signed_in: FlaskClient, patient: Patient, pharmacist: User) -> None:
    response = submit(signed_in, _url(patient), _form(MORPHINE_BD, OXYCODONE_PRN, save="1", benzodiazepine="y"))
    assert response.headers["Location"] == f"/patients/{patient.id}"
    record = db.session.scalar(select(RecordedRegimen))
    assert (record.total_ome_mg_per_day, record.factor_set, record.factor_set_version) == (
        Decimal("135"), "fpm-2020", "2020-08")
    assert record.lines[1] == {"product": "oxycodone-ir-capsule",
                               "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}
    assert record.benzodiazepine and record.recorded_by_id == pharmacist.id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "regimen"))
    assert audit.action == "create" and audit.changes["total_ome_mg_per_day"] == "135"
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert "Current opioid regimen" in page and "135 mg a day" in page
    assert "Co-prescribed benzodiazepine" in page and "Also prescribed: a benzodiazepine" in page


def test_a_second_regimen_supersedes_the_first_and_both_are_kept(signed_in: FlaskClient, patient: Patient) -> None:
    submit(signed_in, _url(patient), _form(MORPHINE_BD, save="1"))
    lower = MORPHINE_BD | {"dose_1": "30", "dose_2": "30"}
    submit(signed_in, _url(patient), _form(lower, save="1", **{"recorded_on-day": "20"}))
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert "60 mg a day" in page and "Regimen history (1 earlier record)" in page
    history = page_text(signed_in.get(f"/patients/{patient.id}/regimens/"))
    assert history.index("Current regimen: recorded 20 November 2026") < history.index(
        "Earlier regimen: recorded 1 November 2026")


def test_methadone_is_recorded_with_ome_not_calculable(signed_in: FlaskClient, patient: Patient) -> None:
    methadone = {"product": "methadone-oral-solution-1mg-ml", "taken": "regular", "time_1": "09:00", "dose_1": "10"}
    submit(signed_in, _url(patient), _form(MORPHINE_BD, methadone, save="1"))
    assert db.session.scalar(select(RecordedRegimen)).total_ome_mg_per_day is None
    page = page_text(signed_in.get(f"/patients/{patient.id}"))
    assert 'id="total-ome"><strong>Not calculable' in page and "OME is not calculable for methadone" in page


def test_the_clinics_factor_set_and_threshold_are_used(client: FlaskClient, make: Maker) -> None:
    admin, pharmacist = make.user(Role.ADMIN), make.user(Role.PHARMACIST)
    clinic = db.session.get(Organisation, pharmacist.organisation_id)
    accounts.update_organisation(by=admin, organisation_id=clinic.id, expected_version=clinic.version,
                                 name=clinic.name, ods_code=clinic.ods_code, phone=clinic.phone, factor_set="cdc-2022",
                                 high_dose_threshold_mg=Decimal(90),
                                 limits=Limits(paracetamol_max_mg_per_day=Decimal(3000)))
    db.session.commit()
    patient = make.patient(pharmacist)
    sign_in(client, pharmacist)
    co_codamol = {"product": "co-codamol-30-500-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "60",
                  "time_2": "12:00", "dose_2": "60", "time_3": "18:00", "dose_3": "60", "time_4": "22:00",
                  "dose_4": "30"}  # 3.5 g of paracetamol: within 4 g, above this clinic's 3 g
    checked = page_text(submit(client, _url(patient), _form(co_codamol, check="1")))
    assert "3500 mg of paracetamol a day" in checked and "the clinic&#39;s maximum of 3 g in 24 hours" in checked
    tramadol = {"product": "tramadol-mr-tablet-12h", "taken": "regular", "time_1": "08:00", "dose_1": "200",
                "time_2": "20:00", "dose_2": "200"}
    page = page_text(submit(client, _url(patient), _form(tramadol, check="1")))
    assert 'id="total-ome"><strong>80 mg a day' in page  # 400 mg x 0.2 (CDC 2022)
    assert "CDC Clinical Practice Guideline (2022)" in page and "High-dose threshold: 90 mg a day" in page


def test_add_another_medicine_keeps_what_was_typed(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(MORPHINE_BD, add_line="1")))
    assert "Medicine 3" in page and 'value="60"' in page
    assert _records() == 0


@pytest.mark.parametrize(
    ("line", "field_id", "message"),
    [
        ({"product": "morphine-mr-tablet-8h", "taken": "regular", "dose_1": "10"}, "lines-0-product",
         "Not a valid choice"),
        ({"product": "fentanyl-patch-72h", "taken": "patch", "patches": "25 + 20"}, "lines-0-patches",
         "20 micrograms/hour is not a strength of this patch"),
        ({"product": "fentanyl-patch-72h", "taken": "patch", "patches": "30"}, "lines-0-patches",
         "30 micrograms/hour is not a strength of this patch"),
        ({"product": "buprenorphine-patch-7day", "taken": "patch", "patches": "20 + 20 + 20"}, "lines-0-patches",
         "60 micrograms an hour cannot be made from at most 2"),
        ({"product": "morphine-ir-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "0"}, "lines-0-dose_1",
         "dose must be more than zero, not '0'"),
        ({"product": "morphine-ir-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "-10"},
         "lines-0-dose_1", "dose must be more than zero, not '-10'"),
        ({"product": "morphine-ir-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "ten"},
         "lines-0-dose_1", "dose must be a number, not 'ten'"),
        ({"product": "morphine-ir-tablet", "taken": "regular", "time_1": "8am", "dose_1": "10"},
         "lines-0-time_1", "is not a time of day like 08:00"),
        ({"product": "oxycodone-ir-capsule", "taken": "prn", "prn_dose": "5", "prn_usual": "2"}, "lines-0-prn_max",
         "an as-needed medicine needs a maximum number of doses a day"),
        ({"product": "morphine-ir-tablet", "taken": "patch", "patches": "10"}, "lines-0-patches",
         "is not a patch"),
        ({"product": "morphine-ir-tablet", "taken": "regular"}, "lines-0-dose_1", "list at least one dose"),
        (MORPHINE_BD | {"brand": "Matrifen"}, "lines-0-brand",
         "has no brand 'Matrifen' in the formulary: choose one of MST Continus, Morphgesic SR"),
        ({"product": "fentanyl-patch-72h", "taken": "patch", "patches": "37.5"}, "lines-0-patches",
         "the 37.5 is made only as Mezolar Matrix: name the brand"),
        ({"product": "fentanyl-patch-72h", "brand": "Fentalis", "taken": "patch", "patches": "12"},
         "lines-0-patches", "cannot be made from at most 6 Fentalis"),
        # Past the hard limits no plan is made from (issue 15): refused when recorded, not only when planned.
        ({"product": "morphine-mr-tablet-12h", "taken": "regular", "time_1": "08:00", "dose_1": "99999"},
         "lines-0-dose_1", "above the limit of 5000 mg OME a day beyond which no tapering plan makes sense"),
        ({"product": "codeine-tablet", "taken": "regular", "time_1": "08:00", "dose_1": "3660"},
         "lines-0-dose_1", "needs at least 61 tablets in one dose"),
    ],
)
def test_bad_input_is_shown_by_the_field_and_nothing_is_saved(signed_in: FlaskClient, patient: Patient,
                                                              line: dict[str, str], field_id: str,
                                                              message: str) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(line, save="1")))
    assert "There is a problem" in page and f'href="#{field_id}"' in page
    assert re.search(f'id="{field_id}-error" > <span class="nhsuk-u-visually-hidden">Error: </span>[^<]*'
                     f'{re.escape(str(escape(message)))}', page), message
    assert _records() == 0


def test_a_line_keeps_the_brand_chosen_and_the_record_names_it(signed_in: FlaskClient, patient: Patient) -> None:
    checked = page_text(submit(signed_in, _url(patient), _form(MORPHINE_BD, FENTANYL, check="1")))
    assert checked.count("names no brand. Prescribe modified-release opioids and patches by brand") == 2
    branded = (MORPHINE_BD | {"brand": "MST Continus"}, FENTANYL | {"brand": "Matrifen"})
    checked = page_text(submit(signed_in, _url(patient), _form(*branded, check="1")))
    assert "names no brand" not in checked
    assert '<option value="MST Continus" selected >' in checked  # nothing chosen is lost
    submit(signed_in, _url(patient), _form(*branded, save="1"))
    record = db.session.scalar(select(RecordedRegimen))
    assert [line.get("brand") for line in record.lines] == ["MST Continus", "Matrifen"]
    assert "Morphine modified-release tablet (MST Continus)" in page_text(signed_in.get(f"/patients/{patient.id}"))


def test_a_regimen_with_no_medicine_is_refused(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(save="1")))
    assert "must list at least one medicine" in page
    assert _records() == 0


def test_a_future_date_is_refused(signed_in: FlaskClient, patient: Patient) -> None:
    page = page_text(submit(signed_in, _url(patient), _form(MORPHINE_BD, save="1", **{"recorded_on-year": "2999"})))
    assert "must be today or in the past" in page
    assert _records() == 0


def test_a_form_with_more_medicines_than_lines_is_refused_not_cut_short(signed_in: FlaskClient,
                                                                       patient: Patient) -> None:
    """Issue 15: a form posted with more lines than the form has saved the first 8 and said "Regimen recorded"."""
    products = ["morphine-ir-tablet", "oxycodone-ir-capsule", "codeine-tablet", "dihydrocodeine-tablet",
                "tramadol-capsule", "tapentadol-ir-tablet", "hydromorphone-ir-capsule", "co-codamol-8-500-tablet",
                "morphine-oral-solution-10mg-5ml"]
    lines = [{"product": product, "taken": "prn", "prn_dose": "1", "prn_usual": "1", "prn_max": "1"}
             for product in products]
    page = page_text(submit(signed_in, _url(patient), _form(*lines, save="1")))
    assert "Record at most 8 medicines in one regimen: this form had 9, so nothing was saved" in page
    assert "Regimen recorded" not in page and _records() == 0
