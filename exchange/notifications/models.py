from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.database import UTCDateTime, enum_column, utcnow
from exchange.extensions import db


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker (first try or a retry)
    SKIPPED = "skipped"  # not e-mailed: the person switched this kind off (in-app only)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts


class Notification(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    # Usually the user's address; a new address being confirmed is the exception.
    to_address: Mapped[str] = mapped_column(String(254))
    # Ids and plain values only: the worker loads and renders in the recipient's language.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subject: Mapped[str | None] = mapped_column(String(300))
    # In the notification centre: when the person saw it.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        db.Index("ix_notification_status_next_attempt", "status", "next_attempt_at"),
        db.Index("ix_notification_user_unread", "user_id", "read_at"),
        db.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        db.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent_has_date"),
    )

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.status}>"


class DigestRun(db.Model):
    """One digest for one person and one period. The unique key is what makes a second beat,
    or the same beat firing twice, send nothing more: the second insert fails."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="SET NULL")
    )
    items: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        db.UniqueConstraint("user_id", "frequency", "period_start", name="uq_digest_run_period"),
    )
