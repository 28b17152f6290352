import re

import pycountry
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from exchange.auth.models import Role
from exchange.forms import CheckboxListField, choices, strip

CODE_PATTERN = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9-]*$", message=_l("Use letters, digits and hyphens only.")
)


def _code_field():
    return StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a code.")), Length(max=40), CODE_PATTERN],
        description=_l("Stable identifier used by exports and the API; change it with care."),
    )


def _text(label, long=False, required=True):
    field = TextAreaField if long else StringField
    validators = [DataRequired(_l("Enter this text."))] if required else [Optional()]
    return field(
        label, filters=[strip], validators=[*validators, Length(max=5000 if long else 200)]
    )


def _position_field():
    return IntegerField(
        _l("Position in lists"), default=0, validators=[InputRequired(_l("Enter a number."))]
    )


class ProgrammeForm(FlaskForm):
    code = _code_field()
    name_en = _text(_l("Name (English)"))
    name_es = _text(_l("Name (Spanish)"))
    name_pt = _text(_l("Name (Portuguese)"))
    description_en = _text(_l("Description (English)"), long=True, required=False)
    description_es = _text(_l("Description (Spanish)"), long=True, required=False)
    description_pt = _text(_l("Description (Portuguese)"), long=True, required=False)
    website = URLField(
        _l("Website"),
        filters=[strip],
        validators=[Optional(), URL(message=_l("Enter a web address starting with https://."))],
    )
    position = _position_field()


class ObjectiveForm(FlaskForm):
    code = _code_field()
    text_en = _text(_l("Text (English)"), long=True)
    text_es = _text(_l("Text (Spanish)"), long=True)
    text_pt = _text(_l("Text (Portuguese)"), long=True)
    position = _position_field()


def _keywords_field(label):
    return TextAreaField(
        label,
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
        description=_l("One word or phrase per line."),
    )


def keyword_list(text: str | None) -> list[str]:
    return [line.strip().lower() for line in (text or "").splitlines() if line.strip()]


class ThemeForm(FlaskForm):
    code = _code_field()
    group_id = SelectField(_l("Group"), coerce=int, choices=[])
    label_en = _text(_l("Label (English)"))
    label_es = _text(_l("Label (Spanish)"))
    label_pt = _text(_l("Label (Portuguese)"))
    keywords_en = _keywords_field(_l("Keywords (English)"))
    keywords_es = _keywords_field(_l("Keywords (Spanish)"))
    keywords_pt = _keywords_field(_l("Keywords (Portuguese)"))
    position = _position_field()


class BorderAreaForm(FlaskForm):
    code = _code_field()
    name_en = _text(_l("Name (English)"))
    name_es = _text(_l("Name (Spanish)"))
    name_pt = _text(_l("Name (Portuguese)"))
    countries = CheckboxListField(_l("Countries"), coerce=str, choices=[])
    subdivisions = StringField(
        _l("Sub-regions (ISO 3166-2 codes)"),
        filters=[strip],
        validators=[Optional(), Length(max=1000)],
        description=_l("Separated by spaces or commas, e.g. PE-TAC CL-AP."),
    )
    value_chains = TextAreaField(
        _l("Value chains"),
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
        description=_l("One per line, in English | Spanish | Portuguese."),
    )
    source_url = URLField(
        _l("Source"),
        filters=[strip],
        validators=[Optional(), URL(message=_l("Enter a web address starting with https://."))],
    )
    position = _position_field()

    def validate_countries(self, field):
        if len(field.data or []) < 2:
            raise ValidationError(_l("Choose at least two neighbouring countries."))

    def subdivision_codes(self) -> list[str]:
        return [code.upper() for code in re.split(r"[\s,;]+", self.subdivisions.data or "") if code]

    def validate_subdivisions(self, field):
        for code in self.subdivision_codes():
            subdivision = pycountry.subdivisions.get(code=code)
            if subdivision is None or subdivision.country_code not in (self.countries.data or []):
                raise ValidationError(
                    _l("%(code)s is not a sub-region of the chosen countries.", code=code)
                )

    def value_chain_list(self) -> list[dict]:
        chains = []
        for line in (self.value_chains.data or "").splitlines():
            if line.strip():
                parts = [part.strip() for part in line.split("|")]
                english = parts[0]
                chains.append(
                    {
                        "en": english,
                        "es": parts[1] if len(parts) > 1 and parts[1] else english,
                        "pt": parts[2] if len(parts) > 2 and parts[2] else english,
                    }
                )
        return chains


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=choices(
            [
                (Role.MEMBER.value, _l("Member")),
                (Role.COORDINATOR.value, _l("Coordinator")),
                (Role.ADMIN.value, _l("Administrator")),
            ]
        ),
    )
