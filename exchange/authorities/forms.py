from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from exchange.authorities.models import KIND_LABELS, MAX_MATCH_CAPACITY
from exchange.forms import CheckboxListField, choices, strip


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Name of the authority"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the name of the authority.")), Length(max=200)],
    )
    kind = SelectField(
        _l("Kind of authority"),
        choices=choices((k.value, label) for k, label in KIND_LABELS.items()),
    )
    country_code = SelectField(_l("Country"), choices=[], validate_choice=False)
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
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
        description=_l("What the authority does, and what it would like to share and to learn."),
    )
    description_language = SelectField(_l("Language of the description"), choices=[])
    languages = CheckboxListField(_l("Working languages"), coerce=str, choices=[])
    programmes = CheckboxListField(_l("Programmes the authority takes part in"), choices=[])
    themes = CheckboxListField(_l("Themes"), choices=[])
    border_areas = CheckboxListField(_l("Border areas"), choices=[])
    match_capacity = IntegerField(
        _l("Open matches the authority can take at a time"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(0, MAX_MATCH_CAPACITY, _l("Choose a number from 0 to %(max)d.")),
        ],
    )


class RejectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say why, so that the authority can put it right.")),
            Length(max=2000),
        ],
    )


class JoinAnswerForm(FlaskForm):
    reason = TextAreaField(
        _l("Message (optional)"), filters=[strip], validators=[Optional(), Length(max=1000)]
    )
