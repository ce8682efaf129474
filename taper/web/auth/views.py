from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import accounts
from taper.web.auth.forms import LoginForm
from taper.web.security import roles, start_session

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(email=form.email.data, password=form.password.data)
        db.session.commit()
        if user is not None:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("The email address or password is not correct")
    return render_template("auth/login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
@roles(*Role)
def logout() -> Response:
    """Sign out (CSRFProtect has already checked the form's token)."""
    accounts.sign_out(user=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker supplied."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("home.index")
