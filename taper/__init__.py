"""Taper: tapering plans for people coming off long-term opioids."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application from `settings` (default: the environment's). Never starts the scheduler."""
    from taper import cli, database, web
    from taper.extensions import csrf, db, login_manager, migrate
    from taper.web import rate_limits

    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path),
                template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    app.config.from_mapping(settings.flask_config())
    if settings.trusted_proxies:  # the client's address, audited and rate-limited, as the proxies saw it
        # Only the address: X-Forwarded-Proto would make Flask-WTF demand a Referer header that Taper's own
        # Referrer-Policy (no-referrer) stops browsers sending; external links use PREFERRED_URL_SCHEME.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.extensions["taper.settings"] = settings
    _set_clock(settings)
    if settings.fast_password_hashing:
        from taper.services.passwords import use_fast_hashing_for_tests

        use_fast_hashing_for_tests()
    database.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    web.init_app(app)
    rate_limits.init_app(app, settings)
    cli.init_app(app)
    return app


def _set_clock(settings: Settings) -> None:
    """TAPER_TODAY (never in production): the whole process's clock reads that day, or starts at that time."""
    from taper import clock

    if isinstance(settings.today, datetime):
        clock.start_at(settings.today.replace(tzinfo=clock.CLINIC_TIMEZONE))
    elif settings.today is not None:
        clock.start_on(settings.today)
