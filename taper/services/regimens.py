"""Recording a patient's current opioid regimen, with its OME under the clinic's factor set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from taper import clock
from taper.domain.assessment import Assessment, assess
from taper.domain.formulary import load_formulary
from taper.domain.makeable import plain
from taper.domain.ome import get_factor_set
from taper.domain.regimen import RegimenError, parse_regimen, regimen_to_json
from taper.domain.starting_checks import refusals as starting_refusals
from taper.extensions import db
from taper.models import Organisation, RecordedRegimen, User
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound
from taper.services.patients import patient_in_scope


@dataclass(frozen=True)
class RegimenEntry:
    """What the pharmacist entered: the regimen's lines in their JSON shape, and co-prescribing."""

    lines: list[dict[str, Any]]
    benzodiazepine: bool = False
    gabapentinoid: bool = False
    recorded_on: date | None = None
    notes: str = ""


def preview(*, by: User, patient_id: int, entry: RegimenEntry) -> Assessment:
    """The OME breakdown and findings the entry would have, without saving anything."""
    patient = patient_in_scope(by, patient_id)
    return assess_entry(entry, patient.clinic)


def record_regimen(*, by: User, patient_id: int, entry: RegimenEntry) -> RecordedRegimen:
    """Store the regimen as the patient's current one (earlier records are kept as history)."""
    patient = patient_in_scope(by, patient_id)
    recorded_on = entry.recorded_on or clock.today()
    if recorded_on > clock.today():
        raise InvalidInput({"recorded_on": "The date recorded must be today or in the past"})
    assessment = assess_entry(entry, patient.clinic)
    record = RecordedRegimen(
        patient_id=patient.id, recorded_on=recorded_on, recorded_by_id=by.id,
        lines=regimen_to_json(parse_regimen(entry.lines, load_formulary())),
        benzodiazepine=entry.benzodiazepine, gabapentinoid=entry.gabapentinoid, notes=entry.notes.strip(),
        factor_set=assessment.factor_set.key, factor_set_version=assessment.factor_set.version,
        formulary_version=load_formulary().version, high_dose_threshold_mg=assessment.high_dose_threshold_mg,
        total_ome_mg_per_day=assessment.total_ome_mg_per_day)
    db.session.add(record)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="regimen", entity_id=record.id, patient_id=patient.id,
                 changes={"lines": record.lines, "benzodiazepine": record.benzodiazepine,
                          "gabapentinoid": record.gabapentinoid, "recorded_on": recorded_on.isoformat(),
                          "total_ome_mg_per_day": _text(record.total_ome_mg_per_day),
                          "factor_set": f"{record.factor_set} {record.factor_set_version}"})
    return record


def history(*, by: User, patient_id: int) -> list[RecordedRegimen]:
    """The patient's recorded regimens, newest first (the first is the current one)."""
    patient = patient_in_scope(by, patient_id)
    query = (select(RecordedRegimen).where(RecordedRegimen.patient_id == patient.id)
             .order_by(RecordedRegimen.recorded_on.desc(), RecordedRegimen.id.desc()))
    return list(db.session.scalars(query))


def practice_record(*, by: User, patient_id: int, regimen_id: int) -> RecordedRegimen:
    """A regimen imported from the patient's practice record, to check with the patient and confirm (saving it
    with `record_regimen` makes a new pharmacist regimen; the imported one stays in the history)."""
    patient = patient_in_scope(by, patient_id)
    record = db.session.scalar(select(RecordedRegimen).where(
        RecordedRegimen.id == regimen_id, RecordedRegimen.patient_id == patient.id,
        RecordedRegimen.source == "practice_record"))
    if record is None:
        raise NotFound("regimen")
    return record


def assessment_of(record: RecordedRegimen) -> Assessment:
    """The breakdown and findings of a stored regimen, under the factor set it was recorded with."""
    regimen = parse_regimen(record.lines, load_formulary())
    return assess(regimen, formulary=load_formulary(), factor_set=get_factor_set(record.factor_set),
                  high_dose_threshold_mg=record.high_dose_threshold_mg, benzodiazepine=record.benzodiazepine,
                  gabapentinoid=record.gabapentinoid)


def assess_entry(entry: RegimenEntry, clinic: Organisation) -> Assessment:
    """The OME and checks of a regimen as entered, with the clinic's settings (InvalidInput if it is refused)."""
    formulary = load_formulary()
    try:
        regimen = parse_regimen(entry.lines, formulary)
    except RegimenError as refusal:
        raise InvalidInput({error.field: error.message for error in refusal.errors}) from None
    factor_set = get_factor_set(clinic.factor_set)
    # A regimen no plan could be made from (a dose past the hard limits, one product on two lines) is refused
    # here too, so it is never saved and no builder preview starts from it (issue 15: a regimen saved at 99,999
    # mg made every preview for that patient fail).
    refused = starting_refusals(regimen, formulary, factor_set, given=entry.lines)
    if refused:
        raise InvalidInput({error.field: error.message for error in refused})
    return assess(regimen, formulary=formulary, factor_set=factor_set,
                  high_dose_threshold_mg=Decimal(clinic.high_dose_threshold_mg),
                  benzodiazepine=entry.benzodiazepine, gabapentinoid=entry.gabapentinoid,
                  paracetamol_max_mg_per_day=Decimal(clinic.paracetamol_max_mg_per_day))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)
