"""Matching: the engine's plain data read from the rows, its proposals stored, and the brokerage
of matches (approve or dismiss a proposal, match by hand, answer, remind and expire, report the
stages reached after the introduction, close).

Each brokerage service takes the acting person, checks the model's predicate, changes the rows,
writes the activity log, queues the notifications and flushes; the caller (a request, a task, a
command) commits once. Nothing here reads the request's user.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from exchange.activity.models import ActivityEntry
from exchange.activity.services import record_activity
from exchange.auth.models import User
from exchange.authorities.models import (
    Authority,
    AuthorityStatus,
    authority_border_area,
    authority_programme,
    authority_theme,
)
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.matching import engine
from exchange.matching.models import (
    OPEN_STATUSES,
    STAGE_ORDER,
    Answer,
    Match,
    MatchingRun,
    MatchStatus,
    PendingRecompute,
    Proposal,
    ProposalStatus,
    Stage,
    StageReport,
)
from exchange.matching.pairing import b_matching
from exchange.matching.types import Document, Profile, Suggestion, ThemeVocabulary, WantedPartner
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from exchange.submissions.models import (
    CoOwner,
    CoOwnerStatus,
    Revision,
    Submission,
    revision_objective,
    revision_partner_theme,
    revision_theme,
)
from exchange.workflow import Kind, State

DOCUMENT_LANGUAGES = ("en", "es", "pt")
# Items in these states are no longer public: they say nothing about the authority any more.
NOT_PUBLIC = (State.ARCHIVED, State.CLOSED, State.REJECTED)


def _setting(name: str):
    return current_app.config[name]


def _days(name: str) -> timedelta:
    return timedelta(days=_setting(name))


def _pair(first_id: int, second_id: int) -> tuple[int, int]:
    """A pair in the order the tables keep it (a < b)."""
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def _is_coordinator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_coordinator)


# Loading the engine's data ---------------------------------------------------------------------
#
# A handful of column queries, whatever the number of authorities: no ORM objects per row and no
# query per authority, so that a full run over tens of thousands of authorities loads quickly.


def _document_language(language: str | None, working_languages: list) -> str:
    if language in DOCUMENT_LANGUAGES:
        return language
    for code in working_languages or ():
        if code in DOCUMENT_LANGUAGES:
            return code
    return "en"


def open_match_counts(authority_ids=None) -> dict[int, int]:
    """How many open matches (waiting or connected) each authority is in."""
    sides = [
        select(column.label("authority_id")).where(Match.status.in_(OPEN_STATUSES))
        for column in (Match.authority_a_id, Match.authority_b_id)
    ]
    if authority_ids is not None:
        ids = list(authority_ids)
        sides = [
            side.where(column.in_(ids))
            for side, column in zip(
                sides, (Match.authority_a_id, Match.authority_b_id), strict=True
            )
        ]
    both = union_all(*sides).subquery()
    rows = db.session.execute(
        select(both.c.authority_id, func.count()).group_by(both.c.authority_id)
    )
    return dict(rows.all())


def capacities() -> dict[int, int]:
    """How many more open matches each verified authority can take."""
    open_matches = open_match_counts()
    return {
        authority_id: max(0, capacity - open_matches.get(authority_id, 0))
        for authority_id, capacity in db.session.execute(
            select(Authority.id, Authority.match_capacity).where(
                Authority.status == AuthorityStatus.VERIFIED
            )
        )
    }


def _codes_by_authority(table, column, model, verified) -> dict[int, set[str]]:
    rows = db.session.execute(
        select(table.c.authority_id, model.code)
        .join(model, model.id == column)
        .where(table.c.authority_id.in_(verified))
    )
    codes: dict[int, set[str]] = defaultdict(set)
    for authority_id, code in rows:
        codes[authority_id].add(code)
    return codes


def _codes_by_revision(table, column, model, revisions) -> dict[int, set[str]]:
    rows = db.session.execute(
        select(table.c.revision_id, model.code)
        .join(model, model.id == column)
        .where(table.c.revision_id.in_(revisions))
    )
    codes: dict[int, set[str]] = defaultdict(set)
    for revision_id, code in rows:
        codes[revision_id].add(code)
    return codes


_PRACTICE_TEXT = [getattr(Revision, name) for name in Revision.PRACTICE_FIELDS]
_IDEA_TEXT = [getattr(Revision, name) for name in Revision.IDEA_FIELDS if name != "title"]


def profiles(today: date | None = None, authority_ids=None) -> list[Profile]:
    """Every verified authority (or those of `authority_ids`) as the engine sees it, by id.

    Themes, objectives and border areas are the profile's and those of the published revisions
    of its public practices and ideas (co-owned ideas included); documents are the profile's
    description and those revisions' texts, each with its language; the wanted partners are
    those of its open ideas; capacity is what is left of `match_capacity` after its open
    matches.
    """
    today = today or date.today()
    chosen = [Authority.status == AuthorityStatus.VERIFIED]
    if authority_ids is not None:
        chosen.append(Authority.id.in_(list(authority_ids)))
    verified = select(Authority.id).where(*chosen)
    authorities = db.session.execute(
        select(
            Authority.id,
            Authority.side,
            Authority.kind,
            Authority.country_code,
            Authority.languages,
            Authority.description,
            Authority.description_language,
            Authority.match_capacity,
        )
        .where(*chosen)
        .order_by(Authority.id)
    ).all()
    themes = _codes_by_authority(authority_theme, authority_theme.c.theme_id, Theme, verified)
    programmes = _codes_by_authority(
        authority_programme, authority_programme.c.programme_id, Programme, verified
    )
    areas = _codes_by_authority(
        authority_border_area, authority_border_area.c.border_area_id, BorderArea, verified
    )
    open_matches = open_match_counts(None if authority_ids is None else list(authority_ids))

    # The public items of verified authorities, with the authorities that own them.
    public = and_(
        Submission.published_revision_id.is_not(None),
        Submission.state.not_in(NOT_PUBLIC),
    )
    if authority_ids is not None:
        co_owned = select(CoOwner.submission_id).where(
            CoOwner.authority_id.in_(verified), CoOwner.status == CoOwnerStatus.ACCEPTED
        )
        public = and_(
            public,
            or_(Submission.authority_id.in_(verified), Submission.id.in_(co_owned)),
        )
    owners: dict[int, set[int]] = defaultdict(set)
    for submission_id, authority_id in db.session.execute(
        select(Submission.id, Submission.authority_id).where(public)
    ):
        owners[submission_id].add(authority_id)
    for submission_id, authority_id in db.session.execute(
        select(CoOwner.submission_id, CoOwner.authority_id)
        .join(Submission, Submission.id == CoOwner.submission_id)
        .where(public, CoOwner.status == CoOwnerStatus.ACCEPTED)
    ):
        owners[submission_id].add(authority_id)
    published = select(Submission.published_revision_id).where(public)
    items = db.session.execute(
        select(
            Submission.id,
            Submission.kind,
            Submission.open_until,
            Revision.id,
            Revision.language,
            Revision.partner_kinds,
            Revision.partner_sides,
            BorderArea.code,
            *_PRACTICE_TEXT,
            *_IDEA_TEXT,
        )
        .join(Revision, Revision.id == Submission.published_revision_id)
        .outerjoin(BorderArea, BorderArea.id == Revision.border_area_id)
        .where(public)
        .order_by(Submission.id)
    ).all()
    item_themes = _codes_by_revision(revision_theme, revision_theme.c.theme_id, Theme, published)
    wanted_themes = _codes_by_revision(
        revision_partner_theme, revision_partner_theme.c.theme_id, Theme, published
    )
    objectives: dict[int, set[str]] = defaultdict(set)
    objective_programmes: dict[int, set[str]] = defaultdict(set)
    for revision_id, objective, programme in db.session.execute(
        select(revision_objective.c.revision_id, Objective.code, Programme.code)
        .join(Objective, Objective.id == revision_objective.c.objective_id)
        .join(Programme, Programme.id == Objective.programme_id)
        .where(revision_objective.c.revision_id.in_(published))
    ):
        objectives[revision_id].add(objective)
        objective_programmes[revision_id].add(programme)

    found = defaultdict(
        lambda: {
            "themes": set(),
            "objectives": set(),
            "programmes": set(),
            "areas": set(),
            "documents": [],
            "wanted": [],
        }
    )
    practice_width = len(_PRACTICE_TEXT)
    for row in items:
        submission_id, kind, open_until, revision_id, language, kinds, sides, area = row[:8]
        texts = row[8 : 8 + practice_width] if kind == Kind.PRACTICE else row[8 + practice_width :]
        if kind == Kind.IDEA:
            texts = (row[8], *texts)  # the idea's title, then its own fields
        text = "\n\n".join(t for t in texts if t and t.strip())
        is_open = kind == Kind.IDEA and (open_until is None or open_until >= today)
        wanted = WantedPartner(
            kinds=frozenset(kinds or ()),
            sides=frozenset(sides or ()),
            themes=frozenset(wanted_themes.get(revision_id, ())),
        )
        for authority_id in owners[submission_id]:
            bucket = found[authority_id]
            bucket["themes"] |= item_themes.get(revision_id, set())
            bucket["objectives"] |= objectives.get(revision_id, set())
            bucket["programmes"] |= objective_programmes.get(revision_id, set())
            if area:
                bucket["areas"].add(area)
            if text:
                bucket["documents"].append(Document(text=text, language=language))
            if is_open and (wanted.kinds or wanted.sides or wanted.themes):
                bucket["wanted"].append(wanted)

    result = []
    for (
        authority_id,
        side,
        kind,
        country,
        languages,
        description,
        description_language,
        capacity,
    ) in authorities:
        bucket = found.get(authority_id) or found.default_factory()
        documents = []
        if description and description.strip():
            documents.append(
                Document(
                    text=description.strip(),
                    language=_document_language(description_language, languages),
                )
            )
        documents.extend(bucket["documents"])
        result.append(
            Profile(
                id=authority_id,
                side=str(side),
                kind=str(kind),
                country=country,
                languages=frozenset(languages or ()),
                themes=frozenset(themes.get(authority_id, set()) | bucket["themes"]),
                objectives=frozenset(bucket["objectives"]),
                programmes=frozenset(programmes.get(authority_id, set()) | bucket["programmes"]),
                border_areas=frozenset(areas.get(authority_id, set()) | bucket["areas"]),
                documents=tuple(documents),
                wanted=tuple(bucket["wanted"]),
                capacity=max(0, capacity - open_matches.get(authority_id, 0)),
            )
        )
    return result


def vocabulary() -> ThemeVocabulary:
    """The themes' keywords per language and their groups, from the reference data."""
    keywords, groups = {}, {}
    for code, words, group in db.session.execute(
        select(Theme.code, Theme.keywords, ThemeGroup.code)
        .join(ThemeGroup, ThemeGroup.id == Theme.group_id)
        .order_by(Theme.code)
    ):
        keywords[code] = {
            language: tuple(values) for language, values in sorted((words or {}).items())
        }
        groups[code] = group
    return ThemeVocabulary(keywords=keywords, groups=groups)


def excluded_pairs() -> frozenset[tuple[int, int]]:
    """Pairs (a < b) never proposed again: any match between them, whatever became of it, and
    any proposal a coordinator dismissed."""
    matched = select(Match.authority_a_id, Match.authority_b_id)
    dismissed = select(Proposal.authority_a_id, Proposal.authority_b_id).where(
        Proposal.status == ProposalStatus.DISMISSED
    )
    return frozenset(tuple(row) for row in db.session.execute(union_all(matched, dismissed)))


def is_excluded(first_id: int, second_id: int) -> bool:
    a, b = _pair(first_id, second_id)
    matched = select(Match.id).where(Match.authority_a_id == a, Match.authority_b_id == b)
    dismissed = select(Proposal.id).where(
        Proposal.authority_a_id == a,
        Proposal.authority_b_id == b,
        Proposal.status == ProposalStatus.DISMISSED,
    )
    return db.session.scalar(select(matched.exists() | dismissed.exists()))


# Computing and storing proposals ---------------------------------------------------------------
#
# How a run is split so that any number of workers can share it, and still be right:
#
# - Every score depends on the whole population (how rare a theme or a word is), so each chunk
#   loads every verified authority and asks the engine to rank only its own share of them
#   (`engine.rank(..., for_ids=chunk)`): the population is the same for every chunk, the work
#   is split. An authority's ranking does not depend on which chunk it is in, so the result
#   does not depend on how many chunks there are.
# - Each chunk keeps, for each of its authorities, its best `capacity + PAIRING_DEPTH_EXTRA`
#   counterparts that have room left: the candidates. A pair is a candidate if either side
#   picked the other (as in the engine's own `propose`).
# - Choosing the proposals is global (each authority in at most `capacity` of them, the total
#   score as high as possible) and cheap: one b-matching (the engine's HiGHS solver) over all
#   the candidates, once every chunk is done.
#
# In one process (the CLI, the debounced recomputation) the candidates stay in memory. Shared
# between workers they are written as PROPOSED rows; the last chunk to finish chooses among them
# and deletes the rest, so for the length of a nightly run the proposal list holds extra rows.


@dataclass(frozen=True)
class MatchingData:
    """What the engine needs, loaded once per run (or per chunk)."""

    profiles: list[Profile]
    vocabulary: ThemeVocabulary
    excluded: frozenset[tuple[int, int]]

    @property
    def capacity(self) -> dict[int, int]:
        return {p.id: p.capacity for p in self.profiles}


def load_data() -> MatchingData:
    return MatchingData(profiles(), vocabulary(), excluded_pairs())


def _weights() -> dict[str, float]:
    return engine.resolve_weights(_setting("MATCHING_WEIGHTS"))


def _depth(data: MatchingData) -> int:
    """How many counterparts to rank per authority: enough to keep its best
    `capacity + PAIRING_DEPTH_EXTRA` after dropping those without room."""
    most = max((p.capacity for p in data.profiles), default=0)
    return max(_setting("MATCHING_TOP_K"), 2 * (most + engine.PAIRING_DEPTH_EXTRA))


def chunk_count(authorities: int | None = None) -> int:
    if authorities is None:
        authorities = db.session.scalar(
            select(func.count())
            .select_from(Authority)
            .where(Authority.status == AuthorityStatus.VERIFIED)
        )
    size = max(1, int(_setting("MATCHING_CHUNK_SIZE")))
    return max(1, -(-authorities // size))


def chunk_ids(data: MatchingData, chunks: int, index: int) -> list[int]:
    """The authorities of chunk `index` of `chunks`: by id, so that an authority verified during
    a run falls in one chunk, and every chunk finds the same share."""
    return [p.id for p in data.profiles if p.id % chunks == index]


@dataclass(frozen=True)
class Candidate:
    """A scored pair, seen from its first authority (authority_a_id < authority_b_id)."""

    authority_a_id: int
    authority_b_id: int
    score: float
    score_ab: float  # how well b suits a
    score_ba: float
    reasons: tuple[dict, ...]


def reasons_as_rows(reasons, *, flip: bool = False) -> list[dict]:
    """Reasons as stored (JSON), seen from the pair's first authority: `flip` turns those of a
    suggestion made for the second one around (whose idea wants what, which kind is whose)."""
    rows = []
    for reason in reasons:
        details = list(reason.details)
        if flip and reason.signal == "wanted_partner":
            swap = {"authority_wants": "counterpart_wants", "counterpart_wants": "authority_wants"}
            details = [swap.get(d, d) for d in details]
        if flip and reason.signal == "kind":
            details.reverse()
        rows.append(
            {
                "signal": reason.signal,
                "score": reason.score,
                "weight": reason.weight,
                "details": details,
            }
        )
    return rows


def candidate_of(suggestion: Suggestion) -> Candidate:
    flip = suggestion.authority_id > suggestion.counterpart_id
    a, b = _pair(suggestion.authority_id, suggestion.counterpart_id)
    return Candidate(
        authority_a_id=a,
        authority_b_id=b,
        score=min(max(suggestion.score, 0.0), 1.0),
        score_ab=suggestion.score_back if flip else suggestion.score_for,
        score_ba=suggestion.score_for if flip else suggestion.score_back,
        reasons=tuple(reasons_as_rows(suggestion.reasons, flip=flip)),
    )


def score_authorities(
    data: MatchingData, ids: list[int], weights: dict[str, float]
) -> dict[tuple[int, int], Candidate]:
    """The candidates that the authorities `ids` bring: each one's best counterparts that both
    have room for another match, as many as its capacity plus PAIRING_DEPTH_EXTRA."""
    if not ids:
        return {}
    capacity = data.capacity
    ranking = engine.rank(
        data.profiles,
        data.vocabulary,
        top_k=_depth(data),
        excluded=data.excluded,
        weights=weights,
        for_ids=ids,
    )
    found: dict[tuple[int, int], Candidate] = {}
    for authority_id in sorted(ranking):
        room = capacity.get(authority_id, 0)
        if room <= 0:
            continue
        usable = [s for s in ranking[authority_id] if capacity.get(s.counterpart_id, 0) > 0]
        for suggestion in usable[: room + engine.PAIRING_DEPTH_EXTRA]:
            candidate = candidate_of(suggestion)
            found[(candidate.authority_a_id, candidate.authority_b_id)] = candidate
    return found


def choose(candidates, capacity: dict[int, int]) -> list[Candidate]:
    """The proposals: each authority in at most its capacity of them, the total score as high
    as possible (a maximum-weight b-matching, solved by HiGHS); best first."""
    candidates = sorted(candidates, key=lambda c: (c.authority_a_id, c.authority_b_id))
    candidates = [
        c
        for c in candidates
        if capacity.get(c.authority_a_id, 0) > 0 and capacity.get(c.authority_b_id, 0) > 0
    ]
    if not candidates:
        return []
    nodes = sorted({c.authority_a_id for c in candidates} | {c.authority_b_id for c in candidates})
    index = {authority_id: i for i, authority_id in enumerate(nodes)}
    chosen = b_matching(
        np.array([index[c.authority_a_id] for c in candidates]),
        np.array([index[c.authority_b_id] for c in candidates]),
        np.array([c.score for c in candidates]),
        np.array([capacity[authority_id] for authority_id in nodes]),
    )
    picked = [c for c, keep in zip(candidates, chosen.tolist(), strict=True) if keep]
    return sorted(picked, key=lambda c: (-c.score, c.authority_a_id, c.authority_b_id))


def _upsert_proposals(candidates, run: MatchingRun, now: datetime) -> None:
    """Write the candidates as PROPOSED rows: new pairs are inserted, PROPOSED rows of the same
    pair refreshed; an approved or dismissed pair is never touched."""
    candidates = list(candidates)
    if not candidates:
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    for start in range(0, len(candidates), 500):
        rows = [
            {
                "authority_a_id": c.authority_a_id,
                "authority_b_id": c.authority_b_id,
                "status": ProposalStatus.PROPOSED,
                "score": c.score,
                "score_ab": c.score_ab,
                "score_ba": c.score_ba,
                "reasons": list(c.reasons),
                "engine_version": run.engine_version,
                "weights": run.weights,
                "same_side": False,
                "computed_at": now,
            }
            for c in candidates[start : start + 500]
        ]
        statement = insert(Proposal).values(rows)
        fresh = statement.excluded
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Proposal.authority_a_id, Proposal.authority_b_id],
                set_={
                    "score": fresh.score,
                    "score_ab": fresh.score_ab,
                    "score_ba": fresh.score_ba,
                    "reasons": fresh.reasons,
                    "engine_version": fresh.engine_version,
                    "weights": fresh.weights,
                    "computed_at": fresh.computed_at,
                },
                where=Proposal.status == ProposalStatus.PROPOSED,
            )
        )


def store_proposals(chosen: list[Candidate], run: MatchingRun) -> int:
    """Make the PROPOSED rows exactly `chosen`: insert or refresh those, delete the others.
    Approved and dismissed proposals stay as they are."""
    now = utcnow()
    _upsert_proposals(chosen, run, now)
    keep = {(c.authority_a_id, c.authority_b_id) for c in chosen}
    stale = [
        proposal_id
        for proposal_id, a, b in db.session.execute(
            select(Proposal.id, Proposal.authority_a_id, Proposal.authority_b_id).where(
                Proposal.status == ProposalStatus.PROPOSED
            )
        )
        if (a, b) not in keep
    ]
    for start in range(0, len(stale), 500):
        db.session.execute(
            delete(Proposal)
            .where(
                Proposal.id.in_(stale[start : start + 500]),
                Proposal.status == ProposalStatus.PROPOSED,
            )
            .execution_options(synchronize_session=False)
        )
    run.proposals = len(chosen)
    run.finished_at = utcnow()
    db.session.flush()
    return len(chosen)


def start_run(
    actor: User | None = None, scope: str = "full", chunks: int | None = None
) -> MatchingRun:
    """A run, recorded with the engine's version and weights, split in chunks."""
    run = MatchingRun(
        engine_version=engine.ENGINE_VERSION,
        weights=_weights(),
        scope=scope,
        started_at=utcnow(),
        chunks_total=chunks or chunk_count(),
        chunks_done=0,
        started_by_id=actor.id if actor is not None else None,
    )
    db.session.add(run)
    db.session.flush()
    return run


def compute_run(run: MatchingRun, progress=None) -> int:
    """Compute a run in this process, chunk after chunk, candidates in memory; then choose and
    store the proposals. `progress(1)` is called after each chunk. Returns the proposals."""
    data = load_data()
    candidates: dict[tuple[int, int], Candidate] = {}
    for index in range(run.chunks_total):
        ids = chunk_ids(data, run.chunks_total, index)
        # A pair found from both sides is the same candidate either way (reasons are stored as
        # seen from its first authority).
        candidates.update(score_authorities(data, ids, run.weights))
        run.chunks_done = index + 1
        if progress is not None:
            progress(1)
    return store_proposals(choose(candidates.values(), data.capacity), run)


def run_matching(actor: User | None = None, authority_ids=None, progress=None) -> MatchingRun:
    """Compute the proposals and store them: PROPOSED rows are upserted for the chosen pairs
    (score, reasons, engine version, weights, time refreshed), those no longer chosen deleted;
    approved and dismissed ones never touched. Recorded as a MatchingRun.

    `authority_ids` names the authorities whose change asked for it (the run's scope). The run
    is global all the same: a change to one authority moves the rarity of its themes and words,
    which every score depends on, and capacities make the choice of pairs global."""
    run = start_run(actor, scope="full" if authority_ids is None else "authority")
    compute_run(run, progress=progress)
    return run


# Shared between workers: each chunk writes its candidates; the last one chooses.


def score_chunk(run: MatchingRun, index: int) -> bool:
    """Score chunk `index` of a run and write its candidates (as PROPOSED rows); count it done.
    Returns True when every chunk is done (the caller then commits and calls `finish_run`)."""
    data = load_data()
    ids = chunk_ids(data, run.chunks_total, index)
    _upsert_proposals(score_authorities(data, ids, run.weights).values(), run, utcnow())
    done = db.session.execute(
        update(MatchingRun)
        .where(MatchingRun.id == run.id)
        .values(chunks_done=MatchingRun.chunks_done + 1)
        .returning(MatchingRun.chunks_done)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return done >= run.chunks_total


def finish_run(run: MatchingRun) -> int:
    """Choose among the candidates the chunks wrote (PROPOSED rows computed since the run
    started) and delete the rest. Safe to repeat: it chooses again among what is there."""
    capacity = capacities()
    candidates = [
        Candidate(
            authority_a_id=proposal.authority_a_id,
            authority_b_id=proposal.authority_b_id,
            score=proposal.score,
            score_ab=proposal.score_ab,
            score_ba=proposal.score_ba,
            reasons=tuple(proposal.reasons),
        )
        for proposal in db.session.scalars(
            select(Proposal).where(
                Proposal.status == ProposalStatus.PROPOSED,
                Proposal.computed_at >= run.started_at,
            )
        )
    ]
    excluded = excluded_pairs()
    candidates = [c for c in candidates if (c.authority_a_id, c.authority_b_id) not in excluded]
    return store_proposals(choose(candidates, capacity), run)


def run_in_progress(now: datetime | None = None) -> MatchingRun | None:
    """A run started less than MATCHING_RUN_TIMEOUT_SECONDS ago and not finished."""
    now = now or utcnow()
    since = now - timedelta(seconds=_setting("MATCHING_RUN_TIMEOUT_SECONDS"))
    return db.session.scalar(
        select(MatchingRun)
        .where(MatchingRun.finished_at.is_(None), MatchingRun.started_at >= since)
        .order_by(MatchingRun.id.desc())
        .limit(1)
    )


def suggest(authority: Authority, top: int = 10) -> list[Suggestion]:
    """One authority's best counterparts, best first, with scores and reasons (whatever their
    remaining capacity); empty for an authority that is not verified."""
    if not authority.is_verified:
        return []
    data = load_data()
    ranking = engine.rank(
        data.profiles,
        data.vocabulary,
        top_k=top,
        excluded=data.excluded,
        weights=_weights(),
        for_ids=[authority.id],
    )
    return ranking.get(authority.id, [])


def explain(first: Authority, second: Authority) -> Candidate | None:
    """The score and reasons of a pair put together by hand (rarity measured on the two only:
    an indication, not a ranking)."""
    found = {p.id: p for p in profiles(authority_ids=[first.id, second.id])}
    if first.id not in found or second.id not in found:
        return None
    suggestion = engine.explain_pair(
        found[first.id], found[second.id], vocabulary(), weights=_weights()
    )
    return candidate_of(suggestion)


# Recomputing after changes (debounced) ---------------------------------------------------------


def note_change(authority_id: int | None) -> None:
    """Say that the authority's profile, practices or ideas changed: its proposals are
    recomputed once the changes have settled (MATCHING_DEBOUNCE_SECONDS after the last one)."""
    if authority_id is None:
        return
    now = utcnow()
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    statement = insert(PendingRecompute).values(authority_id=authority_id, changed_at=now)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[PendingRecompute.authority_id], set_={"changed_at": now}
        )
    )


def settled_changes(now: datetime | None = None) -> tuple[list[int], datetime]:
    """The authorities whose last change is at least MATCHING_DEBOUNCE_SECONDS old, and the
    cut-off used (rows changed after it are left for a later round)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=_setting("MATCHING_DEBOUNCE_SECONDS"))
    ids = db.session.scalars(
        select(PendingRecompute.authority_id)
        .where(PendingRecompute.changed_at <= cutoff)
        .order_by(PendingRecompute.authority_id)
    ).all()
    return list(ids), cutoff


def forget_changes(authority_ids: list[int], cutoff: datetime) -> int:
    """Delete the rows that were recomputed — unless a new change arrived in the meantime."""
    if not authority_ids:
        return 0
    result = db.session.execute(
        delete(PendingRecompute)
        .where(
            PendingRecompute.authority_id.in_(authority_ids),
            PendingRecompute.changed_at <= cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# Brokerage -------------------------------------------------------------------------------------


def _members(authority_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.authority_id == authority_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _notify_side(match: Match, authority_id: int, kind: str, **payload) -> None:
    for person in _members(authority_id):
        queue_notification(person, kind, match_id=match.id, **payload)


def _notify_coordinator(match: Match, kind: str, **payload) -> None:
    coordinator = match.created_by
    if coordinator is not None and coordinator.active and coordinator.is_coordinator:
        queue_notification(coordinator, kind, match_id=match.id, **payload)


def _lock_authorities(*authorities: Authority) -> None:
    """Lock both authorities' rows (in id order) so that two approvals at once cannot both take
    an authority's last place (PostgreSQL; SQLite serialises writers anyway)."""
    ids = sorted({a.id for a in authorities})
    db.session.execute(
        select(Authority.id).where(Authority.id.in_(ids)).order_by(Authority.id).with_for_update()
    )


def _check_pair(first: Authority, second: Authority, same_side: bool) -> None:
    if first.id == second.id:
        raise ActionError(_l("Choose two different authorities."), field="authority_b")
    for authority in (first, second):
        if not authority.is_verified:
            raise ActionError(
                _l("%(authority)s is not verified.", authority=authority.name),
                field="authority_b" if authority is second else "authority_a",
            )
    if first.side == second.side and not same_side:
        raise ActionError(
            _l("Both authorities are on the same side; tick “same side” to match them anyway."),
            field="authority_b",
        )
    _lock_authorities(first, second)
    counts = open_match_counts([first.id, second.id])
    for authority in (first, second):
        if counts.get(authority.id, 0) >= authority.match_capacity:
            raise ActionError(
                _l(
                    "%(authority)s has no room for another match (%(count)d open of %(capacity)d).",
                    authority=authority.name,
                    count=counts.get(authority.id, 0),
                    capacity=authority.match_capacity,
                ),
                field="authority_b" if authority is second else "authority_a",
            )


def _existing_match(first_id: int, second_id: int) -> Match | None:
    a, b = _pair(first_id, second_id)
    return db.session.scalar(
        select(Match)
        .where(Match.authority_a_id == a, Match.authority_b_id == b)
        .order_by(Match.id.desc())
        .limit(1)
    )


def _new_match(
    actor: User,
    first: Authority,
    second: Authority,
    *,
    note: str,
    proposal: Proposal | None,
    submission: Submission | None,
    same_side: bool,
    explained: Candidate | None = None,
) -> Match:
    now = utcnow()
    a, b = (first, second) if first.id < second.id else (second, first)
    match = Match(
        authority_a=a,
        authority_b=b,
        proposal=proposal,
        submission_id=submission.id if submission else None,
        status=MatchStatus.AWAITING,
        score=proposal.score if proposal else (explained.score if explained else None),
        reasons=list(proposal.reasons if proposal else (explained.reasons if explained else [])),
        note=(note or "").strip(),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + _days("MATCH_EXPIRY_DAYS"),
        same_side=same_side,
    )
    db.session.add(match)
    db.session.flush()
    record_activity(
        actor,
        match,
        "match.create",
        to_state=MatchStatus.AWAITING,
        comment=match.note or None,
        data={"proposal": proposal.id if proposal else None},
    )
    for authority_id in (match.authority_a_id, match.authority_b_id):
        _notify_side(match, authority_id, "matching.proposed")
    return match


def _decide(proposal: Proposal, actor: User, status: ProposalStatus) -> None:
    """Take the proposal out of PROPOSED, or refuse if someone else did first."""
    result = db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == ProposalStatus.PROPOSED)
        .values(status=status, decided_by_id=actor.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(proposal)
    if result.rowcount != 1:
        raise ActionError(_l("This proposal has already been decided."))


def approve_proposal(actor: User, proposal: Proposal, note: str = "") -> Match:
    """A coordinator turns a proposal into a match: both authorities are e-mailed what the
    other offers (no contacts yet) and asked to accept or decline by MATCH_EXPIRY_DAYS.

    Refused when either authority is unverified or at capacity, or when the pair already has a
    match."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators approve proposals."))
    if proposal.status != ProposalStatus.PROPOSED:
        raise ActionError(_l("This proposal has already been decided."))
    if _existing_match(proposal.authority_a_id, proposal.authority_b_id) is not None:
        raise ActionError(_l("These two authorities have already been matched."))
    _check_pair(proposal.authority_a, proposal.authority_b, same_side=proposal.same_side)
    _decide(proposal, actor, ProposalStatus.APPROVED)
    record_activity(actor, proposal, "proposal.approve", to_state=ProposalStatus.APPROVED)
    match = _new_match(
        actor,
        proposal.authority_a,
        proposal.authority_b,
        note=note,
        proposal=proposal,
        submission=None,
        same_side=proposal.same_side,
    )
    db.session.flush()
    return match


def dismiss_proposal(actor: User, proposal: Proposal) -> None:
    """A coordinator says no: the pair is never proposed again."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators dismiss proposals."))
    if proposal.status != ProposalStatus.PROPOSED:
        raise ActionError(_l("This proposal has already been decided."))
    _decide(proposal, actor, ProposalStatus.DISMISSED)
    record_activity(actor, proposal, "proposal.dismiss", to_state=ProposalStatus.DISMISSED)
    db.session.flush()


def create_match(
    actor: User,
    authority_a: Authority,
    authority_b: Authority,
    note: str = "",
    submission: Submission | None = None,
    same_side: bool = False,
) -> Match:
    """A coordinator matches two authorities by hand, optionally about one of their public
    practices or ideas; authorities of the same side only when `same_side`.

    A pending proposal of the pair becomes approved and lends the match its score and reasons
    (otherwise the engine explains the pair); a pair that already has a match (whatever became
    of it) is refused. A dismissed proposal does not stop a coordinator who now wants the
    pair."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators create matches."))
    if authority_a is None or authority_b is None:
        raise ActionError(_l("Choose two authorities."), field="authority_b")
    if _existing_match(authority_a.id, authority_b.id) is not None:
        raise ActionError(_l("These two authorities have already been matched."), "authority_b")
    _check_pair(authority_a, authority_b, same_side=same_side)
    if submission is not None and not (
        submission.is_public and submission.owner_authority_ids() & {authority_a.id, authority_b.id}
    ):
        raise ActionError(
            _l("Choose a published practice or idea of one of the two authorities."),
            field="submission",
        )
    a, b = _pair(authority_a.id, authority_b.id)
    proposal = db.session.scalar(
        select(Proposal).where(
            Proposal.authority_a_id == a,
            Proposal.authority_b_id == b,
            Proposal.status == ProposalStatus.PROPOSED,
        )
    )
    explained = None
    if proposal is not None:
        _decide(proposal, actor, ProposalStatus.APPROVED)
        record_activity(actor, proposal, "proposal.approve", to_state=ProposalStatus.APPROVED)
    else:
        # The engine says why, even for a pair it did not propose.
        explained = explain(authority_a, authority_b)
    match = _new_match(
        actor,
        authority_a,
        authority_b,
        note=note,
        proposal=proposal,
        submission=submission,
        same_side=same_side or authority_a.side == authority_b.side,
        explained=explained,
    )
    db.session.flush()
    return match


def _set_answer(match: Match, side: str, answer: Answer, actor: User, now: datetime) -> None:
    setattr(match, f"answer_{side}", answer)
    setattr(match, f"answered_{side}_by_id", actor.id)
    setattr(match, f"answered_{side}_at", now)


def answer_match(actor: User, match: Match, accept: bool, reason: str = "") -> None:
    """A member of one side accepts or declines (a decline needs a reason).

    A decline ends the match: the other side and the coordinator are told, with the reason, and
    the pair is never proposed again. When both sides have accepted they are connected: stage
    "introduced", and both get the introduction e-mail with the other's contacts. Until then,
    one side's acceptance is told to the other, which is waiting to answer."""
    db.session.refresh(match, with_for_update=True)
    side = match.side_of(actor.authority_id) if match.is_party(actor) else None
    if side is None:
        raise NotAllowed(_l("Only the two authorities of a match answer it."))
    if not actor.email_confirmed:
        raise NotAllowed(_l("Confirm your e-mail address before answering."))
    if match.status != MatchStatus.AWAITING:
        raise ActionError(_l("This match is no longer waiting for answers."))
    if match.answer_of(side) != Answer.PENDING:
        raise ActionError(_l("Your authority has already answered."))
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ActionError(_l("Say why you decline: the coordinators learn from it."), "reason")
    now = utcnow()
    other = "b" if side == "a" else "a"
    other_id = match.authority_b_id if side == "a" else match.authority_a_id
    if not accept:
        _set_answer(match, side, Answer.DECLINED, actor, now)
        match.status = MatchStatus.DECLINED
        match.decline_reason = reason
        match.closed_at = now
        record_activity(
            actor,
            match,
            "match.decline",
            from_state=MatchStatus.AWAITING,
            to_state=MatchStatus.DECLINED,
            comment=reason,
            data={"side": side},
        )
        db.session.flush()
        _notify_side(match, other_id, "matching.declined")
        _notify_coordinator(match, "matching.declined")
        return
    _set_answer(match, side, Answer.ACCEPTED, actor, now)
    record_activity(actor, match, "match.accept", data={"side": side})
    if match.answer_of(other) == Answer.ACCEPTED:
        match.status = MatchStatus.CONNECTED
        match.connected_at = now
        match.stage = Stage.INTRODUCED
        match.stage_updated_at = now
        record_activity(
            None,
            match,
            "match.connect",
            from_state=MatchStatus.AWAITING,
            to_state=MatchStatus.CONNECTED,
        )
        db.session.flush()
        for authority_id in (match.authority_a_id, match.authority_b_id):
            _notify_side(match, authority_id, "matching.connected")
        return
    db.session.flush()
    _notify_side(match, other_id, "matching.accepted")


@dataclass(frozen=True)
class Sweep:
    reminded: int = 0
    expired: int = 0


def remind_and_expire(now: datetime | None = None) -> Sweep:
    """Matches still waiting for answers: expire those past `expires_at` (both sides are told),
    and remind once the side(s) that have not answered after MATCH_REMINDER_DAYS.

    Safe to run any number of times: an expired match is no longer waiting, and a reminded one
    has `reminded_at`."""
    now = now or utcnow()
    expiring = db.session.scalars(
        select(Match)
        .where(Match.status == MatchStatus.AWAITING, Match.expires_at <= now)
        .order_by(Match.id)
    ).all()
    for match in expiring:
        match.status = MatchStatus.EXPIRED
        match.closed_at = now
        record_activity(
            None, match, "match.expire", from_state=MatchStatus.AWAITING, to_state=match.status
        )
        for authority_id in (match.authority_a_id, match.authority_b_id):
            _notify_side(match, authority_id, "matching.expired")
    db.session.flush()
    due = now - _days("MATCH_REMINDER_DAYS")
    reminding = db.session.scalars(
        select(Match)
        .where(
            Match.status == MatchStatus.AWAITING,
            Match.reminded_at.is_(None),
            Match.created_at <= due,
        )
        .order_by(Match.id)
    ).all()
    for match in reminding:
        match.reminded_at = now
        record_activity(None, match, "match.remind")
        for side, authority_id in (("a", match.authority_a_id), ("b", match.authority_b_id)):
            if match.answer_of(side) == Answer.PENDING:
                _notify_side(match, authority_id, "matching.reminder")
    db.session.flush()
    return Sweep(reminded=len(reminding), expired=len(expiring))


def remind_stage_updates(now: datetime | None = None) -> int:
    """Connected partners who have not said where they are for STAGE_REMINDER_DAYS are asked to
    update the stage — at most once per period; not those who reached the last stage."""
    now = now or utcnow()
    due = now - _days("STAGE_REMINDER_DAYS")
    matches = db.session.scalars(
        select(Match)
        .where(
            Match.status == MatchStatus.CONNECTED,
            Match.stage != STAGE_ORDER[-1],
            func.coalesce(Match.stage_updated_at, Match.connected_at) <= due,
            or_(Match.stage_reminded_at.is_(None), Match.stage_reminded_at <= due),
        )
        .order_by(Match.id)
    ).all()
    for match in matches:
        match.stage_reminded_at = now
        for authority_id in (match.authority_a_id, match.authority_b_id):
            _notify_side(match, authority_id, "matching.stage_reminder")
    db.session.flush()
    return len(matches)


def next_stages(match: Match) -> list[Stage]:
    """The stages a connected match can still report (they only move forward)."""
    current = STAGE_ORDER.index(match.stage) if match.stage else -1
    return STAGE_ORDER[current + 1 :]


def report_stage(actor: User, match: Match, stage: Stage | str, note: str = "") -> StageReport:
    """Either side of a connected match says which stage the cooperation has reached; stages
    only move forward. The report is kept in the match's history."""
    if not match.can_report_stage(actor):
        if match.is_party(actor):
            raise ActionError(_l("Stages are recorded once both sides are connected."))
        raise NotAllowed(_l("Only the two authorities of a match record its stages."))
    try:
        stage = Stage(stage)
    except ValueError:
        raise ActionError(_l("Choose a stage from the list."), field="stage") from None
    if stage not in next_stages(match):
        raise ActionError(_l("Choose a stage further than the current one."), field="stage")
    now = utcnow()
    report = StageReport(
        match=match,
        authority_id=actor.authority_id,
        user_id=actor.id,
        stage=stage,
        note=(note or "").strip(),
        created_at=now,
    )
    db.session.add(report)
    previous = match.stage
    match.stage = stage
    match.stage_updated_at = now
    record_activity(
        actor,
        match,
        "match.report_stage",
        from_state=previous,
        to_state=stage,
        comment=report.note or None,
    )
    db.session.flush()
    return report


def can_close(user, match: Match) -> bool:
    """A side closes a connected match; a coordinator also withdraws one still waiting."""
    if match.status == MatchStatus.CONNECTED and match.is_party(user):
        return True
    return _is_coordinator(user) and match.status in OPEN_STATUSES


def close_match(actor: User, match: Match, reason: str) -> None:
    """End an open match, saying why: the other side (or both, when a coordinator closes it)
    is told."""
    if not can_close(actor, match):
        if match.is_party(actor) or _is_coordinator(actor):
            raise ActionError(_l("This match cannot be closed now."))
        raise NotAllowed(_l("Only the two authorities and the coordinators close a match."))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_l("Say why the match ends."), field="reason")
    previous = match.status
    match.status = MatchStatus.CLOSED
    match.closed_at = utcnow()
    record_activity(
        actor, match, "match.close", from_state=previous, to_state=match.status, comment=reason
    )
    db.session.flush()
    side = match.side_of(actor.authority_id)
    for authority_id in (match.authority_a_id, match.authority_b_id):
        if side is None or authority_id != actor.authority_id:
            _notify_side(match, authority_id, "matching.closed", reason=reason)
    if side is not None:
        _notify_coordinator(match, "matching.closed", reason=reason)


# Reading ---------------------------------------------------------------------------------------


def closing_reason(match: Match) -> str | None:
    """Why the match was closed, from the activity log."""
    return db.session.scalar(
        select(ActivityEntry.comment)
        .where(
            ActivityEntry.subject_type == Match.__tablename__,
            ActivityEntry.subject_id == match.id,
            ActivityEntry.action == "match.close",
        )
        .order_by(ActivityEntry.id.desc())
        .limit(1)
    )


@dataclass
class AuthorityMatches:
    """An authority's matches as its workspace shows them."""

    awaiting_you: list[Match] = field(default_factory=list)
    awaiting_other: list[Match] = field(default_factory=list)
    connected: list[Match] = field(default_factory=list)
    past: list[Match] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(
            len(group)
            for group in (self.awaiting_you, self.awaiting_other, self.connected, self.past)
        )


PAST_LIMIT = 20


def matches_of(authority_id: int) -> AuthorityMatches:
    """The authority's matches: waiting for its answer, waiting for the other side, connected
    (with their stage), and past ones (declined, expired, closed; the latest few)."""
    involving = or_(Match.authority_a_id == authority_id, Match.authority_b_id == authority_id)
    options = (selectinload(Match.authority_a), selectinload(Match.authority_b))
    result = AuthorityMatches()
    for match in db.session.scalars(
        select(Match)
        .where(involving, Match.status.in_(OPEN_STATUSES))
        .options(*options)
        .order_by(Match.created_at.desc(), Match.id.desc())
    ):
        if match.status == MatchStatus.CONNECTED:
            result.connected.append(match)
        elif match.answer_of(match.side_of(authority_id)) == Answer.PENDING:
            result.awaiting_you.append(match)
        else:
            result.awaiting_other.append(match)
    result.past = list(
        db.session.scalars(
            select(Match)
            .where(involving, Match.status.not_in(OPEN_STATUSES))
            .options(*options)
            .order_by(func.coalesce(Match.closed_at, Match.created_at).desc(), Match.id.desc())
            .limit(PAST_LIMIT)
        )
    )
    return result


def public_items(authority_id: int, limit: int = 10) -> list[Submission]:
    """The authority's public practices and ideas, newest first (what a match shows of it)."""
    return list(
        db.session.scalars(
            select(Submission)
            .where(
                Submission.authority_id == authority_id,
                Submission.published_revision_id.is_not(None),
                Submission.state.not_in(NOT_PUBLIC),
            )
            .options(selectinload(Submission.published_revision))
            .order_by(Submission.published_at.desc(), Submission.id.desc())
            .limit(limit)
        )
    )


def contacts_visible(user, match: Match) -> bool:
    """Coordinators always; a side once both have accepted (see Match.contacts_visible_to)."""
    return match.contacts_visible_to(user)


def contacts(authority: Authority) -> list[User]:
    """The people to write to once connected: the authority's active members."""
    return _members(authority.id)


@dataclass(frozen=True)
class Funnel:
    """How many connected (or closed after connecting) matches reached each stage."""

    counts: dict[Stage, int]

    def reached(self, stage: Stage) -> int:
        index = STAGE_ORDER.index(stage)
        return sum(n for s, n in self.counts.items() if STAGE_ORDER.index(s) >= index)


def stage_funnel() -> Funnel:
    """For the coordinators: how far the introduced partners went."""
    rows = db.session.execute(
        select(Match.stage, func.count()).where(Match.stage.is_not(None)).group_by(Match.stage)
    )
    counts = dict.fromkeys(STAGE_ORDER, 0)
    counts.update({Stage(stage): n for stage, n in rows})
    return Funnel(counts)
