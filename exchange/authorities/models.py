"""Regional and urban authorities, the people who work for them, and requests to join them."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.database import UTCDateTime, enum_column, utcnow
from exchange.extensions import db
from exchange.reference.countries import Side
from exchange.reference.models import BorderArea, Programme, Theme


class AuthorityKind(StrEnum):
    MUNICIPALITY = "municipality"
    METROPOLITAN_AREA = "metropolitan_area"
    REGION = "region"
    NATIONAL_BODY = "national_body"
    CROSS_BORDER_BODY = "cross_border_body"
    AGENCY = "agency"


class AuthorityStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


MAX_MATCH_CAPACITY = 20

authority_programme = Table(
    "authority_programme",
    db.metadata,
    Column("authority_id", ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True),
    Column("programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True),
)
authority_theme = Table(
    "authority_theme",
    db.metadata,
    Column("authority_id", ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)
authority_border_area = Table(
    "authority_border_area",
    db.metadata,
    Column("authority_id", ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True),
    Column("border_area_id", ForeignKey("border_area.id", ondelete="CASCADE"), primary_key=True),
)


class Authority(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AuthorityKind] = mapped_column(enum_column(AuthorityKind))
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    subdivision_code: Mapped[str | None] = mapped_column(String(6))
    # Derived from the country by the services; stored so that lists can filter on it.
    side: Mapped[Side] = mapped_column(enum_column(Side, length=3))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    description_language: Mapped[str | None] = mapped_column(String(5))
    match_capacity: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[AuthorityStatus] = mapped_column(
        enum_column(AuthorityStatus), default=AuthorityStatus.PENDING, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Added after both tables exist: user and authority refer to each other.
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[User]] = relationship(
        back_populates="authority", foreign_keys=[User.authority_id], order_by=User.id
    )
    programmes: Mapped[list[Programme]] = relationship(
        secondary=authority_programme, order_by=Programme.position
    )
    themes: Mapped[list[Theme]] = relationship(secondary=authority_theme, order_by=Theme.code)
    border_areas: Mapped[list[BorderArea]] = relationship(
        secondary=authority_border_area, order_by=BorderArea.position
    )

    __table_args__ = (
        db.CheckConstraint(
            f"match_capacity >= 0 AND match_capacity <= {MAX_MATCH_CAPACITY}",
            name="match_capacity_range",
        ),
        db.CheckConstraint(
            "status != 'rejected' OR status_reason IS NOT NULL", name="rejection_has_reason"
        ),
        db.CheckConstraint(
            "status != 'verified' OR verified_at IS NOT NULL", name="verification_has_date"
        ),
    )

    @property
    def is_verified(self) -> bool:
        return self.status == AuthorityStatus.VERIFIED

    def is_member(self, user) -> bool:
        return bool(user and user.is_authenticated and user.authority_id == self.id)

    def can_view(self, user) -> bool:
        """Verified profiles are public; others only to their members and coordinators."""
        if self.is_verified:
            return True
        return self.is_member(user) or bool(user and user.is_authenticated and user.is_coordinator)

    def can_edit(self, user) -> bool:
        return self.is_member(user) or bool(user and user.is_authenticated and user.is_coordinator)

    def can_verify(self, user) -> bool:
        return (
            bool(user and user.is_authenticated and user.is_coordinator)
            and self.status != AuthorityStatus.VERIFIED
        )

    def can_reject(self, user) -> bool:
        return (
            bool(user and user.is_authenticated and user.is_coordinator)
            and self.status == AuthorityStatus.PENDING
        )

    def can_submit(self, user) -> bool:
        """Members of a verified authority with a confirmed address may submit for review."""
        return self.is_verified and self.is_member(user) and user.email_confirmed

    def __repr__(self) -> str:
        return f"<Authority {self.id} {self.name!r}>"


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class JoinRequest(db.Model):
    """A person asking to work for an existing authority on the platform."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[JoinRequestStatus] = mapped_column(
        enum_column(JoinRequestStatus), default=JoinRequestStatus.PENDING
    )
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    authority: Mapped[Authority] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        # One open request per person at a time.
        db.Index(
            "uq_join_request_one_pending",
            "user_id",
            unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
    )

    def can_decide(self, user) -> bool:
        """A confirmed member of the authority, or a coordinator, answers a pending request."""
        if self.status != JoinRequestStatus.PENDING or not (user and user.is_authenticated):
            return False
        if user.is_coordinator:
            return True
        return self.authority.is_member(user) and user.email_confirmed and user.id != self.user_id


KIND_LABELS = {
    AuthorityKind.MUNICIPALITY: _l("Municipality"),
    AuthorityKind.METROPOLITAN_AREA: _l("Metropolitan area"),
    AuthorityKind.REGION: _l("Region, state or province"),
    AuthorityKind.NATIONAL_BODY: _l("National body"),
    AuthorityKind.CROSS_BORDER_BODY: _l("Cross-border body"),
    AuthorityKind.AGENCY: _l("Agency"),
}

STATUS_LABELS = {
    AuthorityStatus.PENDING: _l("Awaiting verification"),
    AuthorityStatus.VERIFIED: _l("Verified"),
    AuthorityStatus.REJECTED: _l("Not accepted"),
}

SIDE_LABELS = {Side.EU: _l("European Union"), Side.LAC: _l("Latin America and the Caribbean")}
