"""Brands (issue 13 rule 8): each product lists its UK brands and their strengths; a line may name one, its doses
are then made from that brand's strengths only, a line with no brand never uses a brand-only strength, the brand
travels into every step, and modified-release and patch lines without a brand are warned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from taper.domain.formulary import BRANDS_FILE, FORMULARY_FILE, FormularyDataError, UnknownBrand, load_formulary
from taper.domain.regimen import RegimenError, parse_regimen, regimen_to_json
from taper.domain.schedule_contract import read_policy, schedule_document, schedule_from_document, schedule_from_request
from taper.domain.switches import Switch
from tests.domain.test_engine import FORMULARY, SETTINGS, START, Policy, _plan, bd, doses, plan, requests


def branded(line: dict[str, Any], brand: str) -> dict[str, Any]:
    return {**line, "brand": brand}


def patch(rate: object, brand: str | None = None) -> dict[str, Any]:
    return {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": rate} | ({"brand": brand} if brand else {})


def strengths_used(schedule) -> set[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    used = set()
    for step in schedule.steps:
        for line in step.lines:
            units = [*line.patch_units, *line.prn_units, *(unit for dose in line.doses for unit in dose.units)]
            used |= {(line.product.key, strength) for strength, _ in units}
    return used


# The data ------------------------------------------------------------------------------------------------

def test_every_modified_release_and_patch_product_lists_brands_within_its_strengths() -> None:
    for product in FORMULARY:
        for brand in product.brands:
            assert set(brand.strengths) <= set(product.strengths), (product.key, brand.name)
            assert brand.source
        if product.release.value != "ir" and product.taper_automatically:
            assert product.brands and product.prescribed_by_brand, product.key
        for strength in product.brand_only_strengths:
            assert any(strength in brand.strengths for brand in product.brands), (product.key, strength)
    fentanyl = FORMULARY.get("fentanyl-patch-72h")
    assert [brand.name for brand in fentanyl.brands if 37.5 in brand.strengths] == ["Mezolar Matrix"]
    assert 12 not in fentanyl.brand_named("Fentalis").strengths


def test_a_brand_strength_the_product_lacks_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "brands.csv"
    broken.write_text(BRANDS_FILE.read_text().replace("MST Continus,5;10;", "MST Continus,4;10;"))
    with pytest.raises(FormularyDataError, match=r"brands.csv row 2, column strengths"):
        load_formulary.__wrapped__(FORMULARY_FILE, broken)


def test_a_brand_only_strength_no_brand_makes_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "brands.csv"
    broken.write_text("\n".join(line for line in BRANDS_FILE.read_text().splitlines() if "Mezolar" not in line))
    with pytest.raises(FormularyDataError, match=r"no brand of fentanyl-patch-72h has its brand-only strength 37\.5"):
        load_formulary.__wrapped__(FORMULARY_FILE, broken)


def test_a_brand_is_found_whatever_its_case_and_spacing_and_an_unknown_one_is_not() -> None:
    product = FORMULARY.get("morphine-mr-tablet-12h")
    assert product.brand_named("mst  continus").name == "MST Continus"
    with pytest.raises(UnknownBrand):
        product.brand_named("MST")  # never guessed from part of a name


# Reading a line's brand ----------------------------------------------------------------------------------

def test_a_line_keeps_its_brand_as_the_formulary_spells_it_and_writes_it_back() -> None:
    regimen = parse_regimen([branded(bd("morphine-mr-tablet-12h", 30), "mst continus")], FORMULARY)
    assert regimen.lines[0].brand == "MST Continus"
    assert regimen_to_json(regimen)[0]["brand"] == "MST Continus"
    assert "brand" not in regimen_to_json(parse_regimen([bd("morphine-mr-tablet-12h", 30)], FORMULARY))[0]


@pytest.mark.parametrize(("line", "message"), [
    (branded(bd("morphine-mr-tablet-12h", 30), "Zomorph"),
     "Morphine modified-release tablet has no brand 'Zomorph' in the formulary: choose one of MST Continus, "
     "Morphgesic SR"),
    (branded(bd("codeine-tablet", 30), "Codipar"),
     "Codeine tablet has no brand 'Codipar' in the formulary: leave the brand out"),
    (branded(bd("morphine-mr-tablet-12h", 30), ""), "must be the name of a brand (MST Continus, Morphgesic SR), "
                                                    "not ''"),
    (branded(bd("morphine-mr-tablet-12h", 30), 5), "must be the name of a brand (MST Continus, Morphgesic SR), "
                                                   "not 5"),
])
def test_an_unknown_or_unreadable_brand_is_refused_by_its_path(line: dict[str, Any], message: str) -> None:
    with pytest.raises(RegimenError) as refusal:
        parse_regimen([line], FORMULARY)
    assert [(error.field, error.message) for error in refusal.value.errors] == [("regimen[0].brand", message)]


def test_a_brand_only_patch_with_no_brand_is_refused_naming_the_brand_that_makes_it() -> None:
    with pytest.raises(RegimenError) as refusal:
        parse_regimen([patch(37.5)], FORMULARY)
    assert refusal.value.errors[0].message.endswith("the 37.5 is made only as Mezolar Matrix: name the brand")
    assert parse_regimen([patch(37.5, "Mezolar Matrix")], FORMULARY).lines[0].patches == ((37.5, 1),)


def test_a_patch_rate_no_brand_makes_names_no_brand() -> None:
    """30 micrograms an hour cannot be made from fentanyl patches of any brand: naming Mezolar Matrix would mislead."""
    with pytest.raises(RegimenError) as refusal:
        parse_regimen([patch(30)], FORMULARY)
    assert "Mezolar" not in refusal.value.errors[0].message
    assert refusal.value.errors[0].message.startswith("30 micrograms an hour cannot be made")


def test_a_patch_the_brand_does_not_make_is_refused() -> None:
    with pytest.raises(RegimenError, match=r"12 micrograms an hour cannot be made from at most 6 Fentalis"):
        parse_regimen([patch(12, "Fentalis")], FORMULARY)


# The engine uses the brand's strengths ---------------------------------------------------------------------

def test_fentanyl_with_no_brand_never_uses_the_brand_only_37_5_patch() -> None:
    schedule = plan([patch(50)])
    assert ("fentanyl-patch-72h", 37.5) not in strengths_used(schedule)
    assert schedule.steps[0].lines[0].patch_units == ((25, 1), (12, 1))


def test_mezolar_matrix_steps_down_through_its_own_37_5_patch() -> None:
    schedule = plan([patch(50, "Mezolar Matrix")])
    assert schedule.steps[0].lines[0].patch_units == ((37.5, 1),)
    assert all(line.product.brand == "Mezolar Matrix" for step in schedule.steps for line in step.lines)


def test_fentalis_has_no_12_so_its_last_patch_is_a_25() -> None:
    schedule = plan([patch(50, "Fentalis")])
    assert {strength for _, strength in strengths_used(schedule)} <= {25, 50, 75, 100}
    assert schedule.steps[-2].lines[0].patch_units == ((25, 1),)
    generic = plan([patch(50)])
    assert generic.steps[-2].lines[0].patch_units == ((12, 1),)


def test_the_smallest_unit_of_a_line_follows_its_brand() -> None:
    """MST Continus stops from 5 mg tablets; Morphgesic SR, which has no 5 or 15 mg tablet, from 10 mg ones."""
    mst = plan([branded(bd("morphine-mr-tablet-12h", 60), "MST Continus")])
    morphgesic = plan([branded(bd("morphine-mr-tablet-12h", 60), "Morphgesic SR")])
    assert sum(doses(mst.steps[-2].lines[0]).values()) <= 10
    assert {strength for _, strength in strengths_used(morphgesic)} <= {10, 30, 60, 100}
    assert {strength for _, strength in strengths_used(mst)} & {5, 15}
    last = morphgesic.steps[-2].lines[0]
    assert all(unit == (10, 1) for dose in last.doses for unit in dose.units)


def test_a_brand_only_strength_is_used_when_the_line_names_its_brand() -> None:
    """Oxycodone MR 120 mg twice a day: one OxyContin 120 mg tablet a dose; with no brand, an 80 and a 40."""
    assert plan([branded(bd("oxycodone-mr-tablet-12h", 120), "OxyContin")]).starting_lines[0].doses[0].units == (
        (120, 1),)
    generic = plan([bd("oxycodone-mr-tablet-12h", 120)])
    assert generic.starting_lines[0].doses[0].units == ((80, 1), (40, 1))
    assert ("oxycodone-mr-tablet-12h", 120) not in strengths_used(generic)


@SETTINGS
@given(requests())
def test_every_step_of_every_line_keeps_its_brand_and_uses_only_its_strengths(request) -> None:  # type: ignore[no-untyped-def]
    schedule = _plan(request)
    lines, _, _ = request
    brand_of = {(line["product"], "patch_mcg_per_hour" in line, "prn" in line): line.get("brand") for line in lines}
    for step in schedule.steps:
        for line in step.lines:
            kind = (line.product.key, line.patch_mcg_per_hour is not None, line.prn_dose_mg is not None)
            assert line.product.brand == brand_of[kind]
            allowed = FORMULARY.as_prescribed(line.product.key, brand_of[kind]).strengths
            units = [*line.patch_units, *line.prn_units, *(unit for dose in line.doses for unit in dose.units)]
            if not line.product.is_liquid:
                assert {strength for strength, _ in units} <= set(allowed), (line.product.key, brand_of[kind])


# The contract: the brand in every step, the warning, the switch --------------------------------------------

def answer(*lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return schedule_from_request({"start_on": START.isoformat(), "regimen": list(lines), **fields}, FORMULARY)


def test_the_brand_travels_with_the_line_into_every_step_and_back() -> None:
    document = answer(branded(bd("morphine-mr-tablet-12h", 30), "MST Continus"),
                      {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 1, "max_per_day": 2}})
    lines = [line for step in document["steps"] for line in step["lines"]]
    assert {line.get("brand") for line in lines if line["product"] == "morphine-mr-tablet-12h"} == {"MST Continus"}
    assert all("brand" not in line for line in lines if line["product"] == "oxycodone-ir-capsule")
    again = schedule_from_document(document, FORMULARY)
    assert schedule_document(again, FORMULARY, Policy(order=tuple(document["policy"]["order"])))["steps"] == \
        document["steps"]


def test_modified_release_and_patch_lines_without_a_brand_are_warned_and_others_are_not() -> None:
    document = answer(bd("morphine-mr-tablet-12h", 30), patch(25),
                      {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 1, "max_per_day": 2}})
    by_brand = [warning for warning in document["warnings"] if "names no brand" in warning]
    assert len(by_brand) == 2
    assert by_brand[0].startswith("Starting regimen: Morphine modified-release tablet names no brand. Prescribe "
                                  "modified-release opioids and patches by brand (MST Continus, Morphgesic SR)")
    assert "Fentanyl 72-hour transdermal patch names no brand" in by_brand[1]
    named = answer(branded(bd("morphine-mr-tablet-12h", 30), "MST Continus"), patch(25, "Matrifen"))
    assert not any("names no brand" in warning for warning in named["warnings"])


def test_a_switch_may_name_the_new_products_brand() -> None:
    mxl = branded({"product": "morphine-mr-capsule-24h", "doses": [{"time": "08:00", "dose_mg": 60}]}, "MXL")
    switch = {"from": "morphine-mr-capsule-24h", "to": "morphine-mr-tablet-12h"}
    document = answer(mxl, policy={"switches": [{**switch, "brand": "MST Continus"}]})
    assert document["steps"][0]["lines"][0]["brand"] == "MST Continus"
    assert "(MST Continus)" in document["steps"][0]["explanation"]
    assert document["policy"]["switches"][0]["brand"] == "MST Continus"
    unnamed = answer(mxl, policy={"switches": [switch]})
    assert "Prescribe it by brand" in unnamed["steps"][0]["explanation"]
    with pytest.raises(RegimenError) as refusal:
        answer(mxl, policy={"switches": [{**switch, "brand": "MXL"}]})
    assert refusal.value.errors[0].field == "policy.switches[0].brand"


def test_a_switched_plan_keeps_the_brand_through_a_policy_read_back() -> None:
    policy = read_policy({"switches": [{"from": "morphine-mr-capsule-24h", "to": "morphine-mr-tablet-12h",
                                        "brand": "Morphgesic SR"}]})
    assert policy.switches == (Switch("morphine-mr-capsule-24h", "morphine-mr-tablet-12h", 1, False,
                                      "Morphgesic SR"),)
