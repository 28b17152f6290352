"""Proposals the engine makes, and the matches coordinators broker from them.

A `Proposal` is a suggestion between two authorities, recomputed by the engine until a
coordinator approves it (it becomes a `Match`) or dismisses it (the pair is not proposed again).
A `Match` is offered to both authorities; each side accepts or declines; when both accept they
are connected (contacts revealed, introduction e-mailed) and record the stages they reach.
"""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.database import UTCDateTime, enum_column, utcnow
from exchange.extensions import db


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"  # waiting for a coordinator
    APPROVED = "approved"  # became a match
    DISMISSED = "dismissed"  # a coordinator said no: never proposed again


class Proposal(db.Model):
    """The engine's suggestion for a pair (authority_a_id < authority_b_id)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_a_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    authority_b_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus), default=ProposalStatus.PROPOSED, index=True
    )
    score: Mapped[float] = mapped_column(Float)
    # How well B suits A, and how well A suits B: the score is their harmonic mean.
    score_ab: Mapped[float] = mapped_column(Float)
    score_ba: Mapped[float] = mapped_column(Float)
    # [{"signal": ..., "score": ..., "weight": ..., "details": [...]}, ...]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    engine_version: Mapped[str] = mapped_column(String(20))
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    same_side: Mapped[bool] = mapped_column(default=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    authority_a: Mapped[Authority] = relationship(foreign_keys=[authority_a_id])
    authority_b: Mapped[Authority] = relationship(foreign_keys=[authority_b_id])
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        db.UniqueConstraint("authority_a_id", "authority_b_id", name="uq_proposal_pair"),
        db.CheckConstraint("authority_a_id < authority_b_id", name="pair_in_order"),
        db.CheckConstraint("score >= 0 AND score <= 1", name="score_in_range"),
    )


class MatchStatus(StrEnum):
    AWAITING = "awaiting"  # offered to both sides, not both accepted yet
    CONNECTED = "connected"  # both accepted: introduced
    DECLINED = "declined"  # one side declined: the pair is not proposed again
    EXPIRED = "expired"  # nobody answered in time
    CLOSED = "closed"  # the connection ended (finished, or not pursued)


class Answer(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Stage(StrEnum):
    """What partners report after the introduction (the outcome the platform measures)."""

    INTRODUCED = "introduced"
    CONTACTED = "contacted"
    MET = "met"
    AGREEMENT = "agreement"  # an agreement signed
    JOINT_PROJECT = "joint_project"


STAGE_ORDER = list(Stage)

STAGE_LABELS = {
    Stage.INTRODUCED: _l("Introduced"),
    Stage.CONTACTED: _l("In contact"),
    Stage.MET: _l("Met"),
    Stage.AGREEMENT: _l("Agreement signed"),
    Stage.JOINT_PROJECT: _l("Joint project"),
}

MATCH_STATUS_LABELS = {
    MatchStatus.AWAITING: _l("Waiting for answers"),
    MatchStatus.CONNECTED: _l("Connected"),
    MatchStatus.DECLINED: _l("Declined"),
    MatchStatus.EXPIRED: _l("Expired"),
    MatchStatus.CLOSED: _l("Closed"),
}

# Open matches count against an authority's capacity.
OPEN_STATUSES = (MatchStatus.AWAITING, MatchStatus.CONNECTED)


class Match(db.Model):
    """Two authorities a coordinator puts in touch (authority_a_id < authority_b_id)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_a_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    authority_b_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="SET NULL"))
    # Optionally anchored on a practice or an idea that the match is about.
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL")
    )
    status: Mapped[MatchStatus] = mapped_column(
        enum_column(MatchStatus), default=MatchStatus.AWAITING, index=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # The coordinator's personal note, in the offer and the introduction e-mails.
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Each side's answer, by any of its members.
    answer_a: Mapped[Answer] = mapped_column(
        enum_column(Answer, name="answer_a"), default=Answer.PENDING
    )
    answer_b: Mapped[Answer] = mapped_column(
        enum_column(Answer, name="answer_b"), default=Answer.PENDING
    )
    answered_a_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_b_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_a_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_b_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After the introduction: the furthest stage either side reported.
    stage: Mapped[Stage | None] = mapped_column(enum_column(Stage))
    stage_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    same_side: Mapped[bool] = mapped_column(default=False)

    authority_a: Mapped[Authority] = relationship(foreign_keys=[authority_a_id])
    authority_b: Mapped[Authority] = relationship(foreign_keys=[authority_b_id])
    proposal: Mapped[Proposal | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    stage_reports: Mapped[list["StageReport"]] = relationship(
        back_populates="match", order_by="StageReport.created_at", cascade="all, delete-orphan"
    )

    __table_args__ = (
        db.CheckConstraint("authority_a_id < authority_b_id", name="pair_in_order"),
        db.CheckConstraint(
            "status != 'connected' OR (answer_a = 'accepted' AND answer_b = 'accepted')",
            name="connected_when_both_accept",
        ),
        db.CheckConstraint(
            "status != 'declined' OR answer_a = 'declined' OR answer_b = 'declined'",
            name="declined_by_one_side",
        ),
        db.CheckConstraint("stage IS NULL OR connected_at IS NOT NULL", name="stage_after_intro"),
        db.Index("ix_match_pair", "authority_a_id", "authority_b_id"),
    )

    def side_of(self, authority_id: int | None) -> str | None:
        """ "a" or "b" for a member of one side, None otherwise."""
        if authority_id == self.authority_a_id:
            return "a"
        if authority_id == self.authority_b_id:
            return "b"
        return None

    def counterpart_id(self, authority_id: int) -> int:
        return self.authority_b_id if authority_id == self.authority_a_id else self.authority_a_id

    def answer_of(self, side: str) -> Answer:
        return self.answer_a if side == "a" else self.answer_b

    def is_party(self, user) -> bool:
        return bool(user and user.is_authenticated and self.side_of(user.authority_id))

    def can_view(self, user) -> bool:
        return self.is_party(user) or bool(user and user.is_authenticated and user.is_coordinator)

    def can_answer(self, user) -> bool:
        side = self.side_of(user.authority_id) if self.is_party(user) else None
        return (
            side is not None
            and self.status == MatchStatus.AWAITING
            and self.answer_of(side) == Answer.PENDING
            and user.email_confirmed
        )

    def contacts_visible_to(self, user) -> bool:
        """Each side sees the other's contact details only once both have accepted."""
        if user and user.is_authenticated and user.is_coordinator:
            return True
        # Connected at some point: a match closed before both sides accepted reveals nothing.
        return self.is_party(user) and self.connected_at is not None

    def can_report_stage(self, user) -> bool:
        return self.is_party(user) and self.status == MatchStatus.CONNECTED


class StageReport(db.Model):
    """A partner saying which stage the cooperation has reached (append-only history)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("match.id", ondelete="CASCADE"), index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    stage: Mapped[Stage] = mapped_column(enum_column(Stage))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    match: Mapped[Match] = relationship(back_populates="stage_reports")
    user: Mapped[User | None] = relationship()


class MatchingRun(db.Model):
    """One computation of proposals (full or for some authorities), for the record and so that
    workers can take it in chunks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    engine_version: Mapped[str] = mapped_column(String(20))
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    scope: Mapped[str] = mapped_column(String(20), default="full")  # full, authority, programme
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class PendingRecompute(db.Model):
    """An authority whose profile, practices or ideas changed since its proposals were computed.

    A change only writes (or refreshes) this row; a debounced task recomputes every authority
    that has been waiting long enough, so that ten quick edits cost one computation.
    """

    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
