"""Taper's settings: typed, frozen, and read from `TAPER_*` environment variables.

`load_settings()` builds the settings for one of three environments (development, test, production);
every field can be overridden by an environment variable named in `ENVIRONMENT_VARIABLES`.
Production refuses to start without a real secret key or with debug switched on.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"

# Variable -> what it sets. The README's configuration table mirrors this.
ENVIRONMENT_VARIABLES = {
    "TAPER_ENV": "development, test or production (default development)",
    "TAPER_SECRET_KEY": "signing key for sessions and CSRF tokens, at least 32 characters",
    "TAPER_DATABASE_URL": "SQLAlchemy database URL (default: SQLite file instance/taper.db)",
    "TAPER_INSTANCE_PATH": "folder for the SQLite file and the generated secret key (default ./instance)",
    "TAPER_DEBUG": "Flask debug mode, true or false (refused in production)",
    "TAPER_SECURE_COOKIES": "send cookies only over HTTPS (default true in production only)",
    "TAPER_SESSION_IDLE_MINUTES": "sign out after this many minutes without a request (default 30)",
    "TAPER_SESSION_MAX_HOURS": "sign out this many hours after signing in, whatever the activity (default 12)",
    "TAPER_PLAN_START_MAX_DAYS_AGO": "how many days in the past a new plan may start (default 7)",
    "TAPER_TODAY": "outside production only: the clock reads this date (YYYY-MM-DD, at the real time of day) or "
                   "starts at this time in England (YYYY-MM-DDTHH:MM), then runs on (tests, demonstrations)",
    "TAPER_RATE_LIMIT_STORAGE_URL": "where sign-in rate limits are counted: memory:// (development and tests; "
                                    "refused in production) or redis://host:6379/0, shared by every worker",
    "TAPER_TRUSTED_PROXIES": "how many reverse proxies in front of Taper add X-Forwarded-For (default 0: the header "
                             "is ignored); the client's address is audited and rate-limited by it",
    "TAPER_REQUIRE_TWO_FACTOR": "every account must sign in with a code from an authenticator app (default true "
                                "in production only, where false is refused)",
    "TAPER_NOTIFIER": "how messages go out: outbox (stored and shown in the app; default) or govuk-notify",
    "TAPER_NOTIFY_API_KEY": "GOV.UK Notify API key (with TAPER_NOTIFIER=govuk-notify)",
    "TAPER_NOTIFY_BASE_URL": "GOV.UK Notify API address (default https://api.notifications.service.gov.uk)",
    "TAPER_NOTIFY_SMS_TEMPLATE_ID": "Notify template whose whole text is ((body)), for text messages",
    "TAPER_NOTIFY_EMAIL_TEMPLATE_ID": "Notify template with ((subject)) and ((body)), for emails",
    "TAPER_NOTIFY_LETTER_TEMPLATE_ID": "Notify letter template with ((body)) and the address lines, for letters",
    "TAPER_PATIENT_MESSAGE_HOURS": "when messages to patients go out, in England, as HH:MM-HH:MM (default "
                                   "08:00-20:00); outside them they wait (messages to staff are not held)",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


NOTIFIERS = ("outbox", "govuk-notify")


class ConfigurationError(RuntimeError):
    """The environment asks for settings Taper cannot run with."""


@dataclass(frozen=True)
class Settings:
    environment: str
    secret_key: str
    database_url: str
    instance_path: Path
    debug: bool = False
    secure_cookies: bool = False
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    plan_start_max_days_ago: int = 7
    # Flask-Limiter's storage for sign-in rate limits (taper.web.rate_limits).
    rate_limit_storage_url: str = "memory://"
    require_two_factor: bool = False
    trusted_proxies: int = 0  # reverse proxies whose X-Forwarded-For is believed (werkzeug ProxyFix)
    notifier: str = "outbox"
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_template_ids: tuple[tuple[str, str], ...] = ()  # (channel, template id): sms, email, letter
    # (opens, closes) in England: messages to patients go out from `opens` until just before `closes`.
    patient_message_hours: tuple[time, time] = (time(8, 0), time(20, 0))
    # Outside production, the clock reads this day (a date) or starts at this time in England (a naive datetime).
    today: date | datetime | None = None
    # Argon2's cheapest parameters, for test suites only (each test hashes passwords); never in production.
    fast_password_hashing: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def validate(self) -> Settings:
        """Raise ConfigurationError for settings that must never run; return self otherwise."""
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(f"TAPER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}")
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(f"the secret key must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        if self.is_production:
            if self.debug:
                raise ConfigurationError("production refuses to run with TAPER_DEBUG on")
            if not self.secure_cookies:
                raise ConfigurationError("production refuses to send cookies over plain HTTP (TAPER_SECURE_COOKIES)")
            if self.fast_password_hashing:
                raise ConfigurationError("production refuses weak password hashing parameters")
            if self.today is not None:
                raise ConfigurationError("production refuses TAPER_TODAY: its clock is the real one")
            if self.rate_limit_storage_url.startswith("memory://"):
                raise ConfigurationError("production refuses TAPER_RATE_LIMIT_STORAGE_URL=memory://: gunicorn's "
                                         "workers share no memory, so each would count sign-ins alone; use redis://")
            if not self.require_two_factor:
                raise ConfigurationError("production refuses TAPER_REQUIRE_TWO_FACTOR=false: every account signs "
                                         "in with two factors (OWASP ASVS level 2)")
        if self.session_idle_minutes < 1 or self.session_max_hours < 1:
            raise ConfigurationError("session lifetimes must be positive")
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigurationError("TAPER_TRUSTED_PROXIES must be from 0 to 5")
        if not 0 <= self.plan_start_max_days_ago <= 90:
            raise ConfigurationError("TAPER_PLAN_START_MAX_DAYS_AGO must be from 0 to 90")
        if self.notifier not in NOTIFIERS:
            raise ConfigurationError(f"TAPER_NOTIFIER must be one of {', '.join(NOTIFIERS)}, not {self.notifier!r}")
        if self.notifier == "govuk-notify":
            if not self.notify_api_key:
                raise ConfigurationError("TAPER_NOTIFIER=govuk-notify needs TAPER_NOTIFY_API_KEY")
            missing = {"sms", "email", "letter"} - {channel for channel, template in self.notify_template_ids
                                                     if template}
            if missing:
                raise ConfigurationError("GOV.UK Notify needs a template for each channel: set " + ", ".join(
                    f"TAPER_NOTIFY_{channel.upper()}_TEMPLATE_ID" for channel in sorted(missing)))
        opens, closes = self.patient_message_hours
        if not opens < closes:
            raise ConfigurationError("TAPER_PATIENT_MESSAGE_HOURS must open before it closes on the same day, "
                                     "like 08:00-20:00")
        return self

    def flask_config(self) -> dict[str, object]:
        """The Flask and extension settings these settings imply."""
        cookie_name = "__Host-taper_session" if self.secure_cookies else "taper_session"
        return {
            "ENV_NAME": self.environment,
            "DEBUG": self.debug,
            "TESTING": self.environment == "test",
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            # Request size limits (a 413 page with a message, never a form cut short): Taper's largest form, the
            # regimen with notes, is under 100 KB; Werkzeug's form parser applies the last two only to multipart.
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "MAX_FORM_MEMORY_SIZE": 100_000,
            "MAX_FORM_PARTS": 500,
            "SESSION_COOKIE_NAME": cookie_name,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "PERMANENT_SESSION_LIFETIME": timedelta(minutes=self.session_idle_minutes),
            "SESSION_REFRESH_EACH_REQUEST": True,
            "TAPER_SESSION_MAX_AGE": timedelta(hours=self.session_max_hours),
            "TAPER_PLAN_START_MAX_DAYS_AGO": self.plan_start_max_days_ago,
            "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
            "WTF_CSRF_ENABLED": True,
            "WTF_CSRF_TIME_LIMIT": self.session_max_hours * 3600,
            "PREFERRED_URL_SCHEME": "https" if self.secure_cookies else "http",
        }


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build validated settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    environment = env.get("TAPER_ENV", "development").strip().lower()
    instance_path = Path(env.get("TAPER_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
    production = environment == "production"
    secret_key = env.get("TAPER_SECRET_KEY") or ("" if production else _instance_secret_key(instance_path))
    settings = Settings(
        environment=environment,
        secret_key=secret_key,
        database_url=env.get("TAPER_DATABASE_URL") or f"sqlite:///{instance_path / 'taper.db'}",
        instance_path=instance_path,
    )
    return replace(
        settings,
        debug=_bool(env, "TAPER_DEBUG", False),
        secure_cookies=_bool(env, "TAPER_SECURE_COOKIES", production),
        session_idle_minutes=_int(env, "TAPER_SESSION_IDLE_MINUTES", settings.session_idle_minutes),
        session_max_hours=_int(env, "TAPER_SESSION_MAX_HOURS", settings.session_max_hours),
        plan_start_max_days_ago=_int(env, "TAPER_PLAN_START_MAX_DAYS_AGO", settings.plan_start_max_days_ago),
        rate_limit_storage_url=env.get("TAPER_RATE_LIMIT_STORAGE_URL", "").strip() or settings.rate_limit_storage_url,
        require_two_factor=_bool(env, "TAPER_REQUIRE_TWO_FACTOR", production),
        trusted_proxies=_int(env, "TAPER_TRUSTED_PROXIES", settings.trusted_proxies),
        notifier=env.get("TAPER_NOTIFIER", settings.notifier).strip().lower(),
        notify_api_key=env.get("TAPER_NOTIFY_API_KEY", ""),
        notify_base_url=env.get("TAPER_NOTIFY_BASE_URL") or settings.notify_base_url,
        today=_today(env.get("TAPER_TODAY", "")),
        notify_template_ids=tuple((channel, env.get(f"TAPER_NOTIFY_{channel.upper()}_TEMPLATE_ID", ""))
                                  for channel in ("sms", "email", "letter")),
        patient_message_hours=_hours(env.get("TAPER_PATIENT_MESSAGE_HOURS", ""), settings.patient_message_hours),
    ).validate()


def _instance_secret_key(instance_path: Path) -> str:
    """Read the key generated on first run, creating it (readable by its owner only) if absent."""
    key_file = instance_path / SECRET_KEY_FILE
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")


def _today(raw: str) -> date | datetime | None:
    """TAPER_TODAY: empty, a date (YYYY-MM-DD) or a time in England (YYYY-MM-DDTHH:MM, seconds optional)."""
    value = raw.strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value):
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise ConfigurationError(f"TAPER_TODAY must be a date like 2027-01-04 or a time like 2027-01-04T10:00, not {raw!r}")


def _hours(raw: str, default: tuple[time, time]) -> tuple[time, time]:
    """TAPER_PATIENT_MESSAGE_HOURS: empty (the default) or HH:MM-HH:MM on the 24-hour clock."""
    value = raw.strip()
    if not value:
        return default
    match = re.fullmatch(r"(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})", value)
    try:
        if match:
            hour_1, minute_1, hour_2, minute_2 = (int(part) for part in match.groups())
            return time(hour_1, minute_1), time(hour_2, minute_2)
    except ValueError:
        pass
    raise ConfigurationError(f"TAPER_PATIENT_MESSAGE_HOURS must be two times like 08:00-20:00, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
