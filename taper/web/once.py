"""Once only (issue 15, item 4): every form that changes data carries a one-time submission key, and a repeat
of the form (a double click, a retry, the browser's Back button and Save again) shows what was already
recorded and changes nothing.

The key is issued when the form is rendered, signed with the app's secret key and bound to the signed-in user,
the form and the page that showed it. `claim` writes it in the same transaction as the change it guards (first,
so that a second submission at the same moment breaks the unique constraint before it changes anything), and
a repeat is answered before its view runs:

- by its key: the same form sent again (a double click, a retry, a page the browser kept);
- by its contents: the user's last change at the same address, within the idle limit, with exactly the same
  fields apart from the key and the record's version. After Back, a browser fetches the page again (pages are
  never cached) and fills in what was typed, but the new page carries a new key and the record's new version.

A form posted without a key (no browser sends one) is handled as before, without this protection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import HiddenField

from taper import clock
from taper.extensions import db
from taper.models import SubmissionKey

FIELD = "submission_key"
_SALT = "taper.submission-key"
# Fields left out of a form's fingerprint: they change whenever the page is fetched again.
_VOLATILE = ("csrf_token", FIELD, "version")


@dataclass(frozen=True)
class Key:
    """What a submission key says: who it was issued to, for which form, on which page; and its random part."""

    user_id: int
    form_id: str
    page_path: str
    nonce: str


class AlreadyRecorded(Exception):
    """The form's change was made by an earlier submission."""

    def __init__(self, key: Key):
        super().__init__(key.nonce)
        self.key = key


def form_id(form: FlaskForm | type[FlaskForm]) -> str:
    cls = form if isinstance(form, type) else type(form)
    return f"{cls.__module__}.{cls.__qualname__}"


def issue(form_identity: str) -> str:
    """A new key for the signed-in user, for a form of that identity on the page being rendered."""
    payload = [current_user.id, form_identity, request.path, secrets.token_urlsafe(16)]
    return str(_serializer().dumps(payload))


def read(value: str | None) -> Key | None:
    """The key in a submitted value, if Taper signed it (whoever it was issued to)."""
    if not value:
        return None
    try:
        user_id, form_identity, page_path, nonce = _serializer().loads(value)
    except (BadSignature, ValueError, TypeError):
        return None
    return Key(user_id=int(user_id), form_id=str(form_identity), page_path=str(page_path), nonce=str(nonce))


def submitted_key() -> Key | None:
    """The key posted with this request (a form with a prefix names it `<prefix>-submission_key`)."""
    value = next((value for name, value in request.form.items() if name == FIELD or name.endswith(f"-{FIELD}")),
                 None)
    return read(value)


class OnceForm(FlaskForm):
    """A form that changes data: it carries a submission key, and is refilled with kept work (see kept_work)."""

    submission_key = HiddenField()

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            kept = g.get("kept_work")
            if kept is not None and request.method == "GET" and kept.form_id == form_id(form):
                form.refilled = True
                return MultiDict(json.loads(kept.fields))
            wrapped = super().wrap_formdata(form, formdata)
            form.posted = wrapped is not None
            return wrapped

    refilled = False
    posted = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.submission_key.data and not self.posted:
            self.submission_key.data = issue(form_id(self))


def claim(form: FlaskForm) -> None:
    """Record the form's key in the current transaction, before the change it guards. Raises AlreadyRecorded
    (with the transaction rolled back) if another submission of the key got there first."""
    field = getattr(form, FIELD, None)
    key = read(field.data) if field is not None else None
    if key is None or key.user_id != current_user.id:
        return
    db.session.add(SubmissionKey(user_id=current_user.id, key=key.nonce, path=request.path,
                                 fingerprint=_fingerprint()))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRecorded(key) from None
    g.claimed_key = key.nonce


def release_claim() -> None:
    """Take back this request's claimed key before a refusal is committed (a record not found keeps its audit
    row): nothing was changed, so a corrected submission of the same form must still go through."""
    nonce = g.pop("claimed_key", None)
    if nonce is not None:
        db.session.execute(delete(SubmissionKey).where(SubmissionKey.user_id == current_user.id,
                                                       SubmissionKey.key == nonce))


def key_input(prefix: str = "") -> Markup:
    """A hidden input with a new key, for the small forms written out in a template (one button each; each
    needs its own key, or a second button on a page kept by the browser would count as a repeat)."""
    name = f"{prefix}-{FIELD}" if prefix else FIELD
    return Markup('<input type="hidden" name="{}" value="{}">').format(name, issue(""))


def init_app(app: Flask) -> None:
    """Answer repeats before their views run (after the access checks), note where each change was shown."""
    app.before_request(_answer_repeats)
    app.after_request(_remember_result)
    app.register_error_handler(AlreadyRecorded, lambda error: _already_recorded(error.key))
    app.jinja_env.globals["submission_key"] = key_input


def _answer_repeats() -> Response | None:
    if request.method != "POST" or not current_user.is_authenticated:
        return None
    key = submitted_key()
    if key is None or key.user_id != current_user.id:
        return None
    earlier = db.session.scalar(select(SubmissionKey).where(SubmissionKey.user_id == current_user.id,
                                                            SubmissionKey.key == key.nonce))
    if earlier is None:
        earlier = _same_as_last_change()
    if earlier is None:
        return None
    db.session.commit()
    return _answer(earlier.created_at, earlier.result_url or key.page_path)


def _same_as_last_change() -> SubmissionKey | None:
    """The user's last change at this address, if it was within the idle limit and had exactly these fields."""
    fingerprint = _fingerprint()
    if fingerprint is None:
        return None
    last = db.session.scalar(
        select(SubmissionKey).where(SubmissionKey.user_id == current_user.id, SubmissionKey.path == request.path)
        .order_by(SubmissionKey.created_at.desc(), SubmissionKey.id.desc()).limit(1))
    if last is None or last.fingerprint != fingerprint:
        return None
    return last if last.created_at >= clock.now() - current_app.permanent_session_lifetime else None


def _already_recorded(key: Key) -> Response:
    """The answer to a submission that lost the race to its twin: what the twin recorded."""
    earlier = db.session.scalar(select(SubmissionKey).where(SubmissionKey.user_id == current_user.id,
                                                            SubmissionKey.key == key.nonce))
    db.session.rollback()
    if earlier is None:
        return _answer(clock.now(), key.page_path)
    return _answer(earlier.created_at, earlier.result_url or key.page_path)


def _answer(saved_at: datetime, url: str) -> Response:
    local = saved_at.astimezone(clock.CLINIC_TIMEZONE)
    when = local.strftime("%H:%M") if local.date() == clock.today() else f"{local:%H:%M} on {local.day} {local:%B}"
    flash(f"This was already saved at {when}. Nothing was changed.", "info")
    return redirect(url if url.startswith("/") and not url.startswith("//") else url_for("home.index"))


def _remember_result(response: Response) -> Response:
    """Where a change was shown (its redirect), so that a repeat goes there too; and old keys purged."""
    nonce = g.pop("claimed_key", None)
    if nonce is None:
        return response
    try:
        if response.status_code in (301, 302, 303) and response.location:
            db.session.execute(update(SubmissionKey).where(
                SubmissionKey.user_id == current_user.id, SubmissionKey.key == nonce).values(
                result_url=response.location[:500]))
        db.session.execute(delete(SubmissionKey).where(
            SubmissionKey.created_at < clock.now() - current_app.config["TAPER_SESSION_MAX_AGE"]))
        db.session.commit()
    except SQLAlchemyError:  # the change itself is saved; a repeat then goes back to the form's page instead
        db.session.rollback()
    return response


def _fingerprint() -> str | None:
    """A keyed hash of the address and the fields posted, apart from the volatile ones; none for a form with a
    password (the same form with a different password is not a repeat, and the password is not to be hashed
    here)."""
    fields = sorted((name, value) for name, value in request.form.items(multi=True)
                    if not any(name == each or name.endswith(f"-{each}") for each in _VOLATILE))
    if any("password" in name for name, _ in fields):
        return None
    content = json.dumps([request.path, fields]).encode()
    return hmac.new(str(current_app.secret_key).encode(), content, hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt=_SALT)
