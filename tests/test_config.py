from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigurationError, load_settings

STRONG = "s" * 40


def test_development_generates_a_secret_key_once_into_the_instance_folder(tmp_path: Path) -> None:
    first = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path)})
    second = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'taper.db'}"


def test_environment_variables_override_every_setting(tmp_path: Path) -> None:
    settings = load_settings({
        "TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_SECRET_KEY": STRONG,
        "TAPER_DATABASE_URL": "postgresql+psycopg://taper@db/taper", "TAPER_DEBUG": "yes",
        "TAPER_SECURE_COOKIES": "true", "TAPER_SESSION_IDLE_MINUTES": "10", "TAPER_SESSION_MAX_HOURS": "4",
        "TAPER_PLAN_START_MAX_DAYS_AGO": "21"})
    assert (settings.secret_key, settings.database_url, settings.debug, settings.secure_cookies) == (
        STRONG, "postgresql+psycopg://taper@db/taper", True, True)
    assert (settings.session_idle_minutes, settings.session_max_hours, settings.plan_start_max_days_ago) == (10, 4, 21)
    assert settings.flask_config()["SESSION_COOKIE_NAME"].startswith("__Host-")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "secret key"),
        ({"TAPER_SECRET_KEY": "too-short"}, "at least 32"),
        ({"TAPER_SECRET_KEY": STRONG, "TAPER_DEBUG": "1"}, "TAPER_DEBUG"),
        ({"TAPER_SECRET_KEY": STRONG, "TAPER_SECURE_COOKIES": "false"}, "HTTP"),
        ({"TAPER_SECRET_KEY": STRONG, "TAPER_TODAY": "2027-01-04"}, "TAPER_TODAY"),
    ],
)
def test_production_refuses_to_start_without_a_real_secret_or_with_debug(
        tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"TAPER_ENV": "production", "TAPER_INSTANCE_PATH": str(tmp_path), **environ})
    assert not (tmp_path / "secret_key").exists()  # production never invents a key


def test_production_starts_with_a_real_secret(tmp_path: Path) -> None:
    settings = load_settings({"TAPER_ENV": "production", "TAPER_SECRET_KEY": STRONG,
                              "TAPER_INSTANCE_PATH": str(tmp_path),
                              "TAPER_RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"})
    assert settings.is_production and settings.secure_cookies and not settings.debug
    assert settings.require_two_factor


@pytest.mark.parametrize(("name", "value"), [("TAPER_DEBUG", "maybe"), ("TAPER_SESSION_MAX_HOURS", "twelve"),
                                             ("TAPER_ENV", "staging"), ("TAPER_TODAY", "4 January 2027"),
                                             ("TAPER_TODAY", "2027-02-30"), ("TAPER_TODAY", "2027-01-04 10:00")])
def test_unreadable_values_are_refused_with_the_variable_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings({"TAPER_INSTANCE_PATH": str(tmp_path), name: value})


def test_taper_today_sets_the_clock_of_the_process_and_the_clock_keeps_running(tmp_path: Path) -> None:
    """A date keeps the real time of day; a time starts the clock there. Either way it runs on."""
    import time
    from datetime import date, datetime, timedelta

    from taper import _set_clock, clock

    day = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_TODAY": "2027-01-06"})
    timed = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_TODAY": "2027-01-06T10:00"})
    assert (day.today, timed.today) == (date(2027, 1, 6), datetime(2027, 1, 6, 10))
    _set_clock(day)  # the suite's own clock (tests/conftest.py) is put back after each test
    real = datetime.now(clock.CLINIC_TIMEZONE)
    shifted = clock.now().astimezone(clock.CLINIC_TIMEZONE)
    assert shifted.date() in (date(2027, 1, 6), date(2027, 1, 7))  # (the second: a run across midnight)
    assert abs(datetime.combine(real.date(), shifted.time()) - datetime.combine(real.date(), real.time())) \
        < timedelta(seconds=5)
    _set_clock(timed)
    first = clock.now()
    assert first.astimezone(clock.CLINIC_TIMEZONE).replace(second=0, microsecond=0) == datetime(
        2027, 1, 6, 10, tzinfo=clock.CLINIC_TIMEZONE)
    time.sleep(0.01)
    assert clock.now() > first
