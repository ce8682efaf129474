"""Risk factors for harm when reducing long-term opioids, and the suggested level of support.

Sources:
- The factors are those the national analysis of 112 NHS services found (as listed in Taper's brief and
  issue 5): male sex, older age, co-prescribed benzodiazepines, unemployment, A&E attendance, family history of
  drug, alcohol or prescribed-medicine dependence, past substance misuse or alcohol dependence, women with a
  history of pre-adolescent sexual abuse, depression, other psychological illness, and a dose above 120 mg/day
  OME; plus co-prescribed gabapentinoids (MHRA Drug Safety Updates 2019 and 2021: respiratory depression).
- The levels are the stratified model of that analysis: 1 advice and guidance letter, 2 brief intervention by
  the GP, 3 pharmacist-led tapering service at primary care network level, 4 specialist multidisciplinary team
  for complex needs such as active substance misuse (docs/clinical-sources.md, Risk factors and levels of
  support, which also gives the sources below).
- How factors map to a level is Taper's own rule, not published guidance; it is shown with its reasons and the
  pharmacist always decides (an override needs a recorded reason). It must be reviewed by the clinical
  safety officer before clinical use (docs/clinical-safety/hazard-log.md, HZ-014). In brief: active substance
  misuse, or a dose of about 300 mg/day OME or more (NHS Sheffield: "may need support from specialist
  services"), suggests level 4; a dose above the clinic's high-dose threshold, a co-prescribed benzodiazepine or
  gabapentinoid, or three or more factors suggest level 3; one or two factors suggest level 2; none, level 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum

from taper.domain.makeable import plain
from taper.domain.patients import Sex

# "Older age": the analysis gives no cut-off; 65 is the usual NHS threshold for older adults (Taper's choice).
OLDER_AGE_YEARS = 65
SPECIALIST_DOSE_MG = Decimal(300)  # NHS Sheffield: above about 300 mg/day OME may need specialist services
MANY_FACTORS = 3


class RiskFactor(StrEnum):
    MALE = "male"
    OLDER_AGE = "older_age"
    BENZODIAZEPINE = "benzodiazepine"
    GABAPENTINOID = "gabapentinoid"
    UNEMPLOYMENT = "unemployment"
    AE_ATTENDANCE = "ae_attendance"
    FAMILY_HISTORY_OF_DEPENDENCE = "family_history_of_dependence"
    PAST_SUBSTANCE_MISUSE = "past_substance_misuse"
    PRE_ADOLESCENT_SEXUAL_ABUSE = "pre_adolescent_sexual_abuse"
    DEPRESSION = "depression"
    OTHER_PSYCHOLOGICAL_ILLNESS = "other_psychological_illness"
    HIGH_DOSE = "high_dose"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RiskFactor.MALE: "Male",
    RiskFactor.OLDER_AGE: f"Older age ({OLDER_AGE_YEARS} or over)",
    RiskFactor.BENZODIAZEPINE: "Co-prescribed benzodiazepine",
    RiskFactor.GABAPENTINOID: "Co-prescribed gabapentinoid",
    RiskFactor.UNEMPLOYMENT: "Unemployed",
    RiskFactor.AE_ATTENDANCE: "Has attended A&E",
    RiskFactor.FAMILY_HISTORY_OF_DEPENDENCE: "Family history of drug, alcohol or prescribed-medicine dependence",
    RiskFactor.PAST_SUBSTANCE_MISUSE: "Past substance misuse or alcohol dependence",
    RiskFactor.PRE_ADOLESCENT_SEXUAL_ABUSE: "A woman with a history of pre-adolescent sexual abuse",
    RiskFactor.DEPRESSION: "Depression",
    RiskFactor.OTHER_PSYCHOLOGICAL_ILLNESS: "Other psychological illness",
    RiskFactor.HIGH_DOSE: "Dose above the high-dose threshold",
}

# Factors the pharmacist answers in the assessment (the others come from the record and the regimen).
ASKED = (RiskFactor.UNEMPLOYMENT, RiskFactor.AE_ATTENDANCE, RiskFactor.FAMILY_HISTORY_OF_DEPENDENCE,
         RiskFactor.PAST_SUBSTANCE_MISUSE, RiskFactor.PRE_ADOLESCENT_SEXUAL_ABUSE, RiskFactor.DEPRESSION,
         RiskFactor.OTHER_PSYCHOLOGICAL_ILLNESS)
# The one the analysis names for women: asked (yes, no or not applicable) only of patients recorded as female,
# and answered "not applicable" without asking for everyone else. The others are ticked if they apply.
ASKED_BY_SEX = RiskFactor.PRE_ADOLESCENT_SEXUAL_ABUSE
ASKED_OF_EVERYONE = tuple(factor for factor in ASKED if factor is not ASKED_BY_SEX)
ASKED_BY_SEX_TOPIC = "a history of pre-adolescent sexual abuse"


class Answer(StrEnum):
    """An answer to the question asked by sex; "not applicable" is always one of the choices."""

    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "no": "No", "not_applicable": "Not applicable"}[self.value]


def asked_by_sex(sex: Sex) -> bool:
    """Whether the question the analysis names for women is put to this patient: to everyone but a male
    patient, since a patient whose sex is not known or indeterminate may be female, and a factor never asked
    about could never count (the answer "not applicable" is always there to choose)."""
    return sex is not Sex.MALE


def answer_by_sex(sex: Sex, answer: Answer | None) -> Answer | None:
    """The answer to record: the one given when the question is asked (None if none was: it must be answered),
    "not applicable" for a male patient whatever was sent."""
    return answer if asked_by_sex(sex) else Answer.NOT_APPLICABLE


class SupportLevel(IntEnum):
    ADVICE_LETTER = 1
    GP_BRIEF_INTERVENTION = 2
    PHARMACIST_TAPERING_SERVICE = 3
    SPECIALIST_MDT = 4

    @property
    def label(self) -> str:
        return {1: "Level 1: advice and guidance letter", 2: "Level 2: brief intervention by the GP",
                3: "Level 3: pharmacist-led tapering service", 4: "Level 4: specialist multidisciplinary team"}[
            self.value]


@dataclass(frozen=True)
class RiskInputs:
    sex: Sex
    age_years: int
    total_ome_mg_per_day: Decimal | None  # None: no regimen recorded, or OME not calculable
    high_dose_threshold_mg: Decimal
    benzodiazepine: bool
    gabapentinoid: bool
    answers: frozenset[RiskFactor]  # the ASKED factors the pharmacist ticked
    active_substance_misuse: bool = False


@dataclass(frozen=True)
class Suggestion:
    factors: tuple[RiskFactor, ...]
    level: SupportLevel
    reasons: tuple[str, ...]


def assess_risk(inputs: RiskInputs) -> Suggestion:
    factors = risk_factors(inputs)
    level, reasons = _level(factors, inputs)
    return Suggestion(factors=factors, level=level, reasons=reasons)


def risk_factors(inputs: RiskInputs) -> tuple[RiskFactor, ...]:
    """The factors present, in a fixed order."""
    present = set(inputs.answers) & set(ASKED)
    if inputs.sex is not Sex.FEMALE:
        present.discard(RiskFactor.PRE_ADOLESCENT_SEXUAL_ABUSE)  # the analysis names it for women
    if inputs.sex is Sex.MALE:
        present.add(RiskFactor.MALE)
    if inputs.age_years >= OLDER_AGE_YEARS:
        present.add(RiskFactor.OLDER_AGE)
    if inputs.benzodiazepine:
        present.add(RiskFactor.BENZODIAZEPINE)
    if inputs.gabapentinoid:
        present.add(RiskFactor.GABAPENTINOID)
    if inputs.total_ome_mg_per_day is not None and inputs.total_ome_mg_per_day > inputs.high_dose_threshold_mg:
        present.add(RiskFactor.HIGH_DOSE)
    return tuple(factor for factor in RiskFactor if factor in present)


def _level(factors: tuple[RiskFactor, ...], inputs: RiskInputs) -> tuple[SupportLevel, tuple[str, ...]]:
    dose = inputs.total_ome_mg_per_day
    if inputs.active_substance_misuse:
        return SupportLevel.SPECIALIST_MDT, ("Active substance misuse: complex needs call for the specialist team.",)
    if dose is not None and dose >= SPECIALIST_DOSE_MG:
        return SupportLevel.SPECIALIST_MDT, (f"{plain(dose)} mg OME a day is {plain(SPECIALIST_DOSE_MG)} or more: "
                                             "such doses may need specialist support.",)
    strong = [factor for factor in factors
              if factor in (RiskFactor.HIGH_DOSE, RiskFactor.BENZODIAZEPINE, RiskFactor.GABAPENTINOID)]
    if strong:
        return SupportLevel.PHARMACIST_TAPERING_SERVICE, tuple(
            f"{factor.label}: a supported, pharmacist-led taper." for factor in strong)
    if len(factors) >= MANY_FACTORS:
        return SupportLevel.PHARMACIST_TAPERING_SERVICE, (
            f"{len(factors)} risk factors ({', '.join(factor.label.lower() for factor in factors)}).",)
    if factors:
        return SupportLevel.GP_BRIEF_INTERVENTION, (
            f"{len(factors)} risk {'factor' if len(factors) == 1 else 'factors'} "
            f"({', '.join(factor.label.lower() for factor in factors)}).",)
    if dose is None:
        return SupportLevel.ADVICE_LETTER, ("No risk factors found, but no daily OME is known: record the regimen "
                                            "to complete the assessment.",)
    return SupportLevel.ADVICE_LETTER, ("No risk factors found.",)
