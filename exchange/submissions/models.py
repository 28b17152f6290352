"""Good practices and project ideas: the items authorities submit, their revisions, the reviews of
those revisions, attachments, co-owners and expressions of interest.

Practices and ideas share one table of items (`submission`) and one of revisions, because the
workflow, the review queue, the catalogue and interests treat both alike; the fields that only one
kind has are empty for the other (and checked by constraints).
"""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.database import UTCDateTime, enum_column, utcnow
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Theme
from exchange.workflow import AWAITING_REVIEW, EDITABLE, Kind, State


def _link_table(name: str, other: str) -> Table:
    return Table(
        name,
        db.metadata,
        Column("revision_id", ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True),
        Column(f"{other}_id", ForeignKey(f"{other}.id", ondelete="CASCADE"), primary_key=True),
        db.Index(f"ix_{name}_{other}_id", f"{other}_id"),
    )


revision_theme = _link_table("revision_theme", "theme")
revision_objective = _link_table("revision_objective", "objective")
# The themes an idea wants its partners to work on.
revision_partner_theme = Table(
    "revision_partner_theme",
    db.metadata,
    Column("revision_id", ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)


class BudgetRange(StrEnum):
    UNDER_100K = "under_100k"
    FROM_100K_TO_500K = "100k_500k"
    FROM_500K_TO_1M = "500k_1m"
    FROM_1M_TO_5M = "1m_5m"
    OVER_5M = "over_5m"


BUDGET_LABELS = {
    BudgetRange.UNDER_100K: _l("Under €100,000"),
    BudgetRange.FROM_100K_TO_500K: _l("€100,000 to €500,000"),
    BudgetRange.FROM_500K_TO_1M: _l("€500,000 to €1 million"),
    BudgetRange.FROM_1M_TO_5M: _l("€1 million to €5 million"),
    BudgetRange.OVER_5M: _l("Over €5 million"),
}


class Submission(db.Model):
    """A good practice or a project idea, owned by an authority.

    `working_revision` is the latest revision: the one being drafted or reviewed. Once the item
    is published, `published_revision` is what the public sees; editing it starts a new working
    revision while the published one stays visible.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, length=10))
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    state: Mapped[State] = mapped_column(enum_column(State), default=State.DRAFT, index=True)
    working_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revision.id", use_alter=True, ondelete="SET NULL")
    )
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revision.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # When the item last entered the review queue (the queue sorts and ages by it).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Copied from the published revision, for the catalogue's filters and the nightly closing.
    language: Mapped[str | None] = mapped_column(String(5))
    open_until: Mapped[date | None] = mapped_column(Date, index=True)
    border_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("border_area.id", ondelete="SET NULL"), index=True
    )
    # Full-text index of the published revision (PostgreSQL; SQLite keeps an FTS5 table).
    search_vector: Mapped[str | None] = mapped_column(
        Text().with_variant(postgresql.TSVECTOR(), "postgresql")
    )

    authority: Mapped[Authority] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    working_revision: Mapped["Revision | None"] = relationship(
        foreign_keys=[working_revision_id], post_update=True
    )
    # Read-only: services set `published_revision_id` itself, in the same UPDATE as the state,
    # so that the constraint "published has a revision" holds at every statement.
    published_revision: Mapped["Revision | None"] = relationship(
        foreign_keys=[published_revision_id], viewonly=True
    )
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="submission",
        foreign_keys="Revision.submission_id",
        order_by="Revision.number",
        cascade="all, delete-orphan",
    )
    reviews: Mapped[list["Review"]] = relationship(
        back_populates="submission", order_by="Review.created_at", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="submission", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    co_owners: Mapped[list["CoOwner"]] = relationship(
        back_populates="submission", order_by="CoOwner.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        db.CheckConstraint(
            "state != 'published' OR published_revision_id IS NOT NULL",
            name="published_has_revision",
        ),
        db.CheckConstraint(
            "kind = 'idea' OR (open_until IS NULL AND border_area_id IS NULL)",
            name="idea_fields_on_ideas",
        ),
        db.Index("ix_submission_public", "kind", "published_at"),
        db.Index("ix_submission_search_vector", "search_vector", postgresql_using="gin"),
    )

    # What people may see and do -------------------------------------------------------------

    @property
    def is_public(self) -> bool:
        """Visible in the catalogue: a published revision, and not archived, closed or rejected."""
        return self.published_revision_id is not None and self.state not in (
            State.ARCHIVED,
            State.CLOSED,
            State.REJECTED,
        )

    @property
    def is_listed(self) -> bool:
        """Archived and closed items keep their page (links stay valid) but leave the lists."""
        return self.published_revision_id is not None and self.state != State.REJECTED

    def owner_authority_ids(self) -> set[int]:
        ids = {self.authority_id}
        ids.update(c.authority_id for c in self.co_owners if c.status == CoOwnerStatus.ACCEPTED)
        return ids

    def is_owner(self, user) -> bool:
        return bool(
            user
            and user.is_authenticated
            and user.authority_id is not None
            and user.authority_id in self.owner_authority_ids()
        )

    def can_view_working(self, user) -> bool:
        """Drafts and revisions under review: the owners and the coordinators only."""
        return self.is_owner(user) or bool(user and user.is_authenticated and user.is_coordinator)

    def can_view(self, user) -> bool:
        return self.is_listed or self.can_view_working(user)

    def can_edit(self, user) -> bool:
        return self.is_owner(user) and self.state in EDITABLE

    def can_submit(self, user) -> bool:
        """Owners of a verified authority with a confirmed address; an idea's co-owners have all
        answered their invitations."""
        if not (self.is_owner(user) and user.email_confirmed and self.authority.is_verified):
            return False
        return not any(c.status == CoOwnerStatus.INVITED for c in self.co_owners)

    def can_review(self, user) -> bool:
        return (
            bool(user and user.is_authenticated and user.is_coordinator)
            and self.state in AWAITING_REVIEW
        )

    @property
    def awaiting_review(self) -> bool:
        return self.state in AWAITING_REVIEW

    @property
    def title(self) -> str:
        revision = self.published_revision or self.working_revision
        return revision.title if revision else ""

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.kind} {self.state}>"


class Revision(db.Model):
    """The content of one version of a practice or an idea."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Both kinds.
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    # A good practice.
    problem: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    transferability: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # A project idea.
    border_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("border_area.id", ondelete="SET NULL")
    )
    value_chain: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    expected_results: Mapped[str] = mapped_column(Text, default="")
    budget_range: Mapped[BudgetRange | None] = mapped_column(enum_column(BudgetRange))
    open_until: Mapped[date | None] = mapped_column(Date)
    # The partners the idea looks for.
    partner_kinds: Mapped[list] = mapped_column(JSON, default=list)
    partner_sides: Mapped[list] = mapped_column(JSON, default=list)

    submission: Mapped[Submission] = relationship(
        back_populates="revisions", foreign_keys=[submission_id]
    )
    themes: Mapped[list[Theme]] = relationship(secondary=revision_theme, order_by=Theme.position)
    objectives: Mapped[list[Objective]] = relationship(
        secondary=revision_objective, order_by=Objective.code
    )
    partner_themes: Mapped[list[Theme]] = relationship(
        secondary=revision_partner_theme, order_by=Theme.position
    )
    border_area: Mapped[BorderArea | None] = relationship()

    __table_args__ = (
        db.UniqueConstraint("submission_id", "number", name="uq_revision_number"),
        db.CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="period_in_order",
        ),
    )

    # The text fields a reviewer compares, in the order of the form, per kind.
    PRACTICE_FIELDS = (
        "title",
        "summary",
        "problem",
        "actions",
        "results",
        "resources",
        "transferability",
        "lessons",
    )
    IDEA_FIELDS = ("title", "summary", "description", "value_chain", "expected_results")

    def text_fields(self) -> tuple[str, ...]:
        return self.PRACTICE_FIELDS if self.submission.kind == Kind.PRACTICE else self.IDEA_FIELDS

    def __repr__(self) -> str:
        return f"<Revision {self.submission_id}#{self.number}>"


class Decision(StrEnum):
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    REJECTED = "rejected"


class Review(db.Model):
    """A coordinator's decision, with a comment the authors see, on one revision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="reviews")
    revision: Mapped[Revision] = relationship()
    reviewer: Mapped[User | None] = relationship()

    __table_args__ = (
        db.CheckConstraint(
            "decision = 'published' OR length(comment) > 0", name="decision_has_comment"
        ),
    )


class Attachment(db.Model):
    """A file attached to a practice or an idea, kept under a random name outside the web root.

    It belongs to the revisions from `added_in` on, until the revision `removed_in` (exclusive),
    so that a file added to a draft is not public before the draft is published.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    added_in: Mapped[int] = mapped_column(Integer)
    removed_in: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")

    __table_args__ = (db.CheckConstraint("size >= 0", name="size_not_negative"),)

    def in_revision(self, number: int | None) -> bool:
        return (
            number is not None
            and self.added_in <= number
            and (self.removed_in is None or number < self.removed_in)
        )


class CoOwnerStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class CoOwner(db.Model):
    """Another authority invited to own a project idea with its author (a Chile–Peru idea
    belongs to both). It confirms before the idea goes to review."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CoOwnerStatus] = mapped_column(
        enum_column(CoOwnerStatus), default=CoOwnerStatus.INVITED
    )
    message: Mapped[str] = mapped_column(Text, default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship(back_populates="co_owners")
    authority: Mapped[Authority] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    __table_args__ = (
        db.UniqueConstraint("submission_id", "authority_id", name="uq_co_owner_authority"),
    )


class InterestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Interest(db.Model):
    """An authority telling the owners of a published item that it wants to know more."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[InterestStatus] = mapped_column(
        enum_column(InterestStatus), default=InterestStatus.OPEN
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()
    authority: Mapped[Authority] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    __table_args__ = (
        # One interest per authority and item.
        db.UniqueConstraint("submission_id", "authority_id", name="uq_interest_authority"),
        db.CheckConstraint("status != 'answered' OR answer IS NOT NULL", name="answer_given"),
    )
