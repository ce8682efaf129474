"""Synthetic organisations, users, clinic sessions and patients, in the proportions of an integrated care system:
one pain clinic for about 2,000 patients on its caseload, a GP practice for about 200 and a community pharmacy for
about 100; enough clinic pharmacists for about 50 running plans each. Names are made up; NHS numbers are in the 999
range, never issued; phone numbers in Ofcom's drama ranges; every organisation is marked synthetic."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil
from typing import Any

from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import Sex
from taper.extensions import db
from taper.models import ClinicSession, Organisation, Patient, User
from taper.services.demo_data import synthetic_nhs_numbers
from taper.services.synthetic.writer import Actor, Writer, at

EMAIL_DOMAIN = "synthetic.taper.invalid"  # .invalid is never a real address (RFC 2606)
ODS_PREFIX = "ZY"  # ODS codes starting ZY are not issued; the demo data uses ZZ
PATIENTS_PER_CLINIC = 2000
PATIENTS_PER_PRACTICE = 200
PATIENTS_PER_PHARMACY = 100
RUNNING_PLANS_PER_PHARMACIST = 50

TOWNS = ("Leeds", "Wakefield", "Bradford", "Halifax", "Huddersfield", "Harrogate", "York", "Keighley", "Dewsbury",
         "Pontefract", "Castleford", "Ilkley", "Otley", "Batley", "Brighouse", "Skipton")
STREETS = ("Riverside", "Hillview", "Station Road", "High Street", "Church Lane", "Park View", "Mill Street",
           "Market Place", "Canal Side", "Oak Tree", "Meadow Bank", "Bridge End", "Queens Road", "Victoria")
GIVEN = {Sex.FEMALE: ("Margaret", "Aisha", "Susan", "Janet", "Helen", "Linda", "Olga", "Carol", "Patricia",
                      "Fatima", "Joanne", "Sandra", "Priya", "Grace", "Niamh", "Mei", "Zainab", "Ewa", "Ruth"),
         Sex.MALE: ("David", "Gareth", "Kwame", "Robert", "Imran", "Stephen", "Peter", "Daniel", "Michael", "Alan",
                    "Wei", "Keith", "Tomasz", "Samuel", "Arjun", "Liam", "Yusuf", "Owen", "Callum")}
FAMILY = ("Holloway", "Pritchard", "Rahman", "Lloyd", "Whitfield", "Mensah", "Clarke", "Fenwick", "Dawson",
          "Qureshi", "Baxter", "Marsh", "Nowak", "Gallagher", "Hughes", "Osei", "Kerr", "Dunne", "Begum", "Stevens",
          "Price", "Chen", "Moss", "Barlow", "Okafor", "Shah", "Evans", "Ahmed", "Morgan", "Kowalski", "Singh",
          "Patel", "Walsh", "Brennan", "Adeyemi", "Harrison", "Turner", "Foster", "Khan", "Murphy")


@dataclass
class Clinic:
    id: int
    pharmacists: list[Actor] = field(default_factory=list)
    practices: list[int] = field(default_factory=list)
    pharmacies: list[int] = field(default_factory=list)


@dataclass
class People:
    """What the rest of the generator needs to know about the people it made."""

    clinics: list[Clinic]
    gps: dict[int, Actor]  # practice id: its GP
    pharmacy_users: dict[int, Actor]  # pharmacy id: its community pharmacist
    patients: list[PatientRow]


@dataclass(frozen=True)
class PatientRow:
    id: int
    clinic: Clinic
    given_name: str
    family_name: str
    nhs_number: str
    gp_practice_id: int
    pharmacy_id: int | None


def make_people(writer: Writer, rng: random.Random, *, patients: int, running_plans: int,
                password_hash: str) -> People:
    """The organisations, their users (all with `password_hash`), the pharmacists' sessions and the patients."""
    clinic_count = ceil(patients / PATIENTS_PER_CLINIC)
    created_at = at(clock.today() - timedelta(days=400), 9)
    clinics = [Clinic(id) for id in _organisations(writer, OrganisationKind.PAIN_CLINIC, clinic_count, created_at)]
    practice_ids = _organisations(writer, OrganisationKind.GP_PRACTICE,
                                  max(2, ceil(patients / PATIENTS_PER_PRACTICE)), created_at)
    pharmacy_ids = _organisations(writer, OrganisationKind.COMMUNITY_PHARMACY,
                                  max(2, ceil(patients / PATIENTS_PER_PHARMACY)), created_at)
    for number, practice in enumerate(practice_ids):  # each practice and pharmacy is near one clinic
        clinics[number % clinic_count].practices.append(practice)
    for number, pharmacy in enumerate(pharmacy_ids):
        clinics[number % clinic_count].pharmacies.append(pharmacy)
    accounts = _Accounts(rng, password_hash, created_at)
    accounts.add(Role.ADMIN, None)
    pharmacists_per_clinic = max(2, ceil(running_plans / clinic_count / RUNNING_PLANS_PER_PHARMACIST))
    for clinic in clinics:
        for _ in range(pharmacists_per_clinic):
            accounts.add(Role.PHARMACIST, clinic.id)
    for practice in practice_ids:
        accounts.add(Role.GP, practice)
    for pharmacy in pharmacy_ids:
        accounts.add(Role.COMMUNITY_PHARMACIST, pharmacy)
    actors = accounts.write(writer)
    for clinic in clinics:
        clinic.pharmacists = [actor for actor, organisation_id in actors if organisation_id == clinic.id]
    gps = {organisation_id: actor for actor, organisation_id in actors
           if actor.role == Role.GP and organisation_id is not None}
    pharmacy_users = {organisation_id: actor for actor, organisation_id in actors
                      if actor.role == Role.COMMUNITY_PHARMACIST and organisation_id is not None}
    _sessions(writer, [pharmacist for clinic in clinics for pharmacist in clinic.pharmacists], created_at)
    return People(clinics, gps, pharmacy_users, _patients(writer, rng, clinics, patients, created_at))


def _organisations(writer: Writer, kind: OrganisationKind, count: int, created_at: datetime) -> list[int]:
    letter = {OrganisationKind.PAIN_CLINIC: "C", OrganisationKind.GP_PRACTICE: "G",
              OrganisationKind.COMMUNITY_PHARMACY: "P"}[kind]
    rows: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        town, street = TOWNS[number % len(TOWNS)], STREETS[number % len(STREETS)]
        name = {OrganisationKind.PAIN_CLINIC: f"Synthetic {town} Community Pain Service {number}",
                OrganisationKind.GP_PRACTICE: f"Synthetic {street} Surgery {number}",
                OrganisationKind.COMMUNITY_PHARMACY: f"Synthetic {street} Pharmacy {number}"}[kind]
        clinic = kind is OrganisationKind.PAIN_CLINIC
        rows.append({"kind": kind, "name": name, "ods_code": f"{ODS_PREFIX}{letter}{number:04d}",
                     # Ofcom's range for drama, 0113 496 0000 to 0999: never a real line.
                     "phone": f"0113 496 {number % 1000:04d}", "email": "", "synthetic": True,
                     "address": f"Synthetic Health Centre {number}\n{number} Example Street\n{town}\nLS1 1AA"
                     if clinic else "", "supplies_naloxone": clinic, "created_at": created_at, "version": 1})
    ids = writer.insert(Organisation, rows)
    for id, row in zip(ids, rows, strict=True):
        writer.audit(action="create", by=None, entity_type="organisation", entity_id=id, occurred_at=created_at,
                     changes={"kind": row["kind"].value, "name": row["name"], "ods_code": row["ods_code"]})
    return ids


class _Accounts:
    """Users, numbered per role (pharmacist-0001@...), all with the one password hash (Argon2 is slow by design)."""

    PREFIX = {Role.ADMIN: "admin", Role.PHARMACIST: "pharmacist", Role.GP: "gp",
              Role.COMMUNITY_PHARMACIST: "pharmacy"}

    def __init__(self, rng: random.Random, password_hash: str, created_at: datetime) -> None:
        self.rng, self.password_hash, self.created_at = rng, password_hash, created_at
        self.rows: list[dict[str, Any]] = []
        self.serial: dict[Role, int] = dict.fromkeys(Role, 0)

    def add(self, role: Role, organisation_id: int | None) -> None:
        self.serial[role] += 1
        sex = self.rng.choice(list(GIVEN))
        name = f"{self.rng.choice(GIVEN[sex])} {self.rng.choice(FAMILY)}"
        pharmacist = role is Role.PHARMACIST  # signs GP letters: a job title and a GPhC number (7 digits)
        self.rows.append({"email": f"{self.PREFIX[role]}-{self.serial[role]:04d}@{EMAIL_DOMAIN}",
                          "full_name": f"Dr {name}" if role is Role.GP else name,
                          "job_title": "Specialist pain pharmacist, independent prescriber" if pharmacist else "",
                          "registration_body": "GPhC" if pharmacist else "",
                          "registration_number": f"2{self.serial[role]:06d}" if pharmacist else "",
                          "role": role, "organisation_id": organisation_id, "password_hash": self.password_hash,
                          "active": True, "created_at": self.created_at, "version": 1})

    def write(self, writer: Writer) -> list[tuple[Actor, int | None]]:
        """The users written, each with their organisation."""
        ids = writer.insert(User, self.rows)
        actors = []
        for id, row in zip(ids, self.rows, strict=True):
            role = row["role"]
            assert isinstance(role, Role)
            actor = Actor(id, str(row["email"]), role.value, str(row["full_name"]))
            writer.audit(action="create", by=None, entity_type="user", entity_id=id, occurred_at=self.created_at,
                         changes={"email": actor.email, "role": actor.role})
            actors.append((actor, row["organisation_id"] if isinstance(row["organisation_id"], int) else None))
        return actors


CLINIC_ROOM = "Synthetic clinic room"
# Each pharmacist's week: mornings at the clinic, afternoons at the clinic or on the phone (Tuesday, Thursday).
WEEK = [(weekday, time(9), time(12, 30), False) for weekday in range(5)] + [
    (weekday, time(13, 30), time(17), weekday in (1, 3)) for weekday in range(5)]


def _sessions(writer: Writer, pharmacists: list[Actor], created_at: datetime) -> None:
    rows: list[dict[str, Any]] = [
        {"pharmacist_id": pharmacist.user_id, "weekday": weekday, "starts": starts, "ends": ends, "remote": remote,
         "location": "" if remote else CLINIC_ROOM, "created_at": created_at}
        for pharmacist in pharmacists for weekday, starts, ends, remote in WEEK]
    ids = writer.insert(ClinicSession, rows)
    by_id = {pharmacist.user_id: pharmacist for pharmacist in pharmacists}
    for id, row in zip(ids, rows, strict=True):
        writer.audit(action="create", by=by_id[row["pharmacist_id"]], entity_type="clinic_session", entity_id=id,
                     occurred_at=created_at, changes={"weekday": row["weekday"], "remote": row["remote"]})


def _patients(writer: Writer, rng: random.Random, clinics: list[Clinic], count: int,
              created_at: datetime) -> list[PatientRow]:
    taken = set(db.session.scalars(select(Patient.nhs_number).where(Patient.nhs_number.like("999%"))))
    numbers = [number for number in synthetic_nhs_numbers(count + len(taken)) if number not in taken][:count]
    rows: list[dict[str, Any]] = []
    made = []
    for index, nhs_number in enumerate(numbers):
        clinic = clinics[index % len(clinics)]
        sex = rng.choice([Sex.FEMALE, Sex.MALE])
        given, family = rng.choice(GIVEN[sex]), rng.choice(FAMILY)
        pharmacy = rng.choice(clinic.pharmacies) if rng.random() < 0.9 else None
        contact_by = rng.choices(["none", "sms", "email", "letter"], [50, 35, 10, 5])[0]
        rows.append({
            "nhs_number": nhs_number, "given_name": given, "family_name": family,
            "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randrange(55 * 365)), "sex": sex,
            "clinic_id": clinic.id, "gp_practice_id": rng.choice(clinic.practices), "pharmacy_id": pharmacy,
            "preferred_language": "Polish" if index % 97 == 5 else "English", "interpreter_needed": index % 97 == 5,
            "large_print": index % 61 == 7, "easy_read": index % 89 == 11, "other_communication_needs": "",
            "contact_by": contact_by,
            # Ofcom's range for drama (07700 900000 to 900999) and the .invalid domain: nobody is ever reached.
            "mobile_phone": f"07700 900{index % 1000:03d}" if contact_by == "sms" else "",
            "email": f"patient-{index + 1:05d}@{EMAIL_DOMAIN}" if contact_by == "email" else "",
            "postal_address": f"{index + 1} Example Street\n{TOWNS[index % len(TOWNS)]}\nLS1 1AA"
            if contact_by == "letter" else "",
            "created_at": created_at, "updated_at": created_at, "version": 1})
        made.append((clinic, given, family, nhs_number, int(rows[-1]["gp_practice_id"]), pharmacy))
    ids = writer.insert(Patient, rows)
    patients = [PatientRow(id, *details) for id, details in zip(ids, made, strict=True)]
    for patient in patients:
        writer.audit(action="create", by=patient.clinic.pharmacists[patient.id % len(patient.clinic.pharmacists)],
                     entity_type="patient", entity_id=patient.id, patient_id=patient.id, occurred_at=created_at,
                     changes={"nhs_number": patient.nhs_number, "given_name": patient.given_name,
                              "family_name": patient.family_name})
    return patients
