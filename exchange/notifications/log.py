"""The coordinators' notification log: every message written, searchable, and failed ones sent
again.

A resend puts the row back as new (pending, no attempts) in the acting transaction and logs it;
the caller hands the ids to the workers once that transaction is committed (`dispatch`), and
the sweep would pick them up anyway if that hand-over were lost.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from exchange.activity.services import record_activity
from exchange.auth.models import User
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogFilters:
    """What a coordinator searches the log for; empty values filter nothing."""

    recipient: str = ""  # part of the address or of the name
    kind: str | None = None
    status: NotificationStatus | None = None
    date_from: date | None = None  # created on or after this day (UTC)
    date_to: date | None = None  # created on or before this day (UTC)


@dataclass(frozen=True)
class LogPage:
    items: list[Notification]
    total: int
    page: int
    pages: int


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _conditions(filters: LogFilters) -> list:
    conditions = []
    recipient = filters.recipient.strip()
    if recipient:
        pattern = _like(recipient)
        conditions.append(
            or_(
                func.lower(Notification.to_address).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if filters.kind:
        conditions.append(Notification.kind == filters.kind)
    if filters.status:
        conditions.append(Notification.status == filters.status)
    if filters.date_from:
        conditions.append(Notification.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Notification.created_at < _day_start(filters.date_to + timedelta(days=1)))
    return conditions


def search_log(filters: LogFilters, page: int = 1) -> LogPage:
    """One page of the notifications matching the filters, newest first."""
    conditions = _conditions(filters)
    total = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(User, User.id == Notification.user_id)
        .where(*conditions)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        select(Notification)
        .join(User, User.id == Notification.user_id)
        .where(*conditions)
        .options(joinedload(Notification.user))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return LogPage(items=list(items), total=total, page=page, pages=pages)


# Resending ---------------------------------------------------------------------------------------


def _check_coordinator(actor: User | None) -> None:
    if actor is None or not actor.is_coordinator:
        raise NotAllowed(_l("Only coordinators can send notifications again."))


def resend_notification(actor: User, notification: Notification) -> None:
    """Put a failed notification back to be sent: pending, no attempts, due now; logged. The
    caller dispatches it once the transaction is committed."""
    _check_coordinator(actor)
    if notification.status != NotificationStatus.FAILED:
        raise ActionError(_l("Only failed messages can be sent again."))
    record_activity(
        actor,
        notification,
        "notification.resend",
        from_state=NotificationStatus.FAILED,
        to_state=NotificationStatus.PENDING,
        data={"attempts": notification.attempts, "error": (notification.last_error or "")[:500]},
    )
    notification.status = NotificationStatus.PENDING
    notification.attempts = 0
    notification.claimed_at = None
    notification.next_attempt_at = utcnow()
    db.session.flush()


@dataclass
class ResendPlan:
    """Which of the chosen notifications a bulk resend will send again, and which it skips."""

    allowed: list[Notification] = field(default_factory=list)
    skipped: list[Notification] = field(default_factory=list)


def plan_bulk_resend(notification_ids: list[int]) -> ResendPlan:
    """Sort the chosen notifications into failed ones (sent again) and the others. Changes
    nothing."""
    ids = list(dict.fromkeys(notification_ids))
    if not ids:
        raise ActionError(_l("Choose at least one message."), field="notification_ids")
    found = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .options(joinedload(Notification.user))
        .order_by(Notification.id)
    ).all()
    plan = ResendPlan()
    for notification in found:
        failed = notification.status == NotificationStatus.FAILED
        (plan.allowed if failed else plan.skipped).append(notification)
    return plan


def resend_notifications(actor: User, notification_ids: list[int]) -> list[int]:
    """Send again every chosen notification that is still failed; returns their ids, which the
    caller dispatches after the commit. Those no longer failed (sent again meanwhile) are left."""
    _check_coordinator(actor)
    plan = plan_bulk_resend(notification_ids)
    for notification in plan.allowed:
        resend_notification(actor, notification)
    return [notification.id for notification in plan.allowed]
