from __future__ import annotations

from decimal import Decimal

import pytest

from taper.domain.patients import Sex
from taper.domain.risk import (
    ASKED,
    ASKED_BY_SEX,
    ASKED_OF_EVERYONE,
    Answer,
    RiskFactor,
    RiskInputs,
    SupportLevel,
    answer_by_sex,
    asked_by_sex,
    assess_risk,
)

D = Decimal


def inputs(**changes: object) -> RiskInputs:
    values: dict[str, object] = {"sex": Sex.FEMALE, "age_years": 50, "total_ome_mg_per_day": D(60),
                                 "high_dose_threshold_mg": D(120), "benzodiazepine": False, "gabapentinoid": False,
                                 "answers": frozenset()}
    values.update(changes)
    return RiskInputs(**values)  # type: ignore[arg-type]


def test_no_factors_suggests_an_advice_letter() -> None:
    suggestion = assess_risk(inputs())
    assert (suggestion.factors, suggestion.level) == ((), SupportLevel.ADVICE_LETTER)


@pytest.mark.parametrize(
    ("changes", "factor"),
    [({"sex": Sex.MALE}, RiskFactor.MALE), ({"age_years": 65}, RiskFactor.OLDER_AGE),
     ({"benzodiazepine": True}, RiskFactor.BENZODIAZEPINE), ({"gabapentinoid": True}, RiskFactor.GABAPENTINOID),
     ({"total_ome_mg_per_day": D("120.1")}, RiskFactor.HIGH_DOSE)]
    + [({"answers": frozenset({asked})}, asked) for asked in ASKED],
)
def test_each_factor_is_found(changes: dict[str, object], factor: RiskFactor) -> None:
    assert assess_risk(inputs(**changes)).factors == (factor,)


def test_factors_that_do_not_apply_are_not_counted() -> None:
    assert assess_risk(inputs(age_years=64, total_ome_mg_per_day=D(120))).factors == ()  # "above 120"
    abuse = frozenset({RiskFactor.PRE_ADOLESCENT_SEXUAL_ABUSE})
    assert assess_risk(inputs(sex=Sex.MALE, answers=abuse)).factors == (RiskFactor.MALE,)  # named for women


@pytest.mark.parametrize(
    ("changes", "level"),
    [({"answers": frozenset({RiskFactor.DEPRESSION})}, SupportLevel.GP_BRIEF_INTERVENTION),
     ({"sex": Sex.MALE, "age_years": 70}, SupportLevel.GP_BRIEF_INTERVENTION),
     ({"sex": Sex.MALE, "age_years": 70, "answers": frozenset({RiskFactor.DEPRESSION})},
      SupportLevel.PHARMACIST_TAPERING_SERVICE),
     ({"total_ome_mg_per_day": D(150)}, SupportLevel.PHARMACIST_TAPERING_SERVICE),
     ({"total_ome_mg_per_day": D(100), "high_dose_threshold_mg": D(90)}, SupportLevel.PHARMACIST_TAPERING_SERVICE),
     ({"benzodiazepine": True}, SupportLevel.PHARMACIST_TAPERING_SERVICE),
     ({"total_ome_mg_per_day": D(300)}, SupportLevel.SPECIALIST_MDT),
     ({"active_substance_misuse": True}, SupportLevel.SPECIALIST_MDT)],
)
def test_suggested_level_follows_the_stratified_model_with_reasons(changes: dict[str, object],
                                                                   level: SupportLevel) -> None:
    suggestion = assess_risk(inputs(**changes))
    assert suggestion.level is level
    assert suggestion.reasons and all(reason.endswith(".") for reason in suggestion.reasons)


def test_unknown_dose_is_said_in_the_reason() -> None:
    assert "no daily OME is known" in assess_risk(inputs(total_ome_mg_per_day=None)).reasons[0]


def test_the_question_asked_by_sex_is_not_applicable_to_a_male_patient() -> None:
    assert not asked_by_sex(Sex.MALE)
    for answer in (*Answer, None):
        assert answer_by_sex(Sex.MALE, answer) is Answer.NOT_APPLICABLE


@pytest.mark.parametrize("sex", [Sex.FEMALE, Sex.INDETERMINATE, Sex.NOT_KNOWN])
def test_anyone_not_male_is_asked_and_none_means_unanswered(sex: Sex) -> None:
    assert asked_by_sex(sex)
    assert [answer_by_sex(sex, answer) for answer in Answer] == list(Answer)
    assert answer_by_sex(sex, None) is None
    assert ASKED_BY_SEX not in ASKED_OF_EVERYONE and set(ASKED_OF_EVERYONE) | {ASKED_BY_SEX} == set(ASKED)
