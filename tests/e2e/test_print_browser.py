"""The day list, the worklist and the patient list printed (issue 17), in a real browser (Debian's chromium via
Playwright) emulating print media: the header's navigation, the footer, buttons and forms are left off the
paper, the tables and lists stay, in black on white. And the patient list with a filter passes axe."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from taper.extensions import db
from taper.models import Patient, User
from taper.services import appointments, capacity, worklists
from taper.services.capacity import SessionDetails
from tests.conftest import PASSWORD, TODAY, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e

ONLY_ON_SCREEN = ["header.nhsuk-header", "footer", "form", "button", ".nhsuk-button", ".nhsuk-pagination"]
BLACK, WHITE = "rgb(0, 0, 0)", "rgb(255, 255, 255)"


def _sign_in(page, base_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _a_clinic_day(make: Maker) -> tuple[User, str]:
    """A pharmacist with a patient on a running plan (so appointments are booked) and a review overdue on the
    worklist; the day of the first appointment, as the day list's address has it."""
    pharmacist = make.user(email="clinic@example.nhs.uk")
    for weekday in range(5):
        capacity.add_session(by=pharmacist, details=SessionDetails(weekday, time(9), time(17), remote=False,
                                                                  location="Room 1"))
    db.session.commit()
    patient = make.patient(pharmacist, family_name="Holloway")
    plan = make.running_plan(pharmacist, patient, start_on=TODAY + timedelta(days=7))
    worklists.add_new([worklists.NewItem(key="overdue:print", kind="overdue", clinic_id=pharmacist.organisation_id,
                                         patient_id=patient.id, plan_id=plan.id, detail="No review since March")])
    db.session.commit()
    first = min(appointments.of_plan(by=pharmacist, plan=plan), key=lambda each: each.starts_at)
    db.session.rollback()
    return pharmacist, appointments.local_day(first.starts_at).isoformat()


def _on_paper(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The selectors of things only for the screen that would still print."""
    page.emulate_media(media="print")
    return [selector for selector in ONLY_ON_SCREEN
            if any(element.is_visible() for element in page.locator(selector).all())]


def test_the_day_list_worklist_and_patient_list_print_without_navigation_buttons_or_forms(
        live_server: str, make: Maker, chromium_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist, day = _a_clinic_day(make)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        _sign_in(page, live_server, pharmacist.email)
        for address, kept in [(f"/appointments?day={day}", "table.nhsuk-table"), ("/", "#overdue + ul"),
                              ("/patients/?show=running", "table#patients")]:
            page.goto(live_server + address)
            page.emulate_media(media="screen")
            expect(page.locator("header.nhsuk-header")).to_be_visible()  # on screen, all there
            assert page.locator("button").count() > 0, address
            assert _on_paper(page) == [], address
            expect(page.locator(kept)).to_be_visible()
            expect(page.get_by_text("HOLLOWAY, Ada").first).to_be_visible()
            colours = page.locator(kept).evaluate(
                "element => [getComputedStyle(element.querySelector('a')).color,"
                " getComputedStyle(document.body).backgroundColor]")
            assert colours == [BLACK, WHITE], address
            link_after = page.locator(kept).evaluate(
                "element => getComputedStyle(element.querySelector('a'), '::after').content")
            assert link_after in ("none", "normal"), address  # no "(Link: /patients/3)" after each name
        page.goto(f"{live_server}/appointments?day={day}")
        page.emulate_media(media="print")
        header_group = page.locator("table.nhsuk-table thead").evaluate("element => getComputedStyle(element).display")
        assert header_group == "table-header-group"  # the heading row on every sheet
        assert not page.get_by_role("link", name="Previous day").is_visible()  # links that mean nothing on paper
        page.goto(f"{live_server}/")
        page.emulate_media(media="print")
        assert not page.get_by_role("link", name="Add a patient").is_visible()
        browser.close()


def test_the_patient_list_with_each_filter_passes_axe(live_server: str, make: Maker, chromium_path: str,
                                                      axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist, _ = _a_clinic_day(make)
    patient_id = db.session.scalars(select(Patient.id)).one()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
        _sign_in(page, live_server, pharmacist.email)
        checker = Accessibility(page, axe_script)
        page.goto(live_server + "/patients/")
        checker.check()
        filters = page.get_by_role("navigation", name="Which patients to show")
        for name in ("Running plan", "High dose, no running plan", "Review overdue"):
            filters.get_by_role("link", name=name, exact=True).click()
            expect(page.locator('[aria-current="page"]', has_text=name)).to_be_visible()
            checker.check()
        page.goto(f"{live_server}/patients/{patient_id}/access")
        expect(page.get_by_text("Looked at this access history")).to_be_visible()
        checker.check()
        browser.close()
    assert checker.problems == []
