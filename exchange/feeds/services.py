"""What the feeds hold: the newest public practices and ideas, filtered as the catalogue
filters (theme, programme, programme objective, country, side, border area, language and type),
given by their codes.

Public is what the catalogue lists (`exchange.catalogue.services.listed_condition`): published,
not archived, closed or rejected, and for an idea still open to partners. A practice or an idea
is under a programme when its published revision names one of the programme's objectives, as in
the catalogue's programme filter.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from exchange.authorities.models import Authority
from exchange.catalogue.services import Filters, filter_conditions, listed_condition
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.i18n import current_language
from exchange.reference.countries import (
    EU_MEMBER_STATES,
    LATIN_AMERICA_AND_CARIBBEAN,
    Side,
)
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions.models import Revision, Submission, revision_theme
from exchange.text import LANGUAGES
from exchange.workflow import Kind

FEED_SIZE = 50
PARTICIPATING_COUNTRIES = EU_MEMBER_STATES | LATIN_AMERICA_AND_CARIBBEAN
# A code longer than this is nobody's: it is not echoed back in the error message whole.
MAX_CODE_LENGTH = 60


# Each filter: the FeedFilters field and the query parameter that carries it (the catalogue's).
PARAMETERS = (
    ("themes", "theme"),
    ("programmes", "programme"),
    ("objectives", "objective"),
    ("countries", "country"),
    ("sides", "side"),
    ("border_areas", "border_area"),
    ("languages", "language"),
    ("kinds", "type"),
)


@dataclass(frozen=True)
class FeedFilters:
    """What a feed is restricted to, by code; several codes of one filter mean any of them."""

    themes: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    border_areas: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, **values) -> "FeedFilters":
        """Without blanks and repeats, in a stable order (so that the feed's id is one per
        set of filters, whatever order the address gives them in)."""

        def clean(given):
            return tuple(sorted({value.strip() for value in given if value and value.strip()}))

        return cls(**{name: clean(given) for name, given in values.items()})

    @classmethod
    def from_args(cls, args) -> "FeedFilters":
        """From a request's query string (a MultiDict)."""
        return cls.from_values(**{name: args.getlist(key) for name, key in PARAMETERS})

    @classmethod
    def from_catalogue(cls, filters: Filters) -> "FeedFilters":
        """The feed of a catalogue search's filters (its words aside: a feed follows what is
        published, newest first, not a ranking)."""

        def codes(model, ids) -> list[str]:
            if not ids:
                return []
            return list(db.session.scalars(select(model.code).where(model.id.in_(ids))))

        return cls.from_values(
            themes=codes(Theme, filters.theme_ids),
            programmes=codes(Programme, filters.programme_ids),
            objectives=codes(Objective, filters.objective_ids),
            countries=filters.countries,
            sides=filters.sides,
            border_areas=codes(BorderArea, filters.border_area_ids),
            languages=filters.languages,
            kinds=filters.kinds,
        )

    def as_params(self) -> list[tuple[str, str]]:
        return [(key, code) for name, key in PARAMETERS for code in getattr(self, name)]


@dataclass
class FeedEntry:
    id: int
    kind: Kind
    title: str
    summary: str
    language: str
    first_published_at: datetime
    published_at: datetime
    authority_id: int
    authority_name: str
    # (code, label in the reader's language)
    themes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ResolvedFilters:
    """The filters as the catalogue takes them (ids), and the names of what they chose."""

    filters: Filters
    theme_labels: list[str]
    programme_names: list[str]
    border_area_names: list[str] = field(default_factory=list)


def _quoted(codes: list[str]) -> str:
    return ", ".join(f"“{code[:MAX_CODE_LENGTH]}”" for code in codes)


def _by_code(model, codes: tuple[str, ...]) -> dict:
    if not codes:
        return {}
    return {row.code: row for row in db.session.scalars(select(model).where(model.code.in_(codes)))}


def resolve_filters(feed_filters: FeedFilters) -> ResolvedFilters:
    """The filters' codes as ids. Raises ActionError naming the codes nobody knows: a feed
    address with a typing mistake must not quietly give everything."""
    themes = _by_code(Theme, feed_filters.themes)
    programmes = _by_code(Programme, feed_filters.programmes)
    objectives = _by_code(Objective, feed_filters.objectives)
    areas = _by_code(BorderArea, feed_filters.border_areas)
    checks = (
        ("theme", feed_filters.themes, themes,
         lambda codes: _l("Unknown theme code: %(codes)s.", codes=codes)),
        ("programme", feed_filters.programmes, programmes,
         lambda codes: _l("Unknown programme code: %(codes)s.", codes=codes)),
        ("objective", feed_filters.objectives, objectives,
         lambda codes: _l("Unknown objective code: %(codes)s.", codes=codes)),
        ("border_area", feed_filters.border_areas, areas,
         lambda codes: _l("Unknown border area code: %(codes)s.", codes=codes)),
        ("country", feed_filters.countries, PARTICIPATING_COUNTRIES,
         lambda codes: _l(
             "Unknown country: %(codes)s (use the two-letter ISO code of a country of the "
             "cooperation, such as MX or ES).", codes=codes)),
        ("side", feed_filters.sides, set(Side),
         lambda codes: _l("Unknown side: %(codes)s (use EU or LAC).", codes=codes)),
        ("language", feed_filters.languages, LANGUAGES,
         lambda codes: _l("Unknown language: %(codes)s (use en, es or pt).", codes=codes)),
        ("type", feed_filters.kinds, set(Kind),
         lambda codes: _l("Unknown type: %(codes)s (use practice or idea).", codes=codes)),
    )  # fmt: skip
    for field_name, codes, known, message in checks:
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise ActionError(message(_quoted(unknown)), field=field_name)
    return ResolvedFilters(
        filters=Filters(
            theme_ids=tuple(themes[code].id for code in feed_filters.themes),
            programme_ids=tuple(programmes[code].id for code in feed_filters.programmes),
            objective_ids=tuple(objectives[code].id for code in feed_filters.objectives),
            countries=feed_filters.countries,
            sides=feed_filters.sides,
            border_area_ids=tuple(areas[code].id for code in feed_filters.border_areas),
            languages=feed_filters.languages,
            kinds=feed_filters.kinds,
        ),
        theme_labels=[themes[code].label for code in feed_filters.themes],
        programme_names=[programmes[code].name for code in feed_filters.programmes],
        border_area_names=[areas[code].name for code in feed_filters.border_areas],
    )


def latest_entries(
    filters: Filters, limit: int = FEED_SIZE, language: str | None = None
) -> list[FeedEntry]:
    """The `limit` most recently published public items that pass the filters, newest first
    (three queries: the ids, their columns, their themes with labels in `language`)."""
    ids_query = (
        select(Submission.id)
        .where(listed_condition(), *filter_conditions(filters))
        .order_by(Submission.published_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    connection = db.session.connection()
    ids = list(connection.execute(ids_query).scalars())
    if not ids:
        return []
    rows = connection.execute(
        select(
            Submission.id,
            Submission.kind,
            Submission.language,
            Submission.first_published_at,
            Submission.published_at,
            Submission.published_revision_id,
            Revision.title,
            Revision.summary,
            Authority.id.label("authority_id"),
            Authority.name.label("authority_name"),
        )
        .join(Revision, Revision.id == Submission.published_revision_id)
        .join(Authority, Authority.id == Submission.authority_id)
        .where(Submission.id.in_(bindparam("ids", expanding=True))),
        {"ids": ids},
    ).all()
    language = language or current_language()
    label_column = getattr(Theme, f"label_{language}", Theme.label_en)
    themes: dict[int, list[tuple[str, str]]] = {}
    for revision_id, code, label, english in connection.execute(
        select(revision_theme.c.revision_id, Theme.code, label_column, Theme.label_en)
        .join(Theme, Theme.id == revision_theme.c.theme_id)
        .where(revision_theme.c.revision_id.in_([row.published_revision_id for row in rows]))
        .order_by(Theme.position, Theme.id)
    ):
        themes.setdefault(revision_id, []).append((code, label or english))
    entries = {
        row.id: FeedEntry(
            id=row.id,
            kind=Kind(row.kind),
            title=row.title,
            summary=row.summary,
            language=row.language,
            first_published_at=row.first_published_at or row.published_at,
            published_at=row.published_at,
            authority_id=row.authority_id,
            authority_name=row.authority_name,
            themes=themes.get(row.published_revision_id, []),
        )
        for row in rows
    }
    return [entries[i] for i in ids if i in entries]
