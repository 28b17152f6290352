"""The catalogue's search form: a plain GET form, so that every search has an address."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SearchField, SelectField

from exchange.catalogue.services import SORT_LABELS, Filters, Sort
from exchange.forms import choices, strip

MAX_QUERY_LENGTH = 200


def _cut(value):
    return value[:MAX_QUERY_LENGTH] if isinstance(value, str) else value


class FilterField(Field):
    """The values chosen for one filter (checkboxes, rendered by the template) among `options`,
    (value, label) pairs. Values that are not among them (an old link, an address typed by
    hand) are dropped rather than refused, and `dropped` says so."""

    def __init__(self, label=None, validators=None, coerce=str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.coerce = coerce
        self.options: list[tuple] = []
        self.dropped = False

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        values = []
        for raw in valuelist:
            try:
                values.append(self.coerce(raw))
            except (TypeError, ValueError):
                self.dropped = True
        self.data = values

    def pre_validate(self, form):
        allowed = {value for value, _ in self.options}
        kept = []
        for value in self.data:
            if value not in allowed:
                self.dropped = True
            elif value not in kept:
                kept.append(value)
        self.data = kept


class CatalogueForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing; its address can be shared

    q = SearchField(_l("Search the catalogue"), filters=[strip, _cut])
    type = FilterField(_l("Type"))
    programme = FilterField(_l("Programme"), coerce=int)
    objective = FilterField(_l("Programme objective"), coerce=int)
    theme = FilterField(_l("Theme"), coerce=int)
    country = FilterField(_l("Country"))
    side = FilterField(_l("Side"))
    border_area = FilterField(_l("Border area"), coerce=int)
    language = FilterField(_l("Language"))
    sort = SelectField(
        _l("Sort by"),
        choices=choices((sort.value, label) for sort, label in SORT_LABELS.items()),
        validate_choice=False,
    )

    FILTERS = ("type", "programme", "objective", "theme", "country", "side", "border_area",
               "language")  # fmt: skip

    def filter_fields(self):
        return [self[name] for name in self.FILTERS]

    @property
    def dropped(self) -> bool:
        """Some values of the address were not understood and were left out."""
        return any(field.dropped for field in self.filter_fields()) or (
            bool(self.sort.data) and self.sort.data not in set(Sort)
        )

    def filters(self) -> Filters:
        """What to search for (call after `validate`, which leaves only known values)."""
        return Filters(
            query=self.q.data or "",
            kinds=tuple(self.type.data),
            programme_ids=tuple(self.programme.data),
            objective_ids=tuple(self.objective.data),
            theme_ids=tuple(self.theme.data),
            countries=tuple(self.country.data),
            sides=tuple(self.side.data),
            border_area_ids=tuple(self.border_area.data),
            languages=tuple(self.language.data),
        )

    def chosen_sort(self) -> Sort | None:
        """The order asked for, or None for the default."""
        return Sort(self.sort.data) if self.sort.data in set(Sort) else None
