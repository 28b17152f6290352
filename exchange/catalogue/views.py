"""The public catalogue of published practices and open ideas: search and filters."""

from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from exchange.authorities.models import SIDE_LABELS
from exchange.catalogue import services
from exchange.catalogue.forms import CatalogueForm
from exchange.feeds.services import FeedFilters
from exchange.i18n import current_language
from exchange.reference.languages import language_name
from exchange.text import LANGUAGES
from exchange.workflow import KIND_LABELS

bp = Blueprint("catalogue", __name__)

# The item pages include the related items (templates/catalogue/_related.html).
bp.add_app_template_global(services.related_items, "catalogue_related_items")


def _fill_choices(form: CatalogueForm, options: services.FilterOptions) -> None:
    form.type.options = [(kind.value, str(label)) for kind, label in KIND_LABELS.items()]
    form.programme.options = [(p.id, p.label) for p in options.programmes]
    form.objective.options = list(options.objective_codes.items())
    form.theme.options = [(t.id, t.label) for _name, group in options.theme_groups for t in group]
    form.country.options = list(options.countries)
    form.side.options = [(side.value, str(label)) for side, label in SIDE_LABELS.items()]
    form.border_area.options = [(area.id, area.label) for area in options.border_areas]
    form.language.options = [(code, language_name(code)) for code in LANGUAGES]


@bp.get("/")
def index():
    """The catalogue: full-text search, filters, sorting and pages, all in the address."""
    language = current_language()
    form = CatalogueForm(formdata=request.args)
    options = services.filter_options(language)
    _fill_choices(form, options)
    form.validate()  # drops what it does not know; a search never fails
    result = services.search_catalogue(
        form.filters(), form.chosen_sort(), request.args.get("page", 1, type=int), language
    )
    return render_template(
        "catalogue/index.html",
        form=form,
        result=result,
        sort_labels=services.SORT_LABELS,
        page_size=services.PAGE_SIZE,
        filter_groups=_filter_groups(form, options),
        page_url=lambda page: _search_url(form, page),
        active_filters=_active_filters(form),
        feed_url=_feed_url(form),
    )


def _feed_url(form: CatalogueForm) -> str:
    """The Atom feed of new items with this search's filters."""
    params = FeedFilters.from_catalogue(form.filters()).as_params()
    return url_for("feeds.latest") + ("?" + urlencode(params) if params else "")


def _filter_groups(form: CatalogueForm, options: services.FilterOptions) -> list[dict]:
    """The filter panel: per filter, its sections of (value, label, chosen) checkboxes."""

    def boxes(field, choices):
        chosen = set(field.data)
        return [(value, label, value in chosen) for value, label in choices]

    def group(field, sections, note=None):
        return {"field": field, "sections": sections, "note": note}

    return [
        group(form.type, [(None, boxes(form.type, form.type.options))]),
        group(form.theme, [(name, boxes(form.theme, ts)) for name, ts in options.theme_groups]),
        group(form.programme, [(None, boxes(form.programme, options.programmes))]),
        group(
            form.objective,
            [
                (programme.label, boxes(form.objective, options.objectives[programme.id]))
                for programme in options.programmes
                if programme.id in options.objectives
            ],
        ),
        group(form.side, [(None, boxes(form.side, form.side.options))]),
        group(form.country, [(None, boxes(form.country, form.country.options))]),
        group(
            form.border_area,
            [(None, boxes(form.border_area, form.border_area.options))],
            note=_("Ideas set in the area, and items of the authorities there."),
        ),
        group(form.language, [(None, boxes(form.language, form.language.options))]),
    ]


def _search_url(form: CatalogueForm, page: int = 1, without: tuple | None = None) -> str:
    """The address of this search (what the form understood of it) on another page, or
    `without` one (field name, value) of its filters."""
    params = [("q", form.q.data)] if form.q.data else []
    for field in form.filter_fields():
        params += [(field.name, v) for v in field.data if (field.name, v) != without]
    if form.chosen_sort():
        params.append(("sort", form.sort.data))
    if page > 1:
        params.append(("page", page))
    return url_for("catalogue.index") + ("?" + urlencode(params) if params else "")


def _active_filters(form: CatalogueForm) -> list[dict]:
    """Each value filtered on, with the address of the search without it."""
    active = []
    for field in form.filter_fields():
        labels = {choice[0]: choice[1] for choice in field.options}
        for value in field.data:
            active.append(
                {
                    "filter": field.label.text,
                    "label": labels[value],
                    "url": _search_url(form, without=(field.name, value)),
                }
            )
    return active
