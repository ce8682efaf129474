"""How long the three-document pack takes to render, and how fast a stored PDF is served.

Renders the patient plan, GP letter and dispensing schedule of a 10-step plan (morphine MR twice daily and
morphine oral solution when needed) with WeasyPrint, as issuing a plan version does; then serves a stored PDF
through the app many times. Prints median, p10, p90 (and p95 for serving), in ms. Goal (issue 6): the pack within 1.0 s,
serving a stored PDF within 20 ms at the 95th percentile.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taper.documents.letterhead import Letterhead
from taper.documents.pack import Pack, render_pack, render_packs
from taper.documents.workers import processes
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SERVES = int(os.environ.get("BENCH_SERVES", "200"))
REQUEST = {"start_on": "2027-01-04", "regimen": [
    {"product": "morphine-mr-tablet-12h",
     "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
    {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}}]}
HEAD = Letterhead(patient_name="Ada Lovelace", nhs_number="943 476 5919", born="1960-12-10", plan_id=1,
                  plan_version=1, generated_on=date(2027, 1, 1), pharmacy_name="High Street Pharmacy",
                  pharmacy_ods_code="FA123", clinic_name="Community Pain Service", clinic_contact="0113 496 0000")


BATCH = int(os.environ.get("BENCH_BATCH", "12"))


def pack(schedule: dict[str, object]) -> list[bytes]:
    """The three documents as issuing a plan version renders them (taper.documents.pack.render_pack)."""
    return list(render_pack(_pack(schedule)).values())


def _pack(schedule: dict[str, object]) -> Pack:
    return Pack(head=HEAD, version_request=REQUEST, schedule=schedule, practice_name="Riverside Surgery",
                practice_ods_code="A81001", prescriber="gp", risk="Level 3", instalment_days=14)


def summary(samples: list[float]) -> str:
    deciles = statistics.quantiles(samples, n=20)
    return (f"median {statistics.median(samples):8.1f}  p10 {deciles[1]:8.1f}  p90 {deciles[17]:8.1f}  "
            f"p95 {deciles[18]:8.1f}")


def main() -> None:
    schedule = json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))
    pdfs = pack(schedule)  # warm-up: imports, fonts
    from io import BytesIO

    from pypdf import PdfReader

    pages = ", ".join(str(len(PdfReader(BytesIO(pdf)).pages)) for pdf in pdfs)
    print(f"pack for a {len(schedule['steps'])}-step plan, {RUNS} runs (ms); pages per document: {pages}")
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        pack(schedule)
        samples.append((time.perf_counter() - started) * 1000)
    print("render the three documents   " + summary(samples))
    render_packs([_pack(schedule)])  # start the worker processes
    started = time.perf_counter()
    render_packs([_pack(schedule)] * BATCH)
    each = (time.perf_counter() - started) * 1000 / BATCH
    print(f"batch of {BATCH} packs on {processes()} worker processes: {each:.1f} ms a pack")
    print(f"serve a stored PDF, {SERVES} requests (ms)")
    print("GET a stored GP letter        " + summary(serve(pdfs[1])))


def serve(pdf: bytes) -> list[float]:
    """Time GET requests for a stored document through the app (SQLite, signed-in pharmacist)."""
    from taper import create_app
    from taper.extensions import db
    from taper.models import Plan, PlanDocument, PlanVersion
    from taper.services import accounts
    from tests.databases import ThrowawayDatabases, settings_for

    with tempfile.TemporaryDirectory() as workdir:
        databases = ThrowawayDatabases(Path(workdir))
        url = databases.migrated()
        app = create_app(settings_for(url, Path(workdir)))
        try:
            with app.app_context():
                from datetime import date as day

                from taper.domain.organisations import OrganisationKind, Role
                from taper.domain.patients import Sex
                from taper.services import patients
                from taper.services.patients import PatientDetails

                clinic = accounts.create_organisation(by=None, kind=OrganisationKind.PAIN_CLINIC, name="C",
                                                      ods_code="ZZC9", phone="0113 496 0000")
                practice = accounts.create_organisation(by=None, kind=OrganisationKind.GP_PRACTICE, name="P",
                                                        ods_code="ZZG9")
                user = accounts.create_user(by=None, email="b@example.nhs.uk", full_name="B", role=Role.PHARMACIST,
                                            organisation_id=clinic.id, password="benchmark passphrase")
                patient = patients.create_patient(by=user, details=PatientDetails(
                    nhs_number="9434765919", given_name="Ada", family_name="Lovelace", date_of_birth=day(1960, 12, 10),
                    sex=Sex.FEMALE, gp_practice_id=practice.id, pharmacy_id=None))
                plan = Plan(patient_id=patient.id, status="draft", instalment_days=14, created_by_id=user.id)
                db.session.add(plan)
                db.session.flush()
                version = PlanVersion(plan_id=plan.id, number=1, request={}, schedule={}, reason="benchmark",
                                      starting_ome_mg_per_day=0, factor_set="fpm-2020", factor_set_version="x",
                                      formulary_version="x", created_by_id=user.id)
                db.session.add(version)
                db.session.flush()
                db.session.add(PlanDocument(plan_version_id=version.id, kind="gp_letter", template_version="1",
                                            sha256="x", pdf=pdf))
                db.session.commit()
                plan_id = plan.id
            client = app.test_client()
            import re

            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"csrf_token": token, "email": "b@example.nhs.uk",
                                        "password": "benchmark passphrase"})
            samples = []
            for _ in range(SERVES + 10):
                started = time.perf_counter()
                response = client.get(f"/plans/{plan_id}/versions/1/gp_letter.pdf")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200 and response.get_data() == pdf
                samples.append(elapsed)
            with app.app_context():
                db.engine.dispose()
            return samples[10:]
        finally:
            databases.drop(url)
            databases.close()


if __name__ == "__main__":
    main()
