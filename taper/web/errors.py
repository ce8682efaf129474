"""Every failure becomes a plain page with the right status: never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from taper.extensions import db
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit

_MESSAGES = {
    400: ("Something was wrong with that request", "Go back and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your Taper administrator."),
    404: ("Page not found", "Check the address, or go back and choose a link in Taper."),
    405: ("That cannot be done here", "Go back and use the buttons on the page."),
    409: ("Someone else changed this record", "Nothing was saved. Reload the page to see the latest version."),
    500: ("Sorry, there is a problem with Taper", "Nothing was saved. Try again later."),
}


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    title, advice = _MESSAGES.get(status, _MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, advice=detail or advice), status


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters() -> tuple[str, int] | None:
        """A NUL character means nothing in a form or an address and PostgreSQL cannot store it (a 500 before
        issue 15): the request is refused before anything reads it."""
        fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
        if any("\x00" in name or "\x00" in value for name, value in fields):
            _audit_refusal("NUL character in a form field or the address")
            return render_error(400, "The form or address had a character Taper cannot accept, so nothing was "
                                     "saved. Go back and try again.")
        return None

    def _audit_refusal(reason: str) -> None:
        """A request refused before it reached its view is audited, signed in or not (ASVS 7.1.3)."""
        signed_in = current_user.is_authenticated
        audit.record(action="request_refused", by=current_user if signed_in else None,
                     actor_label=None if signed_in else "anonymous", entity_type="route",
                     entity_id=request.endpoint, changes={"reason": reason, "method": request.method})
        db.session.commit()

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        db.session.rollback()
        return render_error(400, "The form had expired or did not come from Taper, so nothing was saved. "
                                 "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        db.session.rollback()
        return render_error(error.code or 500)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> tuple[str, int]:
        # An audit row written before refusing (access to another organisation's record) is kept.
        db.session.commit()
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def forbidden(error: PermissionDenied) -> tuple[str, int]:
        db.session.rollback()
        return render_error(403)

    @app.errorhandler(StaleEdit)
    def stale(error: StaleEdit) -> tuple[str, int]:
        db.session.rollback()
        return render_error(409)

    @app.errorhandler(InvalidInput)
    def invalid(error: InvalidInput) -> tuple[str, int]:
        db.session.rollback()
        return render_error(400, " ".join(error.errors.values()))

    @app.errorhandler(500)
    def internal(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        return render_error(500)
