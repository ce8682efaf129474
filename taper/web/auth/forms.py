from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[InputRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired("Enter your password"), Length(max=128)])


class CodeForm(FlaskForm):
    """A 6-digit code from an authenticator app (or, when signing in, a recovery code)."""

    code = StringField("Code", validators=[InputRequired("Enter the code"), Length(max=40, message="Enter the "
                                           "6-digit code from your app, or a recovery code")])
