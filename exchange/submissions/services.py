"""What authorities and coordinators do with practices and ideas.

Every change of state goes through `_transition`, which checks the one table in
`exchange.workflow`, checks who acts, writes the activity log and leaves the notifications to the
service; each transition has its own service (`submit`, `publish`, …) that does the rest. Services
flush; the caller commits.
"""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from exchange.activity.services import record_activity
from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.matching.services import note_change
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Objective, Theme
from exchange.submissions import search
from exchange.submissions.models import (
    BudgetRange,
    CoOwner,
    CoOwnerStatus,
    Decision,
    Interest,
    InterestStatus,
    Review,
    Revision,
    Submission,
)
from exchange.workflow import STATE_LABELS, Actor, Kind, State, is_allowed, transition

LANGUAGES = ("en", "es", "pt")


@dataclass
class Content:
    """What the forms collect for a revision. Drafts may be incomplete; `submit` checks."""

    language: str
    title: str
    summary: str = ""
    theme_ids: list[int] = field(default_factory=list)
    objective_ids: list[int] = field(default_factory=list)
    # A good practice.
    problem: str = ""
    actions: str = ""
    results: str = ""
    resources: str = ""
    transferability: str = ""
    lessons: str = ""
    period_start: date | None = None
    period_end: date | None = None
    # A project idea.
    border_area_id: int | None = None
    value_chain: str = ""
    description: str = ""
    expected_results: str = ""
    budget_range: str | None = None
    open_until: date | None = None
    partner_kinds: list[str] = field(default_factory=list)
    partner_sides: list[str] = field(default_factory=list)
    partner_theme_ids: list[int] = field(default_factory=list)


TEXT_FIELDS = (
    "title", "summary", "problem", "actions", "results", "resources", "transferability",
    "lessons", "value_chain", "description", "expected_results",
)  # fmt: skip

# What a practice or an idea needs before it can go to review, with the message for each field.
REQUIRED_TO_SUBMIT = {
    Kind.PRACTICE: {
        "title": _l("Give the practice a title."),
        "summary": _l("Write a short summary."),
        "problem": _l("Describe the problem the practice addresses."),
        "actions": _l("Describe what was done."),
        "results": _l("Describe the results and the evidence for them."),
        "transferability": _l("Say what makes the practice transferable."),
        "theme_ids": _l("Choose at least one theme."),
    },
    Kind.IDEA: {
        "title": _l("Give the idea a title."),
        "summary": _l("Write a short summary."),
        "description": _l("Describe the idea."),
        "border_area_id": _l("Choose the border area."),
        "expected_results": _l("Describe the expected results."),
        "open_until": _l("Say until when partners can join."),
        "theme_ids": _l("Choose at least one theme."),
    },
}


# Reading ---------------------------------------------------------------------------------------


def _load_all(model, ids: list[int], field_name: str) -> list:
    ids = sorted(set(ids))
    rows = list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    if len(rows) != len(ids):
        raise ActionError(_l("Choose from the list."), field=field_name)
    return rows


def _members(authority_ids: set[int], exclude: User | None = None) -> list[User]:
    people = db.session.scalars(
        select(User)
        .where(User.authority_id.in_(authority_ids), User.active.is_(True))
        .order_by(User.id)
    )
    return [p for p in people if exclude is None or p.id != exclude.id]


def _notify_owners(submission: Submission, kind: str, exclude: User | None = None, **payload):
    for person in _members(submission.owner_authority_ids(), exclude=exclude):
        queue_notification(person, kind, submission_id=submission.id, **payload)


# Creating and editing --------------------------------------------------------------------------


def _check_content(kind: Kind, content: Content) -> None:
    if content.language not in LANGUAGES:
        raise ActionError(_l("Choose the language it is written in."), field="language")
    if not content.title.strip():
        raise ActionError(_l("Give it a title, even a provisional one."), field="title")
    if content.period_start and content.period_end and content.period_start > content.period_end:
        raise ActionError(_l("The period ends before it starts."), field="period_end")
    if content.budget_range and content.budget_range not in {b.value for b in BudgetRange}:
        raise ActionError(_l("Choose from the list."), field="budget_range")
    if kind == Kind.PRACTICE and (content.border_area_id or content.open_until):
        raise ActionError(_l("A good practice has no border area or closing date."))


def _fill(revision: Revision, kind: Kind, content: Content) -> None:
    _check_content(kind, content)
    revision.language = content.language
    for name in TEXT_FIELDS:
        setattr(revision, name, (getattr(content, name) or "").strip())
    revision.themes = _load_all(Theme, content.theme_ids, "themes")
    revision.objectives = _load_all(Objective, content.objective_ids, "objectives")
    if kind == Kind.PRACTICE:
        revision.period_start, revision.period_end = content.period_start, content.period_end
        return
    revision.border_area = (
        _load_all(BorderArea, [content.border_area_id], "border_area")[0]
        if content.border_area_id
        else None
    )
    revision.budget_range = BudgetRange(content.budget_range) if content.budget_range else None
    revision.open_until = content.open_until
    revision.partner_kinds = sorted(set(content.partner_kinds))
    revision.partner_sides = sorted(set(content.partner_sides))
    revision.partner_themes = _load_all(Theme, content.partner_theme_ids, "partner_themes")


def create_submission(
    actor: User, kind: Kind, content: Content, authority: Authority | None = None
) -> Submission:
    """A new draft practice or idea, owned by the actor's authority — or, when a coordinator
    brings in what an authority already has (the import), by `authority`."""
    if authority is not None:
        if not actor.is_coordinator:
            raise NotAllowed(_l("Only members of an authority can write practices and ideas."))
    elif actor.authority_id is not None:
        authority = db.session.get(Authority, actor.authority_id)
    if authority is None:
        raise NotAllowed(_l("Only members of an authority can write practices and ideas."))
    submission = Submission(kind=kind, authority=authority, created_by=actor, state=State.DRAFT)
    revision = Revision(submission=submission, number=1, created_by_id=actor.id)
    _fill(revision, kind, content)
    db.session.add(submission)
    db.session.flush()
    submission.working_revision = revision
    record_activity(actor, submission, "submission.create", to_state=State.DRAFT)
    db.session.flush()
    return submission


def save_content(actor: User, submission: Submission, content: Content) -> Revision:
    """Save the owners' changes. A draft is changed in place; a published item gets a new
    revision, reviewed again while the published one stays visible; a reviewed revision (changes
    requested) is never changed: the first edit after the review starts a new one."""
    if not submission.is_owner(actor):
        raise NotAllowed(_l("You cannot edit this item."))
    if submission.state not in (State.DRAFT, State.CHANGES_REQUESTED, State.PUBLISHED):
        raise ActionError(
            _l(
                "It cannot be edited in its current state: %(state)s.",
                state=STATE_LABELS[submission.state],
            )
        )
    if submission.state == State.PUBLISHED:
        revision = _new_revision(actor, submission)
        _fill(revision, submission.kind, content)
        record_activity(
            actor, submission, "submission.revise", from_state=State.PUBLISHED, to_state=State.DRAFT
        )
        submission.state = State.DRAFT
        submission.state_changed_at = utcnow()
    elif any(r.revision_id == submission.working_revision_id for r in submission.reviews):
        # Changes were requested on this revision: keep the text the reviewer saw, so that the
        # next review can show what changed since.
        revision = _new_revision(actor, submission)
        _fill(revision, submission.kind, content)
    else:
        revision = submission.working_revision
        _fill(revision, submission.kind, content)
        revision.updated_at = utcnow()
    db.session.flush()
    return revision


def _new_revision(actor: User, submission: Submission) -> Revision:
    number = max(r.number for r in submission.revisions) + 1
    revision = Revision(submission=submission, number=number, created_by_id=actor.id)
    submission.working_revision = revision
    db.session.add(revision)
    return revision


# Transitions -----------------------------------------------------------------------------------


def _check_actor(actor: User | None, submission: Submission, who: Actor) -> None:
    if actor is None:  # the platform itself (closing ideas that expired)
        return
    is_coordinator = actor.is_authenticated and actor.is_coordinator
    allowed = {
        Actor.OWNER: submission.is_owner(actor),
        Actor.COORDINATOR: is_coordinator,
        Actor.OWNER_OR_COORDINATOR: submission.is_owner(actor) or is_coordinator,
    }[who]
    if not allowed:
        raise NotAllowed(_l("You cannot do this with this item."))


def _transition(
    actor: User | None,
    submission: Submission,
    name: str,
    comment: str = "",
    to: State | None = None,
) -> State:
    """Check the table and the actor, move to the new state, and log it. Returns the old state."""
    step = transition(name)
    if not is_allowed(submission.kind, submission.state, name):
        raise ActionError(
            _l(
                "This is not possible in its current state: %(state)s.",
                state=STATE_LABELS[submission.state],
            )
        )
    _check_actor(actor, submission, step.actor)
    comment = (comment or "").strip()
    if step.comment_required and not comment:
        raise ActionError(_l("Write a comment for the authors."), field="comment")
    previous = submission.state
    submission.state = to or step.target
    submission.state_changed_at = utcnow()
    record_activity(
        actor,
        submission,
        f"submission.{name}",
        from_state=previous,
        to_state=submission.state,
        comment=comment or None,
        data={
            "revision": submission.working_revision.number if submission.working_revision else None
        },
    )
    return previous


def missing_for_submission(submission: Submission) -> dict[str, str]:
    """The fields still empty that review needs, with a message for each (empty when ready)."""
    revision = submission.working_revision
    missing = {}
    for name, message in REQUIRED_TO_SUBMIT[submission.kind].items():
        if name == "theme_ids":
            value = revision.themes
        elif name == "border_area_id":
            value = revision.border_area_id
        else:
            value = getattr(revision, name)
        if not value or (isinstance(value, str) and not value.strip()):
            missing[name] = message
    if submission.kind == Kind.IDEA and revision.open_until and revision.open_until <= date.today():
        missing["open_until"] = _l("Choose a closing date in the future.")
    return missing


def submit(actor: User, submission: Submission) -> None:
    """Send the working revision to the coordinators' review queue."""
    if submission.is_owner(actor) and not submission.can_submit(actor):
        if not submission.authority.is_verified:
            raise ActionError(
                _l("Your authority is not verified yet: you can prepare drafts, not submit them.")
            )
        if not actor.email_confirmed:
            raise ActionError(_l("Confirm your e-mail address before submitting."))
        raise ActionError(_l("Every invited co-owner must answer before the idea goes to review."))
    missing = missing_for_submission(submission)
    if missing:
        first_field, first_message = next(iter(missing.items()))
        raise ActionError(first_message, field=first_field)
    _transition(actor, submission, "submit")
    now = utcnow()
    submission.submitted_at = now
    submission.working_revision.submitted_at = now
    submission.reviewer_id = None
    _notify_owners(submission, "submissions.received")
    db.session.flush()


def start_review(actor: User, submission: Submission) -> None:
    """A coordinator takes the item: the others see who reviews it."""
    _transition(actor, submission, "start_review")
    submission.reviewer_id = actor.id
    db.session.flush()


def _record_review(actor: User, submission: Submission, decision: Decision, comment: str) -> Review:
    review = Review(
        submission=submission,
        revision=submission.working_revision,
        reviewer_id=actor.id,
        decision=decision,
        comment=(comment or "").strip(),
    )
    db.session.add(review)
    submission.reviewer_id = actor.id
    return review


def _personal_note(note: str) -> dict:
    """A coordinator's personal note for the decision e-mail (kept in the e-mail only)."""
    note = (note or "").strip()
    return {"note": note} if note else {}


def request_changes(actor: User, submission: Submission, comment: str, note: str = "") -> None:
    """Send it back to the authors with what to change."""
    _transition(actor, submission, "request_changes", comment)
    review = _record_review(actor, submission, Decision.CHANGES_REQUESTED, comment)
    db.session.flush()
    _notify_owners(
        submission,
        "submissions.changes_requested",
        review_id=review.id,
        **_personal_note(note),
    )


def _note_public_change(submission: Submission) -> None:
    """What the public sees of its owners changed: their match proposals are recomputed."""
    for authority_id in sorted(submission.owner_authority_ids()):
        note_change(authority_id)


def publish(actor: User, submission: Submission, comment: str = "", note: str = "") -> None:
    """Approve the working revision: it becomes what the public sees."""
    # The state and the published revision change in one UPDATE (the database checks that a
    # published item has a published revision), so nothing may flush in between.
    with db.session.no_autoflush:
        _transition(actor, submission, "publish", comment)
        submission.published_revision_id = submission.working_revision_id
    review = _record_review(actor, submission, Decision.PUBLISHED, comment)
    revision = submission.working_revision
    now = utcnow()
    submission.published_at = now
    submission.first_published_at = submission.first_published_at or now
    submission.language = revision.language
    if submission.kind == Kind.IDEA:
        submission.open_until = revision.open_until
        submission.border_area_id = revision.border_area_id
    db.session.flush()
    db.session.expire(submission, ["published_revision"])
    search.index_submission(submission)
    _note_public_change(submission)
    _notify_owners(submission, "submissions.published", review_id=review.id, **_personal_note(note))


def reject(actor: User, submission: Submission, comment: str, note: str = "") -> None:
    """Refuse the working revision. A first revision ends rejected; a new revision of a published
    item is dropped and the published one stays."""
    keeps_published = submission.published_revision_id is not None
    _transition(
        actor,
        submission,
        "reject",
        comment,
        to=State.PUBLISHED if keeps_published else State.REJECTED,
    )
    review = _record_review(actor, submission, Decision.REJECTED, comment)
    if keeps_published:
        dropped = submission.working_revision.number
        submission.working_revision = submission.published_revision
        # The dropped version's file changes go with it: the next version starts from the
        # published files, not from those the rejected version added or removed.
        for attachment in submission.attachments:
            if attachment.added_in == dropped:
                attachment.removed_in = dropped
            elif attachment.removed_in == dropped:
                attachment.removed_in = None
    db.session.flush()
    _notify_owners(submission, "submissions.rejected", review_id=review.id, **_personal_note(note))


def archive(actor: User, submission: Submission) -> None:
    """Take a published item out of the catalogue; its page stays, marked archived."""
    _transition(actor, submission, "archive")
    search.unindex_submission(submission)
    _note_public_change(submission)
    db.session.flush()
    _notify_owners(submission, "submissions.archived", exclude=actor)


def close(actor: User | None, submission: Submission) -> None:
    """Close a published idea to new partners (by its owners, or when its date has passed)."""
    _transition(actor, submission, "close")
    search.unindex_submission(submission)
    _note_public_change(submission)
    db.session.flush()
    _notify_owners(submission, "submissions.closed", exclude=actor)


def close_expired_ideas(today: date | None = None) -> int:
    """Close every published idea whose open-until date has passed. Returns how many."""
    today = today or date.today()
    expired = db.session.scalars(
        select(Submission).where(
            Submission.kind == Kind.IDEA,
            Submission.state == State.PUBLISHED,
            Submission.open_until < today,
        )
    ).all()
    for submission in expired:
        close(None, submission)
    return len(expired)


# Co-owners of ideas ----------------------------------------------------------------------------


def invite_co_owner(
    actor: User, submission: Submission, authority_id: int, message: str = ""
) -> CoOwner:
    """Invite another authority to own the idea too; its members are e-mailed and one of them
    confirms."""
    if submission.kind != Kind.IDEA:
        raise ActionError(_l("Only project ideas have co-owners."))
    if submission.authority_id != actor.authority_id:
        raise NotAllowed(_l("Only the authority that wrote the idea invites co-owners."))
    if submission.state not in (State.DRAFT, State.CHANGES_REQUESTED):
        raise ActionError(_l("Co-owners are invited while the idea is a draft."))
    authority = db.session.get(Authority, authority_id)
    if authority is None or not authority.is_verified or authority.id == submission.authority_id:
        raise ActionError(_l("Choose another verified authority."), field="authority")
    if any(c.authority_id == authority.id for c in submission.co_owners):
        raise ActionError(_l("This authority is already invited."), field="authority")
    co_owner = CoOwner(
        submission=submission, authority=authority, invited_by=actor, message=message.strip()
    )
    db.session.add(co_owner)
    db.session.flush()
    record_activity(
        actor, submission, "submission.invite_co_owner", data={"authority": authority.id}
    )
    for person in _members({authority.id}):
        queue_notification(person, "submissions.co_owner_invited", co_owner_id=co_owner.id)
    return co_owner


def answer_co_owner_invitation(actor: User, co_owner: CoOwner, accept: bool) -> None:
    """A member of the invited authority accepts or declines."""
    if actor.authority_id != co_owner.authority_id or not actor.email_confirmed:
        raise NotAllowed(_l("Only a member of the invited authority can answer."))
    if co_owner.status != CoOwnerStatus.INVITED:
        raise ActionError(_l("This invitation has already been answered."))
    co_owner.status = CoOwnerStatus.ACCEPTED if accept else CoOwnerStatus.DECLINED
    co_owner.answered_by_id = actor.id
    co_owner.answered_at = utcnow()
    submission = co_owner.submission
    record_activity(
        actor,
        submission,
        "submission.accept_co_ownership" if accept else "submission.decline_co_ownership",
        data={"authority": co_owner.authority_id},
    )
    for person in _members({submission.authority_id}):
        queue_notification(person, "submissions.co_owner_answered", co_owner_id=co_owner.id)
    db.session.flush()


def pending_invitations(user: User) -> list[CoOwner]:
    if user.authority_id is None:
        return []
    return list(
        db.session.scalars(
            select(CoOwner)
            .where(
                CoOwner.authority_id == user.authority_id,
                CoOwner.status == CoOwnerStatus.INVITED,
            )
            .order_by(CoOwner.invited_at)
        )
    )


# Interest --------------------------------------------------------------------------------------


def express_interest(actor: User, submission: Submission, message: str) -> Interest:
    """Tell the owners of a published item that the actor's authority wants to know more."""
    if actor.authority_id is None or not actor.email_confirmed:
        raise NotAllowed(_l("Members of an authority with a confirmed address can do this."))
    if not submission.is_public:
        raise ActionError(_l("Interest can be shown in published items only."))
    if submission.is_owner(actor):
        raise ActionError(_l("This item is your own authority's."))
    message = (message or "").strip()
    if not message:
        raise ActionError(_l("Write a short message to the owners."), field="message")
    exists = db.session.scalar(
        select(Interest).where(
            Interest.submission_id == submission.id, Interest.authority_id == actor.authority_id
        )
    )
    if exists is not None:
        raise ActionError(_l("Your authority has already shown interest in this item."))
    interest = Interest(
        submission=submission, authority_id=actor.authority_id, user=actor, message=message
    )
    db.session.add(interest)
    db.session.flush()
    record_activity(actor, interest, "interest.create")
    _notify_owners(submission, "submissions.interest_received", interest_id=interest.id)
    return interest


def answer_interest(actor: User, interest: Interest, answer: str) -> None:
    """An owner answers; the person who showed interest is e-mailed the answer."""
    if not interest.submission.is_owner(actor):
        raise NotAllowed(_l("Only the owners can answer."))
    answer = (answer or "").strip()
    if not answer:
        raise ActionError(_l("Write your answer."), field="answer")
    interest.answer = answer
    interest.status = InterestStatus.ANSWERED
    interest.answered_by_id = actor.id
    interest.answered_at = utcnow()
    record_activity(actor, interest, "interest.answer", to_state=InterestStatus.ANSWERED)
    if interest.user is not None and interest.user.active:
        queue_notification(interest.user, "submissions.interest_answered", interest_id=interest.id)
    db.session.flush()
