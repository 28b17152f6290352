from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SearchField, SelectField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from exchange.auth.models import DigestFrequency
from exchange.forms import CheckboxListField, choices, strip
from exchange.notifications.models import NotificationStatus
from exchange.notifications.preferences import DIGEST_FREQUENCY_LABELS

STATUS_LABELS = {
    NotificationStatus.PENDING: _l("Waiting to be sent"),
    NotificationStatus.SENDING: _l("Being sent"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.FAILED: _l("Failed"),
    NotificationStatus.SKIPPED: _l("Not e-mailed (switched off)"),
}


class PreferencesForm(FlaskForm):
    """Which kinds are e-mailed (the choices are the kinds one can switch off), and how often
    the digest comes."""

    email_kinds = CheckboxListField(
        _l("Send me an e-mail when"), coerce=str, choices=[], validate_choice=True
    )
    digest_frequency = RadioField(
        _l("Digest of new practices and ideas in my authority's themes"),
        choices=choices(
            (frequency.value, DIGEST_FREQUENCY_LABELS[frequency])
            for frequency in (DigestFrequency.DAILY, DigestFrequency.WEEKLY, DigestFrequency.NONE)
        ),
        validators=[InputRequired(_l("Choose how often to receive the digest."))],
    )


def _listed(form, field) -> None:
    """A GET filter may come from a hand-made address: refuse a value that is not offered."""
    if field.data and field.data not in {str(value) for value, *_ in field.iter_choices()}:
        raise ValidationError(_l("Choose from the list."))


class LogFilterForm(FlaskForm):
    """The notification log's search: GET parameters, so that a search can be bookmarked."""

    class Meta:
        csrf = False

    recipient = SearchField(
        _l("Recipient"),
        filters=[strip],
        validators=[Optional(), Length(max=254)],
        description=_l("Part of the e-mail address or of the name."),
    )
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False, validators=[_listed])
    status = SelectField(
        _l("Status"),
        choices=choices(
            [("", _l("Any status")), *((s.value, label) for s, label in STATUS_LABELS.items())]
        ),
        validate_choice=False,
        validators=[_listed],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("This date is before the first one."))


class BulkResendForm(FlaskForm):
    """The failed messages ticked in the log. Sent once to see what it will do, and again with
    `confirm` to do it."""

    notification_ids = CheckboxListField(_l("Chosen messages"), choices=[], validate_choice=False)
    # The log's search (its query string), to go back to the same view afterwards.
    filters = HiddenField()
    confirm = HiddenField()
