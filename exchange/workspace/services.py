"""What a member's workspace shows: their authority's items by stage, the interests it received and
sent, the co-ownership invitations waiting for it, and its matches. Reading only."""

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.extensions import db
from exchange.matching.services import AuthorityMatches, matches_of
from exchange.submissions.models import (
    CoOwner,
    CoOwnerStatus,
    Decision,
    Interest,
    InterestStatus,
    Review,
    Submission,
)
from exchange.submissions.services import pending_invitations
from exchange.workflow import AWAITING_REVIEW, State

# Each list shows the most recently changed items first, this many at most.
SECTION_LIMIT = 50
INTEREST_LIMIT = 50

DRAFTING = (State.DRAFT, State.CHANGES_REQUESTED)
ENDED = (State.ARCHIVED, State.CLOSED, State.REJECTED)


@dataclass
class Section:
    items: list[Submission]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class Workspace:
    authority: Authority | None
    drafts: Section
    under_review: Section
    published: Section
    ended: Section
    interests_received: list[Interest]
    interests_sent: list[Interest]
    invitations: list[CoOwner]
    # The reviewer's comment on each item whose changes were requested, by item id.
    change_requests: dict[int, Review] = field(default_factory=dict)
    # Matches proposed to the authority: waiting for it, for the other side, connected, past.
    matches: AuthorityMatches = field(default_factory=AuthorityMatches)

    @property
    def open_interests(self) -> int:
        return sum(1 for i in self.interests_received if i.status == InterestStatus.OPEN)


def _owned_by(authority_id: int):
    """Items of the authority, and ideas it co-owns."""
    co_owned = select(CoOwner.submission_id).where(
        CoOwner.authority_id == authority_id, CoOwner.status == CoOwnerStatus.ACCEPTED
    )
    return or_(Submission.authority_id == authority_id, Submission.id.in_(co_owned))


def _section(authority_id: int, *conditions) -> Section:
    where = (_owned_by(authority_id), *conditions)
    total = db.session.scalar(select(func.count()).select_from(Submission).where(*where))
    items = db.session.scalars(
        select(Submission)
        .where(*where)
        .options(
            selectinload(Submission.working_revision),
            selectinload(Submission.published_revision),
            selectinload(Submission.authority),
            selectinload(Submission.co_owners),
        )
        .order_by(Submission.updated_at.desc(), Submission.id.desc())
        .limit(SECTION_LIMIT)
    ).all()
    return Section(list(items), total or 0)


def _latest_change_requests(items: list[Submission]) -> dict[int, Review]:
    ids = [s.id for s in items if s.state == State.CHANGES_REQUESTED]
    if not ids:
        return {}
    reviews = db.session.scalars(
        select(Review)
        .where(Review.submission_id.in_(ids), Review.decision == Decision.CHANGES_REQUESTED)
        .order_by(Review.created_at, Review.id)
    )
    return {review.submission_id: review for review in reviews}  # the last one wins


def _interests(*conditions) -> list[Interest]:
    return list(
        db.session.scalars(
            select(Interest)
            .join(Interest.submission)
            .where(*conditions)
            .options(
                selectinload(Interest.submission).selectinload(Submission.working_revision),
                selectinload(Interest.submission).selectinload(Submission.published_revision),
                selectinload(Interest.submission).selectinload(Submission.authority),
                selectinload(Interest.authority),
                selectinload(Interest.user),
                selectinload(Interest.answered_by).selectinload(User.authority),
            )
            .order_by(
                (Interest.status == InterestStatus.ANSWERED).asc(),
                Interest.created_at.desc(),
                Interest.id.desc(),
            )
            .limit(INTEREST_LIMIT)
        )
    )


def workspace_for(user: User) -> Workspace:
    """The workspace of `user`'s authority; empty lists for someone without one."""
    authority = user.authority
    if authority is None:
        empty = Section([], 0)
        return Workspace(None, empty, empty, empty, empty, [], [], [])
    drafts = _section(authority.id, Submission.state.in_(DRAFTING))
    under_review = _section(authority.id, Submission.state.in_(AWAITING_REVIEW))
    # Public items, including those whose owners are preparing a new version.
    published = _section(
        authority.id,
        Submission.published_revision_id.is_not(None),
        Submission.state.not_in(ENDED),
    )
    ended = _section(authority.id, Submission.state.in_(ENDED))
    return Workspace(
        authority=authority,
        drafts=drafts,
        under_review=under_review,
        published=published,
        ended=ended,
        interests_received=_interests(_owned_by(authority.id)),
        interests_sent=_interests(Interest.authority_id == authority.id),
        invitations=pending_invitations(user),
        change_requests=_latest_change_requests(drafts.items + published.items),
        matches=matches_of(authority.id),
    )
