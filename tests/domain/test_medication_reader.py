"""The medication reader (issue 18, item 1): drug names as dm+d writes them and dosages as GPs type them, read into
regimen lines of the schedule contract, or refused with a problem. It never guesses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taper.domain.formulary import load_formulary
from taper.domain.medication_reader import add_patches, read_medication
from taper.domain.regimen import parse_regimen, regimen_to_json
from taper.domain.schedule_contract import schedule_from_request

FORMULARY = load_formulary()
BD, TDS, QDS = ("08:00", "20:00"), ("08:00", "14:00", "22:00"), ("08:00", "12:00", "18:00", "22:00")

MST, ZOMORPH, MXL = "morphine-mr-tablet-12h", "morphine-mr-capsule-12h", "morphine-mr-capsule-24h"
SEVREDOL, ORAMORPH = "morphine-ir-tablet", "morphine-oral-solution-10mg-5ml"
OXY_MR, OXY_IR, OXY_LIQUID = "oxycodone-mr-tablet-12h", "oxycodone-ir-capsule", "oxycodone-oral-solution-5mg-5ml"
CODEINE, CC8, CC15, CC30 = ("codeine-tablet", "co-codamol-8-500-tablet", "co-codamol-15-500-tablet",
                            "co-codamol-30-500-tablet")
DHC, DHC_MR = "dihydrocodeine-tablet", "dihydrocodeine-mr-tablet-12h"
TRAMADOL, TRAMADOL_MR = "tramadol-capsule", "tramadol-mr-tablet-12h"
TAPENTADOL, TAPENTADOL_MR = "tapentadol-ir-tablet", "tapentadol-mr-tablet-12h"
HYDROMORPHONE, HYDROMORPHONE_MR = "hydromorphone-ir-capsule", "hydromorphone-mr-capsule-12h"
BUP7, BUP96, FENTANYL = "buprenorphine-patch-7day", "buprenorphine-patch-96h", "fentanyl-patch-72h"


def regular(product: str, times: tuple[str, ...], dose: float, brand: str | None = None) -> dict[str, Any]:
    return _named(product, brand) | {"doses": [{"time": at, "dose_mg": dose} for at in times]}


def at_times(product: str, doses: dict[str, float], brand: str | None = None) -> dict[str, Any]:
    return _named(product, brand) | {"doses": [{"time": at, "dose_mg": dose} for at, dose in sorted(doses.items())]}


def prn(product: str, dose: float | Decimal, most: int, brand: str | None = None) -> dict[str, Any]:
    return _named(product, brand) | {"prn": {"dose_mg": dose, "usual_per_day": most, "max_per_day": most}}


def patch(product: str, mcg: float, brand: str | None = None) -> dict[str, Any]:
    return _named(product, brand) | {"patch_mcg_per_hour": mcg}


def _named(product: str, brand: str | None) -> dict[str, Any]:
    return {"product": product} | ({"brand": brand} if brand else {})


# (drug, dosage, expected line): lines read exactly.
READ = [
    # the issue's own examples
    ("Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY", regular(ZOMORPH, BD, 30, "Zomorph")),
    ("Morphine sulfate 10mg/5ml oral solution", "5ml-10ml four times a day when required", prn(ORAMORPH, 20, 4)),
    ("Co-codamol 30mg/500mg tablets", "2 QDS PRN", prn(CC30, 60, 4)),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply one every 72 hours", patch(FENTANYL, 25)),
    ("MST Continus 10mg modified-release tablets", "1 mane 2 nocte", at_times(MST, {"08:00": 10, "22:00": 20},
                                                                              "MST Continus")),
    ("Co-codamol 30mg/500mg tablets", "one or two to be taken four times a day when required, max 8 in 24 hours",
     prn(CC30, 60, 4)),
    ("Oxycodone 5mg capsules", "1-2 every 4-6 hours when required", prn(OXY_IR, 10, 6)),
    # Latin abbreviations
    ("Morphine sulfate 30mg modified-release tablets", "1 bd", regular(MST, BD, 30)),
    ("Morphine sulfate 60mg modified-release tablets", "ONE BD", regular(MST, BD, 60)),
    ("Codeine phosphate 30mg tablets", "1 qds", regular(CODEINE, QDS, 30)),
    ("Codeine phosphate 30mg tablets", "2 tds", regular(CODEINE, TDS, 60)),
    ("Codeine phosphate 15mg tablets", "1 od", regular(CODEINE, ("08:00",), 15)),
    ("Codeine phosphate 60mg tablets", "1 nocte", regular(CODEINE, ("22:00",), 60)),
    ("Codeine phosphate 30mg tablets", "1 mane", regular(CODEINE, ("08:00",), 30)),
    ("Codeine phosphate 30mg tablets", "1 om", regular(CODEINE, ("08:00",), 30)),
    ("Codeine phosphate 30mg tablets", "1 on", regular(CODEINE, ("22:00",), 30)),
    ("Codeine phosphate 30mg tablets", "1 on waking", regular(CODEINE, ("08:00",), 30)),
    ("Codeine phosphate 30mg tablets", "1 om and 1 on", at_times(CODEINE, {"08:00": 30, "22:00": 30})),
    ("Codeine phosphate 30mg tablets", "1 qds prn", prn(CODEINE, 30, 4)),
    ("Codeine phosphate 30mg tablets", "1-2 qds p.r.n.", prn(CODEINE, 60, 4)),
    ("Dihydrocodeine 30mg tablets", "1 tds prn", prn(DHC, 30, 3)),
    ("Dihydrocodeine 30mg tablets", "ONE OR TWO QDS PRN", prn(DHC, 60, 4)),
    ("Tramadol 50mg capsules", "1-2 qds prn", prn(TRAMADOL, 100, 4)),
    ("Tramadol 50mg capsules", "2 bd", regular(TRAMADOL, BD, 100)),
    ("Co-codamol 8mg/500mg tablets", "2 qds", regular(CC8, QDS, 16)),
    ("Co-codamol 15mg/500mg tablets", "TWO TABLETS FOUR TIMES A DAY", regular(CC15, QDS, 30)),
    ("Co-codamol 30mg/500mg tablets", "2 tablets 4 times a day", regular(CC30, QDS, 60)),
    ("Co-codamol 30mg/500mg tablets", "1 qds", regular(CC30, QDS, 30)),
    ("Codeine phosphate 30mg / paracetamol 500mg tablets", "2 qds prn", prn(CC30, 60, 4)),
    # words for the times
    ("Morphine sulfate 10mg modified-release tablets", "TAKE ONE TWICE DAILY", regular(MST, BD, 10)),
    ("Morphine sulfate 10mg modified-release tablets", "take one tablet twice a day", regular(MST, BD, 10)),
    ("Oxycodone 10mg modified-release tablets", "one to be taken every 12 hours", regular(OXY_MR, BD, 10)),
    ("Oxycodone 10mg modified-release tablets", "1 12 hourly", regular(OXY_MR, BD, 10)),
    ("Codeine phosphate 30mg tablets", "one every 6 hours", regular(CODEINE, QDS, 30)),
    ("Codeine phosphate 30mg tablets", "one three times a day", regular(CODEINE, TDS, 30)),
    ("Co-codamol 30mg/500mg tablets", "TAKE ONE OR TWO 4 TIMES/DAY WHEN REQUIRED", prn(CC30, 60, 4)),
    ("Fentanyl 25micrograms/hour transdermal patches", "ONE PATCH TO BE APPLIED EVERY 72 HOURS", patch(FENTANYL, 25)),
    ("Morphine sulfate 10mg/5ml oral solution", "2.5 ml - 5 ml every 2 hours when required max 6 doses/day",
     prn(ORAMORPH, 10, 6)),
    ("Codeine phosphate 30mg tablets", "one once a day", regular(CODEINE, ("08:00",), 30)),
    ("Codeine phosphate 30mg tablets", "one at night", regular(CODEINE, ("22:00",), 30)),
    ("Codeine phosphate 30mg tablets", "one in the morning", regular(CODEINE, ("08:00",), 30)),
    ("Codeine phosphate 30mg tablets", "2 in the morning and 1 at night",
     at_times(CODEINE, {"08:00": 60, "22:00": 30})),
    ("Morphine sulfate 30mg modified-release tablets", "2 mane 1 nocte", at_times(MST, {"08:00": 60, "22:00": 30})),
    ("MXL 60mg capsules", "one daily", regular(MXL, ("08:00",), 60, "MXL")),
    ("MXL 90mg capsules", "1 OD", regular(MXL, ("08:00",), 90, "MXL")),
    ("Morphine sulfate 30mg modified-release capsules (24 hour)", "1 od", regular(MXL, ("08:00",), 30)),
    # brand names
    ("MST Continus 30mg tablets", "1 bd", regular(MST, BD, 30, "MST Continus")),
    ("MST CONTINUS 5mg tablets", "ONE TWICE A DAY", regular(MST, BD, 5, "MST Continus")),
    ("MST 15mg tablets", "1 bd", regular(MST, BD, 15, "MST Continus")),
    ("Morphgesic SR 10mg tablets", "1 bd", regular(MST, BD, 10, "Morphgesic SR")),
    ("Zomorph 10mg modified-release capsules", "1 bd", regular(ZOMORPH, BD, 10, "Zomorph")),
    ("Zomorph 100mg capsules", "1 twice daily", regular(ZOMORPH, BD, 100, "Zomorph")),
    ("OxyContin 20mg modified-release tablets", "1 bd", regular(OXY_MR, BD, 20, "OxyContin")),
    ("Longtec 40mg tablets", "ONE TO BE TAKEN EVERY 12 HOURS", regular(OXY_MR, BD, 40, "Longtec")),
    ("Oxypro 5mg prolonged-release tablets", "1 bd", regular(OXY_MR, BD, 5, "Oxypro")),
    ("OxyNorm 5mg capsules", "1 qds prn", prn(OXY_IR, 5, 4, "OxyNorm")),
    ("Shortec 10mg capsules", "ONE UP TO FOUR TIMES A DAY", prn(OXY_IR, 10, 4, "Shortec")),
    ("OxyNorm 5mg/5ml oral solution", "5ml qds prn", prn(OXY_LIQUID, 5, 4)),
    ("Oramorph 10mg/5ml oral solution", "2.5ml-5ml every 4 hours when required", prn(ORAMORPH, 10, 6, "Oramorph")),
    ("Oramorph 10mg/5ml oral solution", "5ml qds prn max 20ml in 24 hours", prn(ORAMORPH, 10, 4, "Oramorph")),
    ("Sevredol 10mg tablets", "1-2 4 hourly prn", prn(SEVREDOL, 20, 6, "Sevredol")),
    ("Zydol 50mg capsules", "1-2 qds prn", prn(TRAMADOL, 100, 4, "Zydol")),
    ("Zydol SR 100mg tablets", "1 bd", regular(TRAMADOL_MR, BD, 100, "Zydol SR")),
    ("Zamadol 50mg capsules", "2 qds prn", prn(TRAMADOL, 100, 4, "Zamadol")),
    ("Palexia 50mg tablets", "1 qds prn", prn(TAPENTADOL, 50, 4, "Palexia")),
    ("Palexia SR 100mg tablets", "1 bd", regular(TAPENTADOL_MR, BD, 100, "Palexia SR")),
    ("DHC Continus 60mg tablets", "1 bd", regular(DHC_MR, BD, 60, "DHC Continus")),
    ("Palladone 1.3mg capsules", "1 every 4 hours prn", prn(HYDROMORPHONE, Decimal("1.3"), 6, "Palladone")),
    ("Palladone SR 4mg capsules", "1 bd", regular(HYDROMORPHONE_MR, BD, 4, "Palladone SR")),
    ("Matrifen 12micrograms/hour transdermal patches", "apply one patch every 3 days", patch(FENTANYL, 12,
                                                                                              "Matrifen")),
    ("Durogesic DTrans 50micrograms/hour transdermal patches", "Apply 1 patch every 72 hours",
     patch(FENTANYL, 50, "Durogesic DTrans")),
    ("Durogesic 25micrograms/hour patches", "apply ONE patch every 72 hours", patch(FENTANYL, 25,
                                                                                   "Durogesic DTrans")),
    ("Mezolar Matrix 37.5micrograms/hour transdermal patches", "apply 1 every 72 hours",
     patch(FENTANYL, 37.5, "Mezolar Matrix")),
    ("BuTrans 10micrograms/hour transdermal patches", "apply one patch once a week", patch(BUP7, 10, "BuTrans")),
    ("BuTrans 5micrograms/hour transdermal patches", "Apply ONE patch every 7 days", patch(BUP7, 5, "BuTrans")),
    ("Buprenorphine 20micrograms/hour seven day transdermal patches", "apply 1 weekly", patch(BUP7, 20)),
    ("Transtec 35micrograms/hour transdermal patches", "apply one patch twice a week", patch(BUP96, 35,
                                                                                             "Transtec")),
    ("Transtec 52.5micrograms/hour transdermal patches", "apply one every 96 hours", patch(BUP96, 52.5,
                                                                                          "Transtec")),
    ("Fentanyl 12micrograms/hour transdermal patches", "apply 1 patch every 3 days", patch(FENTANYL, 12)),
    ("Fentanyl 12.5micrograms/hour transdermal patches", "apply 1 patch every 3 days", patch(FENTANYL, 12)),
    ("Fentanyl 50micrograms/hour transdermal patches", "apply TWO patches every 72 hours", patch(FENTANYL, 100)),
    ("Fentanyl 25micrograms/hour transdermal patches", "Apply a new patch every 72 hours", patch(FENTANYL, 25)),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply 1 patch every 72 hours and remove the old patch",
     patch(FENTANYL, 25)),
    ("Tapentadol 50mg tablets", "1 qds prn", prn(TAPENTADOL, 50, 4)),
    # maxima and intervals (issue 18: dose_mg x max_per_day is the stated daily maximum)
    ("Oxycodone 5mg capsules", "1-2 prn max 8 in 24 hours", prn(OXY_IR, 10, 4)),
    ("Oxycodone 5mg capsules", "one or two when required, maximum 6 capsules a day", prn(OXY_IR, 10, 3)),
    ("Morphine sulfate 10mg/5ml oral solution", "5-10mg every 4 hours prn", prn(ORAMORPH, 10, 6)),
    ("Morphine sulfate 10mg/5ml oral solution", "10mg prn max 60mg daily", prn(ORAMORPH, 10, 6)),
    ("Codeine phosphate 30mg tablets", "1-2 every 4-6 hours if needed max 8 tablets in 24 hours", prn(CODEINE, 60, 4)),
    ("Tramadol 50mg capsules", "ONE or TWO up to four times a day 7/7", prn(TRAMADOL, 100, 4)),
    ("Tramadol 50mg capsules", "1-2 every 6 hours as required", prn(TRAMADOL, 100, 4)),
    ("Codeine phosphate 30mg tablets", "1 when required up to 4 times a day", prn(CODEINE, 30, 4)),
    ("Co-codamol 30mg/500mg tablets", "2 prn max 4 doses a day", prn(CC30, 60, 4)),
    ("Co-codamol 30mg/500mg tablets", "1-2 when needed not more than 8 in 24 hours", prn(CC30, 60, 4)),
    ("Oxycodone 5mg capsules", "one every 4-6 hours when needed", prn(OXY_IR, 5, 6)),
    ("Morphine sulfate 10mg tablets", "1 every 3 hours prn", prn(SEVREDOL, 10, 8)),
    # durations, spacing and case
    ("Zydol SR 100mg tablets", "1 bd 1/52", regular(TRAMADOL_MR, BD, 100, "Zydol SR")),
    ("Codeine phosphate 30mg tablets", "1 qds prn 7/7", prn(CODEINE, 30, 4)),
    ("Codeine phosphate 30mg tablets", "2 qds for 5 days", regular(CODEINE, QDS, 60)),
    ("  morphine   SULFATE 30MG modified-release TABLETS ", "  1   BD  ", regular(MST, BD, 30)),
    ("CO-CODAMOL 30MG/500MG TABLETS", "2qds prn", prn(CC30, 60, 4)),
    ("oxycodone 10mg modified release tablets", "one  TWICE   a  day", regular(OXY_MR, BD, 10)),
    ("Morphine sulfate 10mg/5ml oral solution", "2.5ml qds", regular(ORAMORPH, QDS, 5)),
    ("Morphine sulfate 10mg/5ml oral solution", "10mg four times a day", regular(ORAMORPH, QDS, 10)),
    ("Oxycodone 120mg modified-release tablets", "1 bd", regular(OXY_MR, BD, 120)),
]

# (drug, dosage, expected product, a word of the problem): refused, with no line.
REFUSED = [
    ("Morphine sulfate 10mg modified-release tablets", "1-2 bd", MST, "variable dose"),
    ("MST Continus 10mg tablets", "one or two twice a day", MST, "variable dose"),
    ("Codeine phosphate 30mg tablets", "1-2 qds", CODEINE, "variable dose"),
    ("Codeine phosphate 30mg tablets", "1 tablet or 2 tablets twice a day", CODEINE, "variable dose"),
    ("Codeine phosphate 30mg tablets", "2 bd 1 od", CODEINE, "more than one dose"),
    ("Codeine phosphate 30mg tablets", "1 mane 2", CODEINE, "more than one dose"),
    ("Co-codamol 30mg/500mg tablets", "2 qds or as directed", CC30, "as directed"),
    ("Morphine sulfate 10mg/5ml oral solution", "as directed", ORAMORPH, "as directed"),
    ("OxyContin 10mg tablets", "AS DIRECTED BY PAIN CLINIC", OXY_MR, "as directed"),
    ("Morphine sulfate 10mg/5ml oral solution", "one qds prn", ORAMORPH, "no volume"),
    ("Oramorph 10mg/5ml oral solution", "take 1-2 when required", ORAMORPH, "no volume"),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply one every 7 days", FENTANYL, "worn for"),
    ("BuTrans 10micrograms/hour transdermal patches", "apply one every 72 hours", BUP7, "worn for"),
    ("Transtec 35micrograms/hour transdermal patches", "apply one weekly", BUP96, "worn for"),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply one patch", FENTANYL, "how often"),
    ("Codeine phosphate 30mg tablets", "2 tablets", CODEINE, "frequency"),
    ("Morphine sulfate 30mg modified-release tablets", "1", MST, "frequency"),
    ("Oxycodone 5mg capsules", "1-2 when required", OXY_IR, "maximum"),
    ("Codeine phosphate 30mg tablets", "take one", CODEINE, "frequency"),
    ("Morphine sulfate 20mg/ml oral solution", "0.5ml prn", None, "not a product"),
    ("Oramorph 20mg/ml concentrated oral solution", "0.5ml qds prn", None, "strength"),
    ("Oxycodone 10mg/ml oral solution concentrate", "0.5ml qds prn", None, "not a product"),
    ("Diamorphine 5mg tablets", "1 qds", None, "not a product"),
    ("Co-dydramol 10mg/500mg tablets", "2 qds", None, "not a product"),
    ("Morphine 30mg modified-release capsules", "1 bd", None, "any of"),
    ("Fentalis 12micrograms/hour transdermal patches", "apply one every 72 hours", None, "strength"),
    ("Morphine sulfate 10mg modified-release tablets", "0.5 bd", MST, "part of a tablet"),
    ("Co-codamol 30mg/500mg tablets", "60mg qds", CC30, "mg of co-codamol"),
    ("Codeine phosphate 30mg tablets", "5ml qds", CODEINE, "not a liquid"),
    ("Morphine sulfate 10mg tablets", "1-2 every 5 hours prn", SEVREDOL, "divide"),
    ("Oxycodone 5mg capsules", "1-2 prn max 7 in 24 hours", OXY_IR, "whole number"),
    ("Codeine phosphate 30mg tablets", "1 every 4 hours", CODEINE, "give the times"),
    ("Morphine sulfate 10mg modified-release tablets", "1 mane 2 nocte bd", MST, "together"),
    ("Morphine sulfate 10mg modified-release tablets", "reducing dose", MST, "reducing"),
    ("Oxycodone 5mg capsules", "variable dose", OXY_IR, "variable"),
    ("Something unheard of 10mg tablets", "1 bd", None, "not an opioid"),
    ("Morphine sulfate 10mg modified-release tablets", "", MST, "no dose"),
    ("Fentanyl 25micrograms/hour transdermal patches", "every 72 hours", FENTANYL, "how many"),
    ("Fentanyl patches", "apply one every 72 hours", FENTANYL, "strength"),
    ("Codeine phosphate 30mg tablets", "1 bd and 1 prn", CODEINE, "more than one dose"),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply 1 every 72 hours together with a 12mcg patch", FENTANYL,
     "more than one patch"),
    ("Co-codamol 30mg/500mg effervescent tablets", "2 qds", None, "not a product"),
    ("Buprenorphine 8mg sublingual tablets", "1 od", None, "not a product"),
    ("Fentanyl 50micrograms/hour transdermal patches", "apply one every 72 hours plus one 25 patch", FENTANYL,
     "more than one patch"),
    ("BuTrans 10micrograms/hour transdermal patches", "5ml-10ml once a week", BUP7, "volume"),
    ("BuTrans 20micrograms/hour transdermal patches", "apply 3 patches once a week", BUP7, "not a regimen Taper"),
    ("Morphine sulfate 10mg/1ml solution for injection", "1ml prn", None, "not a product"),
    ("Oxycodone 5mg capsules", "1 qds + 1 when required", OXY_IR, "more than one dose"),
    ("Codeine phosphate 30mg tablets", "1-2 qds prn max dose 8 tablets", CODEINE, "maximum"),
    # a point easily missed: 0.5 mL, not 5 mL (issue 18 review)
    ("Oramorph 10mg/5ml oral solution", ".5ml every 4 hours when required", ORAMORPH, "without a leading 0"),
    ("Oramorph 10mg/5ml oral solution", ".5 ml qds prn", ORAMORPH, "without a leading 0"),
    ("Morphine sulfate 10mg/5ml oral solution", "take .5ml qds", ORAMORPH, "without a leading 0"),
    ("OxyNorm 5mg/5ml oral solution", "TAKE .5ML PRN MAX 4 DOSES A DAY", OXY_LIQUID, "without a leading 0"),
    # "2x daily": two at a time once a day, or twice a day? (issue 18 review)
    ("Zomorph 30mg modified-release capsules", "2x daily", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "2X DAILY", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "2 x daily", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "2x a day", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "2 x a day", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "1 cap 2x a day", ZOMORPH, "number of times"),
    ("Zomorph 30mg modified-release capsules", "one capsule two x per day", ZOMORPH, "number of times"),
    ("Codeine phosphate 30mg tablets", "1-2 prn max 4x daily", CODEINE, "number of times"),
    ("BuTrans 10micrograms/hour transdermal patches", "apply 2x weekly", BUP7, "number of times"),
]

NON_OPIOIDS = [
    ("Paracetamol 500mg tablets", "2 qds", "other"),
    ("Pregabalin 75mg capsules", "1 bd", "gabapentinoid"),
    ("Gabapentin 300mg capsules", "1 tds", "gabapentinoid"),
    ("Lyrica 150mg capsules", "1 bd", "gabapentinoid"),
    ("Diazepam 5mg tablets", "1 nocte", "benzodiazepine"),
    ("Diazepam 2mg tablets", "as directed", "benzodiazepine"),
    ("Temazepam 10mg tablets", "1 on", "benzodiazepine"),
    ("Lorazepam 1mg tablets", "1 prn", "benzodiazepine"),
    ("Clonazepam 500microgram tablets", "1 bd", "benzodiazepine"),
    ("Amitriptyline 10mg tablets", "1-2 nocte", "other"),
]


def test_the_table_has_the_size_the_issue_asks_for() -> None:
    assert len(READ) + len(REFUSED) + len(NON_OPIOIDS) >= 100 and len(REFUSED) >= 20


@pytest.mark.parametrize(("drug", "dosage", "line"), READ)
def test_reads_the_line(drug: str, dosage: str, line: dict[str, Any]) -> None:
    reading = read_medication(drug, dosage, FORMULARY)
    assert (reading.product, reading.line, reading.problems) == (line["product"], _exact(line), ()), reading
    assert regimen_to_json(parse_regimen([reading.line], FORMULARY)) == [reading.line]  # the contract reads it
    assert bool(reading.notes) == ("prn" in line), "a when-needed line says its usual use is the maximum"


@pytest.mark.parametrize(("drug", "dosage", "product", "why"), REFUSED)
def test_refuses_what_it_cannot_read_exactly(drug: str, dosage: str, product: str | None, why: str) -> None:
    reading = read_medication(drug, dosage, FORMULARY)
    assert (reading.product, reading.line) == (product, None), reading
    assert len(reading.problems) == 1 and why in reading.problems[0], reading.problems


@pytest.mark.parametrize(("drug", "dosage", "kind"), NON_OPIOIDS)
def test_recognises_non_opioids_and_their_risk(drug: str, dosage: str, kind: str) -> None:
    reading = read_medication(drug, dosage, FORMULARY)
    assert (reading.product, reading.line, reading.problems, reading.non_opioid) == (None, None, (), kind)


def test_co_codamol_with_tramadol_or_paracetamol_in_a_combination_is_not_taken_for_paracetamol() -> None:
    reading = read_medication("Tramadol 37.5mg / paracetamol 325mg tablets", "2 qds", FORMULARY)
    assert reading.non_opioid is None and reading.product is None and "not a product" in reading.problems[0]


def test_patches_worn_together_add_up_as_labelled() -> None:
    """A 25 and a 12 fentanyl patch: 37 (issue 18), one line the schedule contract accepts."""
    lines = [read_medication(f"Matrifen {strength}micrograms/hour transdermal patches", "apply one every 72 hours",
                             FORMULARY).line for strength in (25, 12)]
    oxycodone = read_medication("Oxycodone 5mg capsules", "1 qds prn", FORMULARY).line
    assert all(lines) and oxycodone
    merged = add_patches([lines[0], oxycodone, lines[1]])  # type: ignore[list-item]
    assert merged == [patch(FENTANYL, 37, "Matrifen"), oxycodone]
    assert parse_regimen(merged, FORMULARY).lines[0].mcg_per_hour == 37  # type: ignore[union-attr]


def test_a_read_regimen_can_be_planned() -> None:
    readings = [read_medication(drug, dosage, FORMULARY) for drug, dosage in (
        ("Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY"),
        ("Morphine sulfate 10mg/5ml oral solution", "5ml-10ml four times a day when required"))]
    document = schedule_from_request({"start_on": "2027-01-04", "regimen": [reading.line for reading in readings]},
                                     FORMULARY)
    assert document["starting_ome_mg_per_day"] == 140  # 60 mg regular and 4 x 20 mg when needed, at the maximum


def _exact(line: dict[str, Any]) -> dict[str, Any]:
    """Decimals in the expected lines as the reader writes JSON numbers (1.3, not Decimal('1.3'))."""
    if "prn" in line and isinstance(line["prn"]["dose_mg"], Decimal):
        return line | {"prn": line["prn"] | {"dose_mg": float(line["prn"]["dose_mg"])}}
    return line


# --- properties ------------------------------------------------------------------------------------------------

OPIOID_NAMES = [drug for drug, _, _ in READ]
REFUSED_SHAPES = [
    "{n}-{m} bd", "{n} or {m} twice a day", "{n}-{m} qds", "{n} bd or as directed", "as directed", "{n} tablets",
    "{n}", "take {n} daily as directed", "{n}-{m} tds", "reducing dose {n} bd", "{n} to {m} three times a day",
    ".{n} ml qds prn", "take .{m}ml bd", "{m}x daily", "{n} tablet {m} x a day", "{m}x per day prn",
]
NUMBERS = st.sampled_from(["1", "one", "ONE", "One"])  # below every `high`: a range that varies


def _respell(text: str, upper: list[bool], gaps: list[int]) -> str:
    words = text.split()
    return "".join(f"{word.upper() if up else word.lower()}{' ' * gap}" for word, up, gap in
                   zip(words, upper + [False] * len(words), gaps + [1] * len(words), strict=False))


@settings(max_examples=300, deadline=None)
@given(drug=st.sampled_from(OPIOID_NAMES + [drug for drug, _, _, _ in REFUSED]), shape=st.sampled_from(REFUSED_SHAPES),
       low=NUMBERS, high=st.sampled_from(["2", "3", "4", "two", "four"]),
       upper=st.lists(st.booleans(), max_size=8), gaps=st.lists(st.integers(1, 3), max_size=8))
def test_no_refused_pattern_ever_yields_a_line(drug: str, shape: str, low: str, high: str, upper: list[bool],
                                               gaps: list[int]) -> None:
    dosage = _respell(shape.format(n=low, m=high), upper, gaps)
    if FORMULARY.get(read_medication(drug, "1 bd", FORMULARY).product or MST).is_patch and "directed" not in dosage:
        dosage += " every 5 days"  # a patch: an interval no patch in the formulary is worn for
    reading = read_medication(drug, dosage, FORMULARY)
    assert reading.line is None and reading.problems, (drug, dosage, reading)


DOSAGES = st.builds(
    lambda amount, frequency, needed, duration: f"{amount} {frequency} {needed} {duration}",
    st.sampled_from(["1", "2", "1-2", "one", "one or two", "5ml", "5ml-10ml", "10mg", "2.5ml", "apply one"]),
    st.sampled_from(["bd", "tds", "qds", "od", "nocte", "mane", "every 4 hours", "every 4-6 hours", "every 72 hours",
                     "once a week", "twice a day", "four times a day", "", "6 hourly"]),
    st.sampled_from(["", "prn", "when required", "max 8 in 24 hours", "up to 4 times a day", "max 60mg daily"]),
    st.sampled_from(["", "7/7", "1/52", "for 5 days"]))


@settings(max_examples=400, deadline=None)
@given(drug=st.sampled_from(OPIOID_NAMES), dosage=DOSAGES)
def test_every_line_read_is_accepted_by_the_schedule_contract(drug: str, dosage: str) -> None:
    reading = read_medication(drug, dosage, FORMULARY)
    assert (reading.line is None) == bool(reading.problems), reading
    if reading.line is not None:
        assert reading.line["product"] == reading.product
        assert regimen_to_json(parse_regimen([reading.line], FORMULARY)) == [reading.line], "a round trip"


@settings(max_examples=300, deadline=None)
@given(strength=st.sampled_from([5, 10, 20]), per_dose=st.sampled_from([1, 2]), most=st.integers(1, 12),
       words=st.sampled_from(["prn max {n} in 24 hours", "when required, maximum {n} capsules a day",
                              "if needed not more than {n} in 24 hours"]))
def test_dose_times_max_per_day_is_the_stated_daily_maximum(strength: int, per_dose: int, most: int,
                                                            words: str) -> None:
    reading = read_medication(f"Oxycodone {strength}mg capsules", f"{'1-2' if per_dose == 2 else '1'} "
                              + words.format(n=most), FORMULARY)
    if most % per_dose:
        assert reading.line is None and "whole number" in reading.problems[0]
        return
    assert reading.line is not None, reading
    assert reading.line["prn"]["dose_mg"] * reading.line["prn"]["max_per_day"] == strength * most
