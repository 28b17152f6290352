"""What the coordinators' review reads (the queue, the dashboard, the revision to compare with)
and the bulk decisions, which run each item through the submission services."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, exists, func, select
from sqlalchemy.orm import selectinload

from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import render_notification
from exchange.reference.models import Objective
from exchange.submissions import services as submissions
from exchange.submissions.models import Review, Revision, Submission, revision_objective
from exchange.workflow import AWAITING_REVIEW, STATE_LABELS, Kind, State, is_allowed, transition

PAGE_SIZE = 25
# "Waiting at least N days", offered as a filter of the queue.
AGE_LIMITS = (7, 14, 30)
# The dashboard's age groups: [low, high) in days, None for "no limit".
AGE_GROUPS = (
    (None, 7, _l("Less than 7 days")),
    (7, 14, _l("7 to 14 days")),
    (14, 30, _l("14 to 30 days")),
    (30, None, _l("30 days or more")),
)
BULK_ACTIONS = ("start_review", "publish", "request_changes", "reject")


def age_in_days(submission: Submission, now: datetime | None = None) -> int:
    """Whole days the item has been waiting since it entered the queue."""
    if submission.submitted_at is None:
        return 0
    return ((now or utcnow()) - submission.submitted_at).days


# The queue -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    programme_id: int | None = None
    kind: Kind | None = None
    min_age_days: int | None = None
    country_code: str | None = None
    state: State | None = None


@dataclass(frozen=True)
class QueuePage:
    items: list[Submission]
    total: int
    page: int
    pages: int


def _queue_query(filters: QueueFilters, now: datetime) -> Select:
    states = [filters.state] if filters.state in AWAITING_REVIEW else list(AWAITING_REVIEW)
    query = select(Submission).where(Submission.state.in_(states))
    if filters.kind is not None:
        query = query.where(Submission.kind == filters.kind)
    if filters.min_age_days is not None:
        query = query.where(Submission.submitted_at <= now - timedelta(days=filters.min_age_days))
    if filters.country_code:
        query = query.where(
            Submission.authority_id.in_(
                select(Authority.id).where(Authority.country_code == filters.country_code)
            )
        )
    if filters.programme_id is not None:
        query = query.where(
            exists()
            .where(revision_objective.c.revision_id == Submission.working_revision_id)
            .where(revision_objective.c.objective_id == Objective.id)
            .where(Objective.programme_id == filters.programme_id)
        )
    return query


def review_queue(filters: QueueFilters, page: int = 1, now: datetime | None = None) -> QueuePage:
    """Items waiting for a coordinator (submitted or in review), oldest first."""
    query = _queue_query(filters, now or utcnow())
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        query.options(
            selectinload(Submission.authority),
            selectinload(Submission.working_revision),
            selectinload(Submission.reviewer),
        )
        .order_by(Submission.submitted_at, Submission.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return QueuePage(list(items), total, page, pages)


# The review page -------------------------------------------------------------------------------


def last_reviewed_revision(submission: Submission) -> Revision | None:
    """The latest revision, up to the working one, that a coordinator decided on: what the
    reviewer compares the working revision with. None for an item never reviewed.

    Owners never change a reviewed revision (an edit after a review starts a new one), so when
    the working revision itself was reviewed, nothing changed since."""
    working = submission.working_revision
    if working is None:
        return None
    return db.session.scalar(
        select(Revision)
        .where(
            Revision.submission_id == submission.id,
            Revision.number <= working.number,
            exists().where(Review.revision_id == Revision.id),
        )
        .order_by(Revision.number.desc())
        .limit(1)
    )


# Bulk decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    submission_id: int
    submission: Submission | None
    reason: str


@dataclass
class BulkPlan:
    """Which of the chosen items an action will touch, and which it will skip and why."""

    action: str
    comment: str
    allowed: list[Submission] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def plan_bulk_decision(action: str, submission_ids: list[int], comment: str = "") -> BulkPlan:
    """Sort the chosen items into those the action is allowed on and those it is not."""
    if action not in BULK_ACTIONS:
        raise ActionError(_l("Choose what to do with the chosen items."), field="action")
    comment = (comment or "").strip()
    if transition(action).comment_required and not comment:
        raise ActionError(_l("Write a comment for the authors."), field="comment")
    ids = list(dict.fromkeys(submission_ids))  # in the order chosen, once each
    if not ids:
        raise ActionError(_l("Choose at least one item."), field="submission_ids")
    found = {
        s.id: s
        for s in db.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids))
            .options(selectinload(Submission.working_revision))
        )
    }
    plan = BulkPlan(action=action, comment=comment)
    for submission_id in ids:
        submission = found.get(submission_id)
        if submission is None:
            plan.skipped.append(Skipped(submission_id, None, str(_l("It no longer exists."))))
        elif not is_allowed(submission.kind, submission.state, action):
            reason = _l(
                "This is not possible in its current state: %(state)s.",
                state=STATE_LABELS[submission.state],
            )
            plan.skipped.append(Skipped(submission_id, submission, str(reason)))
        else:
            plan.allowed.append(submission)
    return plan


def decide(
    actor: User, submission: Submission, action: str, comment: str = "", note: str = ""
) -> None:
    """One coordinator decision (or taking the item), through the submission service of that
    transition, which checks the state, the actor and the comment again. `note`, a personal
    note to the authors, goes into the decision e-mail only."""
    if action == "start_review":
        submissions.start_review(actor, submission)
    elif action == "publish":
        submissions.publish(actor, submission, comment, note=note)
    elif action == "request_changes":
        submissions.request_changes(actor, submission, comment, note=note)
    elif action == "reject":
        submissions.reject(actor, submission, comment, note=note)
    else:
        raise ActionError(_l("Choose what to do with the chosen items."), field="action")


# Previewing a decision's e-mail ------------------------------------------------------------------

DECISIONS_WITH_EMAIL = ("publish", "request_changes", "reject")


@dataclass(frozen=True)
class EmailPreview:
    """One e-mail a decision would send, exactly as the worker will write it."""

    recipient_name: str
    to_address: str
    language: str
    emailed: bool  # False: the person switched this kind off; it stays in their centre only
    subject: str
    text: str
    html: str


def preview_decision(
    actor: User, submission: Submission, action: str, comment: str = "", note: str = ""
) -> list[EmailPreview]:
    """The e-mails this decision would send to the authors, each in its recipient's language,
    without saving or sending anything.

    The decision is made in the current transaction by the same service as the real one, so the
    previewed e-mails are rendered from the very state and review the real ones will be; then
    everything is rolled back, before any commit could send them. Refusals (a state that no
    longer allows it, a missing comment) raise as the decision would.
    """
    if action not in DECISIONS_WITH_EMAIL:
        raise ActionError(_l("Choose what to do with the chosen items."), field="action")
    session = db.session()
    queued: list[Notification] = []

    def collect(session, instance) -> None:
        if isinstance(instance, Notification):
            queued.append(instance)

    event.listen(session, "transient_to_pending", collect)
    try:
        decide(actor, submission, action, comment, note=note)
        db.session.flush()
        previews = []
        for notification in queued:
            rendered = render_notification(notification)
            previews.append(
                EmailPreview(
                    recipient_name=notification.user.name,
                    to_address=notification.to_address,
                    language=notification.user.language or "en",
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


def run_bulk_decision(
    actor: User, action: str, submission_ids: list[int], comment: str = ""
) -> BulkPlan:
    """Apply `action` to each confirmed item it is still allowed on, each through the same
    service as a single decision. Items that changed state since the confirmation are skipped;
    if a service refuses an item, it raises and the caller rolls back the whole batch."""
    if actor is None or not actor.is_coordinator:
        raise NotAllowed(_l("You cannot do this with this item."))
    plan = plan_bulk_decision(action, submission_ids, comment)
    for submission in plan.allowed:
        decide(actor, submission, action, plan.comment)
    db.session.flush()
    return plan


# The dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    state: State
    practices: int
    ideas: int

    @property
    def total(self) -> int:
        return self.practices + self.ideas


@dataclass(frozen=True)
class AgeGroup:
    label: str
    low: int | None
    high: int | None
    count: int


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer: User | None
    count: int


@dataclass(frozen=True)
class Dashboard:
    states: list[StateCount]
    ages: list[AgeGroup]
    waiting: int
    oldest: list[Submission]
    reviewers: list[ReviewerLoad]

    @property
    def totals(self) -> tuple[int, int, int]:
        practices = sum(row.practices for row in self.states)
        ideas = sum(row.ideas for row in self.states)
        return practices, ideas, practices + ideas


def coordinator_dashboard(oldest: int = 10, now: datetime | None = None) -> Dashboard:
    """Counts per state and kind, how long the queue has been waiting, the oldest items, and
    who reviews how many."""
    now = now or utcnow()
    counts = {
        (kind, state): number
        for kind, state, number in db.session.execute(
            select(Submission.kind, Submission.state, func.count()).group_by(
                Submission.kind, Submission.state
            )
        )
    }
    states = [
        StateCount(state, counts.get((Kind.PRACTICE, state), 0), counts.get((Kind.IDEA, state), 0))
        for state in State
    ]
    awaiting = Submission.state.in_(list(AWAITING_REVIEW))
    ages = []
    for low, high, label in AGE_GROUPS:
        query = select(func.count()).select_from(Submission).where(awaiting)
        if low is not None:
            query = query.where(Submission.submitted_at <= now - timedelta(days=low))
        if high is not None:
            query = query.where(Submission.submitted_at > now - timedelta(days=high))
        ages.append(AgeGroup(str(label), low, high, db.session.scalar(query)))
    oldest_items = db.session.scalars(
        select(Submission)
        .where(awaiting)
        .options(
            selectinload(Submission.authority),
            selectinload(Submission.reviewer),
            selectinload(Submission.working_revision),
        )
        .order_by(Submission.submitted_at, Submission.id)
        .limit(oldest)
    ).all()
    loads = db.session.execute(
        select(Submission.reviewer_id, func.count())
        .where(Submission.state == State.IN_REVIEW)
        .group_by(Submission.reviewer_id)
    ).all()
    people = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_([r for r, _ in loads if r is not None]))
        )
    }
    reviewers = sorted(
        (ReviewerLoad(people.get(reviewer_id), number) for reviewer_id, number in loads),
        key=lambda load: (-load.count, load.reviewer.name if load.reviewer else ""),
    )
    return Dashboard(
        states=states,
        ages=ages,
        waiting=sum(group.count for group in ages),
        oldest=list(oldest_items),
        reviewers=reviewers,
    )
