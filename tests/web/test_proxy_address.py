"""The client's address behind reverse proxies (issue 15): believed only from as many proxies as are trusted, so
that the audit trail and the per-client sign-in limits see the client, and a client cannot forge its address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from taper import create_app
from taper.extensions import db
from taper.models import AuditEvent
from tests.conftest import PASSWORD, Maker, submit
from tests.databases import ThrowawayDatabases, settings_for

FORWARDED = {"X-Forwarded-For": "198.51.100.23, 203.0.113.7"}


@pytest.fixture
def proxied_app(databases: ThrowawayDatabases, tmp_path: Path) -> Iterator[Flask]:
    url = databases.migrated()
    application = create_app(replace(settings_for(url, tmp_path / "instance"), trusted_proxies=1))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def _login_origins() -> list[str | None]:
    return list(db.session.scalars(select(AuditEvent.origin).where(AuditEvent.action == "login_success")))


def test_one_trusted_proxy_gives_the_address_it_saw(proxied_app: Flask) -> None:
    user = Maker().user(email="behind.proxy@example.nhs.uk")
    client = proxied_app.test_client()
    submit(client, "/login", {"email": user.email, "password": PASSWORD}, headers=FORWARDED)
    # The proxy appended the address it saw (203.0.113.7); the first one was sent by the client and is not believed.
    assert _login_origins() == ["203.0.113.7"]


def test_without_trusted_proxies_the_forwarded_headers_are_ignored(app: Flask, make: Maker) -> None:
    user = make.user(email="direct@example.nhs.uk")
    submit(app.test_client(), "/login", {"email": user.email, "password": PASSWORD}, headers=FORWARDED)
    assert _login_origins() == ["127.0.0.1"]


def test_the_number_of_trusted_proxies_is_bounded(tmp_path: Path) -> None:
    from config import ConfigurationError

    with pytest.raises(ConfigurationError, match="TAPER_TRUSTED_PROXIES"):
        replace(settings_for("sqlite://", tmp_path), trusted_proxies=9).validate()
