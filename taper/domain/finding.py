"""Finding the patients who need help (issue 18, item 3): why each one is on the find worklist, the level of
support Taper suggests, where they are in the pathway, and the order the worklist ranks them in.

The reasons are the searches the national analysis describes services running in GP practices (issue 18):
long-term opioids, a high dose (the clinic's own threshold), opioids with a benzodiazepine or a gabapentinoid,
several opioids, older age, early or frequent requests (here: concerns of that kind raised by community
pharmacies); and, Taper's own, a line of the practice record that needs a hand check (the reader could not read
its dose, so it is not in the OME). The suggested level is taper.domain.risk's, from the facts known without
asking the patient, or the level a pharmacist chose in a recorded risk assessment.

The high-dose reason is a dose at or above the clinic's threshold (issue 18's words for the search), while the
risk rule raises the level only for a dose above it (taper.domain.risk). So that the row never contradicts
itself, a dose exactly at the threshold is said to be "at" it, with the words that only a dose above it raises
the level; a dose above it is said to be "above" it.

A line that needs a hand check ("oxycodone 80mg MR as directed") says nothing of its dose, and the dose it hides
may be anything: the level is therefore at least level 3 (pharmacist-led tapering service) until a pharmacist
records the regimen, and marked "at least". Why 3 and not "not known": a level not known would drop the patient
out of a "level 3 or more" filter and rank them with the lowest, which is the harm to avoid (a patient on a high
dose found last); level 3 is the level a dose above the threshold would give, and its service is a pharmacist
reading the regimen with the patient, which is exactly what the unread line needs; Taper does not claim level 4
(300 mg or more) without a dose that says so. A higher level the known facts give (300 mg read from the other
lines, or a level 4 assessed) stands. A level assessed below 3 before the line was checked does not hold it
below 3: the assessment did not count that line.

The ranking is Taper's own rule, not published guidance (docs/clinical-sources.md, Find worklist ranking):

1. the level of support, highest first: it already weighs the strongest risks (a dose of 300 mg or more, a
   dose above the threshold, a benzodiazepine or gabapentinoid), so the patients who need the most help come
   first;
2. within a level, the patients with a line that needs a hand check first: their dose may be higher than any
   number shown, and the check is the next thing to do for them;
3. then the daily OME, highest first (harm rises with dose); a patient whose OME is not known (no regimen, or
   no line that could be counted) comes after those whose dose is known, since the order cannot be explained by
   a number that is not there;
4. then the number of reasons, most first;
5. then the longest on opioids first; then the patient's record number, so the order is stable between pages.

Pure: dates are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from taper.domain.makeable import plain
from taper.domain.patients import Sex
from taper.domain.risk import OLDER_AGE_YEARS, RiskInputs, SupportLevel, assess_risk

LONG_TERM_MONTHS = 3  # "long-term" is over 3 months (issue 18)
SEVERAL_OPIOIDS = 2  # two or more opioid products
# The least level while a line's dose is not read (the module's docstring says why).
HAND_CHECK_LEVEL = SupportLevel.PHARMACIST_TAPERING_SERVICE


class PathwayState(StrEnum):
    """Where a patient is in the pathway, from the records that say so (state_of)."""

    NOT_INVITED = "not_invited"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    BOOKED = "booked"
    ON_A_PLAN = "on_a_plan"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return {"not_invited": "Not invited", "invited": "Invited", "accepted": "Accepted, not yet booked",
                "declined": "Declined", "booked": "Booked", "on_a_plan": "On a plan",
                "completed": "Completed a plan"}[self.value]


class Reason(StrEnum):
    HIGH_DOSE = "high_dose"
    LONG_TERM = "long_term"
    BENZODIAZEPINE = "benzodiazepine"
    GABAPENTINOID = "gabapentinoid"
    SEVERAL_OPIOIDS = "several_opioids"
    OLDER_AGE = "older_age"
    EARLY_REQUESTS = "early_requests"
    NEEDS_HAND_CHECK = "needs_hand_check"


@dataclass(frozen=True)
class Facts:
    """What the records say about one patient, as plain values.

    `ome_mg_per_day`: the latest regimen's stored total (None: no regimen, or not calculable); when it is from a
    practice record, its when-needed lines count their most a day. `needs_hand_check`: imported lines the reader
    could not read that no pharmacist regimen has superseded. `opioid_products`: distinct opioid products in the
    latest regimen or in imported lines not superseded. `on_opioids_since`: the earliest issue of an opioid in the
    practice record, or the earliest regimen. `early_requests`: concerns of kind early_or_extra_request."""

    patient_id: int
    sex: Sex
    age_years: int
    ome_mg_per_day: Decimal | None
    ome_from_practice_record: bool
    needs_hand_check: bool
    high_dose_threshold_mg: Decimal
    benzodiazepine: bool
    gabapentinoid: bool
    opioid_products: int
    on_opioids_since: date | None
    early_requests: int
    assessed_level: int | None  # the level chosen in the latest recorded risk assessment


@dataclass(frozen=True)
class Need:
    """Why a patient is on the worklist (in words, in a fixed order), the level of support (suggested, or as
    assessed), and how long they have been on opioids (whole months; None when not known). `at_least`: the level
    is a floor, since a line's dose could not be read (it may be higher once the regimen is checked)."""

    reasons: tuple[tuple[Reason, str], ...]
    level: SupportLevel
    assessed: bool
    months_on_opioids: int | None
    at_least: bool = False


def whole_months(since: date, on: date) -> int:
    """Whole calendar months from `since` to `on` (0 if `on` is earlier)."""
    months = (on.year - since.year) * 12 + on.month - since.month - (1 if on.day < since.day else 0)
    return max(0, months)


def long_term(since: date, on: date) -> bool:
    """On opioids for over LONG_TERM_MONTHS months on `on`: since before the same day that many months earlier
    (since 1 September is long-term on 2 December; since 2 September is not yet)."""
    return whole_months(since, on - timedelta(days=1)) >= LONG_TERM_MONTHS


def need_of(facts: Facts, *, on: date) -> Need:
    """The reasons, level and months on opioids of one patient, on the date `on`."""
    months = whole_months(facts.on_opioids_since, on) if facts.on_opioids_since is not None else None
    reasons: list[tuple[Reason, str]] = []
    if facts.needs_hand_check:
        reasons.append((Reason.NEEDS_HAND_CHECK, "A line of the practice record needs a hand check: its dose could "
                                                 "not be read, so the OME leaves it out"))
    if facts.ome_mg_per_day is not None and facts.ome_mg_per_day >= facts.high_dose_threshold_mg:
        reasons.append((Reason.HIGH_DOSE, _high_dose_words(facts.ome_mg_per_day, facts.high_dose_threshold_mg)))
    if facts.on_opioids_since is not None and months is not None and long_term(facts.on_opioids_since, on):
        over = "over " if whole_months(facts.on_opioids_since, on - timedelta(days=1)) == months else ""
        reasons.append((Reason.LONG_TERM, f"On opioids for {over}{months} months (long-term: over "
                                          f"{LONG_TERM_MONTHS})"))
    if facts.benzodiazepine:
        reasons.append((Reason.BENZODIAZEPINE, "With a benzodiazepine"))
    if facts.gabapentinoid:
        reasons.append((Reason.GABAPENTINOID, "With a gabapentinoid"))
    if facts.opioid_products >= SEVERAL_OPIOIDS:
        reasons.append((Reason.SEVERAL_OPIOIDS, f"{facts.opioid_products} opioids"))
    if facts.age_years >= OLDER_AGE_YEARS:
        reasons.append((Reason.OLDER_AGE, f"Aged {facts.age_years} ({OLDER_AGE_YEARS} or over)"))
    if facts.early_requests:
        reasons.append((Reason.EARLY_REQUESTS, f"{facts.early_requests} early or extra "
                                               f"{'request' if facts.early_requests == 1 else 'requests'} "
                                               "(pharmacy concerns)"))
    level, assessed = suggested_level(facts)
    return Need(reasons=tuple(reasons), level=level, assessed=assessed, months_on_opioids=months,
                at_least=facts.needs_hand_check and level < SupportLevel.SPECIALIST_MDT)


def _high_dose_words(ome_mg_per_day: Decimal, threshold_mg: Decimal) -> str:
    """The high-dose reason: "at" the threshold (which does not raise the level) or "above" it (which does)."""
    if ome_mg_per_day == threshold_mg:
        return (f"{plain(ome_mg_per_day)} mg OME a day: at the clinic's threshold of {plain(threshold_mg)} mg "
                "(only a dose above it raises the level of support)")
    return f"{plain(ome_mg_per_day)} mg OME a day: above the clinic's threshold of {plain(threshold_mg)} mg"


def suggested_level(facts: Facts) -> tuple[SupportLevel, bool]:
    """The level chosen in a recorded risk assessment (True: assessed), or else the level taper.domain.risk
    suggests from the facts known without asking the patient: sex, age, benzodiazepine, gabapentinoid and dose
    (the asked factors counted as absent, so the level can only rise when the patient is assessed). With a line
    that needs a hand check, at least HAND_CHECK_LEVEL (the module's docstring says why); False for assessed
    when that raised an assessed level."""
    if facts.assessed_level is not None:
        level, assessed = SupportLevel(facts.assessed_level), True
    else:
        level, assessed = _risk_level(facts.sex, facts.age_years, facts.ome_mg_per_day,
                                      facts.high_dose_threshold_mg, facts.benzodiazepine, facts.gabapentinoid), False
    if facts.needs_hand_check and level < HAND_CHECK_LEVEL:
        return HAND_CHECK_LEVEL, False
    return level, assessed


@lru_cache(maxsize=4096)
def _risk_level(sex: Sex, age_years: int, ome_mg_per_day: Decimal | None, threshold_mg: Decimal,
                benzodiazepine: bool, gabapentinoid: bool) -> SupportLevel:
    """taper.domain.risk's level for these facts, kept for the same facts (a worklist of thousands repeats them)."""
    return assess_risk(RiskInputs(sex=sex, age_years=age_years, total_ome_mg_per_day=ome_mg_per_day,
                                  high_dose_threshold_mg=threshold_mg, benzodiazepine=benzodiazepine,
                                  gabapentinoid=gabapentinoid, answers=frozenset())).level


def state_of(*, plan_running: bool, plan_draft: bool, plan_completed: bool, booked: bool, invited: bool,
             latest_answer: str | None) -> PathwayState:
    """The patient's place in the pathway, the furthest along first: on a plan (a draft or a running plan),
    completed a plan, booked (an initial consultation holding a pharmacist's time), then by their latest
    invitation: declined, accepted (not yet booked) or invited (no answer yet); else not invited. A stopped plan
    alone leaves the patient where their invitations put them."""
    if plan_running or plan_draft:
        return PathwayState.ON_A_PLAN
    if plan_completed:
        return PathwayState.COMPLETED
    if booked:
        return PathwayState.BOOKED
    if invited:
        return {"declined": PathwayState.DECLINED, "accepted": PathwayState.ACCEPTED}.get(
            latest_answer or "", PathwayState.INVITED)
    return PathwayState.NOT_INVITED


def rank_key(facts: Facts, need: Need) -> tuple[int, int, int, Decimal, int, int, int]:
    """The worklist's order as a sort key (ascending): level, highest first; then a line needing a hand check
    first; then known OME, reasons and months on opioids, each highest first; then the record number (see the
    module's docstring for why)."""
    ome = facts.ome_mg_per_day
    return (-int(need.level), 0 if facts.needs_hand_check else 1, 0 if ome is not None else 1,
            -(ome or Decimal(0)), -len(need.reasons), -(need.months_on_opioids or 0), facts.patient_id)
