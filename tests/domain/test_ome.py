"""OME against values worked by hand from the source tables (docs/clinical-sources.md, OME conversion factors
and their sets)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.assessment import assess
from taper.domain.formulary import FormularyDataError, load_formulary
from taper.domain.ome import FACTOR_SETS_FILE, FACTORS_FILE, get_factor_set, load_factor_sets
from taper.domain.regimen import Regimen, parse_regimen

FORMULARY = load_formulary()


def _regular(product: str, *doses: float) -> dict[str, object]:
    times = ["08:00", "12:00", "16:00", "20:00", "22:00"]
    return {"product": product, "doses": [{"time": at, "dose_mg": dose} for at, dose in zip(times, doses,
                                                                                          strict=False)]}


def _total(line: dict[str, object], factor_set: str) -> Decimal | None:
    regimen = parse_regimen([line], FORMULARY)
    return assess(regimen, formulary=FORMULARY, factor_set=get_factor_set(factor_set)).total_ome_mg_per_day


# (regimen line, factor set, expected mg OME a day worked by hand; None = not calculable)
KNOWN_CASES = [
    (_regular("morphine-mr-tablet-12h", 30, 30), "fpm-2020", "60"),  # 60 mg x 1
    (_regular("oxycodone-mr-tablet-12h", 20, 20), "fpm-2020", "60"),  # 40 mg x 1.5
    (_regular("co-codamol-30-500-tablet", 60, 60, 60, 60), "fpm-2020", "24"),  # 2 tabs qds: 240 mg codeine x 0.1
    (_regular("co-codamol-30-500-tablet", 60, 60, 60, 60), "cdc-2022", "36"),  # 240 x 0.15
    ({"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 37}, "fpm-2020", "90"),  # 25 (60) + 12 (30), FPM
    ({"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 25}, "fpm-2020", "60"),  # FPM table: 25 = 60
    ({"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 150}, "fpm-2020", "360"),  # 100 (240) + 50 (120)
    ({"product": "buprenorphine-patch-96h", "patch_mcg_per_hour": 52.5}, "fpm-2020", "126"),  # FPM: '52' = 126
    ({"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 20}, "fpm-2020", "48"),  # FPM: 20 = 48
    ({"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 20}, "cdc-2022", None),  # CDC excludes it
    (_regular("tramadol-mr-tablet-12h", 100, 100), "fpm-2020", "20"),  # 200 x 0.1
    (_regular("tramadol-mr-tablet-12h", 100, 100), "cdc-2022", "40"),  # 200 x 0.2
    (_regular("methadone-oral-solution-1mg-ml", 10), "fpm-2020", None),  # no UK factor: specialist only
    (_regular("methadone-oral-solution-1mg-ml", 10), "cdc-2022", "47"),  # 10 x 4.7
    (_regular("methadone-oral-solution-1mg-ml", 10), "openprescribing-2024", "30"),  # 10 x 3
    (_regular("hydromorphone-mr-capsule-12h", 4, 4), "fpm-2020", "40"),  # 8 x 5
    (_regular("tapentadol-mr-tablet-12h", 100, 100), "fpm-2020", "80"),  # 200 x 0.4
    (_regular("dihydrocodeine-mr-tablet-12h", 60, 60), "cdc-2022", None),  # not in the CDC table
    (_regular("dihydrocodeine-mr-tablet-12h", 60, 60), "openprescribing-2024", "12"),  # 120 x 0.1
    ({"product": "oxycodone-oral-solution-5mg-5ml", "prn": {"dose_mg": 2.5, "usual_per_day": 2, "max_per_day": 4}},
     "fpm-2020", "7.5"),  # PRN counts its usual doses: 5 mg x 1.5
]


@pytest.mark.parametrize(("line", "factor_set", "expected"), KNOWN_CASES)
def test_ome_of_known_cases_matches_hand_worked_values(line: dict[str, object], factor_set: str,
                                                       expected: str | None) -> None:
    result = _total(line, factor_set)
    assert result == (None if expected is None else Decimal(expected))


def test_every_factor_row_is_valid_and_every_set_covers_every_formulary_drug() -> None:
    sets = load_factor_sets()
    assert set(sets) == {"fpm-2020", "cdc-2022", "openprescribing-2024"}
    assert [key for key, factor_set in sets.items() if factor_set.is_default] == ["fpm-2020"]
    for factor_set in sets.values():
        for factor in factor_set.factors:
            assert factor.source and factor.link.startswith("https://") and factor.source_date
            assert factor.value is None or factor.value > 0
            assert factor.value is not None or factor.notes  # a missing factor says why
        for product in FORMULARY:
            assert factor_set.factor_for(product) is not None, (factor_set.key, product.key)


def test_a_factor_row_without_a_source_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "factors.csv"
    broken.write_text(FACTORS_FILE.read_text().replace(",https://fpm.ac.uk", ",http://fpm.ac.uk", 1))
    with pytest.raises(FormularyDataError, match="source"):
        load_factor_sets(FACTOR_SETS_FILE, broken)


# Property tests over random regimens from the whole formulary ------------------------------------------

def _line(product_key: str, draw: st.DrawFn) -> dict[str, object]:
    brand = draw(st.sampled_from([None, *(brand.name for brand in FORMULARY.get(product_key).brands)]))
    product = FORMULARY.as_prescribed(product_key, brand)
    named = {"product": product_key} | ({"brand": brand} if brand else {})
    if product.is_patch:
        picks = draw(st.lists(st.sampled_from(product.strengths), min_size=1, max_size=2))
        return named | {"patch_mcg_per_hour": str(sum(picks))}
    smallest = product.strengths[0]
    dose = str(smallest * draw(st.integers(1, 12)))
    if draw(st.booleans()):
        usual = draw(st.integers(0, 4))
        return named | {"prn": {"dose_mg": dose, "usual_per_day": usual,
                                "max_per_day": usual + draw(st.integers(1, 4))}}
    times = draw(st.lists(st.sampled_from(["06:00", "08:00", "12:00", "18:00", "20:00", "22:00"]), min_size=1,
                          max_size=4, unique=True))
    return named | {"doses": [{"time": at, "dose_mg": dose} for at in times]}


@st.composite
def regimens(draw: st.DrawFn) -> list[dict[str, object]]:
    keys = draw(st.lists(st.sampled_from(sorted(FORMULARY.products)), min_size=1, max_size=4))
    return [_line(key, draw) for key in keys]


def _assess(data: list[dict[str, object]], factor_set: str = "fpm-2020"):  # type: ignore[no-untyped-def]
    regimen: Regimen = parse_regimen(data, FORMULARY)
    return assess(regimen, formulary=FORMULARY, factor_set=get_factor_set(factor_set))


@given(regimens(), regimens())
def test_ome_is_additive_over_lines(first: list[dict[str, object]], second: list[dict[str, object]]) -> None:
    together = _assess(first + second).total_ome_mg_per_day
    apart = [_assess(first).total_ome_mg_per_day, _assess(second).total_ome_mg_per_day]
    if None in apart:
        assert together is None  # one line not calculable makes the total not calculable, never partial
    else:
        assert together == apart[0] + apart[1]


@given(regimens(), st.integers(2, 5))
def test_ome_is_linear_in_dose(data: list[dict[str, object]], times: int) -> None:
    scaled = []
    for line in data:
        if "doses" in line:
            doses = [{**dose, "dose_mg": str(Decimal(str(dose["dose_mg"])) * times)} for dose in line["doses"]]  # type: ignore[attr-defined]
            scaled.append({**line, "doses": doses})
    if not scaled:
        return
    original = [line for line in data if "doses" in line]
    before, after = _assess(original).lines, _assess(scaled).lines
    for line_before, line_after in zip(before, after, strict=True):
        if line_before.ome_mg_per_day is None:
            assert line_after.ome_mg_per_day is None
        else:
            assert line_after.ome_mg_per_day == line_before.ome_mg_per_day * times


@given(regimens(), st.sampled_from(["cdc-2022", "openprescribing-2024"]))
def test_changing_factor_set_changes_only_lines_whose_factors_differ(data: list[dict[str, object]],
                                                                     other: str) -> None:
    uk, alternative = _assess(data, "fpm-2020"), _assess(data, other)
    for line_uk, line_other in zip(uk.lines, alternative.lines, strict=True):
        same_factor = (line_uk.factor is not None and line_other.factor is not None
                       and line_uk.factor.value == line_other.factor.value)
        if same_factor:
            assert line_uk.ome_mg_per_day == line_other.ome_mg_per_day
        else:
            assert line_uk.ome_mg_per_day != line_other.ome_mg_per_day or line_uk.amount_per_day == 0
