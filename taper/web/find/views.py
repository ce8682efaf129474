"""The find worklist (issue 18, item 3): the clinic's patients ranked by need, to choose whom to invite."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import finding
from taper.web.find.forms import ChooseForm, FilterForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("find", __name__, url_prefix="/find")


@blueprint.route("/")
@roles(Role.PHARMACIST)
def index() -> str:
    """Page `page` of the worklist with the filters in the address; checked rows go to invitations.new."""
    filters = FilterForm(request.args, practices=finding.practices(by=current_user))
    page = finding.worklist(by=current_user, page=page_number(), show=filters.chosen())
    db.session.commit()
    return render_template("find/index.html", page=page, filters=filters, choose=ChooseForm(),
                           arguments=filters.arguments())
