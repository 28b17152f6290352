from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Email, InputRequired, Length, Optional

from exchange.authorities.models import KIND_LABELS
from exchange.forms import as_id, choices, strip
from exchange.templating import LANGUAGE_NAMES

LANGUAGE_CHOICES = choices(LANGUAGE_NAMES.items())


def _email_field(label):
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254),
            Email(_l("Enter an e-mail address like name@example.org."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "email"},
    )


def _new_password_field(label):
    return PasswordField(
        label,
        validators=[InputRequired(_l("Choose a password."))],
        description=_l("At least 8 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )


def _current_password_field():
    return PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class RegistrationForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your name.")), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field(_l("Work e-mail address"))
    password = _new_password_field(_l("Password"))
    language = SelectField(_l("Language for e-mails and pages"), choices=LANGUAGE_CHOICES)
    mode = RadioField(
        _l("What would you like to do?"),
        choices=choices(
            [
                ("new", _l("Register my authority (a coordinator will verify it)")),
                ("join", _l("Join an authority already on Exchange")),
            ]
        ),
        default="new",
        validators=[InputRequired(_l("Choose one."))],
    )
    authority_name = StringField(
        _l("Name of the authority"),
        filters=[strip],
        validators=[Optional(), Length(max=200)],
        description=_l("Its official name, e.g. Gobierno Regional de Tacna."),
    )
    kind = SelectField(
        _l("Kind of authority"),
        choices=choices(
            [("", _l("Choose…")), *((k.value, label) for k, label in KIND_LABELS.items())]
        ),
        validators=[Optional()],
    )
    country_code = SelectField(
        _l("Country"), choices=[], validators=[Optional()], validate_choice=False
    )
    subdivision_code = SelectField(
        _l("Region, state or province"),
        choices=[],
        validators=[Optional()],
        validate_choice=False,
        description=_l("Leave empty for a national body."),
    )
    website = URLField(
        _l("Website"),
        filters=[strip],
        validators=[
            Optional(),
            URL(message=_l("Enter a web address starting with https://.")),
            Length(max=500),
        ],
    )
    join_authority = SelectField(
        _l("Authority"), choices=[], coerce=as_id, validators=[Optional()], validate_choice=False
    )
    join_message = TextAreaField(
        _l("Message to its members"),
        filters=[strip],
        validators=[Optional(), Length(max=1000)],
        description=_l("Say who you are and what you do there, so that they recognise you."),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        required = (
            {
                "authority_name": _l("Enter the name of the authority."),
                "kind": _l("Choose the kind of authority."),
                "country_code": _l("Choose the country."),
            }
            if self.mode.data == "new"
            else {"join_authority": _l("Choose the authority you work for.")}
        )
        for name, message in required.items():
            field = getattr(self, name)
            if not field.data:
                field.errors = [*field.errors, message]
                valid = False
        return valid


class LoginForm(FlaskForm):
    email = _email_field(_l("E-mail address"))
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field(_l("E-mail address"))


class ResetPasswordForm(FlaskForm):
    password = _new_password_field(_l("New password"))


class AccountForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your name.")), Length(max=200)],
    )
    language = SelectField(_l("Language for e-mails and pages"), choices=LANGUAGE_CHOICES)


class ChangePasswordForm(FlaskForm):
    current_password = _current_password_field()
    new_password = _new_password_field(_l("New password"))


class ChangeEmailForm(FlaskForm):
    current_password = _current_password_field()
    new_email = _email_field(_l("New e-mail address"))
