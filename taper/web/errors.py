"""Every failure becomes a plain page with the right status: never a stack trace."""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from taper.extensions import db, login_manager
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from taper.web import kept_work, once

_MESSAGES = {
    400: ("Something was wrong with that request", "Go back and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your Taper administrator."),
    404: ("Page not found", "Check the address, or go back and choose a link in Taper."),
    405: ("That cannot be done here", "Go back and use the buttons on the page."),
    409: ("Someone else changed this record", "Nothing was saved. Reload the page to see the latest version."),
    413: ("The form was too large", "The form was too large for Taper to accept, so nothing was saved. Go back, "
                                     "shorten what you typed and try again."),
    429: ("Too many attempts", "There have been too many attempts. Wait a few minutes, then try again."),
    500: ("Sorry, there is a problem with Taper", "Nothing was saved. Try again later."),
    503: ("Taper is not available at the moment", "Taper cannot reach its database at the moment, so nothing "
                                                  "was saved. Try again in a few minutes."),
}
RETRY_AFTER_SECONDS = 120  # how long a 503 page asks a client to wait


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    title, advice = _MESSAGES.get(status, _MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, advice=detail or advice), status


def render_unavailable(detail: str | None = None) -> tuple[str, int, dict[str, str]]:
    """Taper's 503 page, with when to try again (a service it needs does not answer)."""
    body, status = render_error(503, detail)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


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
        audit.set_origin(request.remote_addr)  # (before taper.web.security, which sets it for every request)
        signed_in = current_user.is_authenticated
        audit.record(action="request_refused", by=current_user if signed_in else None,
                     actor_label=None if signed_in else "anonymous", entity_type="route",
                     entity_id=request.endpoint, changes={"reason": reason, "method": request.method})
        db.session.commit()

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
        db.session.rollback()
        kept = kept_work.keep_and_sign_in()  # a session that ended: what was typed is kept, not lost
        if kept is not None:
            return kept
        return render_error(400, "The form had expired or did not come from Taper, so nothing was saved. "
                                 "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | tuple[Response, int]:
        db.session.rollback()
        status = error.code or 500
        if request.blueprint == "api":  # the API answers in its contract's errors document, never a page
            title, advice = _MESSAGES.get(status, _MESSAGES[500])
            return jsonify({"errors": [{"field": "request", "message": f"{title}: {advice}"}]}), status
        return render_error(status)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> tuple[str, int]:
        # An audit row written before refusing (access to another organisation's record) is kept.
        once.release_claim()
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

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unreachable(error: DBAPIError) -> tuple[str, int, dict[str, str]]:
        return _database_unavailable()

    @app.errorhandler(500)
    def internal(error: Exception) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        # A database failure inside another error handler (a 404 page loading the signed-in user) ends here.
        if _unreachable(getattr(error, "original_exception", None)):
            return _database_unavailable()
        db.session.rollback()
        return render_error(500)


def _unreachable(error: BaseException | None) -> bool:
    """Whether a failure means the database could not be reached (down, restarting, connection lost)."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def _database_unavailable() -> tuple[str, int, dict[str, str]]:
    """Taper's own 503 page, drawn without touching the database: the transaction is abandoned and the page is
    drawn as for a signed-out visitor, since the signed-in user (and their organisation) cannot be loaded."""
    with suppress(SQLAlchemyError):  # the connection is already gone: the pool discards it
        db.session.rollback()
    login_manager._update_request_context_with_user()  # anonymous for this request only; the session is kept
    return render_unavailable()
