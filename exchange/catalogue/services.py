"""The public catalogue: finding published practices and open ideas, and items related to one.

What is public is what the search index holds (`exchange.submissions.search`): an item enters it
when a revision is published and leaves it when the item is archived or closed; a new revision
under review leaves the published one in it. Filters on themes and objectives read the
published revision, never the one being drafted.

The catalogue stays fast on a large database (see bench/catalogue.py) by doing little per
request:
- one query finds the ids of the newest matches, at most COUNT_LIMIT + 1 of them, reading only
  the columns of `submission` it filters and sorts on: that gives the count ("more than
  1,000"), the pages in date order, and the pool that relevance ranks;
- relevance ranks RANK_POOL of them, not every match (ranking reads each document, and a common
  word is in half of the catalogue);
- a second query loads what the result lines show, for the twenty ids of the page only;
- pages are numbered up to MAX_PAGE;
- on PostgreSQL, the filters on themes, objectives and programmes are answered by the search
  index itself (see `exchange.submissions.search`);
- the statements that every page runs with other values only (result lines, themes, filter
  choices, related items) are built once per process.
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)

from exchange.authorities.models import Authority, AuthorityStatus, authority_border_area
from exchange.extensions import db
from exchange.i18n import current_language
from exchange.reference.countries import country_name, sort_key
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from exchange.submissions import search
from exchange.submissions.models import (
    CoOwner,
    CoOwnerStatus,
    Revision,
    Submission,
    revision_objective,
    revision_theme,
)
from exchange.workflow import Kind

PAGE_SIZE = 20
# Nobody reads past the fiftieth page; a narrower search serves them better than page 51.
MAX_PAGE = 50
COUNT_LIMIT = PAGE_SIZE * MAX_PAGE
# Relevance orders the RANK_POOL newest matches by rank (the first five pages), then the older
# ones by date. A page lies wholly on one side of that line.
RANK_POOL = 100
SUMMARY_LENGTH = 320
# Related items: how many of the newest items of each theme are weighed against each other, and
# of how many themes at most (an item tagged with everything is related to everything anyway).
RELATED_POOL = 20
RELATED_THEMES = 8


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    TITLE = "title"


SORT_LABELS = {
    Sort.RELEVANCE: _l("Relevance"),
    Sort.NEWEST: _l("Newest first"),
    Sort.TITLE: _l("Title"),
}


@dataclass(frozen=True)
class Filters:
    """What a visitor asks the catalogue for. Several values of one filter mean any of them;
    different filters must all hold."""

    query: str = ""
    programme_ids: tuple[int, ...] = ()
    objective_ids: tuple[int, ...] = ()
    theme_ids: tuple[int, ...] = ()
    countries: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    border_area_ids: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


class Label(NamedTuple):
    """A choice or a tag: an id and its name in the reader's language."""

    id: int | str
    label: str


@dataclass
class ResultLine:
    """What one result shows. `id` and `kind` are what `item_url` needs."""

    id: int
    kind: Kind
    title: str
    summary: str
    language: str
    published_at: datetime | None
    authority_id: int
    authority_name: str
    country_code: str
    themes: list[Label] = field(default_factory=list)


@dataclass
class CataloguePage:
    results: list[ResultLine]
    # Exact up to COUNT_LIMIT; `more` says there are more than that.
    total: int
    more: bool
    page: int
    pages: int
    sort: Sort
    # The query had words to search for (a query of stop words only searches nothing).
    searched: bool


@dataclass
class FilterOptions:
    """What the filters offer, named in the reader's language."""

    programmes: list[Label] = field(default_factory=list)
    # Per programme id, its objectives (labelled with their text), and each one's code.
    objectives: dict[int, list[Label]] = field(default_factory=dict)
    objective_codes: dict[int, str] = field(default_factory=dict)
    theme_groups: list[tuple[str, list[Label]]] = field(default_factory=list)
    border_areas: list[Label] = field(default_factory=list)
    # The countries of verified authorities: (ISO code, name), by name.
    countries: list[Label] = field(default_factory=list)


# Building blocks ------------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _execute(statement, values: dict | None = None):
    """Plain rows on the session's connection (and transaction): the catalogue reads columns,
    never whole objects, and the ORM's result handling would double the cost of a thousand ids."""
    return db.session.connection().execute(statement, values or {})


def _localized(model, field_name: str, language: str):
    """SQL for a translated column, falling back to English when empty (as i18n.localized)."""
    column = getattr(model, f"{field_name}_{language}", None)
    english = getattr(model, f"{field_name}_en")
    if column is None or language == "en":
        return english
    return func.coalesce(func.nullif(column, ""), english)


def listed_condition(dialect: str | None = None) -> ColumnElement[bool]:
    """Public: in the search index (published, not archived, closed or rejected), and for an
    idea, still open to partners (the nightly closing may not have run yet)."""
    if (dialect or _dialect()) == "postgresql":
        indexed = Submission.search_vector.is_not(None)
    else:
        indexed = exists(select(search.fts.c.rowid).where(search.fts.c.rowid == Submission.id))
    today = bindparam("today", callable_=date.today, type_=Date)  # the day the query runs
    return and_(indexed, or_(Submission.open_until.is_(None), Submission.open_until >= today))


def _published_link(table, column: str, ids) -> ColumnElement[bool]:
    return exists(
        select(literal_column("1"))
        .select_from(table)
        .where(table.c.revision_id == Submission.published_revision_id, table.c[column].in_(ids))
    )


def owned_by(authority_ids: list[int]) -> ColumnElement[bool]:
    """Owned by one of these authorities, or co-owned (an idea) by one that accepted.

    The ids are looked up first, so that the planner sees them: it then knows whether the
    authorities have few items (read them through the index on the owner) or many (read the
    newest items and keep theirs)."""
    if not authority_ids:
        return false()
    co_owned = _ids(
        select(CoOwner.submission_id).where(
            CoOwner.status == CoOwnerStatus.ACCEPTED, CoOwner.authority_id.in_(authority_ids)
        )
    )
    owned = Submission.authority_id.in_(authority_ids)
    return or_(owned, Submission.id.in_(co_owned)) if co_owned else owned


def filter_conditions(filters: Filters, facets_indexed: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the filters (the search words aside). With `facets_indexed`, the
    filters on themes, objectives and programmes are left to the search index (see
    `facet_groups`)."""
    conditions = []
    if filters.kinds:
        conditions.append(Submission.kind.in_(filters.kinds))
    if filters.languages:
        conditions.append(Submission.language.in_(filters.languages))
    if filters.theme_ids and not facets_indexed:
        conditions.append(_published_link(revision_theme, "theme_id", filters.theme_ids))
    if filters.objective_ids and not facets_indexed:
        conditions.append(
            _published_link(revision_objective, "objective_id", filters.objective_ids)
        )
    if filters.programme_ids and not facets_indexed:
        objectives = select(Objective.id).where(Objective.programme_id.in_(filters.programme_ids))
        conditions.append(_published_link(revision_objective, "objective_id", objectives))
    if filters.countries:
        conditions.append(
            owned_by(
                _ids(select(Authority.id).where(Authority.country_code.in_(filters.countries)))
            )
        )
    if filters.sides:
        conditions.append(
            owned_by(_ids(select(Authority.id).where(Authority.side.in_(filters.sides))))
        )
    if filters.border_area_ids:
        # An idea set in the area, or an item of an authority of the area (Tacna's practices
        # belong to Peru–Chile).
        area_authorities = _ids(
            select(authority_border_area.c.authority_id).where(
                authority_border_area.c.border_area_id.in_(filters.border_area_ids)
            )
        )
        conditions.append(
            or_(
                Submission.border_area_id.in_(filters.border_area_ids),
                Submission.authority_id.in_(area_authorities),
            )
        )
    return conditions


def _ids(query) -> list[int]:
    return list(_execute(query).scalars())


def facet_groups(filters: Filters) -> list[list[str]]:
    """The theme, objective and programme filters as facet terms of the index: one group per
    filter, of which an item must hold a term."""
    groups = []
    if filters.theme_ids:
        groups.append([search.facet("theme", i) for i in filters.theme_ids])
    if filters.objective_ids:
        groups.append([search.facet("objective", i) for i in filters.objective_ids])
    if filters.programme_ids:
        objectives = _ids(
            select(Objective.id).where(Objective.programme_id.in_(filters.programme_ids))
        )
        groups.append([search.facet("objective", i) for i in objectives])
    return groups


# The catalogue --------------------------------------------------------------------------------


def search_catalogue(
    filters: Filters, sort: Sort | None = None, page: int = 1, language: str | None = None
) -> CataloguePage:
    """One page of public items matching the filters, in the order asked for (relevance when
    searching, newest first otherwise), with the number of matches."""
    conditions = [listed_condition()]
    facets_indexed = search.holds_facets()
    groups = facet_groups(filters) if facets_indexed else []
    if any(not group for group in groups):
        conditions.append(false())  # a programme without objectives
    found = search.search_condition(filters.query, groups)
    if found is not None:
        conditions.append(found.condition)
    conditions += filter_conditions(filters, facets_indexed=facets_indexed)
    searched = found is not None and found.rank is not None
    if sort is None or (sort == Sort.RELEVANCE and not searched):
        sort = Sort.RELEVANCE if searched else Sort.NEWEST

    newest = _newest_ids(conditions)
    total, more = min(len(newest), COUNT_LIMIT), len(newest) > COUNT_LIMIT
    pages = max(1, min(MAX_PAGE, -(-total // PAGE_SIZE)))
    page = min(max(page, 1), pages)
    offset = (page - 1) * PAGE_SIZE
    if sort == Sort.TITLE and total:
        # Like every order, among the COUNT_LIMIT newest matches: a page past them is not shown.
        ids = _ids_by_title(newest[:COUNT_LIMIT], offset)
    elif sort == Sort.RELEVANCE and offset < RANK_POOL:
        ids = _ids_by_rank(newest[:RANK_POOL], found.rank, offset)
    else:
        ids = newest[offset : offset + PAGE_SIZE]
    return CataloguePage(
        results=result_lines(ids, language),
        total=total,
        more=more,
        page=page,
        pages=pages,
        sort=sort,
        searched=searched,
    )


def _newest_first(table=Submission):
    return (table.published_at.desc(), table.id.desc())


def _newest_ids(conditions) -> list[int]:
    """The ids of the COUNT_LIMIT + 1 newest matches, newest first."""
    query = select(Submission.id).where(*conditions).order_by(*_newest_first())
    return list(_execute(query.limit(COUNT_LIMIT + 1)).scalars())


def _ids_by_title(ids: list[int], offset: int) -> list[int]:
    query = (
        select(Submission.id)
        .join(Revision, Revision.id == Submission.published_revision_id)
        .where(Submission.id.in_(ids))
        .order_by(Revision.title, Submission.id)
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    return list(_execute(query).scalars())


def _ids_by_rank(pool: list[int], rank, offset: int) -> list[int]:
    """The pool's items, best ranked first (rank: lower is better)."""
    if not pool:
        return []
    query = (
        select(Submission.id)
        .where(Submission.id.in_(pool))
        .order_by(rank, *_newest_first())
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    return list(_execute(query).scalars())


# Result lines ---------------------------------------------------------------------------------


@lru_cache
def _lines_query():
    return (
        select(
            Submission.id,
            Submission.kind,
            Submission.language,
            Submission.published_at,
            Submission.published_revision_id,
            Revision.title,
            func.substr(Revision.summary, 1, SUMMARY_LENGTH + 1).label("summary"),
            Authority.id.label("authority_id"),
            Authority.name.label("authority_name"),
            Authority.country_code,
        )
        .join(Revision, Revision.id == Submission.published_revision_id)
        .join(Authority, Authority.id == Submission.authority_id)
        .where(Submission.id.in_(bindparam("ids", expanding=True)))
    )


@lru_cache
def _themes_query(language: str):
    return (
        select(revision_theme.c.revision_id, Theme.id, _localized(Theme, "label", language))
        .join(Theme, Theme.id == revision_theme.c.theme_id)
        .where(revision_theme.c.revision_id.in_(bindparam("ids", expanding=True)))
        .order_by(Theme.position, Theme.id)
    )


def result_lines(ids: list[int], language: str | None = None) -> list[ResultLine]:
    """What the result lines of these items show, in the order of `ids`: only the columns
    shown, from the published revision; theme names in `language` (the reader's)."""
    if not ids:
        return []
    rows = _execute(_lines_query(), {"ids": ids}).all()
    themes: dict[int, list[Label]] = {}
    revision_ids = [row.published_revision_id for row in rows]
    for revision_id, theme_id, label in _execute(
        _themes_query(language or current_language()), {"ids": revision_ids}
    ):
        themes.setdefault(revision_id, []).append(Label(theme_id, label))
    lines = {
        row.id: ResultLine(
            id=row.id,
            kind=Kind(row.kind),
            title=row.title,
            summary=_shorten(row.summary),
            language=row.language,
            published_at=row.published_at,
            authority_id=row.authority_id,
            authority_name=row.authority_name,
            country_code=row.country_code,
            themes=themes.get(row.published_revision_id, []),
        )
        for row in rows
    }
    return [lines[i] for i in ids if i in lines]


def _shorten(summary: str) -> str:
    if len(summary) <= SUMMARY_LENGTH:
        return summary
    cut = summary[:SUMMARY_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


# What the filters offer -----------------------------------------------------------------------


@lru_cache
def _options_query(language: str):
    """Programmes with their objectives, theme groups with their themes, border areas and the
    countries of verified authorities, as rows of one statement."""
    no_id, no_text = literal(None, Integer), literal(None, String)

    def rows(kind, group_position, group_id, group_label, item_id, code, label, position):
        return select(
            literal(kind).label("kind"),
            group_position.label("group_position"),
            group_id.label("group_id"),
            group_label.label("group_label"),
            item_id.label("item_id"),
            code.label("code"),
            label.label("label"),
            position.label("position"),
        )

    every = union_all(
        rows(
            "objective",
            Programme.position,
            Programme.id,
            _localized(Programme, "name", language),
            Objective.id,
            Objective.code,
            _localized(Objective, "text", language),
            Objective.position,
        ).outerjoin(Objective, Objective.programme_id == Programme.id),
        rows(
            "theme",
            ThemeGroup.position,
            ThemeGroup.id,
            _localized(ThemeGroup, "label", language),
            Theme.id,
            Theme.code,
            _localized(Theme, "label", language),
            Theme.position,
        ).join(Theme, Theme.group_id == ThemeGroup.id),
        rows(
            "area",
            BorderArea.position,
            BorderArea.id,
            _localized(BorderArea, "name", language),
            no_id,
            no_text,
            no_text,
            literal(0),
        ),
        rows(
            "country",
            literal(0),
            literal(0),
            Authority.country_code,
            no_id,
            no_text,
            no_text,
            literal(0),
        )
        .where(Authority.status == AuthorityStatus.VERIFIED)
        .distinct(),
    ).subquery()
    return select(every).order_by(
        every.c.kind, every.c.group_position, every.c.group_id, every.c.position, every.c.item_id
    )


# Every page of the catalogue shows the filters; what they offer changes when an administrator
# edits the reference data or a new country's authority is verified. Each process keeps it for
# this long.
OPTIONS_MAX_AGE = 60.0
_options_cache: dict[tuple[str, str], tuple[float, FilterOptions]] = {}


def filter_options(language: str | None = None) -> FilterOptions:
    """The reference data the filters offer, in the reader's language: from this process's copy
    if it is younger than OPTIONS_MAX_AGE, else read in one round trip."""
    language = language or current_language()
    key = (str(db.engine.url), language)
    cached = _options_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < OPTIONS_MAX_AGE:
        return cached[1]
    options = _read_filter_options(language)
    _options_cache[key] = (time.monotonic(), options)
    return options


def forget_filter_options() -> None:
    """Drop this process's copy (tests, and after editing reference data in a script)."""
    _options_cache.clear()


def _read_filter_options(language: str) -> FilterOptions:
    options = FilterOptions()
    programmes: dict[int, Label] = {}
    groups: dict[int, tuple[str, list[Label]]] = {}
    for row in _execute(_options_query(language)):
        if row.kind == "objective":
            programmes.setdefault(row.group_id, Label(row.group_id, row.group_label))
            if row.item_id is not None:
                options.objectives.setdefault(row.group_id, []).append(
                    Label(row.item_id, row.label)
                )
                options.objective_codes[row.item_id] = row.code
        elif row.kind == "theme":
            groups.setdefault(row.group_id, (row.group_label, []))[1].append(
                Label(row.item_id, row.label)
            )
        elif row.kind == "area":
            options.border_areas.append(Label(row.group_id, row.group_label))
        else:
            code = row.group_label
            options.countries.append(Label(code, country_name(code, language)))
    options.countries.sort(key=lambda country: sort_key(country.label))
    options.programmes = list(programmes.values())
    options.theme_groups = list(groups.values())
    return options


# Related items --------------------------------------------------------------------------------


@lru_cache
def _related_query(dialect: str, theme_count: int):
    """Items sharing the most of `theme_count` themes (bound as theme_0, theme_1, …), among
    the RELATED_POOL newest public items of each."""
    listed = listed_condition(dialect)
    branches = [
        select(Submission.id.label("id"), Submission.published_at.label("published_at"))
        .join(
            revision_theme,
            and_(
                revision_theme.c.revision_id == Submission.published_revision_id,
                revision_theme.c.theme_id == bindparam(f"theme_{number}"),
            ),
        )
        .where(listed, Submission.id != bindparam("item_id"))
        .order_by(*_newest_first())
        .limit(RELATED_POOL)
        .subquery()  # SQLite takes no LIMIT inside the members of a UNION
        for number in range(theme_count)
    ]
    members = [select(branch.c) for branch in branches]
    candidates = (members[0].union_all(*members[1:]) if len(members) > 1 else members[0]).subquery()
    shared = func.count().label("shared")
    return (
        select(candidates.c.id)
        .group_by(candidates.c.id, candidates.c.published_at)
        .order_by(shared.desc(), candidates.c.published_at.desc(), candidates.c.id.desc())
        .limit(bindparam("limit"))
    )


def related_items(
    submission: Submission, limit: int = 4, language: str | None = None
) -> list[ResultLine]:
    """Other public items that share themes with this one's published revision (or, before it
    is published, its working revision): those sharing the most themes first, then the newest.

    Among the RELATED_POOL newest public items of each theme, so that a popular theme costs no
    more than a rare one."""
    revision = submission.published_revision or submission.working_revision
    if revision is None or not revision.themes or limit <= 0:
        return []
    theme_ids = [theme.id for theme in revision.themes[:RELATED_THEMES]]
    values = {f"theme_{number}": theme_id for number, theme_id in enumerate(theme_ids)}
    ids = _execute(
        _related_query(_dialect(), len(theme_ids)),
        {**values, "item_id": submission.id, "limit": limit},
    ).scalars()
    return result_lines(list(ids), language)
