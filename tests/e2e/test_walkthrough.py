"""The README's walk-through of a first plan, step by step as the README says it, in a real browser (Debian's
chromium via Playwright, axe-core on each page) against a live server with the demo data.

With TAPER_SCREENSHOTS=<folder> (`make screenshots`) it also saves the README's screenshots there, 1000 px wide
and reduced to a 256-colour palette."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from taper.services.demo_data import DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e
WIDTH, HEIGHT = 1000, 760
PHARMACIST, GP, PHARMACY = ("pharmacist@demo.taper.invalid", "gp@demo.taper.invalid",
                            "pharmacy@demo.taper.invalid")


class Camera:
    """Saves a screenshot of what the viewport shows, when TAPER_SCREENSHOTS names a folder; else nothing."""

    def __init__(self, folder: str | None):
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def shoot(self, page, name: str, top=None) -> None:  # type: ignore[no-untyped-def]
        """The viewport, scrolled so that `top` (a locator) is near its top, or at the top of the page."""
        if self.folder is None:
            return
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the picture
        if top is None:
            page.evaluate("window.scrollTo(0, 0)")
        else:
            top.first.evaluate("element => window.scrollTo(0, element.getBoundingClientRect().top"
                               " + window.scrollY - 16)")
        from PIL import Image

        picture = Image.open(io.BytesIO(page.screenshot()))
        picture.convert("RGB").quantize(colors=256).save(self.folder / name, optimize=True)


def _sign_in(page, base_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_readme_walk_through_of_a_first_plan(app: Flask, live_server: str, chromium_path: str,
                                                 axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    loaded = app.test_cli_runner().invoke(args=["taper", "demo-data"])  # as `make run` does
    assert "Loaded synthetic demo data" in loaded.output, loaded.output
    camera = Camera(os.environ.get("TAPER_SCREENSHOTS"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)

        def new_page():  # type: ignore[no-untyped-def]
            return browser.new_context(bypass_csp=True,  # axe is injected as a script
                                       viewport={"width": WIDTH, "height": HEIGHT}).new_page()

        page = new_page()
        axe = Accessibility(page, axe_script)

        # 1. Sign in as the demo pharmacist: the home page is today's clinic.
        _sign_in(page, live_server, PHARMACIST)
        expect(page.get_by_role("heading", name="Today in clinic")).to_be_visible()
        axe.check()
        camera.shoot(page, "01-home.png")

        # 2. The patient: Patients, search for "Clarke", open CLARKE, Janet (no regimen or plan yet).
        page.get_by_role("link", name="Patients", exact=True).first.click()
        page.get_by_label("Search by NHS number, name or date of birth").fill("Clarke")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="CLARKE, Janet").click()
        expect(page.get_by_role("heading", name="CLARKE, Janet")).to_be_visible()
        expect(page.get_by_text("No regimen has been recorded yet.")).to_be_visible()
        axe.check()
        camera.shoot(page, "02-patient.png")

        # 3. The regimen: MST Continus 60 mg at 08:00 and 20:00; Check shows 120 mg OME a day; Save regimen.
        page.get_by_role("link", name="Record current regimen").click()
        first = page.get_by_role("group", name="Medicine 1")
        first.get_by_label("Medicine", exact=True).select_option("morphine-mr-tablet-12h")
        first.get_by_label("Brand", exact=True).select_option("MST Continus")
        first.get_by_label("Dose", exact=True).nth(0).fill("60")
        first.get_by_label("Time", exact=True).nth(2).fill("20:00")
        first.get_by_label("Dose", exact=True).nth(2).fill("60")
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#total-ome")).to_contain_text("120 mg a day")
        axe.check()
        camera.shoot(page, "03-regimen.png", top=page.get_by_role("heading", name="Check before saving"))
        page.get_by_role("button", name="Save regimen").click()
        expect(page.get_by_text("Regimen recorded.")).to_be_visible()

        # 4. The risk: Assess risk, tick what applies (depression), answer the question asked of women (no), Check
        #    the suggested level, Save assessment.
        page.get_by_role("link", name="Assess risk").click()
        page.get_by_label("Depression").check()
        page.get_by_role("group", name=re.compile("pre-adolescent sexual abuse")).get_by_label("No", exact=True).check()
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#suggestion")).to_contain_text("Suggested: Level 2")  # her age and depression
        axe.check()
        camera.shoot(page, "04-risk.png", top=page.locator("#suggestion"))
        page.get_by_role("button", name="Save assessment").click()
        expect(page.get_by_text("Risk assessment recorded.")).to_be_visible()

        # 5. Build: Build a plan; the defaults (10% of the starting dose every 14 days, step 1 a week from today);
        #    Preview shows the steps and the chart; Save draft plan.
        page.get_by_role("link", name="Build a plan").click()
        expect(page.get_by_label("Reduce by (%)")).to_have_value("10")
        expect(page.get_by_label("Every (days)")).to_have_value("14")
        for label, value in (("Day", "9"), ("Month", "12"), ("Year", "2026")):  # a week from Wednesday 2 December
            expect(page.get_by_label(label, exact=True)).to_have_value(value)
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#steps")).to_be_visible()
        expect(page.locator("#preview")).to_contain_text("13 steps from 120 mg OME a day")
        axe.check()
        camera.shoot(page, "05-preview.png", top=page.locator("#preview"))
        page.get_by_role("button", name="Save draft plan").click()
        expect(page.get_by_text("Draft plan saved.")).to_be_visible()
        axe.check()

        # 6. Agree: record the shared decision with the patient on the draft plan's page.
        page.get_by_label("What matters to the patient").fill("Playing with her grandchildren without dozing off")
        page.get_by_label("Their goals").fill("Off morphine by the autumn")
        page.get_by_label("The pace they agreed").fill("10% every 2 weeks; slower if the withdrawal is hard")
        page.get_by_label("The GP").check()
        page.get_by_label("The patient agrees to share the plan with their GP").check()
        page.get_by_label("The patient agrees to share the plan with their pharmacy").check()
        page.get_by_role("button", name="Record shared decision").click()
        expect(page.locator("#decision + dl")).to_contain_text("Off morphine by the autumn")
        axe.check()

        # 7. Start: under "Change the plan's status", Start or resume, Change status: the plan is active, its
        #    documents are issued and the first appointments are proposed.
        page.get_by_label("Start or resume").check()
        camera.shoot(page, "06-agreed.png", top=page.get_by_role("heading", name="Shared decision"))
        page.get_by_role("button", name="Change status").click()
        expect(page.locator("#status")).to_have_text("Active")
        expect(page.locator("main")).to_contain_text(re.compile(r"initial, \d+ minutes, face to face \(proposed\)"))
        axe.check()
        camera.shoot(page, "07-plan-started.png")

        # 8. Documents: the patient's plan, the GP letter and the dispensing schedule, each a PDF.
        documents = page.get_by_role("heading", name="Documents for version 1")
        expect(documents).to_be_visible()
        letters = {}
        for title in ("Patient's plan", "Letter to the GP", "Community pharmacy dispensing schedule"):
            link = page.get_by_role("link", name=f"{title} (PDF)")
            fetched = page.request.get(live_server + link.get_attribute("href"))  # as the browser would
            assert fetched.headers["content-type"] == "application/pdf", title
            letters[title] = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(fetched.body())).pages)
        assert all("Janet" in text and "999 000 0077" in text for text in letters.values())
        assert "MST Continus" in letters["Letter to the GP"]
        expect(page.get_by_role("link", name="Print all three (one PDF)")).to_be_visible()

        # 9. The same plan as the GP and the community pharmacy see it.
        surgery = new_page()
        surgery_axe = Accessibility(surgery, axe_script)
        _sign_in(surgery, live_server, GP)
        expect(surgery.get_by_role("heading", name="Plan letters")).to_be_visible()
        expect(surgery.locator("main")).to_contain_text("CLARKE, Janet")
        surgery_axe.check()
        camera.shoot(surgery, "08-gp-inbox.png")
        counter = new_page()
        counter_axe = Accessibility(counter, axe_script)
        _sign_in(counter, live_server, PHARMACY)
        counter.get_by_role("link", name="Patients with plans").first.click()
        counter.get_by_role("link", name="CLARKE, Janet").click()
        expect(counter.get_by_role("heading", name="CLARKE, Janet")).to_be_visible()
        expect(counter.locator("main")).to_contain_text("Morphine modified-release tablet")
        counter_axe.check()
        browser.close()

    problems = axe.problems + surgery_axe.problems + counter_axe.problems
    assert problems == [], json.dumps(problems, indent=2)


def test_the_readme_shows_the_screenshots_the_walk_through_takes() -> None:
    """The README's walk-through pictures are exactly the ones this test saves, all there, 1000 px wide and small."""
    from PIL import Image

    from taper import PROJECT_ROOT

    taken = set(re.findall(r'camera\.shoot\(\w+, "([\w-]+\.png)"', Path(__file__).read_text()))
    shown = set(re.findall(r"\]\(docs/screenshots/([\w-]+\.png)\)", (PROJECT_ROOT / "README.md").read_text()))
    assert len(taken) >= 5 and shown == taken
    for name in taken:
        path = PROJECT_ROOT / "docs" / "screenshots" / name
        with Image.open(path) as picture:
            assert picture.size == (WIDTH, HEIGHT), name
        assert path.stat().st_size < 100_000, name
