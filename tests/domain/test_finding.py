"""The find worklist's rule (taper.domain.finding) and the splitting of pasted record lines
(taper.domain.pasted_record): pure, no app."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from taper.domain.finding import Facts, PathwayState, Reason, need_of, rank_key, state_of, whole_months
from taper.domain.formulary import load_formulary
from taper.domain.pasted_record import PasteTooLong, read_pasted, split_lines
from taper.domain.patients import Sex
from taper.domain.risk import SupportLevel

ON = date(2026, 12, 2)
PLAIN = Facts(patient_id=1, sex=Sex.FEMALE, age_years=50, ome_mg_per_day=Decimal(40), ome_from_practice_record=False,
              needs_hand_check=False, high_dose_threshold_mg=Decimal(120), benzodiazepine=False, gabapentinoid=False,
              opioid_products=1, on_opioids_since=date(2026, 10, 1), early_requests=0, assessed_level=None)


def _reasons(facts: Facts) -> list[Reason]:
    return [reason for reason, _ in need_of(facts, on=ON).reasons]


def test_no_reason_and_level_1_for_a_low_dose_short_course() -> None:
    need = need_of(PLAIN, on=ON)
    assert (need.reasons, need.level, need.assessed, need.months_on_opioids) == ((), SupportLevel(1), False, 2)


@pytest.mark.parametrize(("changes", "reason", "words"), [
    ({"ome_mg_per_day": Decimal(121)}, Reason.HIGH_DOSE, "121 mg OME a day: above the clinic's threshold of 120 mg"),
    ({"on_opioids_since": date(2026, 8, 1)}, Reason.LONG_TERM, "On opioids for over 4 months (long-term: over 3)"),
    ({"on_opioids_since": date(2026, 8, 2)}, Reason.LONG_TERM, "On opioids for 4 months (long-term: over 3)"),
    ({"benzodiazepine": True}, Reason.BENZODIAZEPINE, "With a benzodiazepine"),
    ({"gabapentinoid": True}, Reason.GABAPENTINOID, "With a gabapentinoid"),
    ({"opioid_products": 2}, Reason.SEVERAL_OPIOIDS, "2 opioids"),
    ({"age_years": 65}, Reason.OLDER_AGE, "Aged 65 (65 or over)"),
    ({"early_requests": 1}, Reason.EARLY_REQUESTS, "1 early or extra request (pharmacy concerns)"),
])
def test_each_reason_in_words(changes: dict[str, object], reason: Reason, words: str) -> None:
    assert need_of(replace(PLAIN, **changes), on=ON).reasons == ((reason, words),)  # type: ignore[arg-type]


def test_at_just_above_and_just_below_the_threshold_the_reason_and_the_level_agree() -> None:
    """The worklist lists a dose at or above the threshold (issue 18); the risk rule raises the level only above
    it (taper.domain.risk), so at exactly the threshold the words say so and claim no rise."""
    at = need_of(replace(PLAIN, ome_mg_per_day=Decimal(120)), on=ON)
    assert at.reasons == ((Reason.HIGH_DOSE, "120 mg OME a day: at the clinic's threshold of 120 mg (only a dose "
                                             "above it raises the level of support)"),)
    assert at.level is SupportLevel.ADVICE_LETTER
    above = need_of(replace(PLAIN, ome_mg_per_day=Decimal("120.5")), on=ON)
    assert above.reasons == ((Reason.HIGH_DOSE, "120.5 mg OME a day: above the clinic's threshold of 120 mg"),)
    assert above.level is SupportLevel.PHARMACIST_TAPERING_SERVICE
    below = need_of(replace(PLAIN, ome_mg_per_day=Decimal("119.5")), on=ON)
    assert (below.reasons, below.level) == ((), SupportLevel.ADVICE_LETTER)
    at_90 = need_of(replace(PLAIN, ome_mg_per_day=Decimal(90), high_dose_threshold_mg=Decimal(90)), on=ON)
    assert "at the clinic's threshold of 90 mg" in at_90.reasons[0][1] and at_90.level is SupportLevel(1)


HAND_CHECK = replace(PLAIN, ome_mg_per_day=None, ome_from_practice_record=True, needs_hand_check=True)


def test_a_line_needing_a_hand_check_is_a_reason_and_the_level_is_at_least_3() -> None:
    """"Oxycodone 80mg MR as directed": no dose is read, so nothing may pretend the dose is low."""
    need = need_of(HAND_CHECK, on=ON)
    assert need.reasons == ((Reason.NEEDS_HAND_CHECK, "A line of the practice record needs a hand check: its dose "
                                                      "could not be read, so the OME leaves it out"),)
    assert (need.level, need.assessed, need.at_least) == (SupportLevel.PHARMACIST_TAPERING_SERVICE, False, True)
    # Known facts that give more are kept: 300 mg read from the other lines is level 4, and no higher is possible.
    higher = need_of(replace(HAND_CHECK, ome_mg_per_day=Decimal(300)), on=ON)
    assert (higher.level, higher.at_least) == (SupportLevel.SPECIALIST_MDT, False)
    # A level assessed before the line was checked cannot hold it below 3; one of 4 stands as assessed.
    assessed_low = need_of(replace(HAND_CHECK, assessed_level=2), on=ON)
    assert (assessed_low.level, assessed_low.assessed, assessed_low.at_least) == (SupportLevel(3), False, True)
    assessed_high = need_of(replace(HAND_CHECK, assessed_level=4), on=ON)
    assert (assessed_high.level, assessed_high.assessed, assessed_high.at_least) == (SupportLevel(4), True, False)
    assert need_of(PLAIN, on=ON).at_least is False


def test_a_hand_check_ranks_first_within_its_level_and_above_the_lower_levels() -> None:
    def key(**changes: object) -> tuple[object, ...]:
        facts = replace(PLAIN, **changes)  # type: ignore[arg-type]
        return rank_key(facts, need_of(facts, on=ON))

    ranked = sorted([
        key(patient_id=1, ome_mg_per_day=Decimal(40), sex=Sex.MALE, age_years=70),  # level 2
        key(patient_id=2, ome_mg_per_day=Decimal(250), benzodiazepine=True, early_requests=3),  # level 3
        key(patient_id=3, ome_mg_per_day=None, needs_hand_check=True),  # at least 3
        key(patient_id=4, ome_mg_per_day=Decimal(350)),  # level 4
        key(patient_id=5, ome_mg_per_day=Decimal(310), needs_hand_check=True),  # level 4, a line unread
        key(patient_id=6, ome_mg_per_day=Decimal(60), needs_hand_check=True, gabapentinoid=True),  # 3, unread
    ])
    assert [each[-1] for each in ranked] == [5, 4, 6, 3, 2, 1]


def test_three_months_exactly_is_not_yet_long_term_and_a_day_more_is() -> None:
    assert _reasons(replace(PLAIN, on_opioids_since=date(2026, 9, 2))) == []  # 3 months exactly
    assert need_of(replace(PLAIN, on_opioids_since=date(2026, 9, 1)), on=ON).reasons == (
        (Reason.LONG_TERM, "On opioids for over 3 months (long-term: over 3)"),)  # 3 months and a day
    assert whole_months(date(2026, 1, 31), date(2026, 2, 28)) == 0 and whole_months(ON, date(2026, 1, 1)) == 0


def test_the_level_is_the_risk_rules_from_facts_known_without_asking() -> None:
    assert need_of(replace(PLAIN, ome_mg_per_day=Decimal(300)), on=ON).level is SupportLevel.SPECIALIST_MDT
    assert need_of(replace(PLAIN, ome_mg_per_day=Decimal(121)), on=ON).level is SupportLevel(3)
    assert need_of(replace(PLAIN, gabapentinoid=True), on=ON).level is SupportLevel(3)
    assert need_of(replace(PLAIN, sex=Sex.MALE), on=ON).level is SupportLevel(2)
    # Several opioids, long-term use and early requests are reasons to look, not risk factors of the level.
    assert need_of(replace(PLAIN, opioid_products=3, early_requests=2), on=ON).level is SupportLevel(1)


def test_an_assessed_level_is_used_as_chosen() -> None:
    need = need_of(replace(PLAIN, ome_mg_per_day=Decimal(400), assessed_level=2), on=ON)
    assert (need.level, need.assessed) == (SupportLevel(2), True)


def test_rank_level_then_known_ome_then_reasons_then_months_then_record() -> None:
    def key(**changes: object) -> tuple[object, ...]:
        facts = replace(PLAIN, **changes)  # type: ignore[arg-type]
        return rank_key(facts, need_of(facts, on=ON))

    ranked = sorted([
        key(patient_id=1, ome_mg_per_day=Decimal(40)),
        key(patient_id=2, ome_mg_per_day=Decimal(350)),
        key(patient_id=3, ome_mg_per_day=Decimal(150)),
        key(patient_id=4, ome_mg_per_day=None, benzodiazepine=True),
        key(patient_id=5, ome_mg_per_day=Decimal(200)),
        key(patient_id=6, ome_mg_per_day=Decimal(40), early_requests=1),
        key(patient_id=7, ome_mg_per_day=Decimal(40), early_requests=1, on_opioids_since=date(2025, 1, 1)),
        key(patient_id=8, ome_mg_per_day=Decimal(40), early_requests=1, on_opioids_since=date(2026, 10, 1)),
    ])
    # 7 has two reasons (long-term, early requests); 6 and 8 one each, the same months: record number decides.
    assert [each[-1] for each in ranked] == [2, 5, 3, 4, 7, 6, 8, 1]


@pytest.mark.parametrize(("facts", "state"), [
    ({}, PathwayState.NOT_INVITED),
    ({"invited": True}, PathwayState.INVITED),
    ({"invited": True, "latest_answer": "declined"}, PathwayState.DECLINED),
    ({"invited": True, "latest_answer": "accepted"}, PathwayState.ACCEPTED),
    ({"invited": True, "latest_answer": "accepted", "booked": True}, PathwayState.BOOKED),
    ({"booked": True, "plan_draft": True}, PathwayState.ON_A_PLAN),
    ({"plan_running": True, "plan_completed": True}, PathwayState.ON_A_PLAN),
    ({"plan_completed": True, "invited": True}, PathwayState.COMPLETED),
])
def test_the_place_in_the_pathway_is_the_furthest_along(facts: dict[str, object], state: PathwayState) -> None:
    given: dict[str, object] = {"plan_running": False, "plan_draft": False, "plan_completed": False, "booked": False,
                                "invited": False, "latest_answer": None} | facts
    assert state_of(**given) is state  # type: ignore[arg-type]


# --- pasted lines -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "drug", "dosage"), [
    ("Zomorph 30mg modified-release capsules\tONE TO BE TAKEN TWICE A DAY\t56\t01-Nov-2026",
     "Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY"),
    ("Co-codamol 30mg/500mg tablets\t\t2 QDS PRN", "Co-codamol 30mg/500mg tablets", "2 QDS PRN"),
    ("Co-codamol 30mg/500mg tablets - 2 QDS PRN", "Co-codamol 30mg/500mg tablets", "2 QDS PRN"),
    ("Co-codamol 30mg/500mg tablets \u2013 2 QDS PRN", "Co-codamol 30mg/500mg tablets", "2 QDS PRN"),
    ("Co-codamol 30mg/500mg tablets 2 QDS PRN", "Co-codamol 30mg/500mg tablets", "2 QDS PRN"),
    ("Morphine sulfate 10mg/5ml oral solution 5ml-10ml qds prn", "Morphine sulfate 10mg/5ml oral solution",
     "5ml-10ml qds prn"),
    ("Fentanyl 25micrograms/hour transdermal patches apply one every 72 hours",
     "Fentanyl 25micrograms/hour transdermal patches", "apply one every 72 hours"),
    ("  MST CONTINUS 10MG TABLETS   1  BD ", "MST CONTINUS 10MG TABLETS", "1 BD"),
    ("Tramadol hydrochloride", "Tramadol hydrochloride", ""),
])
def test_a_pasted_line_is_split_into_drug_and_dosage(line: str, drug: str, dosage: str) -> None:
    [pasted] = split_lines(line)
    assert (pasted.drug, pasted.dosage) == (drug, dosage)


def test_blank_lines_and_a_header_are_left_out_and_lines_keep_their_numbers() -> None:
    lines = split_lines("Drug\tDosage\n\nZomorph 30mg modified-release capsules\t1 bd\n\nDiazepam 2mg tablets\t1 on\n")
    assert [(line.number, line.drug) for line in lines] == [
        (3, "Zomorph 30mg modified-release capsules"), (5, "Diazepam 2mg tablets")]


def test_too_much_pasted_text_is_refused_whole() -> None:
    with pytest.raises(PasteTooLong):
        split_lines("Zomorph 30mg capsules - 1 bd\n" * 51)
    with pytest.raises(PasteTooLong):
        split_lines("x" * 20_001)


def test_refused_lines_never_give_a_line_and_patches_add_up() -> None:
    reading = read_pasted("Fentanyl 25micrograms/hour transdermal patches\tapply one every 72 hours\n"
                          "Fentanyl 12micrograms/hour transdermal patches\tapply one every 72 hours\n"
                          "Oramorph 10mg/5ml oral solution\tas directed\n"
                          "MST Continus 10mg tablets\t1-2 bd\n"
                          "Morphine sulfate 10mg/5ml oral solution\t5 qds prn\n"
                          "Zomorph 30mg modified-release capsules\n"
                          "Lorazepam 1mg tablets\t1 prn\n", load_formulary())
    assert reading.lines == [{"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 37}]
    assert [line.number for line in reading.unread] == [3, 4, 5, 6]
    assert all(line.problems for line in reading.unread)
    assert reading.benzodiazepine and not reading.gabapentinoid
