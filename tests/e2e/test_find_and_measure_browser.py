"""Finding and measuring in a real browser (Debian's chromium via Playwright), with axe on each new page: a
practice's extract imported, two of the patients found invited, one booked from their answer, and the clinic's
measures counting it (issue 18's acceptance)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import Appointment, Invitation, Patient, RecordedRegimen
from taper.services import capacity
from taper.services.capacity import SessionDetails
from tests.conftest import MONDAY, PASSWORD, Maker, at
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e

HEADERS = ("NHS Number,Surname,Forename,Date of Birth,Practice Code,Drug,Dosage,Quantity,Last Issue Date,Address,"
           "Postcode,Mobile")
ROWS = (  # an EMIS Web export: Ada's opioid with a benzodiazepine, Grace's when needed, Alan's not readable
    "{lovelace},Lovelace,Ada,10/12/1955,{practice},Zomorph 60mg modified-release capsules,"
    "ONE TO BE TAKEN TWICE A DAY,56 capsule,21/12/2026,1 Example Street,LS1 1AA,",
    "{lovelace},Lovelace,Ada,10/12/1955,{practice},Diazepam 5mg tablets,1 at night,28 tablet,21/12/2026,"
    "1 Example Street,LS1 1AA,",
    "{hopper},Hopper,Grace,09/12/1966,{practice},Co-codamol 30mg/500mg tablets,2 QDS PRN,100 tablet,14/12/2026,"
    "2 Example Street,LS2 2BB,",
    "{turing},Turing,Alan,23/06/1972,{practice},Tramadol 50mg capsules,as directed,30 capsule,07/12/2026,,,",
)
EXTRACT = "\r\n".join((HEADERS, *ROWS)) + "\r\n"


def _measure(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """A figure of the invitations table: the last word of its row (the cell, without its narrow-screen heading)."""
    row = page.locator("#table-invitations tbody tr").filter(has_text=name)
    return str(row.locator("td").last.inner_text().split()[-1])


def test_import_a_practice_extract_invite_two_patients_book_one_and_see_the_measures_change(
        live_server: str, make: Maker, chromium_path: str, axe_script: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with clock.freeze(at(MONDAY, 8)):
        pharmacist = make.user(email="finder@example.nhs.uk")
        capacity.add_session(by=pharmacist, details=SessionDetails(0, time(9), time(12), remote=False,
                                                                    location="Room 4"))
        practice = make.organisation(OrganisationKind.GP_PRACTICE)
        numbers = {name: make.nhs_number() for name in ("lovelace", "hopper", "turing")}
        db.session.commit()
        extract = tmp_path / "practice-search.csv"
        extract.write_text(EXTRACT.format(practice=practice.ods_code, **numbers))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_context(bypass_csp=True).new_page()
            axe = Accessibility(page, axe_script)
            page.goto(live_server + "/login")
            page.get_by_label("Email address").fill(pharmacist.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            page.get_by_role("link", name="Measures").click()
            expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()
            axe.check()
            assert (_measure(page, "Sent"), _measure(page, "Accepted"), _measure(page, "First consultations booked")) \
                == ("0", "0", "0")

            page.get_by_role("link", name="Find").click()
            page.get_by_role("link", name=re.compile("Import patients")).first.click()
            expect(page.get_by_role("heading", name="Import patients from a practice's search")).to_be_visible()
            axe.check()
            page.locator('input[type="file"]').set_input_files(str(extract))
            page.get_by_role("button", name="Upload and preview").click()
            expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
            axe.check()
            expect(page.locator("#hand-check")).to_contain_text("as directed")
            page.get_by_role("button", name="Confirm import").click()
            expect(page.get_by_role("link", name="Go to the find worklist")).to_be_visible(timeout=30_000)
            axe.check()
            page.get_by_role("link", name="Go to the find worklist").click()

            axe.check()
            lovelace = page.locator("tr", has_text="LOVELACE, Ada")
            expect(lovelace).to_contain_text("With a benzodiazepine")
            expect(lovelace).to_contain_text("from practice record")
            expect(page.locator("tr", has_text="TURING, Alan")).to_contain_text("needs hand check")
            page.get_by_label("Choose LOVELACE, Ada").check()
            page.get_by_label("Choose HOPPER, Grace").check()
            page.get_by_role("button", name=re.compile("Invite the chosen patients")).click()
            expect(page.get_by_role("heading", name="Invite patients")).to_be_visible()
            axe.check()
            page.get_by_role("button", name="Send the invitations").click()
            expect(page.get_by_role("link", name="Open the letters to print (PDF)")).to_be_visible(timeout=60_000)
            axe.check()
            href = page.get_by_role("link", name="Open the letters to print (PDF)").get_attribute("href")
            letters = page.context.request.get(live_server + str(href))
            assert letters.headers["content-type"] == "application/pdf" and letters.body().startswith(b"%PDF")

            page.goto(f"{live_server}/find/invitations/")
            axe.check()
            page.get_by_role("link", name="LOVELACE, Ada").click()
            page.get_by_label("Accepted", exact=True).check()
            page.get_by_role("button", name="Save the answer").click()
            page.get_by_role("link", name="Book the first consultation").click()
            page.get_by_label("90 minutes", exact=True).check()
            page.get_by_label("Face to face", exact=True).check()
            page.get_by_role("button", name="Show free times").click()
            page.locator('input[name="book-when"]').first.check()
            page.get_by_role("button", name="Book appointment").click()
            expect(page.get_by_text("Booked: initial consultation on Monday 4 January 2027")).to_be_visible()

            page.get_by_role("link", name="Measures").click()
            axe.check()
            assert (_measure(page, "Sent"), _measure(page, "Accepted"), _measure(page, "First consultations booked")) \
                == ("2", "1", "1")
            page.get_by_role("link", name="Find").click()
            expect(page.locator("tr", has_text="HOPPER, Grace")).to_contain_text("Invited")
            browser.close()
        assert axe.problems == []
        db.session.expire_all()
        ada = db.session.scalar(select(Patient).where(Patient.nhs_number == numbers["lovelace"]))
        assert ada is not None
        regimen = db.session.scalar(select(RecordedRegimen).where(RecordedRegimen.patient_id == ada.id))
        assert regimen is not None and (regimen.source, regimen.benzodiazepine) == ("practice_record", True)
        invitation = db.session.scalar(select(Invitation).where(Invitation.patient_id == ada.id))
        appointment = db.session.scalar(select(Appointment).where(Appointment.patient_id == ada.id))
        assert invitation is not None and appointment is not None
        assert (invitation.answer, invitation.appointment_id, appointment.kind) == ("accepted", appointment.id,
                                                                                     "initial")
