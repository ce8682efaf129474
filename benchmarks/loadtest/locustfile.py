"""Simulated users of the three roles for the load test (`make loadtest`; benchmarks/loadtest/run.py starts it).

Each simulated user signs in once, as an account of its own (LOADTEST_ACCOUNTS: a JSON file of emails by role,
written by run.py from the synthetic data), from an address of its own (X-Forwarded-For through one trusted
proxy), so that the sign-in rate limits and lockout hold exactly as configured for production. Then it works
as its role does: a clinic pharmacist on the home page, patient lists and search, the day and week of
appointments, messages and plans; a GP on the inbox, patients and letters; a community pharmacist on the
week's supplies and patients. Pages only: nothing is changed (a load of reads, as most of a clinic's day is).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

ACCOUNTS: dict[str, list[str]] = json.loads(Path(os.environ["LOADTEST_ACCOUNTS"]).read_text(encoding="utf-8"))
PASSWORD = os.environ["LOADTEST_PASSWORD"]
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_LINK = {kind: re.compile(rf'href="(/{kind}/\d+)"') for kind in ("patients", "plans")}
_PRACTICE_LINKS = re.compile(r'href="(/practice/(?:patients/\d+|documents/\d+\.pdf))"')
_PHARMACY_LINKS = re.compile(r'href="(/pharmacy/patients/\d+)"')
SEARCHES = ("son", "an", "el", "ar", "ton", "ley")  # parts of names, as people type them
_ADDRESSES = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))
_NEXT_ACCOUNT = {role: itertools.cycle(emails) for role, emails in ACCOUNTS.items()}


class _SignedIn(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)  # a person reading a page before the next

    def on_start(self) -> None:
        self.client.headers["X-Forwarded-For"] = next(_ADDRESSES)
        email = next(_NEXT_ACCOUNT[self.role])
        form = self.client.get("/login", name="/login")
        token = _CSRF.search(form.text)
        with self.client.post("/login", data={"email": email, "password": PASSWORD,
                                              "csrf_token": token.group(1) if token else ""},
                              allow_redirects=False, catch_response=True, name="/login [POST]") as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in as {email} answered {answer.status_code}")

    def _page(self, path: str, name: str) -> str:
        """A page as this user sees it; a failure if it is not there or the user was signed out."""
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200 or answer.url.split("?")[0].endswith("/login"):
                answer.failure(f"{path} answered {answer.status_code} at {answer.url}")
            return answer.text

    def _follow_one(self, page: str, links: re.Pattern[str], name: str) -> None:
        """Open one of the links a page lists (a patient, a plan, a letter), as a person picks one."""
        found = links.findall(page)
        if found:
            self._page(random.choice(found), name)


class ClinicPharmacist(_SignedIn):
    role = "pharmacist"
    weight = 4

    @task(4)
    def home(self) -> None:
        page = self._page("/", "/ (home)")
        self._follow_one(page, _LINK["plans"], "/plans/[id]")

    @task(3)
    def patients(self) -> None:
        page = self._page("/patients/", "/patients/")
        self._follow_one(page, _LINK["patients"], "/patients/[id]")

    @task(2)
    def search(self) -> None:
        """A name searched for from the patient list (posted, as the form does, with its CSRF token)."""
        token = _CSRF.search(self._page("/patients/", "/patients/"))
        with self.client.post("/patients/search", data={"query": random.choice(SEARCHES),
                                                        "csrf_token": token.group(1) if token else ""},
                              name="/patients/search [POST]", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"search answered {answer.status_code}")

    @task(2)
    def appointments(self) -> None:
        self._page("/appointments", "/appointments")

    @task(1)
    def week(self) -> None:
        self._page("/appointments/week", "/appointments/week")

    @task(1)
    def messages(self) -> None:
        self._page("/messages", "/messages")


class GeneralPractitioner(_SignedIn):
    role = "gp"
    weight = 3

    @task(3)
    def inbox(self) -> None:
        page = self._page("/practice/", "/practice/ (inbox)")
        self._follow_one(page, _PRACTICE_LINKS, "/practice/[patient or letter]")

    @task(2)
    def patients(self) -> None:
        page = self._page("/practice/patients", "/practice/patients")
        self._follow_one(page, _PRACTICE_LINKS, "/practice/[patient or letter]")


class CommunityPharmacist(_SignedIn):
    role = "community_pharmacist"
    weight = 3

    @task(3)
    def due(self) -> None:
        page = self._page("/pharmacy/", "/pharmacy/ (due this week)")
        self._follow_one(page, _PHARMACY_LINKS, "/pharmacy/patients/[id]")

    @task(2)
    def patients(self) -> None:
        page = self._page("/pharmacy/patients", "/pharmacy/patients")
        self._follow_one(page, _PHARMACY_LINKS, "/pharmacy/patients/[id]")
