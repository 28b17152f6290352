"""Finding verified authorities, and what each has published.

Only verified authorities are listed, and only their public fields are read: never their
members, e-mail addresses, contact details, drafts or anything under review. Published items
are what the catalogue lists (`exchange.catalogue.services.listed_condition`), counted for the
owning authority and for the co-owners of an idea who accepted.

A search by name ignores case and accents ("sao paulo" finds "São Paulo") and every word must
be in the name. The names of the authorities that pass the other filters are read (two columns)
and matched and sorted here, so that "Ávila" sorts beside "Avila" on every database; the
directory holds thousands of authorities at most, and only the page shown is read in full:
four queries per page, whatever its size.
"""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, select, union

from exchange.authorities.models import (
    Authority,
    AuthorityKind,
    AuthorityStatus,
    authority_programme,
    authority_theme,
)
from exchange.catalogue.services import Label, ResultLine, listed_condition, result_lines
from exchange.extensions import db
from exchange.i18n import current_language
from exchange.reference.countries import Side, sort_key
from exchange.reference.models import Theme
from exchange.submissions.models import CoOwner, CoOwnerStatus, Submission
from exchange.text import fold
from exchange.workflow import Kind

PAGE_SIZE = 25
# How many of an authority's newest practices (and ideas) its page lists.
ITEMS_SHOWN = 20


@dataclass(frozen=True)
class DirectoryFilters:
    """Several values of one filter mean any of them; different filters must all hold."""

    query: str = ""
    countries: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    theme_ids: tuple[int, ...] = ()
    programme_ids: tuple[int, ...] = ()


@dataclass
class DirectoryEntry:
    id: int
    name: str
    kind: AuthorityKind
    country_code: str
    subdivision_code: str | None
    side: Side
    themes: list[Label] = field(default_factory=list)
    practices: int = 0
    ideas: int = 0

    @property
    def published(self) -> int:
        return self.practices + self.ideas


@dataclass
class DirectoryPage:
    entries: list[DirectoryEntry]
    total: int
    page: int
    pages: int
    page_size: int


def _conditions(filters: DirectoryFilters) -> list:
    conditions = [Authority.status == AuthorityStatus.VERIFIED]
    if filters.countries:
        conditions.append(Authority.country_code.in_(filters.countries))
    if filters.sides:
        conditions.append(Authority.side.in_(filters.sides))
    if filters.kinds:
        conditions.append(Authority.kind.in_(filters.kinds))
    if filters.theme_ids:
        conditions.append(
            exists().where(
                authority_theme.c.authority_id == Authority.id,
                authority_theme.c.theme_id.in_(filters.theme_ids),
            )
        )
    if filters.programme_ids:
        conditions.append(
            exists().where(
                authority_programme.c.authority_id == Authority.id,
                authority_programme.c.programme_id.in_(filters.programme_ids),
            )
        )
    return conditions


def name_matches(name: str, query: str) -> bool:
    """Every word of the query is in the name, ignoring case and accents."""
    folded = fold(name)
    return all(word in folded for word in fold(query).split())


def search_directory(
    filters: DirectoryFilters, page: int = 1, page_size: int = PAGE_SIZE
) -> DirectoryPage:
    """The verified authorities that pass the filters, by name, one page of them (a page
    past the last shows the last)."""
    connection = db.session.connection()
    names = connection.execute(
        select(Authority.id, Authority.name).where(*_conditions(filters))
    ).all()
    if filters.query.strip():
        names = [row for row in names if name_matches(row.name, filters.query)]
    names.sort(key=lambda row: (sort_key(row.name), row.id))
    total = len(names)
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    ids = [row.id for row in names[(page - 1) * page_size : page * page_size]]
    return DirectoryPage(
        entries=_entries(ids), total=total, page=page, pages=pages, page_size=page_size
    )


def verified_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Authority).where(*_conditions(DirectoryFilters()))
    )


def _entries(ids: list[int]) -> list[DirectoryEntry]:
    """What the directory shows of these authorities, in the order of `ids`."""
    if not ids:
        return []
    connection = db.session.connection()
    rows = connection.execute(
        select(
            Authority.id,
            Authority.name,
            Authority.kind,
            Authority.country_code,
            Authority.subdivision_code,
            Authority.side,
        ).where(Authority.id.in_(ids))
    ).all()
    entries = {
        row.id: DirectoryEntry(
            id=row.id,
            name=row.name,
            kind=AuthorityKind(row.kind),
            country_code=row.country_code,
            subdivision_code=row.subdivision_code,
            side=Side(row.side),
        )
        for row in rows
    }
    language = current_language()
    label = getattr(Theme, f"label_{language}", Theme.label_en)
    for authority_id, theme_id, theme_label, english in connection.execute(
        select(authority_theme.c.authority_id, Theme.id, label, Theme.label_en)
        .join(Theme, Theme.id == authority_theme.c.theme_id)
        .where(authority_theme.c.authority_id.in_(ids))
        .order_by(Theme.position, Theme.id)
    ):
        entries[authority_id].themes.append(Label(theme_id, theme_label or english))
    for authority_id, kind, count in published_counts(ids):
        if kind == Kind.PRACTICE:
            entries[authority_id].practices = count
        else:
            entries[authority_id].ideas = count
    return [entries[i] for i in ids if i in entries]


def _public_items_of(authority_ids):
    """(authority id, submission id, kind) of the public items these authorities own or
    co-own (an idea whose invitation they accepted)."""
    listed = listed_condition()
    owned = select(
        Submission.authority_id.label("authority_id"),
        Submission.id.label("submission_id"),
        Submission.kind.label("kind"),
    ).where(listed, Submission.authority_id.in_(authority_ids))
    co_owned = (
        select(CoOwner.authority_id, CoOwner.submission_id, Submission.kind)
        .join(Submission, Submission.id == CoOwner.submission_id)
        .where(
            listed,
            CoOwner.status == CoOwnerStatus.ACCEPTED,
            CoOwner.authority_id.in_(authority_ids),
        )
    )
    return union(owned, co_owned).subquery()


def published_counts(authority_ids: list[int]) -> list[tuple[int, str, int]]:
    """(authority id, kind, number of public items) for these authorities."""
    items = _public_items_of(authority_ids)
    return [
        (row.authority_id, row.kind, row.count)
        for row in db.session.connection().execute(
            select(items.c.authority_id, items.c.kind, func.count().label("count")).group_by(
                items.c.authority_id, items.c.kind
            )
        )
    ]


@dataclass
class PublicItems:
    """An authority's public practices and ideas (the ITEMS_SHOWN newest of each) and how
    many there are."""

    practices: list[ResultLine]
    ideas: list[ResultLine]
    practice_count: int
    idea_count: int


def public_items(authority: Authority) -> PublicItems:
    """What the authority has published that the public may see, newest first: nothing at all
    while it is not verified."""
    if authority.status != AuthorityStatus.VERIFIED:
        return PublicItems([], [], 0, 0)
    items = _public_items_of([authority.id])
    ranked = (
        select(
            items.c.submission_id,
            items.c.kind,
            func.row_number()
            .over(
                partition_by=items.c.kind,
                order_by=(Submission.published_at.desc(), Submission.id.desc()),
            )
            .label("position"),
            func.count().over(partition_by=items.c.kind).label("total"),
        )
        .join(Submission, Submission.id == items.c.submission_id)
        .subquery()
    )
    rows = (
        db.session.connection()
        .execute(
            select(ranked.c.submission_id, ranked.c.kind, ranked.c.total)
            .where(ranked.c.position <= bindparam("shown", ITEMS_SHOWN))
            .order_by(ranked.c.kind, ranked.c.position)
        )
        .all()
    )
    ids = {kind: [row.submission_id for row in rows if Kind(row.kind) == kind] for kind in Kind}
    totals = {Kind(row.kind): row.total for row in rows}
    lines = {line.id: line for line in result_lines([row.submission_id for row in rows])}
    return PublicItems(
        practices=[lines[i] for i in ids[Kind.PRACTICE] if i in lines],
        ideas=[lines[i] for i in ids[Kind.IDEA] if i in lines],
        practice_count=totals.get(Kind.PRACTICE, 0),
        idea_count=totals.get(Kind.IDEA, 0),
    )
