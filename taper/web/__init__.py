"""The web layer: blueprints, security, error pages and filters."""

from __future__ import annotations

from flask import Blueprint, Flask
from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader

from taper import PACKAGE_ROOT
from taper.web import errors, filters, kept_work, once, security
from taper.web.admin.views import blueprint as admin
from taper.web.api.views import blueprint as api
from taper.web.appointments.views import blueprint as appointments
from taper.web.auth.views import blueprint as auth
from taper.web.find.views import blueprint as find
from taper.web.home.views import blueprint as home
from taper.web.imports.views import blueprint as imports
from taper.web.invitations.views import blueprint as invitations
from taper.web.measures.views import blueprint as measures
from taper.web.patients.views import blueprint as patients
from taper.web.pharmacy.views import blueprint as pharmacy
from taper.web.plans.views import blueprint as plans
from taper.web.practice.views import blueprint as practice
from taper.web.regimens import present
from taper.web.regimens.views import blueprint as regimens
from taper.web.risk.views import blueprint as risk

# The NHS.UK frontend's compiled CSS refers to its images at /assets/...
nhsuk_assets = Blueprint("nhsuk", __name__, static_folder=str(PACKAGE_ROOT / "static" / "nhsuk" / "assets"),
                         static_url_path="/assets")


def configure_jinja(app: Flask) -> None:
    """NHS.UK frontend macros (nhsuk-frontend-jinja) need ChainableUndefined and their package loader.

    Their files end in .jinja, which Flask does not autoescape by default: every template here is HTML, so
    autoescaping is switched on for all of them (without it, text passed to a macro is emitted raw).
    """
    app.jinja_env.autoescape = True
    app.jinja_env.undefined = ChainableUndefined
    app.jinja_env.loader = ChoiceLoader([app.create_global_jinja_loader(), PackageLoader("nhsuk_frontend_jinja")])


def init_app(app: Flask) -> None:
    configure_jinja(app)
    for blueprint in (nhsuk_assets, auth, home, patients, regimens, risk, plans, appointments, practice, pharmacy,
                      admin, api, imports, find, invitations, measures):
        app.register_blueprint(blueprint)
    errors.init_app(app)  # first: its refusal of NUL characters runs before anything reads the request
    security.init_app(app)
    once.init_app(app)
    kept_work.init_app(app)
    filters.init_app(app)
    present.init_app(app)
