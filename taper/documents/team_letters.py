"""The GP letter and the patient's plan: their contexts (plain values) from a stored plan version, so the
patient, the GP and the pharmacy read the same steps, dates and doses (Taper issue 6).

Neither document prints an appointment's date or time (issue 17, item 2). A version's documents never change,
but an appointment can be moved the day after they are issued: a time printed in a plan the patient keeps for
months would go stale and contradict the message about the new time. So the documents say how many
appointments were booked when they were made, that the patient is sent each appointment's date and time (and
any change) on its own, and the clinic's number to check the next one."""

from __future__ import annotations

from datetime import date
from typing import Any

from taper.documents.chart import ome_chart_svg
from taper.documents.letterhead import Letterhead, banner
from taper.documents.prescribing import prescriptions_in_words
from taper.documents.render import render_pdf
from taper.documents.timetable import timetable
from taper.domain.advice import medicine_advice
from taper.domain.formulary import load_formulary
from taper.domain.ome import get_factor_set
from taper.domain.schedule_contract import schedule_from_document
from taper.domain.wording import count_words, describe_regimen_line, describe_scheduled, long_date

GP_TEMPLATE = "gp_letter/template.html"
PATIENT_TEMPLATE = "patient_plan/template.html"
EASY_READ_TEMPLATE = "patient_plan/easy_read.html"
TEMPLATE_VERSION = "7"  # 6: appointments no longer printed (issue 17, item 2); 7: or given by the pharmacist


def steps_in_words(schedule_document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step with its dates and doses in the words every document uses."""
    return [{"number": step["number"], "starts": long_date(date.fromisoformat(step["starts_on"])),
             "ends": long_date(date.fromisoformat(step["ends_on"])) if step["ends_on"] else None,
             "dates": _dates(step), "ome": step["ome_mg_per_day"],
             "lines": [describe_scheduled(line) for line in step["lines"]]} for step in schedule_document["steps"]]


def gp_letter_context(head: Letterhead, version_request: dict[str, Any], schedule_document: dict[str, Any], *,
                      practice_name: str, practice_ods_code: str, prescriber: str, risk: str,
                      instalment_days: int, appointments: list[str] | None = None, changes: list[str] | None = None,
                      reason: str = "") -> dict[str, Any]:
    schedule = schedule_from_document(schedule_document, load_formulary())
    policy = schedule_document["policy"]
    last = schedule_document["steps"][-1]
    target_ome = last["ome_mg_per_day"] if last["lines"] else None
    prescribed = prescriptions_in_words(schedule, schedule_document, instalment_days=instalment_days,
                                        issued_on=head.generated_on)
    who = ("The clinic pharmacist (an independent prescriber) prescribes during the plan." if prescriber == "pharmacist"
           else "We ask you, the GP, to prescribe as the plan below sets out.")
    return {
        **banner(head),
        "plan": {**banner(head)["plan"], "starting_ome": schedule_document["starting_ome_mg_per_day"],
                 "target_ome": target_ome, "starts": long_date(schedule.steps[0].starts_on),
                 "ends": long_date(date.fromisoformat(last["starts_on"])) if not last["lines"] else None,
                 "factor_set": get_factor_set(schedule_document["factor_set"]).name},
        "practice": {"name": practice_name, "ods_code": practice_ods_code},
        "clinic": {"name": head.clinic_name, "contact": head.clinic_contact,
                   "address": head.clinic_address.splitlines()},
        "sender": head.sender,
        "changes": changes or [],
        "reason": reason,
        "prescriber_sentence": who,
        "starting_regimen": [describe_regimen_line(line) for line in version_request["regimen"]],
        "risk": risk,
        "pace": f"{policy['reduction_pct']}% of the {policy['basis']} dose every {policy['interval_days']} days, "
                "one medicine at a time in this order: " + ", ".join(
                    load_formulary().get(key).label(in_sentence=True) for key in policy["order"]) + ".",
        "steps": steps_in_words(schedule_document),
        "prescriptions": prescribed,
        "when_needed_at_maximum": schedule.when_needed_supply == "maximum",
        "started_before_letter": long_date(schedule.steps[0].starts_on)
        if schedule.steps[0].starts_on < head.generated_on else None,
        "appointments": appointments_in_words(head, appointments or []),
    }


def appointments_in_words(head: Letterhead, appointments: list[str], *, times_sent: bool = True) -> dict[str, Any]:
    """What a document says about appointments: how many were booked when it was made (on the day it was
    generated), never when they are; and whether the patient is sent each time (they chose a way to be
    contacted) or is given them by their pharmacist."""
    return {"booked": len(appointments), "booked_words": count_words(len(appointments)),
            "as_of": long_date(head.generated_on), "clinic_phone": head.clinic_contact, "times_sent": times_sent}


def patient_plan_context(head: Letterhead, schedule_document: dict[str, Any], *, large_print: bool = False,
                         appointments: list[str] | None = None, times_sent: bool = True, notes: str = "",
                         naloxone: bool = False, pain_relief: str = "") -> dict[str, Any]:
    return {
        **banner(head),
        "clinic": {"name": head.clinic_name, "contact": head.clinic_contact},
        "timetable": timetable(schedule_document),
        "chart": ome_chart_svg(schedule_document, title="Your daily dose, as a share of what you take now",
                               as_share=True),
        "advice": medicine_advice(schedule_document, naloxone=naloxone, pain_relief=pain_relief),
        "large_print": large_print,
        "appointments": appointments_in_words(head, appointments or [], times_sent=times_sent),
        "notes": notes,
    }


def render_gp_letter(head: Letterhead, version_request: dict[str, Any], schedule_document: dict[str, Any],
                     **details: Any) -> bytes:
    return render_pdf(GP_TEMPLATE, gp_letter_context(head, version_request, schedule_document, **details))


def render_patient_plan(head: Letterhead, schedule_document: dict[str, Any], *, easy_read: bool = False,
                        **details: Any) -> bytes:
    """The patient's plan; in the easy read layout when that is one of the patient's recorded needs (easy read
    is always large: its body text is 16 pt)."""
    template = EASY_READ_TEMPLATE if easy_read else PATIENT_TEMPLATE
    return render_pdf(template, patient_plan_context(head, schedule_document, **details))


def _dates(step: dict[str, Any]) -> str:
    starts = long_date(date.fromisoformat(step["starts_on"]))
    return f"{starts} to {long_date(date.fromisoformat(step['ends_on']))}" if step["ends_on"] else f"from {starts}"
