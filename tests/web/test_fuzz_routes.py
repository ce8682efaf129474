"""No 500 from input (issue 15, item 2): every form and API route, as each role that may use it, given random
and hostile values, answers without a crash, and a refusal saves nothing.

The routes come from the URL map and the forms from the pages themselves, so a route or form added later is
fuzzed too: each role opens every page it may use (with the records of a clinic with a running, shared plan,
as in the authorisation matrix), every `<form method="post">` found is read (its fields, options, hidden
values and buttons) and matched to its route, and every query parameter a page reads is noted. Then for each:
the form as the page gave it with some values replaced by hostile ones (NUL, numbers at and past the ends of
what a computer holds, NaN, dates the calendar has not got, 100,000 characters, digits of other scripts),
fields left out, repeated or added, and bodies that are not UTF-8; the API gets mutated and malformed JSON; a
query parameter gets the same values and percent-encoded bytes that are not UTF-8.

Asserted for every request: no unhandled exception (the app re-raises them here, so a crash fails with its
traceback) and no 5xx; and unless the answer is a redirect after a successful form, no table but the audit
trail (which records refusals) has gained or lost a row.
"""

from __future__ import annotations

import contextlib
import json
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import User
from taper.web import background
from taper.web.security import PUBLIC_ENDPOINTS, allowed_roles
from tests.conftest import TODAY, Maker, page_text, sign_in, submit
from tests.hostile import HOSTILE_TEXT, encoded, hostile_bytes, mutated
from tests.test_schedule_contract import REQUEST
from tests.web.test_authorisation_matrix import Clinic, _clinic, _url

EXAMPLES_PER_FORM = 12
EXAMPLES_PER_QUERY = 8
# Tables a refusal may add to: the audit trail records refused access, and the lockout counts failed sign-ins.
REFUSALS_RECORDED_IN = {"audit_events", "failed_sign_ins"}
# Left out, with why: signing out ends the session the fuzzing runs in (tests/web/test_auth.py covers it).
NOT_FUZZED = {"auth.logout", "static", "nhsuk.static"}
API_ENDPOINTS = {"api.schedule_preview"}
ENDING = {"plans.status", "appointments.remove_session", "appointments.remove_leave"}
# Values a form would take (so that hostile values reach validation deeper than the first empty field).
PLAUSIBLE = ["60", "10", "2", "1", "7", "14", "4", "12", "2027", "1960", "08:00", "20:00", "2027-01-04", "Ada",
             "Lovelace", "y", "yes", "true", "on", "943 476 5919", "0113 496 0000", "07700 900123", "A81001",
             "someone@example.nhs.uk", "correct horse battery staple", "morphine-mr-tablet-12h", "MST Continus"]
# (A lone surrogate has no UTF-8 bytes; a NUL is refused before any view runs, so it is sent only now and then.)
FORM_TEXT = [value for value in HOSTILE_TEXT if "\ud800" not in value and "\x00" not in value]
NOT_UTF8 = b"\xff\xfe\xc3("


@dataclass
class FormField:
    name: str
    kind: str  # the input's type, or select, textarea, button
    value: str = ""
    options: list[str] = field(default_factory=list)
    chosen: bool = True  # for checkboxes and radios: checked; for buttons: the default submit


@dataclass
class Form:
    role: Role | None  # None: signed out (the sign-in form)
    page: str | None  # where the form was found (fetched again after a change, for a fresh version token)
    action: str
    endpoint: str
    fields: list[FormField]


class _FormReader(HTMLParser):
    """The POST forms of a page, with their fields as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[FormField]]] = []
        self._fields: list[FormField] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("method", "get").lower() == "post":
            self._fields = []
            self.forms.append((attributes.get("action", ""), self._fields))
        if tag == "option" and self._select is not None:
            self._select.options.append(attributes.get("value", ""))
            if "selected" in attributes or len(self._select.options) == 1:
                self._select.value = attributes.get("value", "")
        if self._fields is None or "name" not in attributes:
            return
        name = attributes["name"]
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            self._fields.append(FormField(name, kind, attributes.get("value", "on" if kind == "checkbox" else ""),
                                          chosen=kind not in ("checkbox", "radio") or "checked" in attributes))
        elif tag == "button":
            self._fields.append(FormField(name, "button", attributes.get("value", "")))
        elif tag == "select":
            self._select = FormField(name, "select")
            self._fields.append(self._select)
        elif tag == "textarea":
            self._textarea = FormField(name, "textarea")
            self._fields.append(self._textarea)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class _RecordingArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query parameters that note which names a view asked for."""

    asked: set[str] = set()

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key: Any) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key: Any, type: Any = None) -> list[Any]:
        self.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


@dataclass
class Targets:
    forms: list[Form] = field(default_factory=list)
    queries: list[tuple[Role | None, str, str, list[str]]] = field(default_factory=list)  # role, endpoint, url,
    # names


def _survey(app: Flask, clients: dict[Role | None, FlaskClient], urls: dict[str, str]) -> Targets:
    """Open every page each role may use; note its POST forms and the query parameters it reads."""
    targets = Targets()
    plain = app.request_class
    app.request_class = type("RecordingRequest", (plain,), {"parameter_storage_class": _RecordingArgs})
    adapter = app.url_map.bind("localhost")
    seen: set[tuple[Role | None, str, tuple[str, ...]]] = set()  # (a form on many pages is fuzzed once)
    try:
        for role, client in clients.items():
            for rule in app.url_map.iter_rules():
                if "GET" not in (rule.methods or set()) or not _may_use(app, role, rule.endpoint) \
                        or rule.endpoint not in urls:
                    continue
                _RecordingArgs.asked = set()
                response = client.get(urls[rule.endpoint])
                assert response.status_code < 500, (role, rule.endpoint, response.status_code)
                if _RecordingArgs.asked:
                    targets.queries.append((role, rule.endpoint, urls[rule.endpoint], sorted(_RecordingArgs.asked)))
                if response.mimetype != "text/html":
                    continue
                reader = _FormReader()
                reader.feed(response.get_data(as_text=True))
                for action, fields in reader.forms:
                    target = urljoin(urls[rule.endpoint], action)
                    try:
                        endpoint, _ = adapter.match(urlsplit(target).path, method="POST")
                    except (NotFound, MethodNotAllowed):
                        continue
                    shape = (role, endpoint, tuple(sorted({each.name for each in fields})))
                    if endpoint not in NOT_FUZZED and shape not in seen:
                        seen.add(shape)
                        targets.forms.append(Form(role, urls[rule.endpoint], target, endpoint, fields))
    finally:
        app.request_class = plain
    return targets


def _may_use(app: Flask, role: Role | None, endpoint: str) -> bool:
    """Whether `role` (None: signed out) may open the endpoint."""
    if endpoint in NOT_FUZZED:
        return False
    if endpoint in PUBLIC_ENDPOINTS:
        return role is None
    return role in (allowed_roles(app, endpoint) or ())


def _row_counts() -> dict[str, int]:
    """Rows in every table but those refusals are recorded in, in one query, seen afresh (after any work a
    request started in the background, such as an import, has finished)."""
    for thread in threading.enumerate():
        if thread.name.startswith(background.THREAD_PREFIX):
            thread.join(timeout=120)
    db.session.rollback()
    tables = [table for table in db.metadata.sorted_tables if table.name not in REFUSALS_RECORDED_IN]
    row = db.session.execute(select(*(select(func.count()).select_from(table).scalar_subquery().label(table.name)
                                      for table in tables))).one()
    db.session.rollback()
    return dict(row._mapping)


def _check(response: Any, before: dict[str, int], what: str, *, may_save: bool) -> None:
    assert response.status_code < 500, f"{what}: status {response.status_code}"
    saved = may_save and response.status_code in (302, 303)
    if not saved:
        after = _row_counts()
        changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
        assert not changed, f"{what}: answered {response.status_code} but rows changed: {changed}"


@st.composite
def form_body(draw: st.DrawFn, fields: list[FormField], token: str) -> tuple[str, bytes]:
    """A form's fields as a browser would send them, a few made hostile, left out, repeated or added; as an
    url-encoded body, sometimes with bytes that are not UTF-8. The CSRF token is always the session's own."""
    pairs: list[tuple[str, str]] = [("csrf_token", token)]
    buttons = [each for each in fields if each.kind in ("button", "submit")]
    pressed = draw(st.sampled_from(buttons)) if buttons else None
    hostile = set(draw(st.lists(st.sampled_from(range(len(fields))), max_size=3))) if fields else set()
    for index, each in enumerate(fields):
        if each.name == "csrf_token" or (each.kind in ("button", "submit") and each is not pressed):
            continue
        if each.kind in ("checkbox", "radio") and not each.chosen and index not in hostile:
            continue
        if index in hostile:
            choice = draw(st.sampled_from(["hostile", "hostile", "plausible", "option", "left out", "repeated",
                                           "text"]))
            if choice == "left out":
                continue
            value = _value(draw, choice, each)
            pairs.append((each.name, value))
            if choice == "repeated":
                pairs.append((each.name, draw(st.sampled_from(FORM_TEXT))))
        else:
            pairs.append((each.name, each.value))
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(st.sampled_from([*PLAUSIBLE, "save", "id", "version", "role", "__proto__"])),
                      draw(st.sampled_from(FORM_TEXT))))
    body = urlencode(pairs).encode("ascii")
    if draw(st.integers(0, 7)) == 0:  # a value that is not UTF-8
        name = draw(st.sampled_from([name for name, _ in pairs]))
        body += b"&" + quote(name).encode("ascii") + b"=" + draw(st.sampled_from([NOT_UTF8, b"%FF%FE%C3%28"]))
    return "application/x-www-form-urlencoded", body


def _value(draw: st.DrawFn, choice: str, each: FormField) -> str:
    if choice == "hostile":
        return draw(st.sampled_from([*FORM_TEXT, "60\x00"]))
    if choice == "plausible":
        return draw(st.sampled_from(PLAUSIBLE))
    if choice == "option":
        return draw(st.sampled_from(each.options or [each.value]))
    if choice == "repeated":
        return each.value
    return draw(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30))


@st.composite
def query_string(draw: st.DrawFn, names: list[str]) -> str:
    """Query parameters with hostile values, some percent-encoded bytes that are not UTF-8."""
    parts = []
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
        raw = draw(st.sampled_from(["%FF%FE", "%C3%28", "%00", "%ED%A0%80"]))
        parts.append(f"{quote(name)}={draw(st.sampled_from([quote(value) for value in FORM_TEXT]) | st.just(raw))}")
    return "&".join(parts)


@st.composite
def api_body(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.integers(0, 3)) > 0:
        return "application/json", encoded(draw(mutated(REQUEST)))
    return draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"])), draw(
        hostile_bytes(REQUEST))


FUZZ = {"deadline": None, "database": None,
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                  HealthCheck.data_too_large]}


def _fuzz_form(client: FlaskClient, form: Form, token: str) -> None:
    @settings(max_examples=EXAMPLES_PER_FORM, **FUZZ)  # type: ignore[arg-type]
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        content_type, body = data.draw(form_body(form.fields, token), label="body")
        before = _row_counts()
        response = client.post(form.action, data=body, content_type=content_type)
        _check(response, before, f"{form.role} POST {form.action} ({form.endpoint})", may_save=True)
        if response.status_code in (302, 303) and form.page is not None:
            _refresh_hidden_values(client, form)

    fuzz()


def _refresh_hidden_values(client: FlaskClient, form: Form) -> None:
    """After a save, the hidden values of the form as the page now gives them (a new version token), so that
    the next example is not refused as a stale edit. The fields themselves stay as first found: hypothesis
    needs the same choices each time it replays an example."""
    page = client.get(form.page or "")
    reader = _FormReader()
    reader.feed(page.get_data(as_text=True))
    names = {each.name for each in form.fields}
    for action, fields in reader.forms:
        if urljoin(form.page or "", action) == form.action and {each.name for each in fields} == names:
            now = {each.name: each.value for each in fields if each.kind == "hidden"}
            for each in form.fields:
                each.value = now.get(each.name, each.value) if each.kind == "hidden" else each.value
            return


def _fuzz_api(client: FlaskClient, role: Role, url: str, token: str) -> None:
    @settings(max_examples=EXAMPLES_PER_FORM * 2, **FUZZ)  # type: ignore[arg-type]
    @given(request=api_body())
    def fuzz(request: tuple[str, bytes]) -> None:
        before = _row_counts()
        response = client.post(url, data=request[1], content_type=request[0], headers={"X-CSRFToken": token})
        _check(response, before, f"{role.value} POST {url}", may_save=False)
        assert response.status_code in (200, 400, 422), (response.status_code, response.location)
        document = json.loads(response.get_data()) if response.status_code != 400 else {}
        if response.status_code == 422:
            assert document["errors"] and all(set(error) == {"field", "message"} for error in document["errors"])

    fuzz()


def _fuzz_query(client: FlaskClient, role: Role | None, endpoint: str, url: str, names: list[str]) -> None:
    @settings(max_examples=EXAMPLES_PER_QUERY, **FUZZ)  # type: ignore[arg-type]
    @given(query=query_string(names))
    def fuzz(query: str) -> None:
        before = _row_counts()
        response = client.get(f"{urlsplit(url).path}?{query}")
        _check(response, before, f"{role} GET {url}?{query} ({endpoint})", may_save=False)

    fuzz()


@pytest.fixture
def clinic(make: Maker) -> tuple[Clinic, User]:
    return _clinic(make), make.user(Role.ADMIN)


def _clients(app: Flask, ours: Clinic, admin: User) -> Iterator[tuple[Role | None, FlaskClient]]:
    """A client signed in as each role, and one signed out."""
    yield None, app.test_client()
    for role in Role:
        client = app.test_client()
        sign_in(client, admin if role is Role.ADMIN else ours.user(role))
        yield role, client


def test_no_route_crashes_or_saves_on_hostile_input(app: Flask, clinic: tuple[Clinic, User], make: Maker) -> None:
    ours, admin = clinic
    app.config["PROPAGATE_EXCEPTIONS"] = True  # a crash fails the test with its traceback, never a 500 page
    # The account the admin forms change: never a signed-in one (a new password would sign it out everywhere).
    edited = make.user(Role.PHARMACIST, organisation=ours.pharmacist.organisation)
    urls = _urls(app, ours, edited)
    clients = dict(_clients(app, ours, admin))
    tokens = {role: _token(client) for role, client in clients.items()}
    targets = _survey(app, clients, urls)
    failures: list[str] = []
    for form in sorted([*targets.forms, *_unseen_forms(app, targets.forms, urls)], key=_last_if_ending):
        failures += _failures(_fuzz_form, clients[form.role], form, tokens[form.role])
    for endpoint in API_ENDPOINTS:
        for role in allowed_roles(app, endpoint) or ():
            failures += _failures(_fuzz_api, clients[role], role, urls[endpoint], tokens[role])
    for role, endpoint, url, names in targets.queries:
        failures += _failures(_fuzz_query, clients[role], role, endpoint, url, names)
    assert failures == [], "\n\n".join(failures)


def _last_if_ending(form: Form) -> bool:
    """Forms that stop the plan or remove a session or leave come last: the other forms need them."""
    return form.endpoint in ENDING


def _unseen_forms(app: Flask, found: list[Form], urls: dict[str, str]) -> Iterator[Form]:
    """For a POST route whose form no page showed this clinic (a failed message's "Send again", a letter's
    "Acknowledge" once read, a draft plan's decision), a form of no known fields, for each role that may use it:
    the fuzzing then sends only unexpected fields."""
    seen = {(form.role, form.endpoint) for form in found}
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint not in urls or rule.endpoint in API_ENDPOINTS:
            continue
        roles: list[Role | None] = [None] if rule.endpoint in PUBLIC_ENDPOINTS else list(
            allowed_roles(app, rule.endpoint) or ())
        for role in roles:
            if (role, rule.endpoint) not in seen:
                yield Form(role, None, urls[rule.endpoint], rule.endpoint, [])


def _urls(app: Flask, ours: Clinic, edited: User) -> dict[str, str]:
    """Each route's address with the clinic's records, as the authorisation matrix builds it (a route whose
    record the matrix does not make yet is left to the matrix test, which fails for it); the admin routes name
    the account `edited`."""
    urls = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in NOT_FUZZED:
            with contextlib.suppress(KeyError):
                urls[rule.endpoint] = _url(app, rule, ours.values, edited)
    return urls


def _token(client: FlaskClient) -> str:
    from tests.web.test_authorisation_matrix import _csrf

    return _csrf(client)


def _failures(fuzz: Callable[..., None], *arguments: Any) -> list[str]:
    """What went wrong fuzzing one route, if anything: every route is fuzzed, then every crash reported."""
    try:
        fuzz(*arguments)
    except Exception as error:
        # The route and the error first, then where it was raised and hypothesis' falsifying example (its notes,
        # which would otherwise fill the tail of the report).
        where = "".join(traceback.format_tb(error.__traceback__)[-8:])
        notes = "\n".join(getattr(error, "__notes__", [])[:2])
        return [f"{fuzz.__name__} {arguments[1:]!r}: {type(error).__name__}: {error}\n{where}{notes}"]
    return []


# Crashes the fuzzing found (issue 15), kept as plain tests.

@pytest.mark.parametrize("answers", [{"factors": "", "check": "1"},
                                     {"factors": "depression", "chosen_level": " ", "save": "1"}])
def test_a_blank_risk_answer_is_refused_with_a_message(signed_in: FlaskClient, make: Maker, pharmacist: User,
                                                      answers: dict[str, str]) -> None:
    patient = make.patient(pharmacist)
    before = _row_counts()
    response = submit(signed_in, f"/patients/{patient.id}/risk/new", answers)
    assert response.status_code == 200
    assert "There is a problem" in page_text(response) and "not a valid choice" in page_text(response).lower()
    assert _row_counts() == before


@pytest.mark.parametrize("named", ["99999999999999999999999", "2147483648", "\u00b2", "0", "-1", "1e3"])
def test_a_query_argument_that_cannot_be_a_record_id_is_not_found(signed_in: FlaskClient, make: Maker,
                                                                  pharmacist: User, named: str) -> None:
    patient = make.patient(pharmacist)
    plan = make.running_plan(pharmacist, patient, start_on=TODAY + timedelta(days=7))
    for url in (f"/appointments/book?patient_id={named}", f"/appointments/book?patient_id={patient.id}&plan_id={named}",
                f"/plans/{plan.id}/follow-ups/new?appointment={named}"):
        assert signed_in.get(url).status_code == 404, url


def test_a_page_of_the_patient_list_past_any_caseload_is_not_found(signed_in: FlaskClient) -> None:
    assert signed_in.get(f"/patients/?page={10**30}").status_code == 404
    assert signed_in.get("/patients/?page=100000").status_code == 200
    assert signed_in.get("/patients/?page=-5").status_code == 200
