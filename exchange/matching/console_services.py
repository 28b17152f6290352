"""What the coordinators' brokerage console reads and plans: the proposals with their filters,
bulk decisions sorted into what they will touch and what they will skip, e-mail previews (the
real service run, then rolled back), the pipeline board and the outcome funnel, the pairing
round of a programme, and theme suggestions for free text.

State changes go through the brokerage services (exchange/matching/services.py); this module
only reads, plans, and calls them. The engine is used through its public API only.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from exchange.auth.models import User
from exchange.authorities.models import (
    KIND_LABELS,
    Authority,
    AuthorityStatus,
    authority_programme,
    authority_theme,
)
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.matching import engine, services
from exchange.matching.models import (
    MATCH_STATUS_LABELS,
    STAGE_LABELS,
    STAGE_ORDER,
    Answer,
    Match,
    MatchingRun,
    MatchStatus,
    Proposal,
    ProposalStatus,
    Stage,
)
from exchange.matching.reasons import describe
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import render_notification
from exchange.reference.countries import Side, country_name, sort_key
from exchange.reference.models import Objective, Programme, Theme
from exchange.submissions.models import Revision, Submission, revision_objective, revision_theme

PAGE_SIZE = 25
SORTS = ("score", "age")
# Which sides a pair joins: EU with LAC (what the engine proposes), or both of one side.
PAIR_SIDES = ("across", "EU", "LAC")
BULK_ACTIONS = ("approve", "dismiss")
# Short enough for a select's label (the country says it too).
SIDE_SHORT = {Side.EU: _l("EU"), Side.LAC: _l("Latin America")}
THEME_SUGGESTIONS = 5


def _is_coordinator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_coordinator)


def days_since(moment: datetime | None, now: datetime | None = None) -> int | None:
    if moment is None:
        return None
    return max(((now or utcnow()) - moment).days, 0)


# The proposals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalFilters:
    programme_id: int | None = None  # at least one of the two takes part in it
    country_code: str | None = None  # at least one of the two is in that country
    pair_sides: str | None = None  # "across", "EU" or "LAC" (see PAIR_SIDES)
    min_score: float | None = None
    theme_id: int | None = None  # both work on it
    sort: str = "score"  # best first, or "age": longest waiting first


@dataclass(frozen=True)
class ProposalRow:
    proposal: Proposal
    reasons: list[str]
    age_days: int


@dataclass(frozen=True)
class ProposalPage:
    rows: list[ProposalRow]
    total: int
    page: int
    pages: int


def _public_item_of(authority_column):
    """A public (published, not archived, closed or rejected) item of the authority."""
    return (
        Submission.authority_id == authority_column,
        Submission.published_revision_id.is_not(None),
        Submission.state.not_in(services.NOT_PUBLIC),
    )


def takes_part(authority_column, programme_id: int):
    """The authority declares the programme, or one of its public items serves its objectives
    (as the engine's profiles count it)."""
    declared = (
        exists()
        .where(authority_programme.c.authority_id == authority_column)
        .where(authority_programme.c.programme_id == programme_id)
    )
    through_items = (
        exists()
        .where(*_public_item_of(authority_column))
        .where(revision_objective.c.revision_id == Submission.published_revision_id)
        .where(revision_objective.c.objective_id == Objective.id)
        .where(Objective.programme_id == programme_id)
    )
    return or_(declared, through_items)


def works_on(authority_column, theme_id: int):
    """The theme is on the authority's profile or on one of its public items."""
    declared = (
        exists()
        .where(authority_theme.c.authority_id == authority_column)
        .where(authority_theme.c.theme_id == theme_id)
    )
    through_items = (
        exists()
        .where(*_public_item_of(authority_column))
        .where(revision_theme.c.revision_id == Submission.published_revision_id)
        .where(revision_theme.c.theme_id == theme_id)
    )
    return or_(declared, through_items)


def _proposal_query(filters: ProposalFilters) -> Select:
    first, second = aliased(Authority), aliased(Authority)
    query = (
        select(Proposal)
        .join(first, first.id == Proposal.authority_a_id)
        .join(second, second.id == Proposal.authority_b_id)
        .where(Proposal.status == ProposalStatus.PROPOSED)
    )
    if filters.programme_id is not None:
        query = query.where(
            or_(
                takes_part(Proposal.authority_a_id, filters.programme_id),
                takes_part(Proposal.authority_b_id, filters.programme_id),
            )
        )
    if filters.country_code:
        query = query.where(
            or_(
                first.country_code == filters.country_code,
                second.country_code == filters.country_code,
            )
        )
    if filters.pair_sides == "across":
        query = query.where(first.side != second.side)
    elif filters.pair_sides in ("EU", "LAC"):
        query = query.where(first.side == filters.pair_sides, second.side == filters.pair_sides)
    if filters.min_score is not None:
        query = query.where(Proposal.score >= filters.min_score)
    if filters.theme_id is not None:
        query = query.where(
            works_on(Proposal.authority_a_id, filters.theme_id),
            works_on(Proposal.authority_b_id, filters.theme_id),
        )
    return query


def proposal_list(
    filters: ProposalFilters, page: int = 1, now: datetime | None = None
) -> ProposalPage:
    """The proposals waiting for a coordinator, best first (or longest waiting first), with
    their reasons in words."""
    now = now or utcnow()
    query = _proposal_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    if filters.sort == "age":
        order = (Proposal.computed_at, Proposal.id)
    else:
        order = (Proposal.score.desc(), Proposal.id)
    proposals = db.session.scalars(
        query.options(selectinload(Proposal.authority_a), selectinload(Proposal.authority_b))
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        ProposalRow(
            proposal=proposal,
            reasons=describe(
                proposal.reasons, proposal.authority_a.name, proposal.authority_b.name
            ),
            age_days=days_since(proposal.computed_at, now) or 0,
        )
        for proposal in proposals
    ]
    return ProposalPage(rows, total, page, pages)


def last_run() -> MatchingRun | None:
    return db.session.scalar(select(MatchingRun).order_by(MatchingRun.id.desc()).limit(1))


def run_starter(run: MatchingRun | None) -> User | None:
    if run is None or run.started_by_id is None:
        return None
    return db.session.get(User, run.started_by_id)


def start_matching_run(actor: User) -> MatchingRun:
    """A full run recorded now (so that a second click sees it in progress), to be split into
    chunks that the caller hands to the workers once it has committed. Refused while another
    run is in progress."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators run the matching."))
    running = services.run_in_progress()
    if running is not None:
        raise ActionError(
            _l(
                "A run is already in progress (run %(number)d, %(done)d of %(total)d parts done): "
                "its proposals will appear when it finishes.",
                number=running.id,
                done=running.chunks_done,
                total=running.chunks_total,
            )
        )
    return services.start_run(actor, scope="full")


# Deciding on several proposals, or on the pairs of a round ---------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A chosen proposal or pair that will not be touched, and why."""

    key: str  # the proposal's id, or the pair "a-b"
    label: str  # what it is, in words ("A and B"), or the key when it no longer exists
    reason: str
    proposal: Proposal | None = None


@dataclass
class Plan:
    """What a bulk decision (or a pairing round) will touch, and what it will skip and why."""

    action: str
    note: str
    allowed: list = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class _Room:
    """Which pairs can still become matches: both verified, never matched, not dismissed, each
    with room left, counting the pairs already allowed in this plan."""

    def __init__(self, authority_ids):
        self.open = services.open_match_counts(sorted(set(authority_ids)))
        self.taken: Counter[int] = Counter()
        self.excluded = services.excluded_pairs()

    def refusal(self, first: Authority, second: Authority, *, same_side: bool) -> str | None:
        for authority in (first, second):
            if not authority.is_verified:
                return str(_l("%(authority)s is not verified.", authority=authority.name))
        if first.side == second.side and not same_side:
            return str(_l("Both authorities are on the same side."))
        pair = (min(first.id, second.id), max(first.id, second.id))
        if pair in self.excluded:
            return str(
                _l(
                    "This pair can no longer be proposed: the two authorities have been "
                    "matched, or their proposal was dismissed."
                )
            )
        for authority in (first, second):
            used = self.open.get(authority.id, 0) + self.taken[authority.id]
            if used >= authority.match_capacity:
                return str(
                    _l(
                        "Capacity reached: %(authority)s has %(count)d open or planned matches "
                        "of %(capacity)d.",
                        authority=authority.name,
                        count=used,
                        capacity=authority.match_capacity,
                    )
                )
        return None

    def take(self, first: Authority, second: Authority) -> None:
        self.taken[first.id] += 1
        self.taken[second.id] += 1


def pair_label(first: Authority, second: Authority) -> str:
    return str(_l("%(first)s and %(second)s", first=first.name, second=second.name))


def _chosen_ids(ids, field_name: str, message) -> list[int]:
    chosen = list(dict.fromkeys(ids or ()))  # in the order chosen, once each
    if not chosen:
        raise ActionError(message, field=field_name)
    return chosen


def plan_proposal_decisions(action: str, proposal_ids, note: str = "") -> Plan:
    """Sort the chosen proposals into those the action will touch and those it will skip (gone,
    decided already, or — to approve — no longer proposable or beyond an authority's capacity,
    counting the approvals before it in the list)."""
    if action not in BULK_ACTIONS:
        raise ActionError(_l("Choose what to do with the chosen proposals."), field="action")
    ids = _chosen_ids(proposal_ids, "proposal_ids", _l("Choose at least one proposal."))
    found = {
        p.id: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.id.in_(ids))
            .options(selectinload(Proposal.authority_a), selectinload(Proposal.authority_b))
        )
    }
    plan = Plan(action=action, note=(note or "").strip() if action == "approve" else "")
    authority_ids = [i for p in found.values() for i in (p.authority_a_id, p.authority_b_id)]
    room = _Room(authority_ids) if action == "approve" else None
    for proposal_id in ids:
        proposal = found.get(proposal_id)
        if proposal is None:
            reason = str(_l("It no longer exists: a newer matching run replaced it."))
            plan.skipped.append(Skipped(str(proposal_id), f"#{proposal_id}", reason))
            continue
        label = pair_label(proposal.authority_a, proposal.authority_b)
        if proposal.status != ProposalStatus.PROPOSED:
            reason = str(_l("It has already been decided."))
            plan.skipped.append(Skipped(str(proposal_id), label, reason, proposal))
            continue
        if room is not None:
            refusal = room.refusal(
                proposal.authority_a, proposal.authority_b, same_side=proposal.same_side
            )
            if refusal:
                plan.skipped.append(Skipped(str(proposal_id), label, refusal, proposal))
                continue
            room.take(proposal.authority_a, proposal.authority_b)
        plan.allowed.append(proposal)
    return plan


def decide_proposals(actor: User, action: str, proposal_ids, note: str = "") -> Plan:
    """Approve or dismiss each confirmed proposal that still allows it, each through the same
    service as a single decision (which checks everything again). Those that changed since the
    confirmation page are skipped; if a service refuses one, it raises and the caller rolls the
    whole batch back."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators approve or dismiss proposals."))
    plan = plan_proposal_decisions(action, proposal_ids, note)
    for proposal in plan.allowed:
        if action == "approve":
            services.approve_proposal(actor, proposal, note=plan.note)
        else:
            services.dismiss_proposal(actor, proposal)
    db.session.flush()
    return plan


# Previews: the real service, then a rollback -----------------------------------------------------


@dataclass(frozen=True)
class EmailPreview:
    """One e-mail an action would send, exactly as the worker will write it."""

    recipient_name: str
    authority_name: str
    to_address: str
    language: str
    emailed: bool  # False: the person switched this kind off (notification centre only)
    subject: str
    text: str
    html: str


def _dry_run(action: Callable[[], object], *, render: bool = True) -> list[EmailPreview]:
    """Run `action` (a brokerage service) in the current transaction, render the e-mails it
    queued, then roll everything back before any commit could save or send it. A refusal
    raises as the real action would (after the rollback)."""
    session = db.session()
    queued: list[Notification] = []

    def collect(session, instance) -> None:
        if isinstance(instance, Notification):
            queued.append(instance)

    event.listen(session, "transient_to_pending", collect)
    try:
        action()
        db.session.flush()
        previews = []
        for notification in queued if render else ():
            rendered = render_notification(notification)
            person = notification.user
            previews.append(
                EmailPreview(
                    recipient_name=person.name,
                    authority_name=person.authority.name if person.authority else "",
                    to_address=notification.to_address,
                    language=person.language or "en",
                    emailed=notification.status != NotificationStatus.SKIPPED,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                )
            )
    finally:
        event.remove(session, "transient_to_pending", collect)
        db.session.rollback()
    return previews


def preview_approval(actor: User, proposal: Proposal, note: str = "") -> list[EmailPreview]:
    """The offer e-mails approving this proposal would send to both sides' members, each in its
    language, with the note; nothing is saved or sent."""
    return _dry_run(lambda: services.approve_proposal(actor, proposal, note=note))


def preview_new_match(
    actor: User,
    first: Authority,
    second: Authority,
    *,
    note: str = "",
    submission: Submission | None = None,
    same_side: bool = False,
    render: bool = True,
) -> list[EmailPreview]:
    """The offer e-mails a match made by hand would send (or, with `render=False`, only whether
    the service would refuse it); nothing is saved or sent."""
    return _dry_run(
        lambda: services.create_match(
            actor, first, second, note=note, submission=submission, same_side=same_side
        ),
        render=render,
    )


# Matching by hand --------------------------------------------------------------------------------


def verified_authorities() -> list[Authority]:
    """Every verified authority, by name."""
    found = db.session.scalars(
        select(Authority).where(Authority.status == AuthorityStatus.VERIFIED)
    ).all()
    return sorted(found, key=lambda a: (sort_key(a.name), a.id))


def authority_choices() -> list[tuple[int, str]]:
    """Labels that a select's type-ahead finds by name, and that say where the authority is,
    its side, its kind and how much room it has left."""
    authorities = verified_authorities()
    open_matches = services.open_match_counts([a.id for a in authorities])
    return [
        (
            a.id,
            str(
                _l(
                    "%(name)s — %(country)s · %(side)s · %(kind)s · room for %(room)d",
                    name=a.name,
                    country=country_name(a.country_code),
                    side=SIDE_SHORT[a.side],
                    kind=KIND_LABELS[a.kind],
                    room=max(a.match_capacity - open_matches.get(a.id, 0), 0),
                )
            ),
        )
        for a in authorities
    ]


def public_items_of_verified() -> list[Submission]:
    """The public practices and ideas of verified authorities, by authority and title."""
    items = db.session.scalars(
        select(Submission)
        .join(Authority, Authority.id == Submission.authority_id)
        .join(Revision, Revision.id == Submission.published_revision_id)
        .where(
            Authority.status == AuthorityStatus.VERIFIED,
            Submission.published_revision_id.is_not(None),
            Submission.state.not_in(services.NOT_PUBLIC),
        )
        .options(selectinload(Submission.authority), selectinload(Submission.published_revision))
    ).all()
    return sorted(
        items,
        key=lambda s: (sort_key(s.authority.name), sort_key(s.published_revision.title), s.id),
    )


def pending_proposal(first: Authority, second: Authority) -> Proposal | None:
    a, b = sorted((first.id, second.id))
    return db.session.scalar(
        select(Proposal).where(
            Proposal.authority_a_id == a,
            Proposal.authority_b_id == b,
            Proposal.status == ProposalStatus.PROPOSED,
        )
    )


def dismissed_proposal(first: Authority, second: Authority) -> Proposal | None:
    a, b = sorted((first.id, second.id))
    return db.session.scalar(
        select(Proposal).where(
            Proposal.authority_a_id == a,
            Proposal.authority_b_id == b,
            Proposal.status == ProposalStatus.DISMISSED,
        )
    )


@dataclass(frozen=True)
class Explanation:
    """What the engine says of a pair put together by hand."""

    score: float
    score_first: float  # how well the second suits the first
    score_second: float  # how well the first suits the second
    reasons: list[str]


def explain_pair(first: Authority, second: Authority) -> Explanation | None:
    """The engine's score and reasons for the pair, seen from `first`; None when either is not
    verified (the engine never sees unverified authorities)."""
    candidate = services.explain(first, second)
    if candidate is None:
        return None
    a, b = (first, second) if first.id < second.id else (second, first)
    from_first = first.id == a.id
    return Explanation(
        score=candidate.score,
        score_first=candidate.score_ab if from_first else candidate.score_ba,
        score_second=candidate.score_ba if from_first else candidate.score_ab,
        reasons=describe(candidate.reasons, a.name, b.name),
    )


# The pipeline board and the funnel ---------------------------------------------------------------

PIPELINE_COLUMNS = (
    ("proposed", _l("Proposed"), _l("since the last computation")),
    ("approved", _l("Approved: waiting for both sides"), _l("since the offer")),
    ("one_side", _l("Waiting for one side"), _l("since the offer")),
    ("connected", _l("Connected"), _l("since the introduction")),
    ("declined", _l("Declined"), _l("since the decline")),
    ("expired", _l("Expired"), _l("since it expired")),
    ("closed", _l("Closed"), _l("since it was closed")),
)
OLDEST_PER_COLUMN = 5


@dataclass(frozen=True)
class PipelineColumn:
    key: str
    label: str
    age_from: str
    count: int
    median_days: float | None
    oldest_days: int | None
    items: list  # the oldest few: Proposals in "proposed", Matches elsewhere


def _column_of(status: MatchStatus, answer_a: Answer, answer_b: Answer) -> str:
    if status == MatchStatus.AWAITING:
        if Answer.ACCEPTED in (answer_a, answer_b):
            return "one_side"
        return "approved"
    return str(status)


def pipeline(now: datetime | None = None, oldest: int = OLDEST_PER_COLUMN) -> list[PipelineColumn]:
    """Per column of the brokerage pipeline: how many, how old (median and oldest, in days,
    from the moment each column counts from), and the oldest few."""
    now = now or utcnow()
    since: dict[str, list[tuple[datetime, int]]] = {key: [] for key, *_ in PIPELINE_COLUMNS}
    for proposal_id, computed_at in db.session.execute(
        select(Proposal.id, Proposal.computed_at).where(Proposal.status == ProposalStatus.PROPOSED)
    ):
        since["proposed"].append((computed_at, proposal_id))
    for match_id, status, answer_a, answer_b, created, connected, closed in db.session.execute(
        select(
            Match.id,
            Match.status,
            Match.answer_a,
            Match.answer_b,
            Match.created_at,
            Match.connected_at,
            Match.closed_at,
        )
    ):
        column = _column_of(MatchStatus(status), Answer(answer_a), Answer(answer_b))
        if column == "connected":
            moment = connected or created
        elif column in ("approved", "one_side"):
            moment = created
        else:
            moment = closed or created
        since[column].append((moment, match_id))

    oldest_ids = {key: [i for _, i in sorted(found)[:oldest]] for key, found in since.items()}
    proposals = {
        p.id: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.id.in_(oldest_ids["proposed"]))
            .options(selectinload(Proposal.authority_a), selectinload(Proposal.authority_b))
        )
    }
    match_ids = [i for key, ids in oldest_ids.items() if key != "proposed" for i in ids]
    matches = {
        m.id: m
        for m in db.session.scalars(
            select(Match)
            .where(Match.id.in_(match_ids))
            .options(selectinload(Match.authority_a), selectinload(Match.authority_b))
        )
    }
    columns = []
    for key, label, age_from in PIPELINE_COLUMNS:
        ages = [days_since(moment, now) for moment, _ in since[key]]
        found = proposals if key == "proposed" else matches
        columns.append(
            PipelineColumn(
                key=key,
                label=str(label),
                age_from=str(age_from),
                count=len(ages),
                median_days=median(ages) if ages else None,
                oldest_days=max(ages) if ages else None,
                items=[found[i] for i in oldest_ids[key] if i in found],
            )
        )
    return columns


def waiting_for(match: Match) -> Authority | None:
    """In a match waiting for one side, the authority that has not answered."""
    if match.status != MatchStatus.AWAITING:
        return None
    if match.answer_a == Answer.ACCEPTED and match.answer_b == Answer.PENDING:
        return match.authority_b
    if match.answer_b == Answer.ACCEPTED and match.answer_a == Answer.PENDING:
        return match.authority_a
    return None


@dataclass(frozen=True)
class FunnelRow:
    stage: Stage
    label: str
    reached: int
    from_previous: float | None  # share of the previous stage that reached this one
    from_start: float | None  # share of the introduced partners that reached this one


def funnel() -> list[FunnelRow]:
    """The outcome stages, each with how many introduced partners reached it and the
    conversion rates (None where there is nothing to divide by)."""
    counts = services.stage_funnel()
    start = counts.reached(STAGE_ORDER[0])
    rows, previous = [], None
    for stage in STAGE_ORDER:
        reached = counts.reached(stage)
        rows.append(
            FunnelRow(
                stage=stage,
                label=str(STAGE_LABELS[stage]),
                reached=reached,
                from_previous=(reached / previous) if previous else None,
                from_start=(reached / start) if start else None,
            )
        )
        previous = reached
    return rows


def status_label(match: Match) -> str:
    return str(MATCH_STATUS_LABELS[match.status])


# The pairing round -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundPair:
    first: Authority
    second: Authority
    score: float
    score_first: float  # how well the second suits the first
    score_second: float
    reasons: list[str]
    proposal: Proposal | None  # a pending proposal of the pair, approved when confirmed

    @property
    def key(self) -> str:
        a, b = sorted((self.first.id, self.second.id))
        return f"{a}-{b}"


@dataclass(frozen=True)
class PairingRound:
    programme: Programme
    participants: int
    pairs: list[RoundPair]
    total: float
    greedy_total: float


def pairing_round(programme: Programme) -> PairingRound:
    """Partners for every verified authority taking part in the programme (declared, or through
    its public items' objectives), EU with LAC, each within its remaining capacity and never a
    pair already matched or dismissed, chosen by the engine to maximise the total score; the
    greedy total beside it."""
    everyone = services.profiles()
    taking_part = [p for p in everyone if programme.code in p.programmes]
    result = engine.pairing_round(
        taking_part,
        services.vocabulary(),
        excluded=services.excluded_pairs(),
        weights=current_app.config.get("MATCHING_WEIGHTS"),
    )
    ids = {i for s in result.pairs for i in (s.authority_id, s.counterpart_id)}
    authorities = {
        a.id: a for a in db.session.scalars(select(Authority).where(Authority.id.in_(ids)))
    }
    pending = {
        (p.authority_a_id, p.authority_b_id): p
        for p in db.session.scalars(
            select(Proposal).where(
                Proposal.status == ProposalStatus.PROPOSED,
                Proposal.authority_a_id.in_(ids),
                Proposal.authority_b_id.in_(ids),
            )
        )
    }
    pairs = []
    for suggestion in result.pairs:
        first = authorities[suggestion.authority_id]
        second = authorities[suggestion.counterpart_id]
        pairs.append(
            RoundPair(
                first=first,
                second=second,
                score=suggestion.score,
                score_first=suggestion.score_for,
                score_second=suggestion.score_back,
                reasons=describe(suggestion.reasons, first.name, second.name),
                proposal=pending.get(tuple(sorted((first.id, second.id)))),
            )
        )
    return PairingRound(
        programme=programme,
        participants=len(taking_part),
        pairs=pairs,
        total=result.total,
        greedy_total=result.greedy_total,
    )


def parse_pairs(values) -> list[tuple[int, int]]:
    """Pairs posted as "a-b" (ids), each once, in the order given."""
    pairs = []
    for value in values or ():
        first, sep, second = str(value).partition("-")
        if not (sep and first.isdigit() and second.isdigit()) or first == second:
            raise ActionError(_l("Choose pairs from the round."), field="pairs")
        pairs.append(tuple(sorted((int(first), int(second)))))
    return list(dict.fromkeys(pairs))


@dataclass(frozen=True)
class PlannedPair:
    first: Authority
    second: Authority
    proposal: Proposal | None

    @property
    def key(self) -> str:
        return f"{self.first.id}-{self.second.id}"


def plan_round(pairs, note: str = "") -> Plan:
    """Which pairs of a round can still become matches (see _Room), and which are skipped and
    why; a pending proposal of a pair will be approved rather than a new match made."""
    pairs = parse_pairs(pairs)
    if not pairs:
        raise ActionError(_l("The round has no pair to create."), field="pairs")
    ids = {i for pair in pairs for i in pair}
    authorities = {
        a.id: a for a in db.session.scalars(select(Authority).where(Authority.id.in_(ids)))
    }
    room = _Room(ids)
    plan = Plan(action="pair", note=(note or "").strip())
    for a, b in pairs:
        first, second = authorities.get(a), authorities.get(b)
        key = f"{a}-{b}"
        if first is None or second is None:
            plan.skipped.append(Skipped(key, key, str(_l("An authority no longer exists."))))
            continue
        refusal = room.refusal(first, second, same_side=False)
        if refusal:
            plan.skipped.append(Skipped(key, pair_label(first, second), refusal))
            continue
        room.take(first, second)
        plan.allowed.append(PlannedPair(first, second, pending_proposal(first, second)))
    return plan


def create_round_matches(actor: User, pairs, note: str = "") -> tuple[Plan, list[Match]]:
    """Make the confirmed pairs of a round into matches: approving the pair's pending proposal
    when there is one, otherwise matching by hand, each through its service. Pairs that can
    no longer be matched are skipped; a refusal by a service raises (the caller rolls back)."""
    if not _is_coordinator(actor):
        raise NotAllowed(_l("Only coordinators create matches."))
    plan = plan_round(pairs, note)
    made = []
    for planned in plan.allowed:
        if planned.proposal is not None:
            made.append(services.approve_proposal(actor, planned.proposal, note=plan.note))
        else:
            made.append(services.create_match(actor, planned.first, planned.second, note=plan.note))
    db.session.flush()
    return plan, made


# Theme suggestions -------------------------------------------------------------------------------


def theme_suggestions(text: str, language: str | None, limit: int = THEME_SUGGESTIONS):
    """The themes a free text is about, best first, with their labels in the reader's language
    and their ids (the value of the forms' checkboxes)."""
    if not (text or "").strip():
        return []
    found = engine.suggest_themes(text, language, services.vocabulary(), limit=limit)
    codes = [code for code, _score in found]
    themes = {t.code: t for t in db.session.scalars(select(Theme).where(Theme.code.in_(codes)))}
    return [
        {"code": code, "id": themes[code].id, "label": themes[code].label, "score": round(score, 3)}
        for code, score in found
        if code in themes
    ]
