"""`make run` serves the login page; a demo pharmacist signs in, sees the patients and adds one:
once over plain HTTP (always), once in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from taper import PROJECT_ROOT
from taper.scheduler import TIMETABLE
from taper.services.demo_data import DEMO_PASSWORD
from tests.e2e.conftest import Running

pytestmark = pytest.mark.e2e
PHARMACIST = "pharmacist@demo.taper.invalid"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browserless:
    """A cookie-keeping HTTP client that fills in forms the way a browser would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> str:
        token = _CSRF.search(self.get(path))
        assert token, f"no form at {path}"
        body = urllib.parse.urlencode({"csrf_token": token.group(1), **fields}).encode()
        with self.opener.open(self.base_url + path, data=body, timeout=10) as response:
            return response.read().decode()


def test_make_run_prints_the_demo_sign_ins(make_run: Running) -> None:
    output = make_run.output
    assert PHARMACIST in output and DEMO_PASSWORD in output and "http://127.0.0.1:" in output


def test_make_run_demo_pharmacist_signs_in_sees_patients_and_adds_one(make_run: Running) -> None:
    base_url = make_run.base_url
    client = Browserless(base_url)
    assert "Sign in to Taper" in client.get("/login")
    home = client.submit("/login", {"email": PHARMACIST, "password": DEMO_PASSWORD})
    assert "Today in clinic" in home and "Synthetic demo data" in home
    patients = client.get("/patients/")
    assert "HOLLOWAY, Margaret" in patients
    practice = re.search(r'<option value="(\d+)"[^>]*>\s*Demo Riverside Surgery', client.get("/patients/new"))
    assert practice
    added = client.submit("/patients/new", {
        "nhs_number": "943 476 5919", "given_name": "Ada", "family_name": "Lovelace", "date_of_birth-day": "10",
        "date_of_birth-month": "12", "date_of_birth-year": "1960", "sex": "female",
        "gp_practice_id": practice.group(1), "pharmacy_id": "", "preferred_language": "English"})
    assert "Ada Lovelace has been added" in added and "943 476 5919" in added
    assert "LOVELACE, Ada" in client.get("/patients/")


def test_make_run_in_a_real_browser(make_run: Running, chromium_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM_FLAGS, fill_patient_form

    base_url = make_run.base_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(base_url + "/login")
        page.get_by_label("Email address").fill(PHARMACIST)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Today in clinic")).to_be_visible()
        page.get_by_role("link", name="All patients").click()
        expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="HOLLOWAY, Margaret")).to_be_visible()

        page.get_by_role("link", name="Add a patient").click()
        page.get_by_role("button", name="Save patient").click()  # nothing filled in
        expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the NHS number")

        fill_patient_form(page, nhs_number="450 557 7104", given="Grace", family="Hopper", born=(9, 12, 1956),
                          practice="Demo Hillview Medical Centre (ZZG02)")
        page.get_by_role("button", name="Save patient").click()
        expect(page.get_by_text("Grace Hopper has been added")).to_be_visible()
        expect(page.get_by_role("heading", name="HOPPER, Grace")).to_be_visible()
        browser.close()


def test_make_run_starts_the_scheduler_and_a_demo_reminder_reaches_the_outbox(make_run: Running) -> None:
    """The scheduler beside the web server has put its four jobs in the database; running the step-reminders
    job now (as the scheduler would at 9am) stores the demo plan's reminders, and the pharmacist sees them."""
    database = make_run.instance / "taper.db"
    deadline = time.monotonic() + 60
    jobs: list[str] = []
    while time.monotonic() < deadline and len(jobs) < len(TIMETABLE):
        with contextlib.closing(sqlite3.connect(database)) as connection:
            try:
                jobs = [row[0] for row in connection.execute("SELECT id FROM apscheduler_jobs ORDER BY id")]
            except sqlite3.OperationalError:  # the scheduler has not made its table yet
                jobs = []
        time.sleep(0.5)
    assert jobs == sorted(TIMETABLE) == ["completion-reviews", "deliver-messages", "discard-stale-imports",
                                         "overdue-reviews", "step-reminders"]
    ran = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "taper", "run-job",
                          "step-reminders"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                         env=make_run.environment)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["queued"] >= 2  # the patient's text and the pharmacy's notice (2 on a first run)
    client = Browserless(make_run.base_url)
    client.submit("/login", {"email": PHARMACIST, "password": DEMO_PASSWORD})
    outbox = re.sub(r"\s+", " ", client.get("/messages"))
    assert "Text: 07700 900101" in outbox and "Your next step starts tomorrow. Your plan has the details." in outbox
    assert "Margaret Holloway (NHS number 999 000 0018): step 2 of tapering plan" in outbox


def test_a_server_of_a_test_run_that_is_killed_is_stopped_all_the_same() -> None:
    """A run killed outright (SIGKILL: no fixture teardown) leaves no server behind: the watchdog the make_run
    fixture starts beside each server stops its process group (here a stand-in server, to be quick)."""
    import signal
    import sys

    script = ("import subprocess, time\n"
              "from tests.e2e.conftest import _stop_when_this_run_dies\n"
              "server = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
              "_stop_when_this_run_dies(server.pid)\n"
              "print(server.pid, flush=True)\n"
              "time.sleep(300)\n")
    run = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    server = int(run.stdout.readline())
    try:
        os.kill(server, 0)  # running
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(server, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the stand-in server outlived the killed run")
    finally:
        run.stdout.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server, signal.SIGKILL)
