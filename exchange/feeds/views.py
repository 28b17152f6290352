"""The Atom feed of newly published practices and ideas: /feeds/latest.atom, filtered as the
catalogue is, by code: ?theme=CODE, ?programme=CODE, ?objective=CODE, ?country=MX,
?side=EU|LAC, ?border_area=CODE, ?language=en|es|pt and ?type=practice|idea (each may be
repeated: any of the values)."""

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _

from exchange.authorities.models import SIDE_LABELS
from exchange.errors import ActionError
from exchange.feeds import services
from exchange.i18n import current_language
from exchange.reference.countries import Side, country_name
from exchange.reference.languages import language_name
from exchange.workflow import KIND_LABELS

bp = Blueprint("feeds", __name__)

# Feed readers poll; five minutes old is fresh enough, and the ETag makes a poll that finds
# nothing new cost a 304.
MAX_AGE = 300
# The date of an empty feed: fixed, so that an empty feed has a stable ETag too.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class ItemLinks(BaseEntryExtension):
    """What feedgen leaves out of an entry, put back through its extension hook: feedgen 1.0.0
    writes an entry's links with their address only (lkiesow/python-feedgen#135), and has no
    way to say which language an entry's title and summary are written in."""

    def __init__(self):
        self.language: str | None = None

    def extend_atom(self, entry):
        # feedgen builds the elements without a namespace and declares Atom's as the default
        # one on the feed: they are found by their bare names.
        for link in entry.findall("link"):
            link.set("rel", "alternate")
            link.set("type", "text/html")
            if self.language:
                link.set("hreflang", self.language)
        if self.language:
            for name in ("title", "summary"):
                for element in entry.findall(name):
                    element.set(XML_LANG, self.language)
        return entry


class ExternalUrls:
    """Absolute addresses on BASE_URL (the public address), whatever host the request came
    through: entry ids are these addresses, and must not change with the way in."""

    def __init__(self):
        parts = urlsplit(current_app.config["BASE_URL"])
        self.adapter = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
        )

    def __call__(self, endpoint: str, query: list[tuple[str, str]] | None = None, **values):
        url = self.adapter.build(endpoint, values, force_external=True)
        return f"{url}?{urlencode(query)}" if query else url


def _item_endpoint(entry: services.FeedEntry) -> str:
    return "practices.show" if entry.kind == "practice" else "ideas.show"


def _title(resolved: services.ResolvedFilters, feed_filters: services.FeedFilters) -> str:
    chosen = [
        *resolved.programme_names,
        *feed_filters.objectives,
        *resolved.theme_labels,
        *(country_name(code) for code in feed_filters.countries),
        *(str(SIDE_LABELS[Side(code)]) for code in feed_filters.sides),
        *resolved.border_area_names,
        *(language_name(code) for code in feed_filters.languages),
        *(str(KIND_LABELS[kind]) for kind in feed_filters.kinds),
    ]
    title = _("Exchange: newly published practices and ideas")
    return f"{title} — {', '.join(chosen)}" if chosen else title


def render_atom(
    entries: list[services.FeedEntry],
    feed_filters: services.FeedFilters,
    resolved: services.ResolvedFilters,
) -> tuple[bytes, datetime]:
    """The feed as Atom 1.0 (RFC 4287), and the date of its newest change."""
    url = ExternalUrls()
    self_url = url("feeds.latest", query=feed_filters.as_params())
    updated = max((entry.published_at for entry in entries), default=EPOCH)

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_title(resolved, feed_filters))
    feed.subtitle(
        _(
            "Good practices and cross-border project ideas of regional and urban authorities "
            "of Europe and Latin America, as they are published."
        )
    )
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=url("catalogue.index"), rel="alternate", type="text/html")
    feed.language(current_language())
    feed.updated(updated)
    feed.generator("Exchange", uri=url("main.index"))
    for entry in entries:
        item_url = url(_item_endpoint(entry), submission_id=entry.id)
        atom_entry = feed.add_entry(order="append")
        # The item's address: permanent, and the same in every filtered feed.
        atom_entry.id(item_url)
        atom_entry.title(entry.title)
        atom_entry.link(href=item_url)
        atom_entry.register_extension("item_links", ItemLinks, atom=True, rss=False)
        atom_entry.item_links.language = entry.language
        if entry.summary:
            atom_entry.summary(entry.summary, type="text")
        atom_entry.published(entry.first_published_at)
        atom_entry.updated(entry.published_at)
        atom_entry.author(
            name=entry.authority_name,
            uri=url("authorities.show", authority_id=entry.authority_id),
        )
        for code, label in entry.themes:
            atom_entry.category(term=code, label=label)
    return feed.atom_str(pretty=True), updated


@bp.get("/latest.atom")
def latest():
    """The newest public practices and ideas, as an Atom feed. An unknown code in the filters
    answers 400 with a message that names it (a plain-text body: feed readers show it)."""
    feed_filters = services.FeedFilters.from_args(request.args)
    try:
        resolved = services.resolve_filters(feed_filters)
    except ActionError as error:
        return Response(f"{error.message}\n", status=400, mimetype="text/plain")
    entries = services.latest_entries(resolved.filters)
    body, updated = render_atom(entries, feed_filters, resolved)
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    # The labels follow the reader's language: the browser's, or a signed-in person's choice.
    response.vary.update(("Accept-Language", "Cookie"))
    response.last_modified = updated
    response.add_etag()
    return response.make_conditional(request)
