"""What the API reads. Reading only: nothing here changes a row.

What is public is decided where the catalogue decides it: a practice or an idea is public when
`exchange.catalogue.services.listed_condition` holds (in the search index — published, not
archived, closed or rejected — and, for an idea, still open); the catalogue's own filter
conditions and its full-text search are used as they are. An authority is public once verified,
as its page is (`Authority.can_view`). A member's token reads what the member may read in the
workspace: the items its authority owns or co-owns, and its matches.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import exists, false, or_, select
from sqlalchemy.orm import defer, joinedload, selectinload

from exchange.api.pagination import Order, Page, keyset_page
from exchange.authorities.models import (
    Authority,
    AuthorityStatus,
    authority_border_area,
    authority_programme,
    authority_theme,
)
from exchange.catalogue.services import (
    Filters,
    facet_groups,
    filter_conditions,
    listed_condition,
    owned_by,
)
from exchange.extensions import db
from exchange.matching.models import Match
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from exchange.submissions import search
from exchange.submissions.models import CoOwner, Revision, Submission
from exchange.workflow import Kind

ITEM_ORDER = {
    kind: Order(f"{kind}s", (Submission.published_at, Submission.id), descending=True)
    for kind in Kind
}
OWN_ITEM_ORDER = Order("own-items", (Submission.id,), descending=True)
AUTHORITY_ORDER = Order("authorities", (Authority.id,))
PROGRAMME_ORDER = Order("programmes", (Programme.position, Programme.id))
OBJECTIVE_ORDER = Order("objectives", (Objective.code, Objective.id))
THEME_ORDER = Order("themes", (Theme.position, Theme.id))
MATCH_ORDER = Order("matches", (Match.id,), descending=True)


class UnknownCodes(ValueError):
    """Codes of reference data that do not exist, by query parameter."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _ids_by_code(model, codes: Iterable[str], parameter: str, errors: dict) -> tuple[int, ...]:
    codes = list(dict.fromkeys(codes))
    if not codes:
        return ()
    found = dict(
        db.session.execute(select(model.code, model.id).where(model.code.in_(codes))).all()
    )
    unknown = [code for code in codes if code not in found]
    if unknown:
        errors[parameter] = [_("Unknown code: %(code)s", code=code) for code in unknown]
    return tuple(found[code] for code in codes if code in found)


@dataclass(frozen=True)
class Codes:
    """The reference data a list is filtered on, by code (as the API takes them)."""

    themes: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    border_areas: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def resolve(self) -> dict[str, tuple[int, ...]]:
        """Their ids; raises UnknownCodes naming each code that does not exist."""
        errors: dict[str, list[str]] = {}
        ids = {
            "theme": _ids_by_code(Theme, self.themes, "theme", errors),
            "programme": _ids_by_code(Programme, self.programmes, "programme", errors),
            "objective": _ids_by_code(Objective, self.objectives, "objective", errors),
            "border_area": _ids_by_code(BorderArea, self.border_areas, "border_area", errors),
            "group": _ids_by_code(ThemeGroup, self.groups, "group", errors),
        }
        if errors:
            raise UnknownCodes(errors)
        return ids


# Practices and ideas -----------------------------------------------------------------------------


def _item_options(kind: Kind, detail: bool):
    """What an item's schema reads, loaded in a few queries for a whole page: the published
    revision (for a list, only the fields a list shows) and the owner in the same query, then
    the revision's themes and objectives; for an idea, its co-owners and border area (and, on
    its page, the partners' themes). Practices have no co-owners."""
    published = joinedload(Submission.published_revision, innerjoin=True)
    options = [
        # The search index is large and never shown.
        defer(Submission.search_vector),
        joinedload(Submission.authority, innerjoin=True),
        published.selectinload(Revision.themes),
        published.selectinload(Revision.objectives).selectinload(Objective.programme),
    ]
    if not detail:
        options.append(published.load_only(*LIST_COLUMNS))
    if kind == Kind.IDEA:
        options.append(selectinload(Submission.co_owners).selectinload(CoOwner.authority))
        options.append(published.selectinload(Revision.border_area))
        if detail:
            options.append(published.selectinload(Revision.partner_themes))
    return options


# The columns of a revision that lists show (the long texts are left for the item's page).
LIST_COLUMNS = (
    Revision.id,
    Revision.submission_id,
    Revision.title,
    Revision.summary,
    Revision.language,
    Revision.border_area_id,
    Revision.open_until,
)


@dataclass(frozen=True)
class ItemQuery:
    """A list of public practices or ideas: the catalogue's filters, and an owner."""

    query: str = ""
    codes: Codes = field(default_factory=Codes)
    countries: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    authority_ids: tuple[int, ...] = ()


def public_items(kind: Kind, asked: ItemQuery, cursor: str | None, limit: int) -> Page:
    """Public practices or ideas matching the filters and the search words, newest first.

    The conditions are the catalogue's (`search_catalogue`), so that the API lists exactly what
    the catalogue finds."""
    ids = asked.codes.resolve()
    filters = Filters(
        query=asked.query,
        programme_ids=ids["programme"],
        objective_ids=ids["objective"],
        theme_ids=ids["theme"],
        countries=asked.countries,
        sides=asked.sides,
        border_area_ids=ids["border_area"],
        languages=asked.languages,
        kinds=(kind.value,),
    )
    conditions = [listed_condition()]
    facets_indexed = search.holds_facets()
    groups = facet_groups(filters) if facets_indexed else []
    if any(not group for group in groups):
        conditions.append(false())  # a programme without objectives
    found = search.search_condition(filters.query, groups)
    if found is not None:
        conditions.append(found.condition)
    conditions += filter_conditions(filters, facets_indexed=facets_indexed)
    if asked.authority_ids:
        conditions.append(owned_by(list(asked.authority_ids)))
    query = select(Submission).where(*conditions).options(*_item_options(kind, detail=False))
    return keyset_page(
        query,
        ITEM_ORDER[kind],
        lambda item: (item.published_at, item.id),
        cursor,
        limit,
        session=db.session,
    )


def public_item(kind: Kind, item_id: int) -> Submission | None:
    """A public practice or idea, or None if there is none (or not public)."""
    return db.session.scalar(
        select(Submission)
        .where(Submission.id == item_id, Submission.kind == kind, listed_condition())
        .options(*_item_options(kind, detail=True))
    )


# Authorities -------------------------------------------------------------------------------------


def _public_authority():
    return Authority.status == AuthorityStatus.VERIFIED


def _linked(table, column: str, ids) -> object:
    return exists(
        select(table.c.authority_id).where(
            table.c.authority_id == Authority.id, table.c[column].in_(ids)
        )
    )


def _authority_options():
    return (
        selectinload(Authority.themes),
        selectinload(Authority.programmes),
        selectinload(Authority.border_areas),
    )


@dataclass(frozen=True)
class AuthorityQuery:
    codes: Codes = field(default_factory=Codes)
    countries: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


def public_authorities(asked: AuthorityQuery, cursor: str | None, limit: int) -> Page:
    """Verified authorities matching the filters, in the order they registered."""
    ids = asked.codes.resolve()
    conditions = [_public_authority()]
    if asked.countries:
        conditions.append(Authority.country_code.in_(asked.countries))
    if asked.sides:
        conditions.append(Authority.side.in_(asked.sides))
    if asked.kinds:
        conditions.append(Authority.kind.in_(asked.kinds))
    if ids["theme"]:
        conditions.append(_linked(authority_theme, "theme_id", ids["theme"]))
    if ids["programme"]:
        conditions.append(_linked(authority_programme, "programme_id", ids["programme"]))
    if ids["border_area"]:
        conditions.append(_linked(authority_border_area, "border_area_id", ids["border_area"]))
    query = select(Authority).where(*conditions).options(*_authority_options())
    return keyset_page(query, AUTHORITY_ORDER, lambda a: (a.id,), cursor, limit, session=db.session)


def public_authority(authority_id: int) -> Authority | None:
    return db.session.scalar(
        select(Authority)
        .where(Authority.id == authority_id, _public_authority())
        .options(*_authority_options())
    )


# Reference data ----------------------------------------------------------------------------------


def programmes(cursor: str | None, limit: int) -> Page:
    query = select(Programme).options(selectinload(Programme.objectives))
    return keyset_page(
        query,
        PROGRAMME_ORDER,
        lambda p: (p.position, p.id),
        cursor,
        limit,
        session=db.session,
    )


def programme(programme_id: int) -> Programme | None:
    return db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.objectives))
    )


def objectives(codes: Codes, cursor: str | None, limit: int) -> Page:
    ids = codes.resolve()
    query = select(Objective).options(selectinload(Objective.programme))
    if ids["programme"]:
        query = query.where(Objective.programme_id.in_(ids["programme"]))
    return keyset_page(
        query, OBJECTIVE_ORDER, lambda o: (o.code, o.id), cursor, limit, session=db.session
    )


def objective(objective_id: int) -> Objective | None:
    return db.session.scalar(
        select(Objective)
        .where(Objective.id == objective_id)
        .options(selectinload(Objective.programme))
    )


def themes(codes: Codes, cursor: str | None, limit: int) -> Page:
    ids = codes.resolve()
    query = select(Theme).options(selectinload(Theme.group))
    if ids["group"]:
        query = query.where(Theme.group_id.in_(ids["group"]))
    return keyset_page(
        query, THEME_ORDER, lambda t: (t.position, t.id), cursor, limit, session=db.session
    )


def theme(theme_id: int) -> Theme | None:
    return db.session.scalar(
        select(Theme).where(Theme.id == theme_id).options(selectinload(Theme.group))
    )


# A member's own ----------------------------------------------------------------------------------


def _own_options():
    working = selectinload(Submission.working_revision)
    published = selectinload(Submission.published_revision)
    return (
        defer(Submission.search_vector),
        selectinload(Submission.authority),
        working.selectinload(Revision.themes),
        working.selectinload(Revision.objectives).selectinload(Objective.programme),
        working.selectinload(Revision.partner_themes),
        working.selectinload(Revision.border_area),
        published.selectinload(Revision.themes),
        published.selectinload(Revision.objectives).selectinload(Objective.programme),
        published.selectinload(Revision.partner_themes),
        published.selectinload(Revision.border_area),
        selectinload(Submission.co_owners).selectinload(CoOwner.authority),
        selectinload(Submission.reviews),
    )


def own_items(
    authority_id: int,
    kinds: tuple[str, ...],
    states: tuple[str, ...],
    cursor: str | None,
    limit: int,
) -> Page:
    """The practices and ideas the authority owns or co-owns, in every state, newest first."""
    conditions = [owned_by([authority_id])]
    if kinds:
        conditions.append(Submission.kind.in_(kinds))
    if states:
        conditions.append(Submission.state.in_(states))
    query = select(Submission).where(*conditions).options(*_own_options())
    return keyset_page(query, OWN_ITEM_ORDER, lambda s: (s.id,), cursor, limit, session=db.session)


def own_item(authority_id: int, item_id: int) -> Submission | None:
    """One item the authority owns or co-owns (an accepted co-ownership), or None."""
    return db.session.scalar(
        select(Submission)
        .where(Submission.id == item_id, owned_by([authority_id]))
        .options(*_own_options())
    )


def _match_options():
    return (selectinload(Match.authority_a), selectinload(Match.authority_b))


def _involving(authority_id: int):
    return or_(Match.authority_a_id == authority_id, Match.authority_b_id == authority_id)


def own_matches(
    authority_id: int, statuses: tuple[str, ...], cursor: str | None, limit: int
) -> Page:
    """The authority's matches, in every status, newest first."""
    conditions = [_involving(authority_id)]
    if statuses:
        conditions.append(Match.status.in_(statuses))
    query = select(Match).where(*conditions).options(*_match_options())
    return keyset_page(query, MATCH_ORDER, lambda m: (m.id,), cursor, limit, session=db.session)


def own_match(authority_id: int, match_id: int) -> Match | None:
    return db.session.scalar(
        select(Match)
        .where(Match.id == match_id, _involving(authority_id))
        .options(*_match_options())
    )


def public_submissions(ids: Iterable[int]) -> dict[int, Submission]:
    """Those of these items that are public, by id (what a match may say it is about)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.id.in_(ids), listed_condition())
        .options(defer(Submission.search_vector), selectinload(Submission.published_revision))
    )
    return {row.id: row for row in rows}
