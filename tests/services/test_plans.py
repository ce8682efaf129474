"""Plans: drafted from the regimen, agreed, run, revised (new immutable versions), ended."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import AuditEvent, Patient, Plan, PlanDocument, PlanVersion, User
from taper.models.guards import AppendOnly
from taper.services import plans, regimens
from taper.services.errors import InvalidInput, StaleEdit
from taper.services.regimens import RegimenEntry
from tests.conftest import TODAY, Maker

MORPHINE_BD = {"product": "morphine-mr-tablet-12h",
               "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]}
DECISION = plans.Decision(what_matters="Playing with my grandchildren", goals="Off opioids by summer",
                          agreed_pace="10% every two weeks", prescriber="pharmacist", consent_share_with_gp=True,
                          consent_share_with_pharmacy=True, agreed_on=TODAY)


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()
    return patient


def _draft(pharmacist: User, patient: Patient, **settings: object) -> Plan:
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id,
                              settings=plans.PlanSettings(start_on=TODAY, **settings))  # type: ignore[arg-type]
    db.session.commit()
    return plan


def _activate(pharmacist: User, plan: Plan) -> Plan:
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    db.session.commit()
    return plan


def test_a_draft_is_built_from_the_current_regimen(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    version = plan.current
    assert (plan.status, version.number, version.starting_ome_mg_per_day) == (PlanStatus.DRAFT, 1, 120)
    assert version.schedule["steps"][0]["starts_on"] == TODAY.isoformat()
    assert version.request["regimen"] == [MORPHINE_BD]


def test_a_plan_needs_a_recorded_regimen(pharmacist: User, make: Maker) -> None:
    bare = make.patient(pharmacist)
    with pytest.raises(InvalidInput, match="current regimen"):
        plans.create_draft(by=pharmacist, patient_id=bare.id, settings=plans.PlanSettings(start_on=TODAY))


def test_a_start_date_too_far_in_the_past_is_refused(pharmacist: User, patient: Patient) -> None:
    with pytest.raises(InvalidInput) as refusal:
        plans.create_draft(by=pharmacist, patient_id=patient.id,
                           settings=plans.PlanSettings(start_on=TODAY - timedelta(days=8)))
    assert "at most 7 days ago" in refusal.value.errors["start_on"]


def test_starting_needs_the_shared_decision(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    with pytest.raises(InvalidInput, match="shared decision"):
        plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    _activate(pharmacist, plan)
    assert plan.status is PlanStatus.ACTIVE


def test_a_decision_with_missing_answers_is_refused(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    from dataclasses import replace

    with pytest.raises(InvalidInput) as refusal:
        plans.record_decision(by=pharmacist, plan_id=plan.id,
                              decision=replace(DECISION, goals=" ", prescriber="nurse"))
    assert set(refusal.value.errors) == {"goals", "prescriber"}


def test_illegal_moves_are_refused_and_ending_needs_a_reason(pharmacist: User, patient: Patient) -> None:
    plan = _activate(pharmacist, _draft(pharmacist, patient))
    with pytest.raises(InvalidInput, match="Say why"):
        plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.STOPPED)
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.COMPLETED,
                        reason="Reached the target")
    db.session.commit()
    assert (plan.final_ome_mg_per_day, plan.ended_on) == (110, TODAY)  # step 1 was in force today
    with pytest.raises(InvalidInput, match="start a new plan"):
        plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)


def test_only_one_running_plan_per_patient_enforced_by_the_database(pharmacist: User, patient: Patient) -> None:
    _activate(pharmacist, _draft(pharmacist, patient))
    second = _draft(pharmacist, patient)
    plans.record_decision(by=pharmacist, plan_id=second.id, decision=DECISION)
    with pytest.raises(InvalidInput, match="already has a running plan"):
        plans.change_status(by=pharmacist, plan_id=second.id, expected_version=second.version,
                            to=PlanStatus.ACTIVE)
    db.session.rollback()
    with pytest.raises(DatabaseError):  # the database itself refuses, whatever code path tries
        db.session.execute(text("UPDATE plans SET status = 'paused' WHERE id = :id"), {"id": second.id})
    db.session.rollback()


def test_a_hold_makes_a_new_version_moving_later_steps_by_exactly_the_hold(pharmacist: User,
                                                                            patient: Patient) -> None:
    plan = _activate(pharmacist, _draft(pharmacist, patient))
    first = plan.current.schedule["steps"]
    on = TODAY + timedelta(days=30)  # during step 3
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=on, hold_days=14,
                         reason="Withdrawal symptoms at the follow-up")
    db.session.commit()
    second = plan.current.schedule["steps"]
    assert plan.current.number == 2 and plan.current.reason == "Withdrawal symptoms at the follow-up"
    assert second[:2] == first[:2]
    assert date.fromisoformat(second[2]["ends_on"]) == date.fromisoformat(first[2]["ends_on"]) + timedelta(days=14)
    for before, after in zip(first[3:], second[3:], strict=True):
        assert date.fromisoformat(after["starts_on"]) == date.fromisoformat(before["starts_on"]) + timedelta(days=14)
        assert (after["lines"], after["ome_mg_per_day"]) == (before["lines"], before["ome_mg_per_day"])


def test_slowing_down_and_going_back_keep_past_steps(pharmacist: User, patient: Patient) -> None:
    plan = _activate(pharmacist, _draft(pharmacist, patient))
    original = plan.current.schedule["steps"]
    on = TODAY + timedelta(days=30)
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=on,
                         reduction_pct=Decimal(5), reason="Slower pace agreed")
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=on + timedelta(days=1),
                         go_back=True, reason="Pain flare: back one step")
    db.session.commit()
    assert plan.current.number == 3
    assert plan.current.schedule["steps"][:2] == original[:2]


def test_versions_cannot_be_changed_by_the_orm_or_the_database(pharmacist: User, patient: Patient) -> None:
    plan = _draft(pharmacist, patient)
    version = plan.current
    version.reason = "rewritten"
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE plan_versions SET reason = 'rewritten'"))
    db.session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM plan_versions"))
    db.session.rollback()
    assert db.session.scalar(select(PlanVersion.reason)) == "First draft"


def test_a_concurrent_revision_is_refused_and_the_first_kept(app: Flask, pharmacist: User, patient: Patient) -> None:
    plan = _activate(pharmacist, _draft(pharmacist, patient))
    plan_id, opened = plan.id, plan.version
    with app.app_context():  # another pharmacist, another session, saves first
        other = db.session.get(User, pharmacist.id)
        plans.revise_running(by=other, plan_id=plan_id, expected_version=opened, on=TODAY + timedelta(days=30),
                             hold_days=7, reason="First pharmacist's hold")
        db.session.commit()
    with pytest.raises(StaleEdit):  # this session still holds the plan as it was opened
        plans.revise_running(by=pharmacist, plan_id=plan_id, expected_version=opened,
                             on=TODAY + timedelta(days=30), hold_days=14, reason="Second pharmacist's hold")
    db.session.rollback()
    reasons = db.session.scalars(select(PlanVersion.reason).where(PlanVersion.plan_id == plan_id)
                                 .order_by(PlanVersion.number)).all()
    assert reasons[-1] == "First pharmacist's hold" and "Second pharmacist's hold" not in reasons


def test_a_hold_of_minus_three_days_is_refused(pharmacist: User, patient: Patient) -> None:
    plan = _activate(pharmacist, _draft(pharmacist, patient))
    with pytest.raises(InvalidInput) as refusal:
        plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=TODAY,
                             hold_days=-3, reason="typo")
    assert "hold_days" in refusal.value.errors


def test_starting_a_plan_issues_its_three_documents_once(pharmacist: User, patient: Patient) -> None:
    import hashlib

    from taper.models import PlanDocument
    from taper.services import plan_documents

    plan = _activate(pharmacist, _draft(pharmacist, patient))
    documents = plan_documents.documents_of(plan.current)
    assert sorted(document.kind for document in documents) == ["gp_letter", "patient_plan", "pharmacy_schedule"]
    assert all(document.pdf.startswith(b"%PDF") and document.sha256 == hashlib.sha256(document.pdf).hexdigest()
               for document in documents)
    again = plan_documents.issue(by=pharmacist, plan=plan, version=plan.current, prescriber="gp")
    assert {document.id for document in again} == {document.id for document in documents}  # issued once
    first = documents[0]
    first.pdf = b"%PDF-changed"
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE plan_documents SET sha256 = 'x'"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 3


def test_a_revision_issues_new_documents_and_keeps_the_old_ones(pharmacist: User, patient: Patient) -> None:
    import io

    from pypdf import PdfReader

    from taper.services import plan_documents

    plan = _activate(pharmacist, _draft(pharmacist, patient))
    old = {document.kind: document.sha256 for document in plan_documents.documents_of(plan.current)}
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=TODAY + timedelta(days=20), hold_days=14, reason="Hold agreed")
    db.session.commit()
    new = plan_documents.documents_of(plan.current)
    assert {document.kind for document in new} == set(old) and all(d.sha256 not in old.values() for d in new)
    assert {document.sha256 for document in plan_documents.documents_of(plan.versions[0])} == set(old.values())
    letter = next(document for document in new if document.kind == "gp_letter")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert "This replaces version 1" in text
    held = next(step for old_step, step in zip(plan.versions[0].schedule["steps"], plan.current.schedule["steps"],
                                               strict=True) if step["ends_on"] != old_step["ends_on"])
    # The letter opens with what changed, in words, and why; and it is signed by the pharmacist who made it.
    changed = text[text.index("What changed from version 1"):text.index("The plan")]
    assert f"Step {held['number']} held 14 more days" in changed and "Every later step starts 14 days later." in changed
    assert "Why: Hold agreed" in changed
    assert text.index("What changed from version 1") < text.index("Starting regimen")
    signed = f"Yours sincerely, {pharmacist.full_name} Specialist pain pharmacist GPhC registration number 0001234"
    assert signed in text
    assert "Infirmary Street" in text.split("To ")[0]  # the clinic's address heads the letter


def test_the_patient_plan_explains_naloxone_and_the_pain_relief_agreed(pharmacist: User, patient: Patient) -> None:
    """Naloxone when the clinic gives it; what to take for pain instead, from the shared decision."""
    import io
    from dataclasses import replace

    from pypdf import PdfReader

    from taper.services import plan_documents

    pharmacist.organisation.supplies_naloxone = True
    db.session.commit()
    plan = _draft(pharmacist, patient)
    plans.record_decision(by=pharmacist, plan_id=plan.id,
                          decision=replace(DECISION, pain_relief="Paracetamol 1 g up to four times a day"))
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    db.session.commit()
    patient_plan = next(document for document in plan_documents.documents_of(plan.current)
                        if document.kind == "patient_plan")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(patient_plan.pdf)).pages)
    assert "Naloxone: we have given you naloxone." in text
    assert "For pain, as your dose comes down, we agreed: Paracetamol 1 g up to four times a day" in text


def test_documents_are_not_issued_until_the_letter_can_be_signed_and_addressed(pharmacist: User,
                                                                               patient: Patient) -> None:
    draft = _draft(pharmacist, patient)
    pharmacist.registration_body = pharmacist.registration_number = ""
    db.session.commit()
    with pytest.raises(InvalidInput, match="job title and professional registration"):
        _activate(pharmacist, draft)
    db.session.rollback()
    pharmacist.registration_body, pharmacist.registration_number = "GPhC", "0001234"
    pharmacist.organisation.address = ""
    db.session.commit()
    with pytest.raises(InvalidInput, match="postal address"):
        _activate(pharmacist, draft)


def test_the_batch_command_issues_documents_missing_from_running_plans_once(app: Flask, pharmacist: User,
                                                                            make: Maker) -> None:
    """Plans started before Taper issued documents (as after the plan_documents migration) get theirs from
    `flask taper issue-documents --missing`, rendered in worker processes; a second run renders nothing."""
    from taper.services import plan_documents

    drafts = []
    for _ in range(3):
        patient = make.patient(pharmacist)
        regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
        drafts.append(_draft(pharmacist, patient))
    *started, draft = drafts
    for plan in started:
        plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
        plan.status = PlanStatus.ACTIVE  # started the old way, before documents were issued
    db.session.commit()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["taper", "issue-documents", str(draft.current.id)])
    assert refused.exit_code != 0 and "has not started" in refused.output
    result = runner.invoke(args=["taper", "issue-documents", "--missing"])
    assert result.exit_code == 0, result.output
    assert "Stored the documents of 2 plan version(s)" in result.output
    for plan in started:
        documents = plan_documents.documents_of(plan.current)
        assert [document.kind for document in documents] == ["patient_plan", "gp_letter", "pharmacy_schedule"]
        assert all(document.pdf.startswith(b"%PDF") for document in documents)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "plan_documents")).all()
    assert [(event.origin, event.actor_label) for event in events] == [("cli", "system")] * 2
    again = runner.invoke(args=["taper", "issue-documents", "--missing"])
    assert again.exit_code == 0 and "Nothing to render" in again.output
    assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 6


def test_a_plan_with_a_dose_nobody_can_make_up_is_not_started(pharmacist: User, make: Maker) -> None:
    """The documents would tell the patient to take, and the pharmacy to supply, what cannot be dispensed."""
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "oxycodone-ir-capsule", "doses": [{"time": "08:00", "dose_mg": 20}]},
        {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 7},
                                                        {"time": "20:00", "dose_mg": 60}]}]))
    plan = _draft(pharmacist, patient, reduction_pct=Decimal(5))
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
    with pytest.raises(InvalidInput, match="step 1, Morphine modified-release tablet at 08:00: 7 mg"):
        plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    db.session.rollback()
    assert db.session.get(Plan, plan.id).status is PlanStatus.DRAFT


def test_the_batch_skips_what_cannot_be_issued_and_says_why(app: Flask, pharmacist: User, make: Maker) -> None:
    from taper.models import Organisation

    drafts = []
    for _ in range(2):
        patient = make.patient(pharmacist)
        regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
        drafts.append(_draft(pharmacist, patient))
    for plan in drafts:
        plans.record_decision(by=pharmacist, plan_id=plan.id, decision=DECISION)
        plan.status = PlanStatus.ACTIVE  # started before documents were issued
    db.session.commit()
    clinic = db.session.get(Organisation, pharmacist.organisation_id)
    clinic.phone = ""  # as an old clinic row might be: its documents cannot say whom to call
    db.session.commit()
    ids = [str(plan.current.id) for plan in drafts]
    result = app.test_cli_runner().invoke(args=["taper", "issue-documents", *ids, ids[0]])
    assert result.exit_code == 1
    assert f"Plan version {ids[0]} was not issued: Add {clinic.name}'s phone number" in result.output
    assert "Stored the documents of 0 plan version(s)" in result.output
    assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 0


def test_a_plan_whose_draft_was_changed_goes_out_as_new_not_as_a_revision(pharmacist: User,
                                                                           patient: Patient) -> None:
    """Drafts changed before the plan started were never sent: the first letter replaces nothing."""
    import io

    from pypdf import PdfReader

    from taper.services import plan_documents

    plan = _draft(pharmacist, patient)
    plans.edit_draft(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                     settings=plans.PlanSettings(start_on=TODAY + timedelta(days=7), interval_days=28))
    plan = _activate(pharmacist, plan)
    assert plan.current.number == 2
    letter = next(document for document in plan_documents.documents_of(plan.current) if document.kind == "gp_letter")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert "This replaces" not in text and "What changed" not in text
