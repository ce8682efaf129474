from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import worklists
from taper.web import once
from taper.web.once import OnceForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("home", __name__)
RUNNING_PER_PAGE = 50


@blueprint.route("/")
@roles(*Role)
def index() -> Response | str:
    """Send each person to where their work starts (a pharmacist's running plans a page at a time: ?page=N)."""
    if current_user.role is Role.PHARMACIST:
        return render_template("home/pharmacist.html", home=worklists.clinic_home(
            by=current_user, page=page_number(), per_page=RUNNING_PER_PAGE))
    return redirect(url_for({Role.ADMIN: "admin.users", Role.GP: "practice.inbox",
                             Role.COMMUNITY_PHARMACIST: "pharmacy.due"}[current_user.role]))


@blueprint.route("/worklist/<int:item_id>/done", methods=["POST"])
@roles(Role.PHARMACIST)
def resolve(item_id: int) -> Response:
    form = OnceForm()
    if form.validate_on_submit():
        once.claim(form)
        worklists.resolve(by=current_user, item_id=item_id)
        db.session.commit()
    return redirect(url_for("home.index"))
