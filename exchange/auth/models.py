"""People who sign in, and what they may do."""

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.database import UTCDateTime, enum_column, utcnow
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.authorities.models import Authority


class DigestFrequency(StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


class Role(StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: one address, one account, whatever the capitals typed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MEMBER)
    language: Mapped[str] = mapped_column(String(5), default="en")
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="SET NULL"), index=True
    )
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session cookie: changing it signs out every copy of every cookie.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # E-mail preferences: kinds the person does not want by e-mail (the in-app record stays;
    # security messages go out whatever this says), and how often to get the digest.
    email_muted_kinds: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    digest_frequency: Mapped[DigestFrequency] = mapped_column(
        enum_column(DigestFrequency), default=DigestFrequency.WEEKLY, server_default="weekly"
    )

    authority: Mapped["Authority | None"] = relationship(
        back_populates="members", foreign_keys=[authority_id]
    )

    __table_args__ = (
        db.CheckConstraint("email = lower(email)", name="email_lowercase"),
        db.CheckConstraint("language in ('en', 'es', 'pt')", name="language_known"),
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_coordinator(self) -> bool:
        """Coordinators and admins: everyone who may verify, review and broker."""
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
