from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import pharmacy_concerns, worklists
from taper.web import once
from taper.web.fields import save
from taper.web.home.forms import CloseConcernForm, ReopenConcernForm
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


@blueprint.route("/concerns/<int:concern_id>")
@roles(Role.PHARMACIST)
def concern(concern_id: int) -> str:
    """A pharmacy's concern: what it said, its status, and closing it with a note (or reopening it)."""
    return _concern_page(concern_id)


@blueprint.route("/concerns/<int:concern_id>/close", methods=["POST"])
@roles(Role.PHARMACIST)
def close_concern(concern_id: int) -> Response | str:
    form = CloseConcernForm(prefix="close")
    if form.validate_on_submit():
        closed = save(form, lambda: pharmacy_concerns.close_concern(
            by=current_user, concern_id=concern_id, changes_seen=form.changes_seen.data or 0,
            note=form.note.data or ""))
        if closed is not None:
            flash("Concern closed: the pharmacy sees your note. It is off the worklist.", "success")
            return redirect(url_for("home.concern", concern_id=concern_id))
    db.session.rollback()
    return _concern_page(concern_id, close_form=form)


@blueprint.route("/concerns/<int:concern_id>/reopen", methods=["POST"])
@roles(Role.PHARMACIST)
def reopen_concern(concern_id: int) -> Response | str:
    form = ReopenConcernForm(prefix="reopen")
    if form.validate_on_submit():
        reopened = save(form, lambda: pharmacy_concerns.reopen_concern(
            by=current_user, concern_id=concern_id, changes_seen=form.changes_seen.data or 0))
        if reopened is not None:
            flash("Concern reopened: it is back on the worklist.", "success")
            return redirect(url_for("home.concern", concern_id=concern_id))
    db.session.rollback()
    return _concern_page(concern_id, reopen_form=form)


def _concern_page(concern_id: int, *, close_form: CloseConcernForm | None = None,
                  reopen_form: ReopenConcernForm | None = None) -> str:
    shown = pharmacy_concerns.concern_for_clinic(by=current_user, concern_id=concern_id)
    seen = len(shown.changes)
    close_form = close_form or CloseConcernForm(prefix="close", formdata=None, changes_seen=seen)
    reopen_form = reopen_form or ReopenConcernForm(prefix="reopen", formdata=None, changes_seen=seen)
    close_form.changes_seen.data = reopen_form.changes_seen.data = seen
    page = render_template("home/concern.html", concern=shown, plan=shown.plan, patient=shown.plan.patient,
                           close_form=close_form, reopen_form=reopen_form,
                           concern_labels=pharmacy_concerns.CONCERN_LABELS)
    db.session.commit()  # (after drawing the page: the commit expires what it shows)
    return page
