from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from taper.domain.booking import DEFAULT_LEAD_DAYS, LEAD_DAYS_RANGE
from taper.domain.limits import DEFAULT_LIMITS, PARACETAMOL_RANGE_MG, PLAUSIBLE_OME_RANGE_MG, PLAUSIBLE_UNITS_RANGE
from taper.domain.ome import load_factor_sets
from taper.domain.organisations import MAX_ADDRESS_CHARACTERS, MAX_ADDRESS_LINES, OrganisationKind, Role
from taper.domain.registration import RegulatoryBody
from taper.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from taper.web.fields import optional_id
from taper.web.once import OnceForm

_PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words is a good choice."


class OrganisationForm(OnceForm):
    kind = RadioField("Type of organisation",
                      choices=[SelectChoice(kind.value, kind.label) for kind in OrganisationKind],
                      validators=[InputRequired("Select the type of organisation")])
    name = StringField("Name", validators=[InputRequired("Enter the organisation's name"), Length(max=200)])
    ods_code = StringField("ODS code", validators=[InputRequired("Enter the ODS code"), Length(max=10)])
    phone = StringField("Phone number", validators=[Length(max=30)])
    address = TextAreaField("Postal address", validators=[Length(max=MAX_ADDRESS_CHARACTERS)],
                            description=f"One line each, up to {MAX_ADDRESS_LINES} lines. Needed for a pain clinic: "
                                        "printed as the sender's address on every letter to a GP.")
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class ClinicSettingsForm(OrganisationForm):
    """A pain clinic's organisation form, with its OME settings."""

    factor_set = RadioField("OME factor set", choices=[
        SelectChoice(factor_set.key, factor_set.label) for factor_set in load_factor_sets().values()],
        validators=[InputRequired("Choose the factor set the clinic uses")],
        description="Oral morphine equivalents are calculated with these factors. The UK default is FPM 2020.")
    high_dose_threshold_mg = RadioField("High-dose threshold", choices=[
        SelectChoice("120", "120 mg OME a day (FPM key message; the national analysis)"),
        SelectChoice("90", "90 mg OME a day (reported FPM update, 2025)")],
        validators=[InputRequired("Choose the high-dose threshold")])
    plan_lead_days = IntegerField(
        "Days from a plan going out to its first step", default=DEFAULT_LEAD_DAYS,
        validators=[InputRequired("Enter the number of days, like 7"),
                    NumberRange(LEAD_DAYS_RANGE.start, LEAD_DAYS_RANGE.stop - 1,
                                f"Choose from {LEAD_DAYS_RANGE.start} to {LEAD_DAYS_RANGE.stop - 1} days")],
        description="The plan builder starts step 1 this long after today, on the next working day, so that the GP "
                    "has the letter before prescribing and the pharmacy can order new strengths. Usually 7.")
    paracetamol_max_mg_per_day = IntegerField(
        "Paracetamol maximum (mg a day)", default=int(DEFAULT_LIMITS.paracetamol_max_mg_per_day),
        validators=[InputRequired("Enter the maximum in mg a day, like 4000"),
                    NumberRange(*map(int, PARACETAMOL_RANGE_MG),
                                "Choose from {} to {} mg a day (4 g is the adult maximum)".format(
                                    *PARACETAMOL_RANGE_MG))],
        description="Starting regimens with more paracetamol from combination products are warned, with a switch "
                    "to separate codeine and paracetamol. 4000 for adults; lower under 50 kg or with a risk to the "
                    "liver.")
    plausible_units_per_dose = IntegerField(
        "Check a dose of more than this many tablets, capsules or patches",
        default=DEFAULT_LIMITS.plausible_units_per_dose,
        validators=[InputRequired("Enter a number of units, like 20"),
                    NumberRange(*PLAUSIBLE_UNITS_RANGE,
                                "Choose from {} to {} units (60 or more is refused as a typing slip)".format(
                                    *PLAUSIBLE_UNITS_RANGE))])
    supplies_naloxone = BooleanField(
        "The clinic gives patients naloxone to take home",
        description="Their plans then say what the naloxone is for and when someone should use it.")
    plausible_ome_mg_per_day = IntegerField(
        "Check a regimen above this many mg OME a day", default=int(DEFAULT_LIMITS.plausible_ome_mg_per_day),
        validators=[InputRequired("Enter mg OME a day, like 1000"),
                    NumberRange(*map(int, PLAUSIBLE_OME_RANGE_MG),
                                "Choose from {} to {} mg OME a day (5000 or more is refused)".format(
                                    *PLAUSIBLE_OME_RANGE_MG))],
        description="Such regimens are much more often a typing slip than real: the plan is still made, with a "
                    "warning to check.")


class UserForm(OnceForm):
    email = EmailField("Email address", validators=[InputRequired("Enter the email address"), Length(max=254)])
    full_name = StringField("Full name", validators=[InputRequired("Enter the person's full name"), Length(max=200)])
    role = RadioField("Role", choices=[SelectChoice(role.value, role.label) for role in Role],
                      validators=[InputRequired("Select the person's role")])
    organisation_id = SelectField("Organisation", coerce=optional_id, validators=[Optional()])
    active = BooleanField("Account is active", default=True)
    job_title = StringField("Job title", validators=[Length(max=120)],
                            description="As printed under the name on letters, for example \"Specialist pain "
                                        "pharmacist, independent prescriber\". Needed for anyone who makes plans.")
    registration_body = SelectField("Professional register", choices=[SelectChoice("", "Not registered")] + [
        SelectChoice(body.value, body.label) for body in RegulatoryBody], validators=[Optional()])
    registration_number = StringField("Registration number", validators=[Length(max=12)],
                                      description="GPhC or GMC: 7 digits. NMC: like 12A3456E. A GP can check it on "
                                                  "the public register.")
    password = PasswordField("Password", description=_PASSWORD_HINT,
                             validators=[InputRequired("Enter a password"), Length(max=MAX_PASSWORD_LENGTH)])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class EditUserForm(UserForm):
    """Editing an account: the email address is its identity and the password is set separately."""

    email = None
    password = None


class PasswordForm(OnceForm):
    password = PasswordField("New password", description=_PASSWORD_HINT,
                             validators=[InputRequired("Enter a password"), Length(max=MAX_PASSWORD_LENGTH)])


class ResetTwoFactorForm(OnceForm):
    """Confirms taking away an account's authenticator app (it has no fields of its own)."""
