"""The measures page (issue 18 item 5): a clinic's figures over a period, for all its patients or one GP
practice's, with charts and a CSV of every table."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.models import Organisation
from taper.services import measures
from taper.services.errors import InvalidInput, NotFound
from taper.web.arguments import record_id
from taper.web.fields import organisation_choices
from taper.web.measures.charts import bar_chart
from taper.web.measures.forms import MeasuresForm
from taper.web.security import roles

blueprint = Blueprint("measures", __name__, url_prefix="/measures")

CHARTS = (  # (series key, chart title, the table that is its text alternative)
    ("month-ends-high-dose", "People on high doses at each month end", "month-ends"),
    ("month-ends-ome", "Total OME a day (mg) at each month end", "month-ends"),
    ("invitations-by-month", "Invitations and answers by month sent", "invitations-by-month"),
)


@dataclass(frozen=True)
class Chosen:
    form: MeasuresForm
    clinic: Organisation | None
    practices: list[Organisation]
    result: measures.Measures | None


@blueprint.route("/")
@roles(Role.PHARMACIST, Role.ADMIN)
def index() -> str:
    chosen = _choose()
    charts: dict[str, list[tuple[str, Markup]]] = {}
    if chosen.result is not None:
        for key, title, table in CHARTS:
            charts.setdefault(table, []).append((key, bar_chart(
                chosen.result.charts[key], chart_id=f"chart-{key}", title=title,
                description=f"{title}. The figures are in the table after the chart.")))
    return render_template("measures/index.html", form=chosen.form, clinic=chosen.clinic, result=chosen.result,
                           charts=charts, arguments=_arguments(), is_admin=current_user.role is Role.ADMIN)


@blueprint.route("/<table>.csv")
@roles(Role.PHARMACIST, Role.ADMIN)
def table_csv(table: str) -> Response:
    if table not in measures.TABLES:
        abort(404)
    chosen = _choose()
    if chosen.result is None:  # no clinic chosen yet, or the period cannot be counted: the page says why
        return redirect(url_for("measures.index", **_arguments()))
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(measures.csv_rows(chosen.result.tables[table]))
    practice = f"-{chosen.result.practice.ods_code}" if chosen.result.practice else ""
    name = (f"taper-{table}-{chosen.result.clinic.ods_code}{practice}-{chosen.result.start.isoformat()}-to-"
            f"{chosen.result.end.isoformat()}.csv")
    return Response(text.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _arguments() -> dict[str, Any]:
    """The query arguments that choose the measures, to carry to the CSV links."""
    return {name: value for name, value in request.args.items()
            if name in ("clinic", "start", "end", "practice") and value}


def _choose() -> Chosen:
    """The clinic, the period and the practice the query arguments choose, and the measures if they can be
    counted (an error on the form's field if not)."""
    form = MeasuresForm(formdata=request.args)
    valid = form.validate()
    if current_user.role is Role.ADMIN:
        organisation_choices(form.clinic, measures.clinics(by=current_user), blank="Choose a clinic")
    try:
        clinic = measures.clinic_for(by=current_user, clinic_id=record_id("clinic"))
    except NotFound:
        abort(404)
    if clinic is None:
        return Chosen(form, None, [], None)
    practices = measures.practices_of(clinic)
    organisation_choices(form.practice, practices, blank="All the clinic's GP practices")
    default_start, default_end = measures.default_period()
    start, end = form.start.day or default_start, form.end.day or default_end
    if not valid:
        return Chosen(form, clinic, practices, None)
    try:
        result = measures.measure(clinic=clinic, practices=practices, start=start, end=end,
                                  practice_id=record_id("practice"))
    except InvalidInput as refusal:
        for name, message in refusal.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        return Chosen(form, clinic, practices, None)
    except NotFound:
        abort(404)
    if not form.start.data:
        form.start.data = f"{start.day} {start:%B %Y}"
    if not form.end.data:
        form.end.data = f"{end.day} {end:%B %Y}"
    return Chosen(form, clinic, practices, result)
