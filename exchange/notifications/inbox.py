"""The notification centre: every notification of a person, in words, with read marks.

Every notification written for a person shows here, whether it was e-mailed, is still on its
way, or was kept in-app only because the person switched that kind of e-mail off.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from exchange.auth.models import User
from exchange.database import utcnow
from exchange.errors import NotAllowed
from exchange.extensions import db
from exchange.notifications.kinds import get_kind
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.preferences import kind_label

log = logging.getLogger(__name__)

PAGE_SIZE = 25

# Where a notification leads when its kind does not say (`NotificationKind.link`): the first of
# these links that the kind's e-mail has. Some kinds name their own.
LINK_KEYS = ("item_url", "match_url", "members_url", "authority_url", "account_url")
LINK_KEY_OF_KIND = {
    "authorities.rejected": "edit_url",
    "authorities.join_rejected": "account_url",
}


@dataclass(frozen=True)
class Entry:
    """One line of the centre."""

    id: int
    kind: str
    label: str
    subject: str
    link: str | None
    created_at: datetime
    read: bool
    emailed: bool  # False: kept in-app only, by the person's choice


@dataclass(frozen=True)
class InboxPage:
    entries: list[Entry]
    total: int
    unread: int
    page: int
    pages: int


def unread_count(user: User) -> int:
    """How many of the person's notifications they have not marked read."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def safe_unread_count(user) -> int | None:
    """For the page header: None (no badge) rather than an error page about the error page."""
    if not (user and user.is_authenticated):
        return None
    try:
        return unread_count(user)
    except SQLAlchemyError:
        log.warning("could not count unread notifications", exc_info=True)
        return None


def _subject(notification: Notification, kind, context: dict) -> str:
    """The subject the e-mail has (or would have), in the reader's language."""
    template = current_app.jinja_env.get_template(f"{kind.template}.txt")
    full = {
        "notification": notification,
        "recipient": notification.user,
        "payload": notification.payload,
        "base_url": current_app.config["BASE_URL"],
        **context,
    }
    current_app.update_template_context(full)
    text = "".join(template.blocks["subject"](template.new_context(full)))
    return " ".join(text.split())


def describe(notification: Notification) -> Entry:
    """The notification in words: its kind, its subject and the page it is about.

    The subject and the link come from the kind's e-mail context, read now: a notification
    about something since deleted still shows, with its stored subject and no link.
    """
    subject, link = notification.subject, None
    try:
        kind = get_kind(notification.kind)
        if kind.link is not None:
            link = kind.link(notification)
        context = kind.context(notification)
        if kind.link is None:
            key = LINK_KEY_OF_KIND.get(kind.name)
            keys = (key,) if key else LINK_KEYS
            link = next((context[k] for k in keys if context.get(k)), None)
        if link is None and kind.mandatory:
            link = url_for("auth.account")
        # A subject stored at sending is the one the person received: keep it.
        subject = subject or _subject(notification, kind, context)
    except Exception:
        # One notification about a deleted item must not take the whole centre down.
        log.warning(
            "notification could not be described",
            extra={"notification_id": notification.id},
            exc_info=True,
        )
    return Entry(
        id=notification.id,
        kind=notification.kind,
        label=kind_label(notification.kind),
        subject=subject or kind_label(notification.kind),
        link=link,
        created_at=notification.created_at,
        read=notification.read_at is not None,
        emailed=notification.status != NotificationStatus.SKIPPED,
    )


def inbox(user: User, page: int = 1, unread_only: bool = False) -> InboxPage:
    """One page of the person's notifications, newest first."""
    conditions = [Notification.user_id == user.id]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(Notification).where(*conditions))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        select(Notification)
        .where(*conditions)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return InboxPage(
        entries=[describe(row) for row in rows],
        total=total,
        unread=unread_count(user),
        page=page,
        pages=pages,
    )


def mark_read(actor: User, notification: Notification) -> None:
    """Mark one of the actor's own notifications read (again: nothing changes)."""
    if notification.user_id != actor.id:
        raise NotAllowed(_l("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.flush()


def mark_all_read(actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
