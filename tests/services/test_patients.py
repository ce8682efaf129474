from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Patient
from taper.services import patients
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from tests.conftest import Maker


def _audit(action: str, patient_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                           AuditEvent.patient_id == patient_id)))


def test_create_patient_joins_the_pharmacists_clinic_and_is_audited(make: Maker) -> None:
    pharmacist = make.user()
    patient = make.patient(pharmacist, nhs_number="943 476 5919")
    assert (patient.clinic_id, patient.nhs_number) == (pharmacist.organisation_id, "9434765919")
    [created] = _audit("create", patient.id)
    assert created.actor_user_id == pharmacist.id
    assert created.changes["nhs_number"] == "9434765919"


def test_create_patient_refuses_a_duplicate_nhs_number(make: Maker) -> None:
    pharmacist = make.user()
    make.patient(pharmacist, nhs_number="9434765919")
    with pytest.raises(InvalidInput) as refusal:
        patients.create_patient(by=pharmacist, details=make.details(nhs_number="943-476-5919"))
    assert "already registered" in refusal.value.errors["nhs_number"]
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Patient)) == 1


def test_create_patient_collects_every_problem_at_once(make: Maker) -> None:
    pharmacist = make.user()
    pharmacy = make.organisation(OrganisationKind.GP_PRACTICE)  # the wrong kind for a nominated pharmacy
    with pytest.raises(InvalidInput) as refusal:
        patients.create_patient(by=pharmacist, details=make.details(
            nhs_number="9434765918", given_name=" ", date_of_birth=date(2999, 1, 1), pharmacy_id=pharmacy.id,
            gp_practice_id=pharmacist.organisation_id))
    assert set(refusal.value.errors) == {"nhs_number", "given_name", "date_of_birth", "gp_practice_id",
                                         "pharmacy_id"}


@pytest.mark.parametrize("role", [Role.GP, Role.COMMUNITY_PHARMACIST, Role.ADMIN])
def test_only_clinic_pharmacists_create_patients(make: Maker, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        patients.create_patient(by=make.user(role), details=make.details())


def test_update_patient_records_before_and_after(make: Maker) -> None:
    pharmacist = make.user()
    patient = make.patient(pharmacist, family_name="Lovelace")
    details = make.details(nhs_number=patient.nhs_number, family_name="King", gp_practice_id=patient.gp_practice_id)
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version, details=details)
    db.session.commit()
    [updated] = _audit("update", patient.id)
    assert updated.changes == {"family_name": {"before": "Lovelace", "after": "King"}}


def test_update_patient_from_a_stale_copy_is_refused(make: Maker) -> None:
    pharmacist = make.user()
    patient = make.patient(pharmacist)
    opened_version = patient.version
    details = make.details(nhs_number=patient.nhs_number, given_name="Saved first",
                           gp_practice_id=patient.gp_practice_id)
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=opened_version,
                            details=details)
    db.session.commit()
    with pytest.raises(StaleEdit):
        patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=opened_version,
                                details=make.details(nhs_number=patient.nhs_number, given_name="Changed",
                                                     gp_practice_id=patient.gp_practice_id))


def test_view_patient_of_another_clinic_is_not_found_and_audited(make: Maker) -> None:
    owner, outsider = make.user(), make.user()
    patient = make.patient(owner)
    with pytest.raises(NotFound):
        patients.view_patient(by=outsider, patient_id=patient.id)
    db.session.commit()
    [denied] = _audit("access_denied", patient.id)
    assert denied.actor_user_id == outsider.id


def test_search_patients_by_number_name_and_date_within_the_caseload(make: Maker) -> None:
    pharmacist = make.user()
    ada = make.patient(pharmacist, nhs_number="9434765919", given_name="Ada", family_name="Lovelace",
                       date_of_birth=date(1960, 12, 10))
    grace = make.patient(pharmacist, given_name="Grace", family_name="Hopper", date_of_birth=date(1956, 12, 9))
    make.patient(make.user(), given_name="Ada", family_name="Lovelace")  # another clinic's patient
    assert [each.patient for each in patients.search_patients(by=pharmacist, text="943 476 5919").items] == [ada]
    assert [each.patient for each in patients.search_patients(by=pharmacist, text="lovelace").items] == [ada]
    assert [each.patient for each in patients.search_patients(by=pharmacist, text="grace hop").items] == [grace]
    assert [each.patient for each in patients.search_patients(by=pharmacist, text="09/12/1956").items] == [grace]
    assert [each.patient for each in patients.search_patients(by=pharmacist, text="100%").items] == []
