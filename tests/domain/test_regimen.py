from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from taper.domain.formulary import load_formulary
from taper.domain.regimen import PatchLine, PrnLine, RegimenError, RegularLine, parse_regimen, regimen_to_json

FORMULARY = load_formulary()
EXAMPLE = [
    {"product": "morphine-mr-tablet-12h",
     "doses": [{"time": "20:00", "dose_mg": 60}, {"time": "08:00", "dose_mg": 60}]},
    {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
    {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 37},
]


def test_parse_regimen_reads_each_kind_of_line_exactly() -> None:
    regular, prn, patch = parse_regimen(EXAMPLE, FORMULARY).lines
    assert isinstance(regular, RegularLine) and [dose.at for dose in regular.doses] == [time(8), time(20)]
    assert isinstance(prn, PrnLine) and (prn.dose_mg, prn.usual_per_day, prn.max_per_day) == (Decimal(5), 2, 4)
    assert isinstance(patch, PatchLine) and patch.patches == ((Decimal(25), 1), (Decimal(12), 1))


def test_regimen_round_trips_through_json() -> None:
    regimen = parse_regimen(EXAMPLE, FORMULARY)
    assert parse_regimen(regimen_to_json(regimen), FORMULARY) == regimen
    assert regimen_to_json(regimen)[0]["doses"][0] == {"time": "08:00", "dose_mg": 60}


def test_decimal_doses_are_read_exactly() -> None:
    [line] = parse_regimen([{"product": "hydromorphone-ir-capsule",
                             "prn": {"dose_mg": 1.3, "usual_per_day": 1, "max_per_day": 6}}], FORMULARY).lines
    assert isinstance(line, PrnLine) and line.dose_mg == Decimal("1.3")


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"product": "morphine-mr-tablet-8h", "doses": []}, "regimen[0].product",
         "unknown product 'morphine-mr-tablet-8h'"),
        ({"product": "morphine-ir-tablet", "doses": [{"time": "08:00", "dose_mg": 0}]}, "regimen[0].doses[0].dose_mg",
         "more than zero, not 0"),
        ({"product": "morphine-ir-tablet", "doses": [{"time": "08:00", "dose_mg": -10}]},
         "regimen[0].doses[0].dose_mg", "more than zero, not -10"),
        ({"product": "morphine-ir-tablet", "doses": [{"time": "08:00", "dose_mg": "ten"}]},
         "regimen[0].doses[0].dose_mg", "must be a number, not 'ten'"),
        ({"product": "morphine-ir-tablet", "doses": [{"time": "8am", "dose_mg": 10}]}, "regimen[0].doses[0].time",
         "'8am' is not a time of day"),
        ({"product": "morphine-ir-tablet",
          "doses": [{"time": "08:00", "dose_mg": 10}, {"time": "08:00", "dose_mg": 10}]},
         "regimen[0].doses", "two doses at the same time"),
        ({"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2}},
         "regimen[0].prn.max_per_day", "needs a maximum"),
        ({"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 5, "max_per_day": 4}},
         "regimen[0].prn.usual_per_day", "cannot be more than the maximum"),
        ({"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 30}, "regimen[0].patch_mcg_per_hour",
         "30 micrograms an hour cannot be made"),
        ({"product": "buprenorphine-patch-7day", "patch_mcg_per_hour": 60}, "regimen[0].patch_mcg_per_hour",
         "at most 2"),
        ({"product": "fentanyl-patch-72h", "doses": [{"time": "08:00", "dose_mg": 25}]}, "regimen[0].doses",
         "is a patch: record the patches worn"),
        ({"product": "morphine-ir-tablet", "patch_mcg_per_hour": 25}, "regimen[0].patch_mcg_per_hour",
         "is not a patch: record regular doses"),
        ({"product": "morphine-ir-tablet"}, "regimen[0]", "give exactly one of"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_value(line: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(RegimenError) as refusal:
        parse_regimen([line], FORMULARY)
    assert any(error.field == field and message in error.message for error in refusal.value.errors), \
        refusal.value.errors


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(RegimenError) as refusal:
        parse_regimen([{"product": "nope"}, {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 30}], FORMULARY)
    assert [error.field for error in refusal.value.errors] == ["regimen[0].product", "regimen[1].patch_mcg_per_hour"]


@pytest.mark.parametrize("data", [[], None, {"product": "morphine-ir-tablet"}])
def test_a_regimen_must_list_medicines(data: object) -> None:
    with pytest.raises(RegimenError, match="at least one medicine"):
        parse_regimen(data, FORMULARY)


def test_a_maximum_is_cited_to_users_without_the_notes_of_whoever_entered_it() -> None:
    from taper.domain.assessment import assess
    from taper.domain.ome import get_factor_set

    regimen = parse_regimen([{"product": "codeine-tablet", "doses": [{"time": "08:00", "dose_mg": 300}]}], FORMULARY)
    [above] = [finding for finding in assess(regimen, formulary=FORMULARY, factor_set=get_factor_set("fpm-2020")
                                             ).findings if finding.code == "ABOVE_MAXIMUM"]
    assert above.message.endswith("(BNF monograph codeine phosphate: max 240 mg per day).")
    for product in FORMULARY:
        assert "verify" not in product.max_daily_dose_source and "stored copy" not in product.max_daily_dose_source
        if product.max_daily_dose_provenance:  # kept as the data's provenance, not shown
            assert "verify" in product.max_daily_dose_provenance
    assert FORMULARY.get("codeine-tablet").max_daily_dose_provenance.startswith("entered from the BNF")
