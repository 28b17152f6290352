from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from exchange.api.models import MAX_NAME_LENGTH
from exchange.forms import strip


class TokenForm(FlaskForm):
    """A new personal API token: only its name (what it is for)."""

    name = StringField(
        _l("Name"),
        description=_l("What the token is for, e.g. “Export script”. Only you see it."),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the token a name.")),
            Length(max=MAX_NAME_LENGTH),
        ],
    )
