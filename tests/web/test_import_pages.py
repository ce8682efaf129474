"""The cohort import pages (issue 18, item 2): upload, columns chosen once for the clinic, the preview, confirm,
the import running in the background with its progress, and carrying on an import a restart stopped."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, CohortImport, CohortMapping, Patient, PracticeRecordLine, User
from taper.services import cohort_import
from taper.services.synthetic.cohort_extract import CUSTOM_MAPPING, HEADERS, write_extract
from taper.web.imports import views
from tests.conftest import Maker, csrf_token, page_text, sign_in

EMIS = HEADERS["emis"]
CUSTOM = HEADERS["custom"]
ZOMORPH = ("Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY")
DIAZEPAM = ("Diazepam 5mg tablets", "ONE THREE TIMES A DAY")
AS_DIRECTED = ("Morphine sulfate 10mg/5ml oral solution", "as directed")


def _row(nhs_number: str, medicine: tuple[str, str], *, practice: str = "A81001", address: str = "") -> list[str]:
    drug, dosage = medicine
    return [nhs_number, "Lovelace", "Ada", "10/12/1960", "F", practice, drug, dosage, "56", "01/11/2026",
            "01/01/2025", address, "LS1 1AA" if address else "", ""]


def _csv(*rows: list[str], headers: list[str] = EMIS) -> bytes:
    lines = [",".join(headers)] + [",".join(f'"{cell}"' for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def _small_file(make: Maker) -> bytes:
    """Four patients: one with an opioid and a benzodiazepine, one with an opioid, one whose opioid line needs
    a hand check, and one refused (an NHS number whose check digit is wrong)."""
    first, second, third = make.nhs_number(), make.nhs_number(), make.nhs_number()
    return _csv(_row(first, ZOMORPH, address="1 Leeds Road"), _row(first, DIAZEPAM, address="1 Leeds Road"),
                _row(second, ZOMORPH), _row(third, AS_DIRECTED), _row("1234567890", ZOMORPH))


def _post_form(client: FlaskClient, url: str, fields: dict[str, object]):  # type: ignore[no-untyped-def]
    """A multipart form as a browser sends it, its body built in memory (the test client would spool a large
    one to a temporary file that it never closes)."""
    boundary, body = encode_multipart(MultiDict({
        name: FileStorage(value[0], filename=value[1], content_type="text/csv") if isinstance(value, tuple) else value
        for name, value in fields.items()}))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _upload(client: FlaskClient, content: bytes, name: str = "extract.csv", **fields: str):  # type: ignore[no-untyped-def]
    return _post_form(client, "/find/imports/", {"csrf_token": csrf_token(client, "/find/imports/"),
                                                 "file": (io.BytesIO(content), name), **fields})


def _errors(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The error summary's links: (the field they go to, the message)."""
    return re.findall(r'<a href="(#[\w-]+)"\s*>\s*([^<]+?)\s*</a>', response.get_data(as_text=True))


def _label(page: str, for_id: str) -> str:
    match = re.search(rf'<label[^>]*\sfor="{for_id}"\s*>\s*([^<]+?)\s*</label>', page)
    assert match, f"no label for {for_id}"
    return match.group(1)


@pytest.fixture(autouse=True)
def _no_threads_of_other_tests() -> None:
    views.running.clear()  # import ids start again in each test's database


def _shown(page: str) -> dict[str, int]:
    return {key: int(value) for key, value in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _latest_import() -> CohortImport:
    record = db.session.scalar(select(CohortImport).order_by(CohortImport.id.desc()).limit(1))
    assert record is not None
    return record


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _confirm(client: FlaskClient, record: CohortImport):  # type: ignore[no-untyped-def]
    page = client.get(f"/find/imports/{record.id}").get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page)
    assert key
    return client.post(f"/find/imports/{record.id}/confirm",
                       data={"csrf_token": csrf_token(client, f"/find/imports/{record.id}"),
                             "submission_key": key.group(1), "version": str(record.version)})


def _finish(import_id: int) -> CohortImport:
    """Wait for the import's background thread, then read the import as it was left."""
    for thread in views.running[import_id]:
        thread.join(timeout=120)
        assert not thread.is_alive()
    db.session.expire_all()
    record = db.session.get(CohortImport, import_id)
    assert record is not None
    return record


def test_the_page_offers_a_csv_upload_with_a_label(signed_in: FlaskClient) -> None:
    page = signed_in.get("/find/imports/").get_data(as_text=True)
    assert _label(page, "file") == "CSV file"
    assert 'type="file"' in page and 'accept=".csv,text/csv"' in page and 'enctype="multipart/form-data"' in page
    assert "No files have been imported" in page
    assert 'name="clinic"' not in page  # a pharmacist imports into their own clinic


def test_an_emis_file_is_previewed_with_its_counts_refusals_and_hand_checks(make: Maker,
                                                                            signed_in: FlaskClient) -> None:
    response = _upload(signed_in, _small_file(make), name="riverside.csv")
    record = _latest_import()
    assert response.status_code == 302 and response.headers["Location"] == f"/find/imports/{record.id}"
    page = page_text(signed_in.get(f"/find/imports/{record.id}"))
    assert _shown(page) == {"patients_new": 3, "patients_known": 0, "lines_read": 2, "lines_hand_check": 1,
                            "non_opioid_lines": 1, "rows_refused": 1, "rows_already_imported": 0,
                            "needs_contact_details": 2, "practices_new": 1}
    assert "riverside.csv" in page and "A81001" in page
    refused = page[page.index('id="refused"'):]
    assert re.search(r">6</td><td[^>]*>[^<]*NHS number", refused)  # row 6, as a spreadsheet numbers it
    hand_check = page[page.index('id="hand-check"'):]
    assert "as directed" in hand_check and escape(record.preview["hand_check"][0]["problems"][0]) in hand_check
    nhs_number = record.preview["hand_check"][0]["nhs_number"]
    assert f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}" in hand_check
    assert "Confirm import" in page and "Leave without importing" in page
    assert _count(Patient) == 0 and _count(PracticeRecordLine) == 0  # a preview writes nothing but itself


def test_a_generated_extract_shows_the_services_counts(pharmacist: User, signed_in: FlaskClient) -> None:
    stream = io.StringIO()
    write_extract(stream, 120, seed=3, practices=["ZZG71"], header_style="systmone", broken_rows=2,
                  issued_by=clock.today())
    _upload(signed_in, stream.getvalue().encode())
    record = _latest_import()
    shown = _shown(page_text(signed_in.get(f"/find/imports/{record.id}")))
    expected = {key: value for key, value in record.preview.items() if isinstance(value, int) and key != "rows"}
    assert shown == {**expected, "practices_new": 1} and shown["rows_refused"] >= 2


def test_a_file_with_other_columns_is_mapped_once_and_the_mapping_remembered(make: Maker, pharmacist: User,
                                                                             signed_in: FlaskClient) -> None:
    content = _csv(_row(make.nhs_number(), ZOMORPH), headers=CUSTOM)
    shown = _upload(signed_in, content, name="custom.csv")
    page = page_text(shown)
    assert shown.status_code == 200 and "<h1>Choose the file's columns</h1>" in page
    assert "Taper did not recognise the columns for: <strong>NHS Number" in page
    assert _label(shown.get_data(as_text=True), "nhs_number") == "NHS Number"
    assert _label(shown.get_data(as_text=True), "mobile") == "Mobile (optional)"
    assert _count(CohortImport) == 0  # a file Taper cannot read yet is not kept

    # Nothing chosen for the NHS number: the error summary links to its select, nothing is saved.
    chosen = {field: header for field, header in CUSTOM_MAPPING.items()}
    headers = re.search(r'name="headers"[^>]*value="([^"]+)"', shown.get_data(as_text=True))
    assert headers
    form = {"csrf_token": csrf_token(signed_in, "/find/imports/"), "clinic": "",
            "headers": headers.group(1).replace("&#34;", '"').replace("&quot;", '"')}
    refused = _post_form(signed_in, "/find/imports/columns", {**form, **chosen, "nhs_number": "",
                                                              "file": (io.BytesIO(content), "custom.csv")})
    refused_page = page_text(refused)
    assert refused.status_code == 200 and "There is a problem" in refused_page
    assert _errors(refused) == [("#nhs_number", "Choose the column that holds the nhs number")]
    assert _count(CohortMapping) == 0

    saved = _post_form(signed_in, "/find/imports/columns", {**form, **chosen,
                                                            "file": (io.BytesIO(content), "custom.csv")})
    record = _latest_import()
    assert saved.status_code == 302 and saved.headers["Location"] == f"/find/imports/{record.id}"
    assert record.preview["patients_new"] == 1 and record.columns == CUSTOM_MAPPING
    assert cohort_import.mapping_for(clinic_id=pharmacist.organisation_id) == CUSTOM_MAPPING

    # The next file from the same search goes straight to its preview.
    again = _upload(signed_in, _csv(_row(make.nhs_number(), ZOMORPH), headers=CUSTOM), name="next.csv")
    assert again.status_code == 302 and _latest_import().file_name == "next.csv"


def test_confirming_imports_in_the_background_and_shows_what_it_added(make: Maker, signed_in: FlaskClient) -> None:
    _upload(signed_in, _small_file(make))
    record = _latest_import()
    response = _confirm(signed_in, record)
    assert response.status_code == 302 and response.headers["Location"] == f"/find/imports/{record.id}"
    record = _finish(record.id)
    assert record.status == "imported" and record.rows_done == record.rows_total == 5
    page = page_text(signed_in.get(f"/find/imports/{record.id}"))
    shown = _shown(page)
    assert shown["patients_added"] == 3 and shown["lines_added"] == 4 and shown["rows_refused"] == 1
    assert shown["regimens_recorded"] == 2 and shown["practices_added"] == 1
    assert "Patients imported" in page and 'href="/find/"' in page and "http-equiv=\"refresh\"" not in page
    assert _count(Patient) == 3 and _count(PracticeRecordLine) == 4
    listed = page_text(signed_in.get("/find/imports/"))
    assert "Imported" in listed and "3 new patients, 4 medicine lines" in listed


def test_confirming_twice_is_refused_and_imports_nothing_more(make: Maker, signed_in: FlaskClient) -> None:
    _upload(signed_in, _small_file(make))
    record = _latest_import()
    version = record.version
    _confirm(signed_in, record)
    _finish(record.id)
    lines = _count(PracticeRecordLine)
    # The same button again (the page the browser kept): answered as already done.
    token = csrf_token(signed_in, "/find/imports/")
    again = signed_in.post(f"/find/imports/{record.id}/confirm", data={"csrf_token": token, "version": str(version)})
    assert again.status_code == 200
    assert "Someone else saved changes to this record" in page_text(again)
    # A confirm at the import's current version: refused, it is no longer a preview.
    db.session.expire_all()
    current = db.session.get(CohortImport, record.id)
    assert current is not None
    late = signed_in.post(f"/find/imports/{record.id}/confirm",
                          data={"csrf_token": token, "version": str(current.version)})
    assert "This import has already been confirmed" in page_text(late)
    assert len(views.running[record.id]) == 1
    assert _count(PracticeRecordLine) == lines
    confirmations = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "confirm", AuditEvent.entity_type == "cohort_import"))
    assert confirmations == 1


def test_an_import_running_shows_its_progress_and_refreshes(make: Maker, pharmacist: User,
                                                            signed_in: FlaskClient) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=_small_file(make))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()
    page = page_text(signed_in.get(f"/find/imports/{record.id}"))
    assert '<meta http-equiv="refresh" content="2">' in page
    assert re.search(r'<progress id="import-progress"[^>]*value="0" max="5">', page)
    assert "0 of 5 rows" in page and "Carry on" not in page


def test_an_import_stopped_halfway_offers_carry_on_which_finishes_it(make: Maker, pharmacist: User,
                                                                     signed_in: FlaskClient) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=_small_file(make))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()  # confirmed, but no thread ran it: as after a restart
    with clock.running_from(clock.now() + timedelta(minutes=2)):
        page = page_text(signed_in.get(f"/find/imports/{record.id}"))
        assert "The import has stopped" in page and "Carry on" in page and "http-equiv" not in page
        key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page)
        version = re.search(r'name="version"[^>]*value="(\d+)"', page)
        assert key and version
        response = signed_in.post(f"/find/imports/{record.id}/carry-on",
                                  data={"csrf_token": csrf_token(signed_in, "/find/imports/"),
                                        "submission_key": key.group(1), "version": version.group(1)})
        assert response.status_code == 302
        finished = _finish(record.id)
    assert finished.status == "imported" and finished.result and finished.result["patients_added"] == 3


def test_carry_on_is_refused_while_the_import_is_not_stopped(make: Maker, pharmacist: User,
                                                             signed_in: FlaskClient) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=_small_file(make))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()
    response = signed_in.post(f"/find/imports/{record.id}/carry-on",
                              data={"csrf_token": csrf_token(signed_in, "/find/imports/"),
                                    "version": str(record.version)})
    assert "This import is not stopped" in page_text(response)
    assert record.id not in views.running


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file is not CSV text"),
    (",".join(EMIS).encode() + b"\r\n", "The file has a header but no rows"),
])
def test_a_broken_file_is_refused_on_the_page(signed_in: FlaskClient, content: bytes, message: str) -> None:
    response = _upload(signed_in, content)
    page = page_text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and _errors(response) == [("#file", message)]
    assert _count(CohortImport) == 0


def test_no_file_chosen_is_refused_with_a_message(signed_in: FlaskClient) -> None:
    response = signed_in.post("/find/imports/", data={"csrf_token": csrf_token(signed_in, "/find/imports/")},
                              content_type="multipart/form-data")
    assert _errors(response) == [("#file", "Choose a CSV file to import")]


def test_a_file_over_the_forms_limit_is_accepted_and_one_over_32_mb_refused_with_a_message(
        make: Maker, signed_in: FlaskClient) -> None:
    padded = _csv(_row(make.nhs_number(), ZOMORPH)) + b"\r\n" * 700_000  # 1.4 MB (blank lines are passed over)
    assert _upload(signed_in, padded).status_code == 302
    too_large = _upload(signed_in, b"x" * (32 * 1024 * 1024 + 1))
    page = page_text(too_large)
    assert too_large.status_code == 413 and "The file is larger than 32 MB, so nothing was imported" in page
    assert _count(CohortImport) == 1


@pytest.mark.parametrize("role", [Role.GP, Role.COMMUNITY_PHARMACIST])
def test_gps_and_community_pharmacists_may_not_import(client: FlaskClient, make: Maker, role: Role) -> None:
    sign_in(client, make.user(role))
    assert client.get("/find/imports/").status_code == 403


def test_another_clinics_import_is_not_found_and_the_attempt_audited(make: Maker, signed_in: FlaskClient,
                                                                     pharmacist: User) -> None:
    elsewhere = make.user(Role.PHARMACIST)
    record = cohort_import.preview(by=elsewhere, clinic_id=elsewhere.organisation_id, file_name="theirs.csv",
                                   content=_small_file(make))
    db.session.commit()
    response = signed_in.get(f"/find/imports/{record.id}")
    assert response.status_code == 404 and "theirs.csv" not in response.get_data(as_text=True)
    assert "theirs.csv" not in signed_in.get("/find/imports/").get_data(as_text=True)
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied",
                                                        AuditEvent.actor_user_id == pharmacist.id))
    assert denied is not None and denied.entity_type == "cohort_import"


def test_an_admin_chooses_the_pain_clinic(client: FlaskClient, make: Maker) -> None:
    first, second = make.organisation(OrganisationKind.PAIN_CLINIC), make.organisation(OrganisationKind.PAIN_CLINIC)
    sign_in(client, make.user(Role.ADMIN))
    page = page_text(client.get("/find/imports/"))
    assert "Choose a pain clinic to see its imports" in page and f'value="{second.ods_code}"' in page
    refused = _upload(client, _small_file(make))
    assert _errors(refused) == [("#clinic", "Name the pain clinic the patients join (its ODS code)")]
    assert _upload(client, _small_file(make), clinic=second.ods_code).status_code == 302
    assert _latest_import().clinic_id == second.id
    listed = page_text(client.get(f"/find/imports/?clinic={second.ods_code}"))
    assert f"Imports into {second.name}" in listed and "extract.csv" in listed
    assert "extract.csv" not in page_text(client.get(f"/find/imports/?clinic={first.ods_code}"))


def test_an_import_that_failed_says_so_and_how_far_it_got(make: Maker, pharmacist: User,
                                                          signed_in: FlaskClient) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=_small_file(make))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    cohort_import.mark_failed(import_id=record.id, error="The import stopped on an unexpected error (Example).")
    db.session.commit()
    page = page_text(signed_in.get(f"/find/imports/{record.id}"))
    assert "The import stopped after 0 of 5 rows" in page and "unexpected error (Example)" in page
    assert "Confirm import" not in page and "Carry on" not in page and "http-equiv" not in page
    assert "Stopped after 0 of 5 rows" in page_text(signed_in.get("/find/imports/"))


def test_two_carry_ons_at_once_start_one_run(app: Flask, make: Maker, pharmacist: User) -> None:
    record = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="x.csv",
                                   content=_small_file(make))
    cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    db.session.commit()  # confirmed, but no thread ran it: as after a restart
    clients = [app.test_client(), app.test_client()]
    colleague = make.user(Role.PHARMACIST, organisation=pharmacist.organisation)
    with clock.running_from(clock.now() + timedelta(minutes=2)):
        forms = []
        for client, user in zip(clients, [pharmacist, colleague], strict=True):  # both see the Carry on button
            sign_in(client, user)
            page = page_text(client.get(f"/find/imports/{record.id}"))
            assert "Carry on" in page
            key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page)
            version = re.search(r'name="version"[^>]*value="(\d+)"', page)
            assert key and version
            forms.append({"csrf_token": csrf_token(client, "/find/imports/"), "submission_key": key.group(1),
                          "version": version.group(1)})
        together = threading.Barrier(2)
        statuses: list[int] = []

        def carry_on(client: FlaskClient, form: dict[str, str]) -> None:
            together.wait()
            statuses.append(client.post(f"/find/imports/{record.id}/carry-on", data=form).status_code)

        both = [threading.Thread(target=carry_on, args=pair) for pair in zip(clients, forms, strict=True)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(timeout=60)
        finished = _finish(record.id)
    assert sorted(statuses) == [200, 302] and len(views.running[record.id]) == 1
    assert finished.status == "imported" and finished.result and finished.result["patients_added"] == 3


def test_a_preview_is_left_without_importing(make: Maker, signed_in: FlaskClient) -> None:
    _upload(signed_in, _small_file(make))
    record_id = _latest_import().id
    page = signed_in.get(f"/find/imports/{record_id}").get_data(as_text=True)
    form = page[page.index(f'action="/find/imports/{record_id}/discard"'):]
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', form)
    version = re.search(r'name="version"[^>]*value="(\d+)"', form)
    assert key and version
    response = signed_in.post(f"/find/imports/{record_id}/discard",
                              data={"csrf_token": csrf_token(signed_in, "/find/imports/"),
                                    "submission_key": key.group(1), "version": version.group(1)})
    assert response.status_code == 302 and response.headers["Location"] == "/find/imports/"
    assert "Nothing was imported: the file has been deleted." in page_text(signed_in.get("/find/imports/"))
    db.session.expire_all()
    assert _count(CohortImport) == 0 and _count(Patient) == 0
    assert signed_in.get(f"/find/imports/{record_id}").status_code == 404


def test_what_an_import_added_shows_every_count_with_a_label(make: Maker, signed_in: FlaskClient) -> None:
    _upload(signed_in, _small_file(make))
    record = _latest_import()
    _confirm(signed_in, record)
    record = _finish(record.id)
    page = page_text(signed_in.get(f"/find/imports/{record.id}"))
    shown = _shown(page)
    assert set(shown) == set(cohort_import.RESULT_COUNTS)
    assert record.result is not None and shown == record.result
    assert shown["patients_hand_check"] == 1 and "Patients left for a hand check" in page
