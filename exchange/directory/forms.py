"""The directory's search form: a plain GET form, so that every search has an address."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField

from exchange.catalogue.forms import FilterField
from exchange.directory.services import DirectoryFilters
from exchange.forms import strip

MAX_QUERY_LENGTH = 200


def _cut(value):
    return value[:MAX_QUERY_LENGTH] if isinstance(value, str) else value


class DirectoryForm(FlaskForm):
    """Values the form does not offer (an old link, an address typed by hand) are left out
    and `dropped` says so, as in the catalogue: a search never fails."""

    class Meta:
        csrf = False  # a search changes nothing; its address can be shared

    q = SearchField(_l("Name"), filters=[strip, _cut])
    country = FilterField(_l("Country"))
    side = FilterField(_l("Side"))
    kind = FilterField(_l("Kind of authority"))
    theme = FilterField(_l("Theme"), coerce=int)
    programme = FilterField(_l("Programme"), coerce=int)

    FILTERS = ("country", "side", "kind", "theme", "programme")

    def filter_fields(self):
        return [self[name] for name in self.FILTERS]

    @property
    def dropped(self) -> bool:
        return any(field.dropped for field in self.filter_fields())

    @property
    def searching(self) -> bool:
        return bool(self.q.data) or any(field.data for field in self.filter_fields())

    def filters(self) -> DirectoryFilters:
        """What to look for (call after `validate`, which leaves only known values)."""
        return DirectoryFilters(
            query=self.q.data or "",
            countries=tuple(self.country.data),
            sides=tuple(self.side.data),
            kinds=tuple(self.kind.data),
            theme_ids=tuple(self.theme.data),
            programme_ids=tuple(self.programme.data),
        )
