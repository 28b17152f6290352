"""Live figures and latest items of the programmes, as the public sees them.

What counts for a programme:
- a participating authority is a verified authority that names the programme in its profile;
- a published practice or an open idea is public (in the catalogue: see
  `exchange.catalogue.services.listed_condition`) and its published revision names at least one
  of the programme's objectives, which is what the catalogue's programme filter finds too;
- a connection is a match whose two sides both accepted (connected, then or still), between two
  authorities that both take part in the programme.

All the figures of every programme come from one statement (grouped counts, whatever the number
of programmes), kept FIGURES_MAX_AGE seconds by each process: the pages are public and the
figures need not be exact to the second.
"""

import time
from dataclasses import dataclass, field

from sqlalchemy import String, and_, distinct, func, literal, select, union_all
from sqlalchemy.orm import aliased, selectinload

from exchange.authorities.models import Authority, AuthorityStatus, authority_programme
from exchange.catalogue.services import (
    Filters,
    ResultLine,
    filter_conditions,
    listed_condition,
    result_lines,
)
from exchange.extensions import db
from exchange.matching.models import Match
from exchange.reference.models import Objective, Programme
from exchange.submissions.models import Submission, revision_objective
from exchange.workflow import Kind

LATEST_ITEMS = 6
FIGURES_MAX_AGE = 60.0


@dataclass
class Figures:
    authorities: int = 0
    practices: int = 0
    ideas: int = 0
    connections: int = 0


@dataclass
class ProgrammeFigures:
    """The figures of every programme (by programme id) and the number of public items that
    name each objective (by objective id)."""

    programmes: dict[int, Figures] = field(default_factory=dict)
    objectives: dict[int, int] = field(default_factory=dict)

    def of(self, programme_id: int) -> Figures:
        return self.programmes.get(programme_id, Figures())


def all_programmes() -> list[Programme]:
    """The programmes in their order, each with its objectives (two queries, whatever their
    number)."""
    query = (
        select(Programme)
        .options(selectinload(Programme.objectives))
        .order_by(Programme.position, Programme.id)
    )
    return list(db.session.scalars(query))


def programme_by_code(code: str) -> Programme | None:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def _figures_query():
    """One statement, rows of (what, group id, kind, count)."""
    listed = listed_condition()

    def rows(what: str, group_id, kind, count):
        return select(
            literal(what, String).label("what"),
            group_id.label("group_id"),
            kind.label("kind"),
            count.label("count"),
        )

    no_kind = literal(None, String)
    published_objective = revision_objective.c.revision_id == Submission.published_revision_id
    items = (
        rows(
            "items",
            Objective.programme_id,
            Submission.kind,
            func.count(distinct(Submission.id)),
        )
        .select_from(Submission)
        .join(revision_objective, published_objective)
        .join(Objective, Objective.id == revision_objective.c.objective_id)
        .where(listed)
        .group_by(Objective.programme_id, Submission.kind)
    )
    objectives = (
        rows("objective", revision_objective.c.objective_id, no_kind, func.count())
        .select_from(Submission)
        .join(revision_objective, published_objective)
        .where(listed)
        .group_by(revision_objective.c.objective_id)
    )
    authorities = (
        rows("authorities", authority_programme.c.programme_id, no_kind, func.count())
        .select_from(authority_programme)
        .join(Authority, Authority.id == authority_programme.c.authority_id)
        .where(Authority.status == AuthorityStatus.VERIFIED)
        .group_by(authority_programme.c.programme_id)
    )
    side_a, side_b = aliased(authority_programme), aliased(authority_programme)
    connections = (
        rows("connections", side_a.c.programme_id, no_kind, func.count(distinct(Match.id)))
        .select_from(Match)
        .join(side_a, side_a.c.authority_id == Match.authority_a_id)
        .join(
            side_b,
            and_(
                side_b.c.authority_id == Match.authority_b_id,
                side_b.c.programme_id == side_a.c.programme_id,
            ),
        )
        .where(Match.connected_at.is_not(None))
        .group_by(side_a.c.programme_id)
    )
    return union_all(items, objectives, authorities, connections)


_figures_cache: dict[str, tuple[float, ProgrammeFigures]] = {}


def programme_figures() -> ProgrammeFigures:
    """The live figures of every programme: this process's copy if younger than
    FIGURES_MAX_AGE seconds, else read in one round trip."""
    key = str(db.engine.url)
    cached = _figures_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < FIGURES_MAX_AGE:
        return cached[1]
    figures = _read_figures()
    _figures_cache[key] = (time.monotonic(), figures)
    return figures


def forget_figures() -> None:
    """Drop this process's copy (tests)."""
    _figures_cache.clear()


def _read_figures() -> ProgrammeFigures:
    figures = ProgrammeFigures()
    for row in db.session.connection().execute(_figures_query()):
        if row.what == "objective":
            figures.objectives[row.group_id] = row.count
            continue
        of = figures.programmes.setdefault(row.group_id, Figures())
        if row.what == "items":
            if row.kind == Kind.PRACTICE:
                of.practices = row.count
            else:
                of.ideas = row.count
        elif row.what == "authorities":
            of.authorities = row.count
        else:
            of.connections = row.count
    return figures


def latest_items(programme: Programme, limit: int = LATEST_ITEMS) -> list[ResultLine]:
    """The newest public practices and ideas that name one of the programme's objectives, as
    the catalogue lists them (what the catalogue's programme filter finds, newest first)."""
    conditions = filter_conditions(Filters(programme_ids=(programme.id,)))
    query = (
        select(Submission.id)
        .where(listed_condition(), *conditions)
        .order_by(Submission.published_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    ids = list(db.session.connection().execute(query).scalars())
    return result_lines(ids)
