"""The directory's page, for the view that serves it (`authorities.index`, at /authorities/:
the address every page already links to)."""

from urllib.parse import urlencode

from flask import render_template, request, url_for

from exchange.authorities.models import KIND_LABELS, SIDE_LABELS
from exchange.catalogue.services import filter_options
from exchange.directory import services
from exchange.directory.forms import DirectoryForm


def _fill_choices(form: DirectoryForm, options) -> None:
    form.country.options = list(options.countries)
    form.side.options = [(side.value, str(label)) for side, label in SIDE_LABELS.items()]
    form.kind.options = [(kind.value, str(label)) for kind, label in KIND_LABELS.items()]
    form.theme.options = [(t.id, t.label) for _name, group in options.theme_groups for t in group]
    form.programme.options = list(options.programmes)


def _search_url(form: DirectoryForm, page: int = 1, without: tuple | None = None) -> str:
    """This search (what the form understood of it) on another page, or without one
    (field name, value) of its filters."""
    params = [("q", form.q.data)] if form.q.data else []
    for field in form.filter_fields():
        params += [(field.name, value) for value in field.data if (field.name, value) != without]
    if page > 1:
        params.append(("page", page))
    return url_for("authorities.index") + ("?" + urlencode(params) if params else "")


def _active_filters(form: DirectoryForm) -> list[dict]:
    active = []
    for field in form.filter_fields():
        labels = dict(field.options)
        for value in field.data:
            active.append(
                {
                    "filter": field.label.text,
                    "label": labels[value],
                    "url": _search_url(form, without=(field.name, value)),
                }
            )
    return active


def directory_page(page_size: int = services.PAGE_SIZE):
    """The directory: a search by name, filters, and pages, all in the address."""
    form = DirectoryForm(formdata=request.args)
    options = filter_options()
    _fill_choices(form, options)
    form.validate()  # drops what it does not know
    result = services.search_directory(
        form.filters(), request.args.get("page", 1, type=int), page_size
    )
    return render_template(
        "authorities/index.html",
        form=form,
        result=result,
        theme_groups=options.theme_groups,
        verified=services.verified_count() if form.searching else result.total,
        page_url=lambda page: _search_url(form, page),
        active_filters=_active_filters(form),
    )
