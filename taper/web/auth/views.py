"""Signing in (a password, then a code from an authenticator app where the account has one or the settings require
one), and signing out. Every attempt counts towards the rate limits (taper.web.rate_limits) and every failure
towards the lockout (taper.services.lockout)."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import User
from taper.services import accounts, two_factor
from taper.services.lockout import SignInLocked
from taper.services.two_factor import SecondFactor
from taper.web import rate_limits
from taper.web.auth import pending
from taper.web.auth.forms import CodeForm, LoginForm
from taper.web.errors import render_error
from taper.web.security import end_every_session, roles, start_session

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        rate_limits.count_attempt("sign-in", account=accounts.typed_email(form.email.data))
        user = accounts.authenticate(email=form.email.data, password=form.password.data)
        db.session.commit()
        if user is not None:
            return _after_password(user, _safe_next(request.args.get("next")))
        form.form_errors.append("The email address or password is not correct")
    return render_template("auth/login.html", form=form)


@blueprint.route("/login/code", methods=["GET", "POST"])
def two_factor_code() -> Response | str:
    """The second step for an account with an authenticator app: its current code, or a recovery code."""
    user = pending.user()
    if user is None or not user.has_two_factor:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        rate_limits.count_attempt("two-factor", account=user.email)
        second_factor = two_factor.verify(user=user, code=form.code.data)
        db.session.commit()
        if second_factor is not None:
            return _finish(user, second_factor)
        form.code.errors = ["The code is not correct, or it has been used already. Enter the code your app "
                            "shows now, or one of your recovery codes"]
    return render_template("auth/two_factor.html", form=form)


@blueprint.route("/login/set-up-two-factor", methods=["GET", "POST"])
def two_factor_setup() -> Response | str:
    """Enrolment, for an account without an authenticator app where two factors are required: scan the QR code
    (or type the key), confirm with a first code, and see the recovery codes once."""
    user = pending.user()
    if user is None or user.has_two_factor:
        return _start_again()
    secret = pending.enrolment_secret()
    form = CodeForm()
    if form.validate_on_submit():
        rate_limits.count_attempt("two-factor", account=user.email)
        codes = two_factor.enrol(user=user, secret=secret, code=form.code.data)
        if codes is not None:
            destination = pending.next_url()
            accounts.complete_sign_in(user=user, second_factor=SecondFactor.AUTHENTICATOR)
            db.session.commit()
            start_session(user)
            return render_template("auth/recovery_codes.html", codes=codes, next_url=destination)
        db.session.commit()
        form.code.errors = ["The code is not correct. Enter the 6-digit code your app shows now"]
    uri = two_factor.provisioning_uri(secret=secret, email=user.email)
    return render_template("auth/set_up_two_factor.html", form=form, secret=secret,
                           qr_code=segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


@blueprint.route("/logout", methods=["POST"])
@roles(*Role)
def logout() -> Response:
    """Sign out (CSRFProtect has already checked the form's token)."""
    return end_every_session(current_user._get_current_object(), "You have signed out.")


@blueprint.errorhandler(SignInLocked)
def locked_out(error: SignInLocked) -> tuple[str, int, dict[str, str]]:
    """The same answer whatever was typed, so a lockout never tells whether the password was right."""
    db.session.commit()  # the audit of the refusal, written before anything else in this request
    minutes = error.minutes_left
    page, status = render_error(429, f"There have been too many failed attempts to sign in with this email address. "
                                     f"Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again. If you "
                                     "cannot sign in, ask your Taper administrator to set a new password.")
    return page, status, {"Retry-After": str(error.seconds_left)}


def _after_password(user: User, destination: str) -> Response:
    """Ask for the second factor where there is one or it is required; otherwise the sign-in is complete."""
    if user.has_two_factor:
        pending.begin(user, destination)
        return redirect(url_for("auth.two_factor_code"))
    if current_app.extensions["taper.settings"].require_two_factor:
        pending.begin(user, destination)
        return redirect(url_for("auth.two_factor_setup"))
    accounts.complete_sign_in(user=user)
    db.session.commit()
    start_session(user)
    return redirect(destination)


def _finish(user: User, second_factor: SecondFactor) -> Response:
    destination = pending.next_url()
    accounts.complete_sign_in(user=user, second_factor=second_factor)
    db.session.commit()
    start_session(user)
    if second_factor is SecondFactor.RECOVERY_CODE:
        left = two_factor.recovery_codes_left(user)
        flash(f"You signed in with a recovery code, which cannot be used again. You have {left} left. If you have "
              "lost your authenticator app, ask your Taper administrator for help.", "info")
    return redirect(destination)


def _start_again() -> Response:
    flash("Enter your email address and password to sign in. If it has been more than 10 minutes since you "
          "entered them, enter them again.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker supplied."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("home.index")
