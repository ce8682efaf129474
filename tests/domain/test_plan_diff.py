from taper.domain.plan_diff import differences


def _step(number: int, starts: str, ends: str | None, ome: int) -> dict[str, object]:
    return {"number": number, "starts_on": starts, "ends_on": ends, "ome_mg_per_day": ome, "lines": []}


OLD = {"policy": {"reduction_pct": 10, "interval_days": 14},
       "steps": [_step(1, "2027-01-04", "2027-01-17", 110), _step(2, "2027-01-18", None, 0)]}


def test_no_differences_is_said() -> None:
    assert differences(OLD, OLD) == ["No differences."]


def test_settings_dates_doses_and_added_steps_are_described() -> None:
    new = {"policy": {"reduction_pct": 5, "interval_days": 14},
           "steps": [_step(1, "2027-01-04", "2027-01-31", 110), _step(2, "2027-02-01", "2027-02-14", 100),
                     _step(3, "2027-02-15", None, 0)]}
    assert differences(OLD, new) == [
        "Setting reduction (%): 10 became 5.",
        "Step 1: dates 4 Jan 2027 to 17 Jan 2027 became 4 Jan 2027 to 31 Jan 2027.",
        "Step 2: dates 18 Jan 2027 onwards became 1 Feb 2027 to 14 Feb 2027; dose 0 became 100 mg OME a day.",
        "Step 3 added: 15 Feb 2027 onwards, 0 mg OME a day.",
    ]
