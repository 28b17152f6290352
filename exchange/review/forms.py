from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from exchange.forms import as_id, choices, strip
from exchange.review.services import AGE_LIMITS, BULK_ACTIONS
from exchange.workflow import AWAITING_REVIEW, KIND_LABELS, STATE_LABELS, State, transition

COMMENT_MAX = 5000
NOTE_MAX = 2000


def _listed(form, field) -> None:
    """A GET filter may come from a hand-made address: refuse a value that is not offered."""
    if field.data and field.data not in {str(value) for value, *_ in field.iter_choices()}:
        raise ValidationError(_l("Choose from the list."))


class QueueFilterForm(FlaskForm):
    """The review queue's filters: GET parameters, so that a filtered queue can be bookmarked."""

    class Meta:
        csrf = False

    programme = SelectField(
        _l("Programme"), choices=[], validate_choice=False, validators=[_listed]
    )
    kind = SelectField(
        _l("Type"),
        choices=choices([("", _l("Practices and ideas")), *KIND_LABELS.items()]),
        validate_choice=False,
        validators=[_listed],
    )
    age = SelectField(
        _l("Waiting"),
        choices=choices(
            [
                ("", _l("Any time")),
                *((str(days), _l("%(num)d days or more", num=days)) for days in AGE_LIMITS),
            ]
        ),
        validate_choice=False,
        validators=[_listed],
    )
    country = SelectField(_l("Country"), choices=[], validate_choice=False, validators=[_listed])
    state = SelectField(
        _l("State"),
        choices=choices(
            [
                ("", _l("Submitted or in review")),
                *((s.value, STATE_LABELS[s]) for s in State if s in AWAITING_REVIEW),
            ]
        ),
        validate_choice=False,
        validators=[_listed],
    )


class DecisionForm(FlaskForm):
    """A reviewer's comment for the authors; whether it is required depends on the decision,
    which the service checks."""

    comment = TextAreaField(
        _l("Comment for the authors"),
        filters=[strip],
        validators=[Optional(), Length(max=COMMENT_MAX)],
        description=_l("Required to request changes or to reject; optional when you publish."),
    )
    note = TextAreaField(
        _l("Personal note to the authors (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=_l("Added to the decision e-mail only; it is not kept with the review."),
    )


class BulkDecisionForm(FlaskForm):
    """One action, with one shared comment, on the items ticked in the queue. Sent once to see
    what it will do, and again with `confirm` to do it."""

    submission_ids = SelectMultipleField(
        _l("Chosen items"), coerce=as_id, choices=[], validate_choice=False
    )
    action = SelectField(
        _l("What to do with the chosen items"),
        choices=choices(
            [("", _l("Choose…")), *((name, transition(name).label) for name in BULK_ACTIONS)]
        ),
        validate_choice=False,
        validators=[
            InputRequired(_l("Choose what to do with the chosen items.")),
            _listed,
        ],
    )
    comment = TextAreaField(
        _l("Comment for the authors of every chosen item"),
        filters=[strip],
        validators=[Optional(), Length(max=COMMENT_MAX)],
        description=_l("Required to request changes or to reject."),
    )
    # The queue's filters (its query string), to go back to the same view afterwards.
    filters = HiddenField()
    confirm = HiddenField()
