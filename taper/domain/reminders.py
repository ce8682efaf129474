"""What reminders say. Patients agreed to reminders, not to clinical detail by text or email, so theirs say
only that a step starts and where the details are (issue 7); easy read needs shorter, plainer words. The
pharmacy dispenses the plan, so its message names the patient, plan and step."""

from __future__ import annotations

from datetime import date

from taper.domain.wording import long_date


def step_tomorrow_for_patient(*, clinic_name: str, clinic_phone: str, easy_read: bool) -> tuple[str, str]:
    """(subject, body)"""
    if easy_read:
        return ("Your plan: a change tomorrow",
                f"Tomorrow your medicine changes. Look at your plan. Questions? Call {clinic_phone}.")
    return ("Your plan: the next step starts tomorrow",
            f"Your next step starts tomorrow. Your plan has the details. If you have questions, call {clinic_name} "
            f"on {clinic_phone}.")


def step_tomorrow_for_pharmacy(*, patient: str, nhs_number: str, plan_id: int, version: int, step: int,
                               starts_on: date, clinic_name: str, clinic_phone: str) -> tuple[str, str]:
    return (f"Step {step} of plan {plan_id} starts {long_date(starts_on)}",
            f"{patient} (NHS number {nhs_number}): step {step} of tapering plan {plan_id} (version {version}) starts "
            f"on {long_date(starts_on)}. Supply as the dispensing schedule of version {version} says. Questions: "
            f"{clinic_name}, {clinic_phone}.")
