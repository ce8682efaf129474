"""Synthetic data at any size, for load tests and measuring (`flask taper synthetic-data`; refused in
production). Organisations, users of every role, patients, recorded regimens, plans in every status made by the
real engine, shared decisions, appointments in the pharmacists' sessions, follow-ups, documents (placeholders),
letters read and acknowledged, supplies, concerns and the audit events the services write for what they create,
all written in bulk (docs/synthetic-data.md). Everything is marked: organisations `synthetic`, e-mail addresses
under synthetic.taper.invalid, NHS numbers in the never-issued 999 range, audit events from "synthetic-data"."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from taper import clock
from taper.extensions import db
from taper.models import Organisation, Patient, User
from taper.services.errors import InvalidInput
from taper.services.passwords import hash_password, password_problem
from taper.services.synthetic.bookings import make_appointments
from taper.services.synthetic.people import EMAIL_DOMAIN, make_people
from taper.services.synthetic.plans import Engine, make_plans
from taper.services.synthetic.sharing import make_sharing
from taper.services.synthetic.writer import Writer

MAX_PATIENTS = 200_000


@dataclass(frozen=True)
class Summary:
    counts: Counter[str]  # rows written, by table
    engine_runs: int  # schedules the engine built (one per distinct regimen and start date)
    unplaced_reviews: int  # reviews no free slot was found for in their window


class Refused(Exception):
    """The database is not one to fill with synthetic data (it holds real data, or synthetic data already)."""


def generate(*, patients: int, running_plans: int, password: str, alongside_real_data: bool = False,
             seed: int = 16) -> Summary:
    """Write synthetic data for `patients` patients, `running_plans` of them on a running plan (plus drafts,
    completed and stopped plans in proportion). Every user signs in with `password`. Flushes; the caller
    commits. The same seed gives the same data."""
    errors = {}
    if not 1 <= patients <= MAX_PATIENTS:
        errors["patients"] = f"Choose from 1 to {MAX_PATIENTS:,} patients"
    if not 0 <= running_plans <= patients:
        errors["plans"] = "Choose from 0 running plans up to one for every patient"
    problem = password_problem(password, user_inputs=(EMAIL_DOMAIN,))
    if problem:
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors)
    refusal = existing_data_problem(alongside_real_data=alongside_real_data)
    if refusal:
        raise Refused(refusal)
    rng, writer, engine = random.Random(seed), Writer(), Engine()
    people = make_people(writer, rng, patients=patients, running_plans=running_plans,
                         password_hash=hash_password(password))  # hashed once: Argon2 is slow on purpose
    plans = make_plans(writer, rng, people, engine, running_plans=running_plans)
    unplaced = make_appointments(writer, rng, plans)
    make_sharing(writer, rng, people, plans)
    writer.audit(action="create", by=None, entity_type="synthetic_data", entity_id="-", occurred_at=clock.now(),
                 changes={"patients": patients, "running_plans": running_plans, "seed": seed})
    writer.write_audit()
    db.session.flush()
    return Summary(writer.counts, engine.runs, unplaced)


def existing_data_problem(*, alongside_real_data: bool) -> str | None:
    """Why this database should not get synthetic data, or None. A second run is always refused; data that is not
    synthetic (an organisation not marked synthetic, a patient outside the 999 range, a user outside .invalid
    addresses) only without `alongside_real_data`."""
    if db.session.scalar(select(User.id).where(User.email.like(f"%@{EMAIL_DOMAIN}")).limit(1)) is not None:
        return "This database already has synthetic data: generate it into a new, empty database."
    if alongside_real_data:
        return None
    real = db.session.scalar(select(Organisation.id).where(Organisation.synthetic.is_(False)).limit(1)) or \
        db.session.scalar(select(Patient.id).where(~Patient.nhs_number.like("999%")).limit(1)) or \
        db.session.scalar(select(User.id).where(~User.email.like("%.invalid")).limit(1))
    if real is not None:
        return ("This database holds data that is not synthetic: synthetic data goes into a database of its own. "
                "To add it anyway (never in production), pass --alongside-real-data.")
    return None
