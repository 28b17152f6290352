"""The dashboard's filters, and the extra filters of each export: GET parameters, so that a
view (and each chart's CSV, and each export) can be bookmarked and shared between coordinators.

The names are those the other coordinators' pages use where they mean the same thing
(`programme`, `country` and `state` as in the review queue, `date_from` and `date_to` as in the
notification log, `side` as in the catalogue), so that their filters carry over to an export.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from exchange.authorities.models import SIDE_LABELS
from exchange.forms import choices
from exchange.insight.exports import AUTHORITY_STATUS_LABELS
from exchange.insight.services import (
    DEFAULT_PERIOD,
    PERIOD_LABELS,
    InsightFilters,
    Period,
    period_bounds,
)
from exchange.matching.models import MATCH_STATUS_LABELS
from exchange.reference.countries import Side, country_choices
from exchange.reference.services import all_programmes
from exchange.workflow import STATE_LABELS

# An activity's subject ("submission", "match": the table of what changed) and action
# ("submission.publish"), as the activity log writes them.
CODE = r"^[a-z][a-z_]*$"
ACTION = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)?$"


def _listed(form, field) -> None:
    """A GET filter may come from a hand-made address: refuse a value that is not offered."""
    if field.data and field.data not in {str(value) for value, *_ in field.iter_choices()}:
        raise ValidationError(_l("Choose from the list."))


class InsightFilterForm(FlaskForm):
    """Programme, side and period: the filters of every chart and every export."""

    class Meta:
        csrf = False

    programme = SelectField(
        _l("Programme"), choices=[], validate_choice=False, validators=[_listed]
    )
    side = SelectField(
        _l("Side"),
        choices=choices([("", _l("Both sides")), *((s.value, SIDE_LABELS[s]) for s in Side)]),
        validate_choice=False,
        validators=[_listed],
    )
    period = SelectField(
        _l("Period"),
        choices=choices((p.value, label) for p, label in PERIOD_LABELS.items()),
        validate_choice=False,
        validators=[_listed],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, default_period: Period = DEFAULT_PERIOD, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_period = default_period
        self.programme.choices = choices(
            [("", _l("All programmes")), *((str(p.id), p.name) for p in all_programmes())]
        )

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("This date is before the first one."))

    def chosen_period(self) -> Period:
        """Dates typed in make the period a custom one; otherwise the preset chosen, or the
        default."""
        if self._valid_date(self.date_from) or self._valid_date(self.date_to):
            return Period.CUSTOM
        if self.period.data and not self.period.errors:
            return Period(self.period.data)
        return self.default_period

    @staticmethod
    def _valid_date(field) -> bool:
        return field.data is not None and not field.errors

    def filters(self, today: date) -> InsightFilters:
        """The filters with a valid value (the others are left out)."""
        period = self.chosen_period()
        if period == Period.CUSTOM:
            first = self.date_from.data if self._valid_date(self.date_from) else None
            last = self.date_to.data if self._valid_date(self.date_to) else None
            if first and last and last < first:
                first, last = None, None
        else:
            first, last = period_bounds(period, today)
        programme = self.programme.data if not self.programme.errors else ""
        side = self.side.data if not self.side.errors else ""
        return InsightFilters(
            programme_id=int(programme) if programme else None,
            side=Side(side) if side else None,
            date_from=first,
            date_to=last,
        )

    def url_args(self) -> dict:
        """The filters as the page understood them, to carry over to the charts' SVG and CSV
        and to the exports."""
        args = {}
        period = self.chosen_period()
        if period == Period.CUSTOM:
            for field in (self.date_from, self.date_to):
                if self._valid_date(field):
                    args[field.name] = field.data.isoformat()
        args["period"] = period.value
        for field in (self.programme, self.side):
            if field.data and not field.errors:
                args[field.name] = field.data
        return args


# The exports' own filters ------------------------------------------------------------------------


class ExportFilterForm(InsightFilterForm):
    """The dashboard's filters, and those of the dataset: which ones apply is set by
    `for_dataset` (the others are not offered, so a value for them is refused)."""

    state = SelectField(_l("State"), choices=[], validate_choice=False, validators=[_listed])
    status = SelectField(_l("Status"), choices=[], validate_choice=False, validators=[_listed])
    country = SelectField(_l("Country"), choices=[], validate_choice=False, validators=[_listed])
    subject = StringField(
        _l("About"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(CODE, message=_l("A subject such as “submission” or “match”.")),
        ],
    )
    action = StringField(
        _l("Action"),
        validators=[
            Optional(),
            Length(max=60),
            Regexp(
                ACTION,
                message=_l("An action such as “submission.publish”, or its first part."),
            ),
        ],
    )

    EXTRA = {
        "practices": ("state", "country"),
        "ideas": ("state", "country"),
        "authorities": ("status", "country"),
        "matches": ("status",),
        "activity": ("action", "subject"),
    }

    def for_dataset(self, dataset: str) -> "ExportFilterForm":
        offered = {
            "state": lambda: ((s.value, label) for s, label in STATE_LABELS.items()),
            "status": lambda: (
                AUTHORITY_STATUS_LABELS.items()
                if dataset == "authorities"
                else MATCH_STATUS_LABELS.items()
            ),
            "country": country_choices,
        }
        for name, options in offered.items():
            field = getattr(self, name)
            values = options() if name in self.EXTRA[dataset] else ()
            field.choices = choices([("", ""), *((str(v), label) for v, label in values)])
        self.dataset = dataset
        return self

    def _offered(self, field) -> None:
        if field.name not in self.EXTRA.get(getattr(self, "dataset", ""), ()):
            raise ValidationError(_l("This export has no such filter."))

    validate_subject = _offered
    validate_action = _offered

    def extra(self) -> dict:
        """The dataset's own filters with a valid value."""
        return {
            name: getattr(self, name).data
            for name in ("state", "status", "country", "action", "subject")
            if getattr(self, name).data and not getattr(self, name).errors
        }

    def url_args(self) -> dict:
        return {**super().url_args(), **self.extra()}
