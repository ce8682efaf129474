"""A regimen dose entered in tablets, in a real browser (Debian's chromium via Playwright), with axe on each page
(issue 17, item 4): "2" in the mg boxes of co-codamol 30/500 asks one "did you mean 2 tablets (60 mg)?", and
the pharmacist's choice reads the doses as tablets, shows the mg worked out, and saves them in mg."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taper.extensions import db
from taper.models import RecordedRegimen
from tests.conftest import PASSWORD, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e

DID_YOU_MEAN = "2 mg is less than one tablet (30 mg codeine). Did you mean 2 tablets (60 mg) each time?"


def test_a_dose_entered_in_tablets(live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(email="clinic@example.nhs.uk")
    patient = make.patient(pharmacist)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
        axe = Accessibility(page, axe_script)
        page.goto(live_server + "/login")
        page.get_by_label("Email address").fill(pharmacist.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.goto(f"{live_server}/patients/{patient.id}/regimens/new")
        expect(page.get_by_role("heading", name="Record current regimen")).to_be_visible()
        axe.check()
        page.locator("#lines-0-product").select_option(label="Co-codamol 30/500 tablet (30 mg)")
        for slot in (1, 2, 3, 4):
            page.locator(f"#lines-0-dose_{slot}").fill("2")
        page.get_by_role("button", name="Check", exact=True).click()

        expect(page.get_by_text(DID_YOU_MEAN, exact=False).first).to_be_visible()
        expect(page.locator(".nhsuk-error-message")).to_have_count(1)  # one message, not four
        expect(page.locator("#total-ome")).to_have_count(0)  # no OME from the misreading
        axe.check()
        page.get_by_role("button", name="Enter these doses in tablets").click()

        expect(page.get_by_label("Number of tablets", exact=True)).to_be_checked()
        expect(page.get_by_text("2 tablets = 60 mg")).to_have_count(4)
        expect(page.locator("#total-ome")).to_have_text("24 mg a day")  # 240 mg codeine a day at 0.1
        axe.check()
        page.get_by_role("button", name="Save regimen").click()
        expect(page.get_by_text("Regimen recorded.")).to_be_visible()
        axe.check()
        browser.close()
    assert axe.problems == []
    db.session.expire_all()
    [record] = db.session.scalars(select(RecordedRegimen)).all()
    assert [dose["dose_mg"] for dose in record.lines[0]["doses"]] == [60, 60, 60, 60]
