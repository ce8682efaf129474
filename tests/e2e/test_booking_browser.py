"""Booking in a real browser (Debian's chromium via Playwright), with axe on each new page: an extra review
booked from the day list for a patient who is struggling, and a first consultation for a patient with no plan."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from taper import clock
from taper.extensions import db
from taper.models import Appointment, Message
from taper.services import capacity
from taper.services.capacity import SessionDetails
from tests.conftest import MONDAY, PASSWORD, Maker, at
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e


def test_an_extra_review_from_the_day_list_and_a_first_consultation_before_any_plan(
        live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with clock.freeze(at(MONDAY, 8)):
        pharmacist = make.user(email="clinic@example.nhs.uk")
        for details in (SessionDetails(0, time(9), time(12), remote=False, location="Room 4"),
                        SessionDetails(3, time(9), time(12), remote=True)):
            capacity.add_session(by=pharmacist, details=details)
        db.session.commit()
        struggling = make.patient(pharmacist, given_name="Grace", family_name="Hopper", contact_by="sms",
                                  mobile_phone="07700 900123")
        plan = make.running_plan(pharmacist, struggling, start_on=MONDAY)
        new_patient = make.patient(pharmacist, given_name="Alan", family_name="Turing")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
            axe = Accessibility(page, axe_script)
            page.goto(live_server + "/login")
            page.get_by_label("Email address").fill(pharmacist.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            page.goto(f"{live_server}/appointments?day=2027-01-11")
            page.get_by_role("link", name="Book an appointment").click()
            expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
            axe.check()
            page.get_by_label("NHS number, name or date of birth").fill("Hopper")
            page.get_by_role("button", name="Find the patient").click()
            page.get_by_role("link", name="Book for HOPPER, Grace").click()
            page.get_by_label("Extra review, for a patient who is struggling").check()
            page.get_by_label("30 minutes", exact=True).check()
            page.get_by_label("Video", exact=True).check()
            page.get_by_role("button", name="Show free times").click()
            expect(page.get_by_role("heading", name="When: extra review, 30 minutes, video")).to_be_visible()
            axe.check()
            first = page.locator('input[name="book-when"]').first
            offered = page.locator(f'label[for="{first.get_attribute("id")}"]').inner_text().strip()
            assert offered == "Monday 11 January 2027 at 9am"  # the first free time from the day list's day
            first.check()
            page.get_by_role("button", name="Book appointment").click()
            expect(page.get_by_text("Booked: extra review on Monday 11 January 2027 at 9am, by video call "
                                    "(30 minutes)")).to_be_visible()

            page.goto(f"{live_server}/patients/{new_patient.id}")
            expect(page.get_by_text("No appointments booked.")).to_be_visible()
            page.get_by_role("link", name="Book an appointment").click()
            expect(page.get_by_text("no plan yet")).to_be_visible()
            page.get_by_label("90 minutes", exact=True).check()
            page.get_by_label("Face to face", exact=True).check()
            page.get_by_role("button", name="Show free times").click()
            expect(page.get_by_role("heading", name="When: initial consultation, 90 minutes, face to face")) \
                .to_be_visible()
            axe.check()
            page.locator('input[name="book-when"]').first.check()
            page.get_by_role("button", name="Book appointment").click()
            expect(page.get_by_text("Booked: initial consultation on Monday 4 January 2027")).to_be_visible()
            axe.check()
            page.goto(f"{live_server}/patients/{new_patient.id}")
            expect(page.get_by_text("initial consultation, 90 minutes, face to face (Room 4) (confirmed)")) \
                .to_be_visible()
            browser.close()
        assert axe.problems == []
        db.session.expire_all()
        extra = db.session.scalar(select(Appointment).where(Appointment.kind == "extra_review"))
        first_consultation = db.session.scalar(select(Appointment).where(Appointment.patient_id == new_patient.id))
        assert extra is not None and extra.plan_id == plan.id and extra.patient_id == struggling.id
        assert first_consultation is not None and first_consultation.plan_id is None
        told = db.session.scalars(select(Message.kind).where(Message.patient_id == struggling.id)
                                  .order_by(Message.id)).all()
        assert told == ["plan_appointments", "appointment_booked"]  # the plan's reviews when it started, then this
