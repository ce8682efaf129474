"""With the database unreachable, Taper answers with its own 503 page, never a bare "Internal Server Error"
(issue 15, item 7): also when the failure comes from loading the signed-in user, and when it happens inside
another error handler. The page itself is drawn without the database.

The database really goes away: on PostgreSQL the test's database is dropped (its connections terminated); on
SQLite its file is replaced by a folder, which SQLite cannot open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from taper.extensions import db
from tests.conftest import Maker, page_text, sign_in, submit
from tests.databases import ThrowawayDatabases


@pytest.fixture
def take_database_away(app: Flask, databases: ThrowawayDatabases) -> Iterator[Callable[[], None]]:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    sqlite_file = Path(make_url(url).database or "") if databases.dialect == "sqlite" else None

    def take_away() -> None:
        db.session.remove()  # the test's own session holds nothing open
        if sqlite_file is None:
            databases.drop(url)  # DROP DATABASE ... WITH (FORCE): pooled connections are terminated
        else:
            db.engine.dispose()  # an open SQLite connection would keep reading the removed file
            sqlite_file.unlink()
            sqlite_file.mkdir()

    yield take_away
    if sqlite_file is not None and sqlite_file.is_dir():
        sqlite_file.rmdir()  # so that the app fixture's clean-up finds what it expects


def _assert_taper_503(response) -> None:  # type: ignore[no-untyped-def]
    shown = page_text(response)
    assert response.status_code == 503
    assert "Taper cannot reach its database" in shown
    assert "nothing was saved. Try again in a few minutes." in shown
    assert "nhsuk-header" in shown  # Taper's own layout, not Werkzeug's bare page
    assert "Internal Server Error" not in shown
    assert response.headers["Retry-After"] == "120"


def test_a_signed_in_user_gets_tapers_503_page_when_the_database_is_down(
        client: FlaskClient, make: Maker, take_database_away: Callable[[], None]) -> None:
    user = make.user()
    name = user.full_name
    sign_in(client, user)
    assert name in page_text(client.get("/patients/"))
    take_database_away()
    response = client.get("/patients/")  # loading the user for the session is the first thing that fails
    _assert_taper_503(response)
    assert name not in page_text(response)  # drawn as for a signed-out visitor


def test_signing_in_while_the_database_is_down_gets_tapers_503_page(
        client: FlaskClient, make: Maker, take_database_away: Callable[[], None]) -> None:
    email = make.user().email
    assert client.get("/login").status_code == 200
    take_database_away()
    _assert_taper_503(submit(client, "/login", {"email": email, "password": "whatever it is"}, form_url="/login"))


def test_a_failure_inside_another_error_handler_still_gets_tapers_503_page(
        app: Flask, client: FlaskClient, make: Maker, take_database_away: Callable[[], None]) -> None:
    """The 404 page draws the header for the signed-in user, which needs the database: as in production (where
    exceptions are not passed up to the test), that failure reaches the 500 handler, which answers 503."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    sign_in(client, make.user())
    take_database_away()
    _assert_taper_503(client.get("/no-such-page"))
