from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from taper import clock
from taper.domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from taper.domain.patients import CONTACT_BY, ImplausibleDateOfBirth, Sex, check_date_of_birth
from taper.services.patients import PatientDetails
from taper.web.fields import DatePartsField, optional_id
from taper.web.once import OnceForm


class PatientForm(OnceForm):
    nhs_number = StringField("NHS number", validators=[InputRequired("Enter the NHS number"), Length(max=20)])
    given_name = StringField("First name", validators=[InputRequired("Enter the patient's first name"),
                                                       Length(max=100)])
    family_name = StringField("Last name", validators=[InputRequired("Enter the patient's last name"),
                                                       Length(max=100)])
    date_of_birth = DatePartsField("Date of birth")
    sex = RadioField("Sex", choices=[SelectChoice(sex.value, sex.label) for sex in Sex],
                     validators=[InputRequired("Select the patient's sex")])
    gp_practice_id = SelectField("Registered GP practice", coerce=optional_id,
                                 validators=[InputRequired("Select the patient's registered GP practice")])
    pharmacy_id = SelectField("Nominated community pharmacy", coerce=optional_id, validators=[Optional()])
    preferred_language = StringField("Preferred language", default="English", validators=[Length(max=100)])
    interpreter_needed = BooleanField("Needs an interpreter")
    large_print = BooleanField("Large print")
    easy_read = BooleanField("Easy read")
    other_communication_needs = TextAreaField("Other communication needs", validators=[Length(max=2000)])
    contact_by = RadioField("Reminders before each step", default="none",
                            choices=[SelectChoice(key, label) for key, label in CONTACT_BY.items()],
                            description="Reminders say only that a step starts tomorrow and where the plan is")
    mobile_phone = StringField("Mobile phone number", validators=[Length(max=30)])
    email = StringField("Email address", validators=[Length(max=254)])
    postal_address = TextAreaField("Postal address", validators=[Length(max=500)])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])

    def validate_nhs_number(self, field: StringField) -> None:
        try:
            normalise_nhs_number(field.data)
        except InvalidNhsNumber as error:
            raise ValidationError(str(error)) from None

    def validate_date_of_birth(self, field: DatePartsField) -> None:
        try:
            check_date_of_birth(field.data, today=clock.today())
        except ImplausibleDateOfBirth as error:
            raise ValidationError(str(error)) from None

    def details(self) -> PatientDetails:
        return PatientDetails(
            nhs_number=self.nhs_number.data,
            given_name=self.given_name.data,
            family_name=self.family_name.data,
            date_of_birth=self.date_of_birth.data,
            sex=Sex(self.sex.data),
            gp_practice_id=self.gp_practice_id.data,
            pharmacy_id=self.pharmacy_id.data,
            preferred_language=self.preferred_language.data or "",
            interpreter_needed=self.interpreter_needed.data,
            large_print=self.large_print.data,
            easy_read=self.easy_read.data,
            other_communication_needs=self.other_communication_needs.data or "",
            contact_by=self.contact_by.data or "none",
            mobile_phone=self.mobile_phone.data or "",
            email=self.email.data or "",
            postal_address=self.postal_address.data or "",
        )


class SearchForm(FlaskForm):
    query = StringField("Search by NHS number, name or date of birth",
                        validators=[InputRequired("Enter an NHS number, a name or a date of birth"),
                                    Length(max=200)])
