"""How fast a pharmacist's patient pages answer with a large caseload.

Builds a throwaway database at head (SQLite by default, PostgreSQL if TAPER_DATABASE_URL names a server),
loads N synthetic patients on one clinic's caseload in bulk (setup only: bypasses the services), then times
whole requests through the app: the first page of the patient list, a search by NHS number, a search by
name, and opening a patient's record (which writes its audit row). Prints median, p10 and p90 in ms.

    make bench                       # N=20000, 30 timed runs each
    BENCH_PATIENTS=50000 make bench
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from werkzeug.test import TestResponse

from taper import create_app
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Patient
from taper.services import accounts
from taper.services.demo_data import synthetic_nhs_numbers
from tests.databases import ThrowawayDatabases, settings_for

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
PASSWORD = "benchmark passphrase"
FAMILY_NAMES = ["Holloway", "Pritchard", "Rahman", "Lloyd", "Whitfield", "Mensah", "Clarke", "Fenwick", "Dawson",
                "Qureshi", "Baxter", "Marsh", "Nowak", "Gallagher", "Hughes", "Osei", "Kerr", "Dunne", "Begum"]


def timed(action: Callable[[], TestResponse]) -> tuple[float, float, float]:
    warm_up = action()
    assert warm_up.status_code == 200, warm_up.status_code  # time real answers, never error pages
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    deciles = statistics.quantiles(samples, n=10)
    return statistics.median(samples), deciles[0], deciles[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        databases = ThrowawayDatabases(Path(workdir))
        url = databases.migrated()
        app = create_app(settings_for(url, Path(workdir)))
        try:
            with app.app_context():
                clinic = accounts.create_organisation(by=None, kind=OrganisationKind.PAIN_CLINIC, name="Clinic",
                                                      ods_code="ZZC99", phone="0113 496 0000")
                practice = accounts.create_organisation(by=None, kind=OrganisationKind.GP_PRACTICE, name="Practice",
                                                        ods_code="ZZG99")
                pharmacist = accounts.create_user(by=None, email="bench@example.nhs.uk", full_name="Bench",
                                                  role=Role.PHARMACIST, organisation_id=clinic.id, password=PASSWORD)
                numbers = synthetic_nhs_numbers(PATIENTS)
                db.session.execute(insert(Patient), [
                    {"nhs_number": number, "given_name": f"Given{index}",
                     "family_name": FAMILY_NAMES[index % len(FAMILY_NAMES)] + str(index // len(FAMILY_NAMES)),
                     "date_of_birth": date(1940, 1, 1) + timedelta(days=index % 20000), "sex": "female",
                     "clinic_id": clinic.id, "gp_practice_id": practice.id}
                    for index, number in enumerate(numbers)])
                db.session.commit()
                email, target = pharmacist.email, numbers[PATIENTS // 2]
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            signed_in = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
            assert signed_in.status_code == 302
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',  # a new session has a new token
                              client.get("/patients/").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
            with app.app_context():
                patient_id = db.session.scalar(db.select(Patient.id).where(Patient.nhs_number == target))

            def search(text: str) -> Callable[[], TestResponse]:
                return lambda: client.post("/patients/search", data={"csrf_token": token, "query": text})

            cases = {
                "patient list, first page": lambda: client.get("/patients/"),
                "search by NHS number": search(target),
                "search by name (2 terms)": search("Given1 Holloway"),
                "search by name, no match": search("Nobody"),
                "open a patient record": lambda: client.get(f"/patients/{patient_id}"),
            }
            print(f"{databases.dialect}, {PATIENTS} patients, {RUNS} runs each (ms)")
            print(f"{'case':<28}{'median':>9}{'p10':>9}{'p90':>9}")
            for name, action in cases.items():
                median, p10, p90 = timed(action)
                print(f"{name:<28}{median:>9.1f}{p10:>9.1f}{p90:>9.1f}")
            with app.app_context():
                db.engine.dispose()
        finally:
            databases.drop(url)
            databases.close()


if __name__ == "__main__":
    main()
