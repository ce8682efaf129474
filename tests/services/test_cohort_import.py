"""The cohort import (issue 18 item 2): preview, confirm and run on a real database, with files the synthetic
extract generator writes and small files written here row by row."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, CohortImport, Organisation, Patient, PracticeRecordLine, RecordedRegimen, User
from taper.services import cohort_import, finding, regimens
from taper.services.cohort_import import ColumnsNeeded
from taper.services.errors import InvalidInput, NotFound
from taper.services.synthetic.cohort_extract import CUSTOM_MAPPING, HEADERS, write_extract
from tests.conftest import Maker

EMIS = HEADERS["emis"]


def generated(rows: int, *, seed: int = 1, style: str = "emis", broken_rows: int = 0,
              practices: tuple[str, ...] = ("ZZG71", "ZZG72")) -> bytes:
    stream = io.StringIO()
    write_extract(stream, rows, seed=seed, practices=list(practices), header_style=style, broken_rows=broken_rows,
                  issued_by=clock.today())
    return stream.getvalue().encode()


def csv_of(*rows: list[str], headers: list[str] = EMIS) -> bytes:
    lines = [",".join(headers)] + [",".join(f'"{cell}"' for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def row(nhs_number: str, drug: str, dosage: str, *, last: str = "20/11/2026", born: str = "10/12/1960",
        practice: str = "ZZG71", surname: str = "Lovelace", address: str = "", postcode: str = "",
        mobile: str = "") -> list[str]:
    return [nhs_number, surname, "Ada", born, "F", practice, drug, dosage, "56", last, "01/01/2025", address,
            postcode, mobile]


def imported(by: User | None, clinic_id: int, content: bytes) -> CohortImport:
    """Preview, confirm and run, committing as the edges do."""
    record = cohort_import.preview(by=by, clinic_id=clinic_id, file_name="extract.csv", content=content)
    db.session.commit()
    record = cohort_import.confirm(by=by, import_id=record.id, expected_version=record.version)
    db.session.commit()
    record = cohort_import.run(import_id=record.id, after_batch=db.session.commit)
    db.session.commit()
    return record


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Patient, PracticeRecordLine, RecordedRegimen, Organisation)}


def test_preview_counts_of_a_generated_file_add_up_and_nothing_is_written(pharmacist: User) -> None:
    before = counts()
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=generated(300, broken_rows=4))
    shown = record.preview
    assert record.status == "previewed" and record.rows_total == shown["rows"] == 300
    assert shown["lines_read"] + shown["lines_hand_check"] + shown["non_opioid_lines"] + shown["rows_refused"] \
        + shown["rows_already_imported"] == 300
    assert shown["rows_refused"] >= 4 and len(shown["refused"]) == shown["rows_refused"]
    assert shown["lines_hand_check"] >= 1 and shown["hand_check"][0]["problems"]
    assert shown["patients_new"] > 50 and shown["patients_known"] == 0
    assert shown["practices_new"] == ["ZZG71", "ZZG72"]
    assert 0 < shown["needs_contact_details"] < shown["patients_new"]
    assert counts() == before


@pytest.mark.parametrize("style", ["emis", "systmone"])
def test_emis_and_systmone_headers_are_recognised_without_a_mapping(pharmacist: User, style: str) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=generated(40, style=style))
    assert record.columns["nhs_number"] in ("NHS Number", "NHS number")
    assert set(record.columns) == {name for name, _, _ in cohort_import.FIELDS}
    assert record.preview["rows_refused"] == 0


def test_other_headers_need_a_mapping_which_is_remembered_and_reused(pharmacist: User) -> None:
    clinic_id = pharmacist.organisation_id
    assert clinic_id is not None
    with pytest.raises(ColumnsNeeded) as needed:
        cohort_import.preview(by=pharmacist, clinic_id=clinic_id, file_name="x.csv",
                              content=generated(20, style="custom"))
    assert needed.value.headers == HEADERS["custom"]
    assert "nhs_number" in needed.value.missing and "quantity" in needed.value.missing
    with pytest.raises(InvalidInput) as refused:
        cohort_import.save_mapping(by=pharmacist, clinic_id=clinic_id,
                                   columns={**CUSTOM_MAPPING, "drug": "Family", "dosage": ""})
    assert set(refused.value.errors) == {"drug", "dosage"}
    cohort_import.save_mapping(by=pharmacist, clinic_id=clinic_id, columns=CUSTOM_MAPPING)
    db.session.commit()
    assert cohort_import.mapping_for(clinic_id=clinic_id) == CUSTOM_MAPPING
    record = cohort_import.preview(by=pharmacist, clinic_id=clinic_id, file_name="x.csv",
                                   content=generated(20, style="custom"))
    emis = cohort_import.preview(by=pharmacist, clinic_id=clinic_id, file_name="x.csv",
                                 content=generated(20, style="emis"))
    assert record.columns == CUSTOM_MAPPING
    assert {**record.preview, "rows": 0} == {**emis.preview, "rows": 0}


def test_a_reimport_adds_nothing_twice(pharmacist: User) -> None:
    content = generated(200, broken_rows=2)
    first = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    after_first = counts()
    assert first.status == "imported" and first.content == b"" and first.rows_done == 200
    assert first.result is not None and first.result["patients_added"] == first.preview["patients_new"]
    assert first.result["lines_added"] == 200 - first.result["rows_refused"]
    assert first.result["practices_added"] == 2 and first.result["regimens_recorded"] > 0
    again = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    assert again.preview["rows_already_imported"] == 200 - again.preview["rows_refused"]
    assert again.preview["patients_new"] == 0 and again.preview["practices_new"] == []
    assert again.result is not None
    assert (again.result["patients_added"], again.result["lines_added"], again.result["regimens_recorded"],
            again.result["practices_added"]) == (0, 0, 0, 0)
    assert counts() == after_first


def test_a_broken_row_refuses_its_patient_and_nothing_of_them_is_stored(pharmacist: User, make: Maker) -> None:
    broken, fine = make.nhs_number(), make.nhs_number()
    content = csv_of(row(broken, "Zomorph 30mg modified-release capsules", "1 bd"),
                     row(broken, "Pregabalin 75mg capsules", "1 bd", last="31/11/2026"),
                     row(fine, "Zomorph 30mg modified-release capsules", "1 bd", surname="Hopper"))
    record = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    assert record.preview["refused"] == [
        {"row": 2, "reason": "another row for this patient was refused (row 3)"},
        {"row": 3, "reason": "last issue date is not a real date: November 2026 has no day 31"}]
    assert db.session.scalar(select(Patient).where(Patient.nhs_number == broken)) is None
    assert db.session.scalar(select(Patient.family_name).where(Patient.nhs_number == fine)) == "Hopper"
    assert record.result is not None and record.result["rows_refused"] == 2 and record.result["lines_added"] == 1


def test_a_known_patient_with_another_date_of_birth_is_refused(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist, date_of_birth=date(1960, 12, 10))
    content = csv_of(row(patient.nhs_number, "Zomorph 30mg modified-release capsules", "1 bd", born="11/12/1960"))
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=content)
    assert record.preview["refused"] == [{"row": 2, "reason": "date of birth differs from Taper's record"}]


def test_a_known_patient_keeps_their_names_and_gains_an_empty_address(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist, family_name="Byron")
    content = csv_of(row(patient.nhs_number, "Pregabalin 75mg capsules", "1 bd", surname="Lovelace-King",
                         address="1 Example Street, Leeds", postcode="ls1 1aa", mobile="07700 900123"))
    record = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    db.session.refresh(patient)
    assert record.preview["patients_known"] == 1 and record.preview["needs_contact_details"] == 0
    assert (patient.family_name, patient.postal_address, patient.mobile_phone) == (
        "Byron", "1 Example Street\nLeeds\nLS1 1AA", "07700 900123")


def test_a_patient_of_another_clinic_is_refused(pharmacist: User, make: Maker) -> None:
    other = make.user(Role.PHARMACIST)
    patient = make.patient(other)
    content = csv_of(row(patient.nhs_number, "Zomorph 30mg modified-release capsules", "1 bd"))
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=content)
    assert record.preview["refused"][0]["reason"] == (
        "this NHS number cannot be imported into this clinic: ask the Taper administrator")  # never "another clinic"
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied"))
    assert denied is not None and (denied.entity_type, denied.patient_id, denied.actor_user_id) == (
        "patient", patient.id, pharmacist.id)
    assert denied.changes == {"cohort_import": record.id, "clinic": pharmacist.organisation.ods_code}


def test_an_unknown_practice_is_added_once_for_an_admin_to_complete(pharmacist: User, make: Maker) -> None:
    content = csv_of(*(row(make.nhs_number(), "Zomorph 30mg modified-release capsules", "1 bd", practice="b82099")
                       for _ in range(3)))
    imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    imported(pharmacist, pharmacist.organisation_id, content.replace(b"1 bd", b"1 od"))  # type: ignore[arg-type]
    practices = list(db.session.scalars(select(Organisation).where(Organisation.ods_code == "B82099")))
    assert len(practices) == 1
    assert (practices[0].kind, practices[0].name, practices[0].details_needed) == (
        OrganisationKind.GP_PRACTICE, "B82099", True)


def test_an_imported_regimen_is_from_the_practice_record_with_its_ome(pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    content = csv_of(row(number, "Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY",
                         last="20/11/2026"),
                     row(number, "Oramorph 10mg/5ml oral solution", "5ml qds prn", last="25/11/2026"),
                     row(number, "Pregabalin 75mg capsules", "1 bd", last="28/11/2026"))
    imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    regimen = db.session.scalar(select(RecordedRegimen).join(Patient).where(Patient.nhs_number == number))
    assert regimen is not None
    assert (regimen.source, regimen.source_date, regimen.recorded_by_id) == (
        "practice_record", date(2026, 11, 25), pharmacist.id)
    assert (regimen.gabapentinoid, regimen.benzodiazepine) == (True, False)
    assert regimen.total_ome_mg_per_day == Decimal(100)  # 60 mg morphine MR + 10 mg four times (the maximum)
    assert [line["product"] for line in regimen.lines] == ["morphine-mr-capsule-12h",
                                                           "morphine-oral-solution-10mg-5ml"]
    described = db.session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == regimen.patient_id))
    assert sorted(described) == ["import", "import"]


def test_a_patient_with_a_line_to_check_by_hand_gets_no_regimen(pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    content = csv_of(row(number, "Zomorph 30mg modified-release capsules", "1 bd"),
                     row(number, "Co-codamol 30mg/500mg tablets", "as directed"))
    record = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    assert record.preview["lines_hand_check"] == 1 and record.preview["hand_check"][0]["row"] == 3
    patient_id = db.session.scalar(select(Patient.id).where(Patient.nhs_number == number))
    assert db.session.scalar(select(RecordedRegimen.id).where(RecordedRegimen.patient_id == patient_id)) is None
    problems = db.session.scalar(select(PracticeRecordLine.problems).where(PracticeRecordLine.dosage == "as directed"))
    assert problems


def test_a_run_stopped_halfway_carries_on_and_adds_each_thing_once(pharmacist: User,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cohort_import, "BATCH_ROWS", 50)
    content = generated(400, seed=7)
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=content)
    db.session.commit()
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()
    batches = 0

    def stop_after_two() -> None:
        nonlocal batches
        db.session.commit()
        batches += 1
        if batches == 2:
            raise RuntimeError("the server stopped")

    with pytest.raises(RuntimeError):
        cohort_import.run(import_id=record.id, after_batch=stop_after_two)
    db.session.rollback()
    halfway = db.session.get(CohortImport, record.id)
    assert halfway is not None and halfway.status == "importing" and 0 < halfway.rows_done < 400
    finished = cohort_import.run(import_id=record.id, after_batch=db.session.commit)
    db.session.commit()
    assert finished.result is not None and finished.status == "imported"
    assert finished.result["patients_added"] == record.preview["patients_new"] == counts()["Patient"]
    assert finished.result["lines_added"] == counts()["PracticeRecordLine"] == 400
    assert finished.result["regimens_recorded"] == counts()["RecordedRegimen"]
    added = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import",
                                                                                 AuditEvent.entity_type == "patient"))
    assert added == counts()["Patient"]


def test_a_second_confirm_is_refused(pharmacist: User) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=generated(10))
    record = cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    with pytest.raises(InvalidInput):
        cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)


@pytest.mark.parametrize("content", [b"", b"  \r\n", b"%PDF-1.7\x00\x01", b"NHS Number,Surname,Forename\r\n",
                                     b"just one line of prose"])
def test_a_file_that_is_not_a_csv_extract_is_refused(pharmacist: User, content: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                              file_name="x.csv", content=content)
    assert "file" in refused.value.errors


def test_a_windows_1252_file_is_read(pharmacist: User, make: Maker) -> None:
    content = csv_of(row(make.nhs_number(), "Pregabalin 75mg capsules", "1 bd", surname="Zoë")).decode()
    record = imported(pharmacist, pharmacist.organisation_id, content.encode("cp1252"))  # type: ignore[arg-type]
    assert record.result is not None and record.result["patients_added"] == 1
    assert db.session.scalar(select(Patient.family_name).where(Patient.family_name.like("Zo%"))) == "Zoë"


def test_a_pharmacist_sees_only_their_own_clinics_imports(pharmacist: User, make: Maker) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=generated(10))
    db.session.commit()
    other = make.user(Role.PHARMACIST)
    with pytest.raises(NotFound):
        cohort_import.get_import(by=other, import_id=record.id)
    assert cohort_import.get_import(by=make.user(Role.ADMIN), import_id=record.id).id == record.id
    assert [item.id for item in cohort_import.imports_of(by=pharmacist, clinic_id=record.clinic_id, page=1).items] \
        == [record.id]


def test_the_clinic_is_the_pharmacists_own_or_the_only_one(pharmacist: User, make: Maker) -> None:
    assert cohort_import.clinic_for(by=None, clinic_ods=None).id == pharmacist.organisation_id
    with pytest.raises(InvalidInput):
        cohort_import.clinic_for(by=pharmacist, clinic_ods="ZZZ99")
    make.organisation(OrganisationKind.PAIN_CLINIC)
    with pytest.raises(InvalidInput):
        cohort_import.clinic_for(by=None, clinic_ods=None)
    assert cohort_import.clinic_for(by=make.user(Role.ADMIN), clinic_ods=pharmacist.organisation.ods_code).id \
        == pharmacist.organisation_id


def test_a_practice_record_older_than_the_pharmacists_check_does_not_replace_it(pharmacist: User,
                                                                                 make: Maker) -> None:
    checked, later = make.patient(pharmacist), make.patient(pharmacist)
    entry = regimens.RegimenEntry(lines=[{"product": "morphine-mr-tablet-12h", "doses": [
        {"time": "08:00", "dose_mg": 20}, {"time": "20:00", "dose_mg": 20}]}])
    with clock.freeze(datetime(2026, 11, 22, 10, tzinfo=UTC)):
        regimens.record_regimen(by=pharmacist, patient_id=checked.id, entry=entry)
        regimens.record_regimen(by=pharmacist, patient_id=later.id, entry=entry)
    content = csv_of(row(checked.nhs_number, "Zomorph 30mg modified-release capsules", "1 bd", last="20/11/2026",
                         born=checked.date_of_birth.strftime("%d/%m/%Y")),
                     row(later.nhs_number, "Zomorph 30mg modified-release capsules", "1 bd", last="25/11/2026",
                         born=later.date_of_birth.strftime("%d/%m/%Y")))
    record = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    assert record.result is not None
    assert (record.result["regimens_recorded"], record.result["regimens_checked_since"]) == (1, 1)
    sources = dict(db.session.execute(select(RecordedRegimen.patient_id, func.max(RecordedRegimen.source))
                                      .group_by(RecordedRegimen.patient_id)
                                      .where(RecordedRegimen.patient_id.in_([checked.id, later.id]))).all())
    assert sources == {checked.id: "pharmacist", later.id: "practice_record"}


def test_one_medicine_on_two_lines_is_a_hand_check_in_the_preview_the_result_and_the_worklist(
        pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    content = csv_of(row(number, "Zomorph 60mg modified-release capsules", "1 bd"),
                     row(number, "Zomorph 10mg modified-release capsules", "1 bd"),
                     row(number, "Diazepam 5mg tablets", "1 tds"))
    record = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    problem = ("the record names morphine modified-release capsule on more than one line: check the regimen by "
               "hand")
    assert (record.preview["lines_read"], record.preview["lines_hand_check"]) == (0, 2)
    assert [(each["row"], each["problems"]) for each in record.preview["hand_check"]] == [
        (2, [problem]), (3, [problem])]
    assert record.result is not None
    assert (record.result["regimens_recorded"], record.result["patients_hand_check"]) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(RecordedRegimen)) == 0
    stored = list(db.session.execute(select(PracticeRecordLine.product, PracticeRecordLine.line,
                                            PracticeRecordLine.problems).where(PracticeRecordLine.non_opioid.is_(None))))
    assert stored == [("morphine-mr-capsule-12h", None, [problem])] * 2
    [found] = finding.worklist(by=pharmacist).items
    assert found.facts.needs_hand_check


def test_a_monthly_reimport_builds_the_regimen_from_every_row_of_the_file(pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    oramorph = row(number, "Oramorph 10mg/5ml oral solution", "5ml qds prn", last="20/10/2026")
    diazepam = row(number, "Diazepam 5mg tablets", "1 tds", last="20/10/2026")
    first = imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 30mg modified-release capsules", "1 bd", last="20/10/2026"), oramorph, diazepam))
    assert first.result is not None and first.result["regimens_recorded"] == 1
    # A month later: the same Oramorph and diazepam rows (already stored), and a new Zomorph dose.
    again = imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 60mg modified-release capsules", "1 bd", last="20/11/2026"), oramorph, diazepam))
    assert again.result is not None
    assert (again.result["lines_added"], again.result["lines_already_imported"]) == (1, 2)
    assert again.result["regimens_recorded"] == 1
    latest = db.session.scalar(select(RecordedRegimen).order_by(RecordedRegimen.id.desc()).limit(1))
    assert latest is not None and latest.source_date == date(2026, 11, 20)
    assert sorted(line["product"] for line in latest.lines) == ["morphine-mr-capsule-12h",
                                                                "morphine-oral-solution-10mg-5ml"]
    assert latest.benzodiazepine and latest.total_ome_mg_per_day == Decimal(160)  # 120 MR + 40 when needed
    # The same file once more with one issue date changed: the same regimen, not recorded again.
    unchanged = imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 60mg modified-release capsules", "1 bd", last="20/11/2026"),
        row(number, "Oramorph 10mg/5ml oral solution", "5ml qds prn", last="21/11/2026"), diazepam))
    assert unchanged.result is not None
    assert (unchanged.result["regimens_recorded"], unchanged.result["regimens_unchanged"]) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(RecordedRegimen)) == 2


def test_an_older_file_does_not_replace_a_newer_practice_record_regimen(pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 30mg modified-release capsules", "1 bd", last="25/11/2026")))
    older = imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 60mg modified-release capsules", "1 bd", last="20/10/2026")))
    assert older.result is not None
    assert (older.result["lines_added"], older.result["regimens_recorded"], older.result["regimens_older"]) == (
        1, 0, 1)
    assert list(db.session.scalars(select(RecordedRegimen.total_ome_mg_per_day))) == [Decimal(60)]


def test_every_patient_with_a_new_opioid_row_is_counted_once(pharmacist: User) -> None:
    content = generated(300, seed=11, broken_rows=3)
    first = imported(pharmacist, pharmacist.organisation_id, content)  # type: ignore[arg-type]
    assert first.result is not None and set(first.result) == set(cohort_import.RESULT_COUNTS)
    with_opioid = db.session.scalar(select(func.count(PracticeRecordLine.patient_id.distinct())).where(
        PracticeRecordLine.non_opioid.is_(None)))
    regimen_counts = ("regimens_recorded", "patients_hand_check", "regimens_checked_since", "regimens_older",
                      "regimens_unchanged")
    assert sum(first.result[name] for name in regimen_counts) == with_opioid
    opioid_lines = db.session.execute(select(PracticeRecordLine.patient_id, PracticeRecordLine.problems).where(
        PracticeRecordLine.non_opioid.is_(None)))
    assert first.result["patients_hand_check"] == len({patient_id for patient_id, problems in opioid_lines
                                                       if problems}) > 0


def test_an_import_is_claimed_by_one_run_until_its_progress_is_a_minute_old(pharmacist: User) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=generated(20))
    assert not cohort_import.claim(import_id=record.id)  # a preview is not run
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()
    assert cohort_import.claim(import_id=record.id)
    assert not cohort_import.claim(import_id=record.id)  # a second request at the same moment
    db.session.commit()
    db.session.refresh(record)
    assert not cohort_import.stalled(record)
    with clock.running_from(clock.now() + timedelta(seconds=61)):
        assert cohort_import.stalled(record)
        assert cohort_import.claim(import_id=record.id)  # its run stopped: carried on by one
        assert not cohort_import.claim(import_id=record.id)
        db.session.commit()
        cohort_import.run(import_id=record.id, after_batch=db.session.commit)
        db.session.commit()
        db.session.refresh(record)
        assert record.status == "imported" and record.progress_at is not None
        assert not cohort_import.claim(import_id=record.id) and not cohort_import.stalled(record)


def test_a_failed_import_keeps_no_file(pharmacist: User) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="x.csv", content=generated(20))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    failed = cohort_import.mark_failed(import_id=record.id, error="The import stopped (RuntimeError).")
    db.session.commit()
    db.session.refresh(failed)
    assert (failed.status, failed.content) == ("failed", b"")


def test_a_preview_left_is_deleted_with_its_file_and_only_a_preview(pharmacist: User, make: Maker) -> None:
    kept = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                 file_name="x.csv", content=generated(20))
    left = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                 file_name="left.csv", content=generated(20))
    db.session.commit()
    left_id = left.id
    with pytest.raises(NotFound):
        cohort_import.discard(by=make.user(Role.PHARMACIST), import_id=left_id, expected_version=left.version)
    cohort_import.discard(by=pharmacist, import_id=left_id, expected_version=left.version)
    db.session.commit()
    assert db.session.get(CohortImport, left_id) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "discard"))
    assert event is not None and (event.entity_id, event.actor_user_id) == (str(left_id), pharmacist.id)
    assert event.changes is not None and event.changes["file_name"] == "left.csv"
    cohort_import.confirm(by=pharmacist, import_id=kept.id, expected_version=kept.version)
    db.session.commit()
    with pytest.raises(InvalidInput):
        cohort_import.discard(by=pharmacist, import_id=kept.id, expected_version=kept.version)


def test_previews_left_unconfirmed_for_a_day_are_deleted(pharmacist: User) -> None:
    with clock.running_from(clock.now() - timedelta(days=2)):
        old = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                    file_name="old.csv", content=generated(20))
        confirmed = cohort_import.preview(by=pharmacist,
                                          clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                          file_name="confirmed.csv", content=generated(20, seed=2))
        cohort_import.confirm(by=pharmacist, import_id=confirmed.id, expected_version=confirmed.version)
    recent = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                   file_name="recent.csv", content=generated(20))
    db.session.commit()
    old_id = old.id
    assert cohort_import.discard_stale_previews(older_than=timedelta(days=1)) == 1
    db.session.commit()
    assert db.session.get(CohortImport, old_id) is None
    assert {record.id for record in db.session.scalars(select(CohortImport))} == {confirmed.id, recent.id}


def test_a_header_of_more_than_200_columns_is_refused(pharmacist: User, make: Maker) -> None:
    headers = EMIS + [f"Extra {index}" for index in range(200 - len(EMIS) + 1)]
    content = csv_of(row(make.nhs_number(), "Pregabalin 75mg capsules", "1 bd") + [""] * (len(headers) - len(EMIS)),
                     headers=headers)
    with pytest.raises(InvalidInput) as refused:
        cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                              file_name="x.csv", content=content)
    assert refused.value.errors["file"].startswith("The file has 201 columns")
    fewer = csv_of(row(make.nhs_number(), "Pregabalin 75mg capsules", "1 bd") + [""] * (len(headers) - len(EMIS) - 1),
                   headers=headers[:-1])
    assert cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id,  # type: ignore[arg-type]
                                 file_name="x.csv", content=fewer).rows_total == 1


def test_lines_stored_meanwhile_are_skipped_and_not_counted_as_added(pharmacist: User, make: Maker) -> None:
    number = make.nhs_number()
    imported(pharmacist, pharmacist.organisation_id, csv_of(  # type: ignore[arg-type]
        row(number, "Zomorph 30mg modified-release capsules", "1 bd")))
    stored = db.session.scalar(select(PracticeRecordLine))
    assert stored is not None
    columns = ("clinic_id", "patient_id", "import_id", "row_key", "drug", "dosage", "quantity", "last_issue_date",
               "first_issue_date", "product", "line", "problems", "non_opioid")
    line = {name: getattr(stored, name) for name in columns}
    # As another import running at the same moment would: one row already stored, one new.
    added = cohort_import._insert_new_lines([line, {**line, "row_key": "0" * 64}])
    db.session.commit()
    assert added == 1
    assert db.session.scalar(select(func.count()).select_from(PracticeRecordLine)) == 2
