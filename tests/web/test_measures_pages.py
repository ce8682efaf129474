"""The measures page and its CSVs: the made world of tests/services/test_measures.py through the browser's
requests, the choices as query arguments, the CSV equal to the page's table, charts with their tables, scope and
roles, and a fixed number of statements however big the caseload."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.services import measures
from tests.conftest import Maker, page_text, sign_in
from tests.query_counts import counting
from tests.services.test_measures import World, Writer, local, make_world

PERIOD = {"start": "1 January 2026", "end": "30/11/2026"}  # as people type dates
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula
NUMBER = re.compile(r"-?\d+(?:\.\d+)?%?")  # ... unless the cell is a plain figure


def _table(page: str, key: str) -> list[list[str]]:
    """A table of the page: its header row, then each row's cells, as text."""
    match = re.search(rf'<table[^>]*id="table-{key}".*?</table>', page, re.S)
    assert match, key
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        cells = [re.sub(r'<span class="nhsuk-table-responsive__heading"[^>]*>.*?</span>', "", cell) for cell in cells]
        found.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return found


def _csv(client: FlaskClient, key: str, **arguments: str) -> list[list[str]]:
    response = client.get(f"/measures/{key}.csv", query_string=arguments)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_page_shows_each_figure_and_each_csv_equals_its_table(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    response = client.get("/measures/", query_string=PERIOD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 January 2026 to 30 November 2026: all the clinic's patients" in html.unescape(page)
    assert _table(page, "caseload")[1:] == [["Start: 1 January 2026", "3", "0", "590", "3", "0"],
                                            ["End: 30 November 2026", "1", "0", "530", "5", "1"]]
    assert _table(page, "plans")[1:] == [["Started", "4"], ["Completed", "1"], ["Stopped", "2"]]
    assert _table(page, "reductions")[3] == ["12 months", "0", "not enough plans yet", "not enough plans yet", "0"]
    for key in measures.TABLES:
        on_page = _table(page, key)
        exported = _csv(client, key, **PERIOD)
        if len(on_page) == 2 and on_page[1] == ["None in this period."]:
            assert exported == on_page[:1]
        else:  # the same cells, those a spreadsheet would read as a formula (but plain numbers) written as text
            assert exported == [[f"'{cell}" if cell[:1] in FORMULA and not NUMBER.fullmatch(cell) else cell
                                 for cell in row] for row in on_page], key
        assert f'/measures/{key}.csv?start=1+January+2026&amp;end=30/11/2026' in page
        assert "How it is counted: " in page


def test_a_stop_reason_written_as_a_formula_is_exported_as_text(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    world.plans["C"].outcome_reason = '=HYPERLINK("http://example.com","Patient moved away")'
    db.session.commit()
    sign_in(client, world.pharmacist)
    page = page_text(client.get("/measures/", query_string=PERIOD))
    assert _table(page, "stop-reasons")[1:] == [['=HYPERLINK("http://example.com","Patient moved away")', "1"],
                                                ["Withdrawal too hard", "1"]]
    assert _csv(client, "stop-reasons", **PERIOD)[1:] == [
        ['\'=HYPERLINK("http://example.com","Patient moved away")', "1"], ["Withdrawal too hard", "1"]]
    assert _csv(client, "scores", **PERIOD)[1][4] == "-0.7"  # a negative figure stays a number


def test_the_page_says_how_practice_records_are_counted(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    page = html.unescape(page_text(client.get("/measures/", query_string=PERIOD)))
    assert _table(page, "caseload")[0] == [
        "Day", "People on high doses", "Of them, from practice records not yet confirmed", "Total OME (mg a day)",
        "People counted", "People whose OME is not known"]
    assert page.count("so a cohort imported during the period raises the figures at the end") >= 3


def test_charts_are_images_with_a_title_and_the_table_after_them(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    page = page_text(client.get("/measures/", query_string=PERIOD))
    charts = re.findall(r'<svg [^>]*role="img" aria-labelledby="(chart-[a-z-]+)-title \1-desc"', page)
    assert charts == ["chart-month-ends-high-dose", "chart-month-ends-ome", "chart-invitations-by-month"]
    for chart, table in (("chart-month-ends-ome", "month-ends"), ("chart-invitations-by-month",
                                                                  "invitations-by-month")):
        after = page[page.index(f'id="{chart}-title"'):]
        assert after.index("</svg>") < after.index(f'id="table-{table}"')
        between = after[after.index("</svg>"):after.index(f'id="table-{table}"')]
        assert "<svg" not in between and "<table" in between[-200:]
    assert '<title id="chart-invitations-by-month-title">Invitations and answers by month sent</title>' in page
    # January's two invitations sent, as a bar with its words.
    assert "<title>Sent, Jan 2026: 2</title>" in page


def test_one_practice_and_another_period(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    page = client.get("/measures/", query_string={**PERIOD, "practice": world.practice_a.id}).get_data(as_text=True)
    assert "patients of Aire Street Surgery" in page
    assert _table(page, "caseload")[1:] == [["Start: 1 January 2026", "2", "0", "350", "2", "0"],
                                            ["End: 30 November 2026", "0", "0", "290", "4", "0"]]
    assert _csv(client, "plans", **PERIOD, practice=str(world.practice_a.id))[1:] == [
        ["Started", "3"], ["Completed", "1"], ["Stopped", "1"]]
    page = client.get("/measures/", query_string={"start": "2026-01-01", "end": "30 April 2026"}).get_data(
        as_text=True)
    assert _table(page, "plans")[1:] == [["Started", "2"], ["Completed", "0"], ["Stopped", "0"]]
    assert _table(page, "stop-reasons")[1:] == [["None in this period."]]


def test_the_default_period_is_the_last_12_months(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    page = client.get("/measures/").get_data(as_text=True)
    assert "3 December 2025 to 2 December 2026" in page
    assert 'value="3 December 2025"' in page and 'value="2 December 2026"' in page
    assert _table(page, "caseload")[1][0] == "Start: 3 December 2025"


def test_a_date_that_cannot_be_read_or_a_future_end_is_said_on_the_form(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    page = page_text(client.get("/measures/", query_string={"start": "31/02/2026", "end": "1 March 2026"}))
    assert "From must be a real date" in page
    assert 'id="table-plans"' not in page
    page = page_text(client.get("/measures/", query_string={"start": "1 March 2026", "end": "3 December 2026"}))
    assert "The end must be today or earlier" in page
    assert 'id="table-plans"' not in page
    # The CSV of a period that cannot be counted goes back to the page, which says why.
    response = client.get("/measures/plans.csv", query_string={"start": "1 March 2026", "end": "3 December 2026"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/measures/?")
    assert client.get("/measures/no-such-table.csv").status_code == 404


def test_scope_a_pharmacist_sees_only_their_clinic(app: Flask, client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    assert client.get("/measures/", query_string={"clinic": world.other_clinic.id}).status_code == 404
    assert client.get("/measures/plans.csv", query_string={"clinic": world.other_clinic.id}).status_code == 404
    # A practice none of the clinic's patients are registered with.
    outside = make.organisation()
    assert client.get("/measures/", query_string={"practice": outside.id}).status_code == 404
    other = app.test_client()
    sign_in(other, world.other_pharmacist)
    page = other.get("/measures/", query_string=PERIOD).get_data(as_text=True)
    assert _table(page, "stop-reasons")[1:] == [["Elsewhere", "1"]]


def test_an_admin_chooses_the_clinic(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, make.user(Role.ADMIN))
    page = client.get("/measures/").get_data(as_text=True)
    assert "Choose a clinic" in page and 'id="table-plans"' not in page
    assert client.get("/measures/plans.csv").status_code == 302
    page = client.get("/measures/", query_string={**PERIOD, "clinic": world.clinic.id}).get_data(as_text=True)
    assert _table(page, "plans")[1:] == [["Started", "4"], ["Completed", "1"], ["Stopped", "2"]]
    assert f'clinic={world.clinic.id}' in page  # carried to the CSV links
    assert _csv(client, "plans", **PERIOD, clinic=str(world.clinic.id))[1:] == [
        ["Started", "4"], ["Completed", "1"], ["Stopped", "2"]]
    assert client.get("/measures/", query_string={"clinic": world.practice_a.id}).status_code == 404


def test_other_roles_may_not(app: Flask, make: Maker) -> None:
    for role in (Role.GP, Role.COMMUNITY_PHARMACIST):
        client = app.test_client()
        sign_in(client, make.user(role))
        assert client.get("/measures/").status_code == 403
        assert client.get("/measures/plans.csv").status_code == 403


def _grow(world: World, make: Maker, patients: int) -> None:
    """More patients of practice A, each with a regimen, a plan, a follow-up, a review and an invitation."""
    write = Writer(world.pharmacist)
    for index in range(patients):
        patient = make.patient(world.pharmacist, gp_practice_id=world.practice_a.id)
        write.regimen(patient, date(2025, 10, 1), "180")
        plan = write.plan(patient, "180", [(date(2026, 2, 1), "160"), (date(2026, 5, 1), "120")],
                          status=PlanStatus.ACTIVE)
        write.follow_up(plan, date(2026, 3, 1), (5, 5, 5), {"yawning": 1})
        write.follow_up(plan, date(2026, 6, 1), (4, 4, 4), {"yawning": 0})
        write.appointment(patient, local(date(2026, 4, 1), 8 + index % 8, 0 if index < 8 else 30), "attended")
        write.invitation(patient, local(date(2026, 1, 5)), "accepted")
    db.session.commit()


def test_the_page_runs_as_many_statements_for_a_bigger_caseload(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)

    def statements() -> int:
        with counting() as counted:
            assert client.get("/measures/", query_string=PERIOD).status_code == 200
        return counted.count

    small = statements()
    _grow(world, make, 12)
    bigger = statements()
    assert bigger == small
    page = client.get("/measures/", query_string=PERIOD).get_data(as_text=True)
    assert _table(page, "plans")[1] == ["Started", str(4 + 12)]
    assert _table(page, "invitations")[1] == ["Sent", str(4 + 12)]


def test_hostile_choices_are_refused_without_a_crash(client: FlaskClient, make: Maker) -> None:
    world = make_world(make)
    sign_in(client, world.pharmacist)
    for arguments in ({"clinic": "abc"}, {"clinic": str(2**40)}, {"practice": "99999999999"}, {"practice": "-1"}):
        assert client.get("/measures/", query_string=arguments).status_code == 404, arguments
        assert client.get("/measures/plans.csv", query_string=arguments).status_code == 404, arguments
    assert client.get("/measures/", query_string={"start": "\x00"}).status_code == 400  # refused by the app
    for typed in ("x" * 100_000, "31 February 2026", "1/1/99999", "1 January 0001", "2026-13-01"):
        response = client.get("/measures/", query_string={"start": typed})
        assert response.status_code == 200, typed
        assert 'id="table-plans"' not in response.get_data(as_text=True)
        assert client.get("/measures/plans.csv", query_string={"start": typed}).status_code == 302
