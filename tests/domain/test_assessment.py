from __future__ import annotations

from decimal import Decimal

import pytest

from taper.domain.assessment import Severity, assess
from taper.domain.formulary import load_formulary
from taper.domain.ome import get_factor_set
from taper.domain.regimen import parse_regimen

FORMULARY = load_formulary()
UK = get_factor_set("fpm-2020")


def _codes(data: list[dict[str, object]], **options: object) -> dict[str, str]:
    assessment = assess(parse_regimen(data, FORMULARY), formulary=FORMULARY, factor_set=UK, **options)  # type: ignore[arg-type]
    return {finding.code: finding.message for finding in assessment.findings}


def _bd(product: str, dose: float, brand: str | None = None) -> dict[str, object]:
    return {"product": product, "doses": [{"time": "08:00", "dose_mg": dose}, {"time": "20:00", "dose_mg": dose}]} | (
        {"brand": brand} if brand else {})


def test_a_modest_regimen_has_no_findings() -> None:
    assert _codes([_bd("morphine-mr-tablet-12h", 30, "MST Continus")]) == {}


def test_a_modified_release_or_patch_line_without_a_brand_is_found_and_an_immediate_release_one_is_not() -> None:
    regimen = parse_regimen([_bd("morphine-ir-tablet", 10), _bd("morphine-mr-tablet-12h", 30),
                             {"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 10}], FORMULARY)
    found = [finding for finding in assess(regimen, formulary=FORMULARY, factor_set=UK).findings
             if finding.code == "NO_BRAND"]
    assert [finding.line for finding in found] == [1, 2]
    assert found[1].message.startswith("Buprenorphine 7-day transdermal patch names no brand. Prescribe "
                                       "modified-release opioids and patches by brand (BuTrans, Butec, Reletrans, "
                                       "Sevodyne, Bunov, Panitaz)")


def test_dose_not_makeable_from_available_strengths() -> None:
    codes = _codes([_bd("morphine-mr-tablet-12h", 7)])
    assert "7 mg of morphine modified-release tablet cannot be made exactly" in codes["DOSE_NOT_MAKEABLE"]


def _prn(product: str, dose: float, usual: int, maximum: int) -> dict[str, object]:
    return {"product": product, "prn": {"dose_mg": dose, "usual_per_day": usual, "max_per_day": maximum}}


def test_liquid_dose_must_be_measurable_to_a_tenth_of_a_millilitre() -> None:
    assert _codes([_prn("morphine-oral-solution-10mg-5ml", 3, 1, 4)]) == {}  # 1.5 mL
    codes = _codes([_prn("morphine-oral-solution-10mg-5ml", 2.5, 1, 4)])  # 1.25 mL
    assert "measurable in 0.5 mL steps, at least 1 mL" in codes["DOSE_NOT_MAKEABLE"]


def test_above_the_licensed_maximum_counts_prn_at_its_maximum() -> None:
    regular = {"product": "tramadol-capsule", "doses": [{"time": at, "dose_mg": 50} for at in
                                                        ("06:00", "12:00", "18:00", "22:00")]}
    assert "ABOVE_MAXIMUM" not in _codes([regular])  # 200 mg a day
    codes = _codes([regular, _prn("tramadol-capsule", 100, 0, 3)])  # 200 + 300 at most
    assert "500 mg a day" in codes["ABOVE_MAXIMUM"] and "maximum of 400" in codes["ABOVE_MAXIMUM"]


def test_paracetamol_above_4g_in_combination_products() -> None:
    qds = {"product": "co-codamol-30-500-tablet", "doses": [{"time": at, "dose_mg": 60} for at in
                                                           ("08:00", "12:00", "16:00", "22:00")]}
    assert "PARACETAMOL_OVER_4G" not in _codes([qds])  # 8 tablets: exactly 4 g
    codes = _codes([qds, _prn("co-codamol-8-500-tablet", 8, 0, 2)])  # 2 more tablets at most: 5 g
    assert "5000 mg of paracetamol" in codes["PARACETAMOL_OVER_4G"]
    danger = assess(parse_regimen([qds, _prn("co-codamol-8-500-tablet", 8, 0, 2)], FORMULARY), formulary=FORMULARY,
                    factor_set=UK).findings
    assert [finding.severity for finding in danger if finding.code == "PARACETAMOL_OVER_4G"] == [Severity.DANGER]


def test_more_than_one_opioid_of_the_same_release_type() -> None:
    codes = _codes([_bd("morphine-mr-tablet-12h", 30), _bd("oxycodone-mr-tablet-12h", 10)])
    assert "modified-release" in codes["SAME_RELEASE_TYPE"]
    assert "SAME_RELEASE_TYPE" not in _codes([_bd("morphine-mr-tablet-12h", 30), _prn("morphine-ir-tablet", 10, 1, 4)])


@pytest.mark.parametrize(
    ("dose", "threshold", "expected"),
    [(55, 120, set()), (60, 120, {"HIGH_DOSE"}), (45, 90, {"HIGH_DOSE"}), (100, 120, {"HIGH_DOSE", "VERY_HIGH_DOSE"}),
     (50, 120, {"HIGH_DOSE_AT_MAXIMUM_PRN"})],
)
def test_high_dose_bands_use_the_clinics_threshold(dose: int, threshold: int, expected: set[str]) -> None:
    lines = [_bd("morphine-mr-tablet-12h", dose, "MST Continus")]
    if dose == 50:
        lines.append(_prn("morphine-ir-tablet", 10, 0, 2))  # 100 a day, 120 with both PRN doses
    codes = _codes(lines, high_dose_threshold_mg=Decimal(threshold))
    assert set(codes) == expected


def test_not_calculable_is_said_and_the_total_is_none_never_zero() -> None:
    regimen = parse_regimen([_bd("morphine-mr-tablet-12h", 30), _bd("methadone-oral-solution-1mg-ml", 5)],
                            FORMULARY)
    assessment = assess(regimen, formulary=FORMULARY, factor_set=UK)
    assert assessment.total_ome_mg_per_day is None
    assert [line.ome_mg_per_day for line in assessment.lines] == [Decimal(60), None]
    codes = {finding.code for finding in assessment.findings}
    assert {"OME_NOT_CALCULABLE", "SPECIALIST_ONLY"} <= codes and "HIGH_DOSE" not in codes


def test_co_prescribed_benzodiazepine_and_gabapentinoid_are_flagged() -> None:
    codes = _codes([_bd("morphine-mr-tablet-12h", 30)], benzodiazepine=True, gabapentinoid=True)
    assert "MHRA" in codes["BENZODIAZEPINE"] and "MHRA" in codes["GABAPENTINOID"]


def test_patches_at_their_licensed_maximum_are_not_flagged() -> None:
    assert "ABOVE_MAXIMUM" not in _codes([{"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 40}])
