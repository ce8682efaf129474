"""Synthetic demo data for `make run`: one clinic, two GP practices, two community pharmacies, their users,
24 made-up patients, the pharmacist's clinic sessions and one running plan. Every organisation is marked
synthetic (pages say so) and every NHS number is in the 999 range, which is never issued to real people."""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from typing import Any

import nhs_number
from sqlalchemy import func, inspect, or_, select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import Sex
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Organisation, Patient, User
from taper.services import accounts, capacity, cohort_import, patients, plans, regimens
from taper.services.capacity import SessionDetails
from taper.services.patients import PatientDetails
from taper.services.regimens import RegimenEntry
from taper.services.synthetic.cohort_extract import write_extract

DEMO_PASSWORD = "taper-demo-only-password"  # printed for the demo; demo data is refused in production
DEMO_COHORT_ROWS = 40  # rows of the demo's synthetic practice extract (taper.services.synthetic.cohort_extract)

# Phone numbers are from Ofcom's range kept for drama (0113 496 0000 to 0999): never a real line.
# The demo clinic's address and the pharmacists' registration numbers are made up.
CLINIC_ADDRESS = "Demo Health Centre\n1 Example Street\nLeeds\nLS1 1AA"
SENDER_DETAILS = {"pharmacist@demo.taper.invalid": ("Specialist pain pharmacist, independent prescriber", "0000101"),
                  "pharmacist2@demo.taper.invalid": ("Specialist pain pharmacist", "0000102")}
ORGANISATIONS = [
    (OrganisationKind.PAIN_CLINIC, "Demo Community Pain Service", "ZZC01", "0113 496 0100"),
    (OrganisationKind.GP_PRACTICE, "Demo Riverside Surgery", "ZZG01", "0113 496 0200"),
    (OrganisationKind.GP_PRACTICE, "Demo Hillview Medical Centre", "ZZG02", "0113 496 0300"),
    (OrganisationKind.COMMUNITY_PHARMACY, "Demo High Street Pharmacy", "ZZP01", "0113 496 0400"),
    (OrganisationKind.COMMUNITY_PHARMACY, "Demo Station Road Pharmacy", "ZZP02", "0113 496 0500"),
]

USERS = [
    ("pharmacist@demo.taper.invalid", "Priya Shah", Role.PHARMACIST, "ZZC01"),
    ("pharmacist2@demo.taper.invalid", "Tom Evans", Role.PHARMACIST, "ZZC01"),
    ("gp@demo.taper.invalid", "Dr Sarah Ahmed", Role.GP, "ZZG01"),
    ("pharmacy@demo.taper.invalid", "Ben Okafor", Role.COMMUNITY_PHARMACIST, "ZZP01"),
    ("admin@demo.taper.invalid", "Alex Morgan", Role.ADMIN, None),
]

# given name, family name, date of birth, sex, GP practice, pharmacy (None: not nominated)
PATIENTS = [
    ("Margaret", "Holloway", date(1951, 3, 14), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("David", "Pritchard", date(1968, 11, 2), Sex.MALE, "ZZG01", "ZZP01"),
    ("Aisha", "Rahman", date(1979, 6, 23), Sex.FEMALE, "ZZG02", "ZZP02"),
    ("Gareth", "Lloyd", date(1960, 1, 9), Sex.MALE, "ZZG01", "ZZP01"),
    ("Susan", "Whitfield", date(1957, 8, 30), Sex.FEMALE, "ZZG02", None),
    ("Kwame", "Mensah", date(1972, 4, 17), Sex.MALE, "ZZG01", "ZZP02"),
    ("Janet", "Clarke", date(1949, 12, 5), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("Robert", "Fenwick", date(1983, 2, 28), Sex.MALE, "ZZG02", "ZZP02"),
    ("Helen", "Dawson", date(1965, 9, 12), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("Imran", "Qureshi", date(1976, 7, 4), Sex.MALE, "ZZG02", "ZZP02"),
    ("Linda", "Baxter", date(1954, 5, 21), Sex.FEMALE, "ZZG01", None),
    ("Stephen", "Marsh", date(1962, 10, 16), Sex.MALE, "ZZG01", "ZZP01"),
    ("Olga", "Nowak", date(1970, 3, 3), Sex.FEMALE, "ZZG02", "ZZP02"),
    ("Peter", "Gallagher", date(1958, 6, 8), Sex.MALE, "ZZG01", "ZZP01"),
    ("Carol", "Hughes", date(1946, 1, 27), Sex.FEMALE, "ZZG02", "ZZP01"),
    ("Daniel", "Osei", date(1988, 11, 19), Sex.MALE, "ZZG01", "ZZP02"),
    ("Patricia", "Kerr", date(1961, 8, 2), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("Michael", "Dunne", date(1974, 12, 11), Sex.MALE, "ZZG02", None),
    ("Fatima", "Begum", date(1981, 4, 29), Sex.FEMALE, "ZZG02", "ZZP02"),
    ("Alan", "Stevens", date(1953, 9, 7), Sex.MALE, "ZZG01", "ZZP01"),
    ("Joanne", "Price", date(1967, 2, 14), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("Wei", "Chen", date(1985, 7, 25), Sex.MALE, "ZZG02", "ZZP02"),
    ("Sandra", "Moss", date(1959, 10, 1), Sex.FEMALE, "ZZG01", "ZZP01"),
    ("Keith", "Barlow", date(1950, 5, 13), Sex.MALE, "ZZG02", "ZZP01"),
]

# Communication needs for a few patients, so the Accessible Information Standard banner shows.
NEEDS: dict[str, dict[str, Any]] = {
    # Mobile numbers are from Ofcom's range kept for drama (07700 900000 to 900999): never a real phone.
    "Holloway": {"contact_by": "sms", "mobile_phone": "07700 900101"},
    "Nowak": {"preferred_language": "Polish", "interpreter_needed": True},
    "Hughes": {"large_print": True},
    "Barlow": {"easy_read": True, "other_communication_needs": "Prefers appointments with a carer present"},
}


def _twice_daily(product: str, brand: str, dose_mg: float) -> dict[str, Any]:
    return {"product": product, "brand": brand,
            "doses": [{"time": "08:00", "dose_mg": dose_mg}, {"time": "20:00", "dose_mg": dose_mg}]}


# Current regimens for some demo patients: (family name, lines, benzodiazepine, gabapentinoid)
REGIMENS: list[tuple[str, list[dict[str, Any]], bool, bool]] = [
    ("Holloway", [_twice_daily("morphine-mr-tablet-12h", "MST Continus", 60),
                  {"product": "morphine-oral-solution-10mg-5ml",
                   "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}}], False, True),
    ("Pritchard", [_twice_daily("oxycodone-mr-tablet-12h", "OxyContin", 40),
                   {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 10, "usual_per_day": 1, "max_per_day": 4}}],
     True, False),
    ("Rahman", [{"product": "co-codamol-30-500-tablet", "doses": [
        {"time": at, "dose_mg": 60} for at in ("08:00", "12:00", "16:00", "22:00")]}], False, False),
    ("Lloyd", [{"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 50}], False, True),
    ("Whitfield", [{"product": "buprenorphine-patch-7day", "brand": "BuTrans", "patch_mcg_per_hour": 20}], False,
     False),
    ("Mensah", [_twice_daily("tramadol-mr-tablet-12h", "Zydol SR", 150)], False, False),
]


def synthetic_nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers 999 000 0001 upwards (the 999 range is never issued: synthetic/test)."""
    numbers: list[str] = []
    stem = 999000000
    while len(numbers) < count:
        stem += 1
        check = nhs_number.calculate_checksum(str(stem))
        if check != 10:  # a check digit of 10 means the stem is never used
            numbers.append(f"{stem}{check}")
    return numbers


def _sender_details(email: str) -> dict[str, str]:
    if email not in SENDER_DETAILS:
        return {}
    job_title, number = SENDER_DETAILS[email]
    return {"job_title": job_title, "registration_body": "GPhC", "registration_number": number}


def load_if_empty() -> bool:
    """Load the demo organisations, users and patients unless the database already has any; True if loaded."""
    if db.session.scalar(select(Organisation.id).limit(1)) or db.session.scalar(select(User.id).limit(1)):
        return False
    by_code: dict[str, Organisation] = {}
    for kind, name, ods_code, phone in ORGANISATIONS:
        organisation = accounts.create_organisation(
            by=None, kind=kind, name=name, ods_code=ods_code, phone=phone,
            address=CLINIC_ADDRESS if kind is OrganisationKind.PAIN_CLINIC else "")
        organisation.synthetic = True
        organisation.supplies_naloxone = kind is OrganisationKind.PAIN_CLINIC  # plans then explain naloxone
        by_code[ods_code] = organisation
    users = {email: accounts.create_user(by=None, email=email, full_name=full_name, role=role,
                                         organisation_id=by_code[user_ods_code].id if user_ods_code else None,
                                         password=DEMO_PASSWORD, **_sender_details(email))
             for email, full_name, role, user_ods_code in USERS}
    by_family_name: dict[str, Patient] = {}
    for number, (given, family, born_on, sex, practice, pharmacy) in zip(
            synthetic_nhs_numbers(len(PATIENTS)), PATIENTS, strict=True):
        by_family_name[family] = patients.create_patient(
            by=None, clinic_id=by_code["ZZC01"].id, details=PatientDetails(
                nhs_number=number, given_name=given, family_name=family, date_of_birth=born_on, sex=sex,
                gp_practice_id=by_code[practice].id, pharmacy_id=by_code[pharmacy].id if pharmacy else None,
                **NEEDS.get(family, {})))
    pharmacist = users[USERS[0][0]]  # the demo clinic's lead pharmacist recorded the regimens
    for family, lines, benzodiazepine, gabapentinoid in REGIMENS:
        regimens.record_regimen(by=pharmacist, patient_id=by_family_name[family].id, entry=RegimenEntry(
            lines=lines, benzodiazepine=benzodiazepine, gabapentinoid=gabapentinoid,
            notes="Synthetic demo regimen."))
    for details in SESSIONS:
        capacity.add_session(by=pharmacist, details=details)
    _start_demo_plan(pharmacist, by_family_name["Holloway"])
    _import_demo_cohort(pharmacist, by_code["ZZC01"].id)
    return True


def _import_demo_cohort(pharmacist: User, clinic_id: int) -> None:
    """A small synthetic extract of the demo practices' searches (about 40 rows), imported through the cohort
    import as the pharmacist would (preview, confirm, run), so the demo has a cohort to find and invite."""
    extract = io.StringIO()
    write_extract(extract, DEMO_COHORT_ROWS, seed=18, practices=["ZZG01", "ZZG02"], header_style="emis")
    record = cohort_import.preview(by=pharmacist, clinic_id=clinic_id, file_name="demo-practice-search.csv",
                                   content=extract.getvalue().encode())
    record = cohort_import.confirm(by=pharmacist, import_id=record.id, expected_version=record.version)
    cohort_import.run(import_id=record.id, after_batch=lambda: None)  # the command commits once, at the end


# The demo pharmacist's week: mornings in clinic, Wednesday afternoons on the phone.
SESSIONS = [*(SessionDetails(weekday, time(9), time(12, 30), remote=False, location="Demo clinic room 2")
              for weekday in range(5)), SessionDetails(2, time(13, 30), time(17), remote=True)]


def _start_demo_plan(pharmacist: User, patient: Patient) -> None:
    """A running plan that started six days ago in weekly steps, so its second step starts tomorrow and the
    step-reminders job has a reminder to send (`flask taper run-job step-reminders`)."""
    started = clock.today() - timedelta(days=6)
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(
        start_on=started, interval_days=7, review_every_days=7))
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=plans.Decision(
        what_matters="Walking to the allotment without stopping", goals="Off strong opioids by the summer",
        agreed_pace="10% every week; slower if the withdrawal is hard", prescriber="gp", consent_share_with_gp=True,
        consent_share_with_pharmacy=True, agreed_on=started))
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)


DEMO_ODS_CODES = frozenset(ods_code for _, _, ods_code, _ in ORGANISATIONS)
DEMO_EMAILS = frozenset(email for email, _, _, _ in USERS)


def not_demo_data() -> str | None:
    """Why this database holds more than the demo data (so `flask taper demo-data --reset` must never wipe it),
    or None. Demo data is: organisations marked synthetic with the demo ODS codes, the demo users only, and
    patients with NHS numbers in the never-issued 999 range. A database with no tables at all holds nothing."""
    tables = set(inspect(db.engine).get_table_names())
    if not tables:
        return None
    if not {"organisations", "users", "patients"} <= tables:
        return "This database does not look like Taper's: it is never wiped."
    organisations = db.session.scalar(select(func.count()).select_from(Organisation).where(
        or_(Organisation.ods_code.not_in(DEMO_ODS_CODES), Organisation.synthetic.is_(False))))
    users = db.session.scalar(select(func.count()).select_from(User).where(User.email.not_in(DEMO_EMAILS)))
    patients = db.session.scalar(select(func.count()).select_from(Patient).where(
        ~Patient.nhs_number.like("999%")))
    found = [f"{count} {one if count == 1 else many}" for count, one, many in (
        (organisations, "organisation that is not the demo's", "organisations that are not the demo's"),
        (users, "user who is not a demo user", "users who are not demo users"),
        (patients, "patient with an NHS number outside the 999 test range",
         "patients with NHS numbers outside the 999 test range")) if count]
    if not found:
        return None
    return ("This database holds data that is not demo data (" + ", ".join(found) + "): it is never wiped. "
            "Start again only on a demo database.")


def sign_in_help() -> str:
    lines = ["Demo sign-ins (synthetic data only), all with the password " + DEMO_PASSWORD + ":"]
    lines += [f"  {role.label:<28} {email}" for email, _, role, _ in USERS]
    lines.append("To start again from fresh demo data: stop the server, then make reset-demo.")
    return "\n".join(lines)
