"""Session expiry keeps work (issue 15, item 5).

Before the idle limit a dialog (templates/base.html, static/js/session-timeout.mjs) offers to stay signed in,
which posts to the keep-alive address here. A form posted after its session ended (or after the form itself
expired) is not lost: its fields are kept for a short time for the user its submission key was issued to
(never a password field), the person signs in again and comes back through /resume/<token> to the same form,
refilled, with a banner asking them to check it and save it. Nothing is saved until they do.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from taper import clock
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import KeptWork
from taper.services import audit
from taper.web import once
from taper.web.security import roles

blueprint = Blueprint("kept_work", __name__)

KEEP_FOR = timedelta(hours=1)
WARN_SECONDS = 120  # the warning shows this long before the idle limit (NHS.UK session timeout pattern)
MAX_KEPT_CHARS = 100_000  # more than any of Taper's forms holds


def keep_and_sign_in() -> Response | None:
    """For a form posted without a working session: keep its fields for the user its key was issued to and
    send them to sign in again (or, still signed in, straight back to the form). None if there is nothing
    to keep (not a form of Taper's, or a form another user was given)."""
    key = once.submitted_key() if request.method == "POST" else None
    if key is None or (current_user.is_authenticated and current_user.id != key.user_id):
        return None
    kept = [[name, value] for name, value in request.form.items(multi=True)
            if name != "csrf_token" and "password" not in name.lower()]
    fields = json.dumps(kept)
    # Too much to keep, or a NUL character (nothing Taper accepts; the CSRF check runs before its refusal).
    if len(fields) > MAX_KEPT_CHARS or any("\x00" in name or "\x00" in value for name, value in kept):
        return None
    token = secrets.token_urlsafe(24)
    db.session.rollback()  # anything the refused request had started
    db.session.execute(delete(KeptWork).where(KeptWork.created_at < clock.now() - KEEP_FOR))
    db.session.add(KeptWork(token=token, user_id=key.user_id, form_id=key.form_id, page_path=key.page_path,
                            fields=fields))
    db.session.commit()
    resume = url_for("kept_work.resume", token=token)
    if current_user.is_authenticated:
        flash("The form had expired, so nothing was saved. What you typed is shown again: check it and save it.",
              "info")
        return redirect(resume)
    flash("You were signed out, so nothing was saved. What you typed has been kept: sign in again to check it "
          "and save it.", "info")
    return redirect(url_for("auth.login", next=resume))


@blueprint.route("/resume/<token>")
@roles(*Role)
def resume(token: str) -> Response:
    """Back to the page of the kept form, refilled (only for the user who typed it, and only for a while)."""
    kept = db.session.scalar(select(KeptWork).where(KeptWork.token == token))
    if kept is not None and kept.user_id != current_user.id:
        audit.record(action="access_denied", by=current_user, entity_type="kept_work", entity_id=kept.id)
        kept = None
    db.session.commit()
    if kept is None or kept.created_at < clock.now() - KEEP_FOR:
        flash("What you typed before you were signed out is no longer kept (it is kept for "
              f"{KEEP_FOR.seconds // 60} minutes, for the person who typed it). Please enter it again.", "info")
        return redirect(url_for("home.index"))
    if not _shows_a_page(kept.page_path):
        flash("What you typed could not be shown again. Please enter it again.", "info")
        return redirect(url_for("home.index"))
    return redirect(f"{kept.page_path}?kept={token}")


@blueprint.route("/session/keep-alive", methods=["POST"])
@roles(*Role)
def keep_alive() -> tuple[str, int]:
    """Stay signed in: any signed-in request starts the idle time again (the session cookie is sent anew)."""
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.before_request(_load_kept_work)
    app.context_processor(lambda: {"session_timeout": _timing()})


def _load_kept_work() -> None:
    """On the page a kept form came from (?kept=<token>), the kept fields for the OnceForm of that kind."""
    token = request.args.get("kept")
    if request.method != "GET" or not token or not current_user.is_authenticated:
        return
    kept = db.session.scalar(select(KeptWork).where(KeptWork.token == token, KeptWork.user_id == current_user.id,
                                                    KeptWork.created_at >= clock.now() - KEEP_FOR))
    if kept is not None:
        g.kept_work = kept


def _timing() -> dict[str, int]:
    idle_seconds = int(current_app.permanent_session_lifetime.total_seconds())
    return {"idle_seconds": idle_seconds, "warn_seconds": min(WARN_SECONDS, idle_seconds // 2)}


def _shows_a_page(path: str) -> bool:
    try:
        current_app.create_url_adapter(request).match(path, method="GET")  # type: ignore[union-attr]
    except HTTPException:
        return False
    return True
