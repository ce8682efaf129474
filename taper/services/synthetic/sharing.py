"""What goes out when a synthetic plan starts, and what the GP practice and pharmacy do with it: the version's
three documents (placeholders: see `document_rows`), letters read and acknowledged, supplies made against the
dispensing schedule, and concerns raised with the clinic."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from typing import Any

from taper import clock
from taper.domain.dispensing import Instalment, instalments
from taper.domain.formulary import load_formulary
from taper.domain.plans import PlanStatus
from taper.domain.schedule_contract import schedule_from_document
from taper.models import Concern, LetterReceipt, PlanDocument, Supply, WorklistItem
from taper.services.pharmacy_concerns import CONCERN_LABELS
from taper.services.plan_documents import TITLES
from taper.services.synthetic.people import People
from taper.services.synthetic.placeholder_pdf import TEMPLATE_VERSION, placeholder_pdf
from taper.services.synthetic.plans import PlanRow
from taper.services.synthetic.writer import Writer, at

READ_SHARE, ACKNOWLEDGED_SHARE = 0.8, 0.65  # of GP letters: read, and of those read, acknowledged as well
CONCERN_SHARE = 0.03  # of running plans shared with a pharmacy
CONCERNS = (("early_or_extra_request", "Asked for the next instalment three days early"),
            ("withdrawal", "Says they feel shaky and sweaty since the last step"),
            ("change_of_pace", "Would like to slow down after the next step"))


def make_sharing(writer: Writer, rng: random.Random, people: People, plans: list[PlanRow]) -> None:
    """Documents for every plan that started; receipts, supplies and concerns where the patient agreed to share."""
    issued = [plan for plan in plans if plan.status is not PlanStatus.DRAFT]
    letters = _documents(writer, issued)
    _receipts(writer, rng, people, [plan for plan in issued if plan.consent_gp], letters)
    shared = [plan for plan in issued if plan.consent_pharmacy]
    _supplies(writer, rng, people, shared)
    _concerns(writer, rng, people, [plan for plan in shared if plan.status.is_running])


def document_rows(plan: PlanRow) -> list[dict[str, Any]]:
    """The three documents of the plan's version, as placeholders: rendering real ones (WeasyPrint, about half a
    second a pack) for thousands of plans would take hours, and one real pack shared by many rows would print
    another patient's name. Each placeholder names its own patient and says it is not a real document;
    `template_version` "synthetic" marks the rows."""
    patient = plan.patient
    rows: list[dict[str, Any]] = []
    for kind, title in TITLES.items():
        pdf = placeholder_pdf("SYNTHETIC TEST DATA: not a real document", [
            f"This page stands in for the {title.lower()} of plan {plan.id}, version 1,",
            f"for {patient.given_name} {patient.family_name} (NHS number {patient.nhs_number}), a made-up patient.",
            "`flask taper synthetic-data` writes placeholders because rendering every plan's documents",
            "would take hours. Real documents come only from plans made in the app."])
        rows.append({"plan_version_id": plan.version_id, "kind": kind, "template_version": TEMPLATE_VERSION,
                     "sha256": hashlib.sha256(pdf).hexdigest(), "pdf": pdf, "created_at": at(plan.created_on, 12)})
    return rows


def _documents(writer: Writer, issued: list[PlanRow]) -> dict[int, int]:
    """Each plan's documents, issued when it started; the id of each plan's GP letter, by plan id."""
    per_plan = [document_rows(plan) for plan in issued]
    ids = iter(writer.insert(PlanDocument, [row for rows in per_plan for row in rows]))
    letters = {}
    for plan, rows in zip(issued, per_plan, strict=True):
        for row in rows:
            document_id = next(ids)
            if row["kind"] == "gp_letter":
                letters[plan.id] = document_id
        writer.audit(action="create", by=plan.pharmacist, entity_type="plan_documents", entity_id=plan.version_id,
                     patient_id=plan.patient.id, occurred_at=at(plan.created_on, 12),
                     changes={str(row["kind"]): row["sha256"] for row in rows})
    return letters


def _receipts(writer: Writer, rng: random.Random, people: People, plans: list[PlanRow],
              letters: dict[int, int]) -> None:
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for plan in plans:
        if rng.random() >= READ_SHARE:
            continue
        gp = people.gps[plan.patient.gp_practice_id]
        read_at = min(at(plan.created_on + timedelta(days=rng.randint(1, 3)), 9, 15), now)
        acknowledged_at = read_at + timedelta(minutes=20) if rng.random() < ACKNOWLEDGED_SHARE / READ_SHARE else None
        if acknowledged_at is not None and acknowledged_at > now:
            acknowledged_at = None
        rows.append({"plan_document_id": letters[plan.id], "organisation_id": plan.patient.gp_practice_id,
                     "read_at": read_at, "read_by_id": gp.user_id, "acknowledged_at": acknowledged_at,
                     "acknowledged_by_id": gp.user_id if acknowledged_at else None,
                     "version": 2 if acknowledged_at else 1})
        if acknowledged_at is not None:
            writer.audit(action="acknowledge", by=gp, entity_type="plan_document", entity_id=letters[plan.id],
                         patient_id=plan.patient.id, occurred_at=acknowledged_at,
                         changes={"plan": plan.id, "version": 1})
    writer.insert(LetterReceipt, rows)


def _supplies(writer: Writer, rng: random.Random, people: People, plans: list[PlanRow]) -> None:
    """Every instalment begun by today (or by the day the plan ended) supplied in full on its first day by the
    patient's pharmacy; the one in progress, most of the time."""
    today, formulary = clock.today(), load_formulary()
    periods: dict[tuple[int, int], list[Instalment]] = {}
    rows: list[dict[str, Any]] = []
    made = []
    for plan in plans:
        key = (id(plan.built), plan.instalment_days)
        if key not in periods:
            periods[key] = instalments(schedule_from_document(plan.built.schedule, formulary),
                                       instalment_days=plan.instalment_days)
        pharmacist = people.pharmacy_users[plan.patient.pharmacy_id or 0]
        last = min(today, plan.ended_on or today)
        for period in periods[key]:
            if period.starts_on > last or (period.ends_on >= today and rng.random() < 0.3):
                continue
            for item in period.supplies:
                if item.quantity <= 0:
                    continue
                rows.append({"plan_id": plan.id, "plan_version_id": plan.version_id, "instalment": period.number,
                             "pharmacy_id": plan.patient.pharmacy_id, "supplied_on": period.starts_on,
                             "product": item.product, "strength": item.strength, "quantity": item.quantity,
                             "override_reason": "", "recorded_by_id": pharmacist.user_id,
                             "created_at": at(period.starts_on, 11)})
                made.append(plan)
    supply_ids = writer.insert(Supply, rows)
    for supply_id, row, plan in zip(supply_ids, rows, made, strict=True):
        writer.audit(action="create", by=people.pharmacy_users[plan.patient.pharmacy_id or 0], entity_type="supply",
                     entity_id=supply_id, patient_id=plan.patient.id, occurred_at=row["created_at"], changes={
                         "plan": plan.id, "instalment": row["instalment"], "product": row["product"],
                         "quantity": str(row["quantity"]), "over_schedule": False, "early": False})


def _concerns(writer: Writer, rng: random.Random, people: People, plans: list[PlanRow]) -> None:
    """A few concerns from pharmacies, each on the clinic's worklist as `raise_concern` puts it there."""
    raised = [plan for plan in plans if rng.random() < CONCERN_SHARE]
    when = at(clock.today() - timedelta(days=1), 16)
    picked = [rng.choice(CONCERNS) for _ in raised]
    rows = [{"plan_id": plan.id, "pharmacy_id": plan.patient.pharmacy_id, "kind": kind, "detail": detail,
             "raised_by_id": people.pharmacy_users[plan.patient.pharmacy_id or 0].user_id, "created_at": when}
            for plan, (kind, detail) in zip(raised, picked, strict=True)]
    ids = writer.insert(Concern, rows)
    items = []
    for id, plan, (kind, detail) in zip(ids, raised, picked, strict=True):
        by = people.pharmacy_users[plan.patient.pharmacy_id or 0]
        items.append({"key": f"pharmacy_concern:{id}", "kind": "pharmacy_concern", "clinic_id": plan.patient.clinic.id,
                      "patient_id": plan.patient.id, "plan_id": plan.id, "created_at": when, "resolved_at": None,
                      "detail": f"{CONCERN_LABELS[kind]} ({by.full_name}, community pharmacy): {detail}"})
        writer.audit(action="create", by=by, entity_type="concern", entity_id=id, patient_id=plan.patient.id,
                     occurred_at=when, changes={"plan": plan.id, "kind": kind})
    writer.insert(WorklistItem, items)
