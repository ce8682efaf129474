"""The find worklist's service (taper.services.finding): the facts read from the records, and who may see them."""

from __future__ import annotations

from datetime import date

import pytest

from taper.domain.finding import PathwayState
from taper.domain.organisations import Role
from taper.models import Patient, User
from taper.services import finding
from taper.services.errors import NotFound, PermissionDenied
from taper.services.finding import FindFilter
from tests.conftest import TODAY, Maker
from tests.web.test_find_pages import invite, morphine, pharmacist_regimen, record_lines
from tests.web.test_practice_record_regimens import practice_record_regimen

UNREAD = ("Oramorph 10mg/5ml oral solution", "as directed", None, ["the dose must be read by hand"], None)


def _found(by: User, **show: object) -> dict[int, finding.Found]:
    page = finding.worklist(by=by, show=FindFilter(**show))  # type: ignore[arg-type]
    return {each.patient_id: each for each in page.items}


def test_a_pharmacist_regimen_on_or_after_an_unread_line_supersedes_it(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    practice_record_regimen(patient, [morphine(30)], source_date=date(2026, 11, 1))
    record_lines(patient, (*UNREAD, date(2026, 11, 1)),
                 ("Diazepam 2mg tablets", "1 on", None, [], "benzodiazepine", date(2026, 11, 1)))
    before = _found(pharmacist)[patient.id].facts
    assert before.needs_hand_check and before.benzodiazepine and before.ome_from_practice_record
    pharmacist_regimen(pharmacist, patient, [morphine(30)], on=date(2026, 11, 1))
    after = _found(pharmacist)[patient.id].facts
    assert not after.needs_hand_check and not after.benzodiazepine and not after.ome_from_practice_record
    record_lines(patient, (*UNREAD, date(2026, 11, 20)))  # issued after the pharmacist's check
    assert _found(pharmacist)[patient.id].facts.needs_hand_check


def test_on_opioids_since_the_earliest_opioid_issue_or_regimen(pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    pharmacist_regimen(pharmacist, patient, [morphine(30)], on=date(2026, 10, 1))
    record_lines(patient, ("Pregabalin 75mg capsules", "1 bd", None, [], "gabapentinoid", date(2025, 1, 1)),
                 ("MST Continus 30mg tablets", "1 bd", morphine(30), [], None, date(2026, 6, 1)))
    assert _found(pharmacist)[patient.id].facts.on_opioids_since == date(2026, 6, 1)  # a gabapentinoid is not one


def test_the_state_filter_and_level_filter(pharmacist: User, make: Maker) -> None:
    waiting, invited = make.patient(pharmacist), make.patient(pharmacist)
    invite(pharmacist, invited)
    pharmacist_regimen(pharmacist, invited, [morphine(100)], on=TODAY)
    assert set(_found(pharmacist, state=PathwayState.INVITED.value)) == {invited.id}
    assert set(_found(pharmacist, state="to_find")) == {waiting.id, invited.id}
    assert set(_found(pharmacist, min_level=3)) == {invited.id}


def test_only_a_clinic_pharmacist_sees_only_their_clinic(pharmacist: User, make: Maker) -> None:
    mine = make.patient(pharmacist)
    other = make.user(Role.PHARMACIST)
    theirs: Patient = make.patient(other)
    assert set(_found(pharmacist, state="all")) == {mine.id}
    assert set(_found(other, state="all")) == {theirs.id}
    assert _found(pharmacist, gp_practice_id=theirs.gp_practice_id) == {}
    with pytest.raises(NotFound):
        finding.worklist(by=pharmacist, show=FindFilter(gp_practice_id=999_999))
    with pytest.raises(PermissionDenied):
        finding.worklist(by=make.user(Role.ADMIN))
