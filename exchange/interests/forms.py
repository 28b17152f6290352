from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from exchange.forms import strip

MAX_MESSAGE = 1000
MAX_ANSWER = 2000


class InterestForm(FlaskForm):
    message = TextAreaField(
        _l("Your message to the owners"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write a short message to the owners.")),
            Length(max=MAX_MESSAGE, message=_l("Keep it under %(max)d characters.")),
        ],
        description=_l(
            "Say who you are and what you would like to know; the owners are e-mailed and "
            "answer you by e-mail."
        ),
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write your answer.")),
            Length(max=MAX_ANSWER, message=_l("Keep it under %(max)d characters.")),
        ],
    )
    # Where the answer was written: the workspace or the item's page.
    back = HiddenField()
