"""The daily OME chart (taper.documents.chart): an accessible SVG image drawn from the schedule's steps, with the
ticks and labels the matplotlib chart it replaced showed."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from taper.documents.chart import ome_chart_description, ome_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
# 120 mg OME a day now, then three steps a fortnight apart down to nothing.
SHORT: dict[str, Any] = {"starting_ome_mg_per_day": 120, "steps": [
    {"starts_on": "2027-01-04", "ome_mg_per_day": 90},
    {"starts_on": "2027-01-18", "ome_mg_per_day": 60},
    {"starts_on": "2027-02-01", "ome_mg_per_day": 0}]}


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _texts(root: ElementTree.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def _line_points(root: ElementTree.Element) -> list[tuple[float, float]]:
    """The corners of the blue step line, in drawing order."""
    line = next(path for path in root.iter(f"{SVG}path") if path.get("stroke") == "#005eb8")
    numbers = [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?", line.get("d", ""))]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def test_the_chart_is_an_image_named_by_its_title_and_described_in_words() -> None:
    root = _parse(ome_chart_svg(SHORT))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Daily oral morphine equivalent (mg)"
    assert desc.text == ("Daily oral morphine equivalent (OME) falls from 120 mg a day before 4 January 2027 to "
                         "0 mg a day from 1 February 2027, in 3 steps.")
    assert desc.text == ome_chart_description(SHORT)


def test_the_patients_chart_gives_shares_of_todays_dose_and_never_says_ome() -> None:
    svg = ome_chart_svg(SHORT, title="Your daily dose, as a share of what you take now", as_share=True)
    root = _parse(svg)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == ("Your daily dose falls from 100% of what you take now before "
                                              "4 January 2027 to 0% of it from 1 February 2027, in 3 steps.")
    assert "% of your dose now" in _texts(root)
    assert "OME" not in svg and "morphine equivalent" not in svg


def test_a_maintenance_dose_below_one_percent_is_not_called_nothing() -> None:
    schedule = {"starting_ome_mg_per_day": 2000, "steps": [{"starts_on": "2027-01-04", "ome_mg_per_day": 5}]}
    assert ome_chart_description(schedule, as_share=True) == (
        "Your daily dose falls from 100% of what you take now before 4 January 2027 to less than 1% of it from "
        "4 January 2027, in 1 step.")


def test_the_line_steps_to_each_dose_on_the_day_its_step_starts() -> None:
    """Level from a week before step 1 to two weeks after the last step starts, stepping down at each start:
    heights in proportion to the doses, positions in proportion to the days."""
    points = _line_points(_parse(ome_chart_svg(SHORT)))
    levels = [(left, right, y) for (left, y), (right, level) in zip(points[::2], points[1::2], strict=True)
              if y == level]
    assert len(levels) == 4
    bottom = max(y for _, _, y in levels)
    start_x, end_x = levels[0][0], levels[-1][1]
    first_height = bottom - levels[0][2]
    assert [round((bottom - y) / first_height * 120, 1) for _, _, y in levels] == [120, 90, 60, 0]
    # 28 December 2026 to 15 February 2027 across (49 days); the steps start on days 7, 21 and 35.
    assert [round((left - start_x) / (end_x - start_x) * 49, 1) for left, _, _ in levels] == [0, 7, 21, 35]


def test_dates_and_values_are_ticked_and_labelled_in_the_house_date_style(schedule: dict[str, Any]) -> None:
    texts = _texts(_parse(ome_chart_svg(schedule)))
    assert [text for text in texts if re.fullmatch(r"\d{1,2} \w{3} \d{4}", text)] == [
        "1 Jan 2027", "1 Feb 2027", "1 Mar 2027", "1 Apr 2027", "1 May 2027", "1 Jun 2027"]
    assert [text for text in texts if re.fullmatch(r"[\d.]+", text)] == ["0", "50", "100", "150", "200"]
    short = _texts(_parse(ome_chart_svg(SHORT)))
    assert [text for text in short if re.fullmatch(r"\d{1,2} \w{3} \d{4}", text)] == [
        "1 Jan 2027", "8 Jan 2027", "15 Jan 2027", "22 Jan 2027", "1 Feb 2027", "8 Feb 2027", "15 Feb 2027"]
    small = {"starting_ome_mg_per_day": 12.5, "steps": [{"starts_on": "2027-01-04", "ome_mg_per_day": 10}]}
    assert [text for text in _texts(_parse(ome_chart_svg(small))) if re.fullmatch(r"[\d.]+", text)] == [
        "0.0", "2.5", "5.0", "7.5", "10.0", "12.5"]


def test_the_same_schedule_always_gives_the_same_bytes(schedule: dict[str, Any]) -> None:
    assert ome_chart_svg(schedule) == ome_chart_svg(copy.deepcopy(schedule))
    assert ome_chart_svg(schedule, as_share=True) != ome_chart_svg(schedule)


def test_a_title_is_printed_never_read_as_markup() -> None:
    root = _parse(ome_chart_svg(SHORT, title='Dose <script>alert("x")</script> & more'))
    assert root.find(f"{SVG}script") is None
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == 'Dose <script>alert("x")</script> & more'
