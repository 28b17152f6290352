"""The full-text index of published practices and ideas.

PostgreSQL: a `tsvector` column on `submission` with a GIN index. SQLite (the embedded default):
an FTS5 table, `submission_fts`, whose rowid is the submission's id. Both hold the same terms,
made by `exchange.text` (stems in the item's language, accents and stop words removed), so search
behaves alike on both. Never a LIKE '%…%'.

On PostgreSQL the vector also holds the published revision's facets — its themes and programme
objectives — as terms that no word can produce ("theme=12"), so that a search filtered on a
theme is answered by the index alone: the rarer list leads, instead of testing every item that
holds a common word. On SQLite the catalogue filters with joins instead.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import selectinload

from exchange.extensions import db
from exchange.submissions.models import Revision, Submission
from exchange.text import LANGUAGES, document_text, query_terms
from exchange.workflow import State

FTS_TABLE = "submission_fts"
# SQLite's FTS5 table, for queries (the migration creates it).
fts = table(FTS_TABLE, column("rowid", Integer), column("title"), column("topics"), column("body"))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def holds_facets() -> bool:
    """Whether this database's index holds the facets (see `facet`)."""
    return _dialect() == "postgresql"


# What the index holds ---------------------------------------------------------------------------


def documents(
    language: str, title: str, body: Iterable[str], themes: Iterable, value_chain: str = ""
) -> tuple[str, str, str]:
    """The (title, topics, body) terms of a revision, by weight: what the index holds.

    `themes` are objects with `label_en`, `label_es` and `label_pt` (Theme rows)."""
    # Theme labels in every language: a Spanish practice about "gestión del agua" is found by
    # "water management" through its theme.
    topics = " ".join(
        document_text(getattr(theme, f"label_{lang}"), lang)
        for theme in themes
        for lang in LANGUAGES
    )
    if value_chain:
        topics += " " + document_text(value_chain, language)
    return (
        document_text(title, language),
        topics.strip(),
        document_text(" ".join(part for part in body if part), language),
    )


def facet(kind: str, value: int) -> str:
    """The index term of a facet: "theme=12". Query words are letters and digits only, so no
    search can match it by chance."""
    return f"{kind}={int(value)}"


def facets(theme_ids: Iterable[int], objective_ids: Iterable[int]) -> str:
    """The facet terms of a revision, as tsvector text."""
    terms = [facet("theme", i) for i in theme_ids] + [facet("objective", i) for i in objective_ids]
    return " ".join(f"'{term}'" for term in terms)


def vector_expression(title, topics, body, facet_terms) -> ColumnElement:
    """PostgreSQL: the weighted vector of the three documents (title A, topics B, body C) and
    the facets (no position, no weight), from SQL expressions or values."""
    simple = literal_column("'simple'")
    return (
        func.setweight(func.to_tsvector(simple, title), literal_column("'A'"))
        .op("||")(func.setweight(func.to_tsvector(simple, topics), literal_column("'B'")))
        .op("||")(func.setweight(func.to_tsvector(simple, body), literal_column("'C'")))
        .op("||")(cast(facet_terms, TSVECTOR))
    )


def index_submission(submission: Submission) -> None:
    """(Re)index the item's published revision; called when it is published."""
    revision = submission.published_revision
    title, topics, body = documents(
        revision.language,
        revision.title,
        (getattr(revision, name) or "" for name in revision.text_fields()[1:]),
        revision.themes,
        revision.value_chain or "",
    )
    if _dialect() == "postgresql":
        facet_terms = facets((t.id for t in revision.themes), (o.id for o in revision.objectives))
        db.session.execute(
            update(Submission)
            .where(Submission.id == submission.id)
            .values(search_vector=vector_expression(title, topics, body, facet_terms))
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            text("DELETE FROM submission_fts WHERE rowid = :id"), {"id": submission.id}
        )
        db.session.execute(
            text(
                "INSERT INTO submission_fts (rowid, title, topics, body) VALUES (:id, :t, :p, :b)"
            ),
            {"id": submission.id, "t": title, "p": topics, "b": body},
        )


def reindex_all(batch_size: int = 500) -> int:
    """Index every public item again, e.g. after a change to `exchange.text` or to what the
    index holds; flushes, the caller commits. Returns how many items were indexed."""
    public = (
        select(Submission.id)
        .where(
            Submission.published_revision_id.is_not(None),
            Submission.state.not_in((State.ARCHIVED, State.CLOSED, State.REJECTED)),
        )
        .order_by(Submission.id)
    )
    ids = list(db.session.scalars(public))
    for start in range(0, len(ids), batch_size):
        batch = db.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids[start : start + batch_size]))
            .options(
                selectinload(Submission.published_revision).selectinload(Revision.themes),
                selectinload(Submission.published_revision).selectinload(Revision.objectives),
            )
        )
        for submission in batch:
            index_submission(submission)
        db.session.flush()
    return len(ids)


def unindex_submission(submission: Submission) -> None:
    """Take the item out of search (archived, closed)."""
    if _dialect() == "postgresql":
        db.session.execute(
            text("UPDATE submission SET search_vector = NULL WHERE id = :id"), {"id": submission.id}
        )
    else:
        db.session.execute(
            text("DELETE FROM submission_fts WHERE rowid = :id"), {"id": submission.id}
        )


# Searching --------------------------------------------------------------------------------------


@dataclass
class Match:
    """A search, ready for SQL: `condition` selects the matching items; `rank` orders them
    (lower is better) by how well they match the words, or is None without words."""

    condition: ColumnElement[bool]
    rank: ColumnElement | None


def _quote(term: str) -> str:
    # Terms are made of word characters only (see exchange.text); quoting keeps them literal.
    return '"' + term.replace('"', "") + '"'


def search_condition(query: str, facet_groups: Sequence[Sequence[str]] = ()) -> Match | None:
    """The SQL for the words of a query — every word must match, in any of its language
    variants — and, where the index holds facets, for `facet_groups`: each group is a list of
    facet terms of which the item must hold one. None if there is nothing to look for."""
    terms = query_terms(query)
    if _dialect() == "postgresql":
        return _postgresql_match(terms, [group for group in facet_groups if group])
    if facet_groups:
        raise ValueError("this database's index holds no facets: filter with joins")
    return _sqlite_match(terms) if terms else None


def _postgresql_match(terms: list[set[str]], facet_groups: list[Sequence[str]]) -> Match | None:
    if not terms and not facet_groups:
        return None
    words = " & ".join(
        "(" + " | ".join(f"'{term}'" for term in sorted(variants)) + ")" for variants in terms
    )
    wanted = " & ".join(
        "(" + " | ".join(f"'{term}'" for term in group) + ")" for group in facet_groups
    )
    words_query = func.to_tsquery(literal_column("'simple'"), words) if words else None
    facets_query = cast(wanted, TSQUERY) if wanted else None
    if words_query is not None and facets_query is not None:
        whole = words_query.op("&&")(facets_query)
    else:
        whole = words_query if words_query is not None else facets_query
    # In a subquery, the query is unknown when the statement is planned, and the planner
    # always reads the GIN index. Seeing the words, it would trust its statistics of each one;
    # but they cannot tell that a Spanish word is rare among English items, nor that testing a
    # vector means reading it from the TOAST table, and it would test row after row in date
    # order: seconds instead of milliseconds.
    condition = Submission.search_vector.op("@@")(select(whole).scalar_subquery())
    rank = None
    if words_query is not None:
        rank = -func.ts_rank_cd(Submission.search_vector, select(words_query).scalar_subquery())
    return Match(condition=condition, rank=rank)


def _sqlite_match(terms: list[set[str]]) -> Match:
    expression = " AND ".join(
        "(" + " OR ".join(_quote(term) for term in sorted(variants)) + ")" for variants in terms
    )
    condition = Submission.id.in_(
        select(fts.c.rowid).where(
            text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=expression)
        )
    )
    # Title terms weigh most, then themes, then the body. FTS5 seeks the one row in each
    # term's list, so ranking a page of results does not run the whole query again.
    rank = (
        select(literal_column(f"bm25({FTS_TABLE}, 10.0, 4.0, 1.0)"))
        .select_from(fts)
        .where(
            text(f"{FTS_TABLE} MATCH :fts_rank_query").bindparams(fts_rank_query=expression),
            fts.c.rowid == Submission.id,
        )
        .scalar_subquery()
    )
    return Match(condition=condition, rank=rank)
