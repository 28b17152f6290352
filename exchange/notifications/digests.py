"""Periodic e-mails: the digest of newly published practices and ideas, and the notice that a
project idea closes to new partners soon.

Both run from beat and must be safe when beat fires twice, or when two beats run by mistake:
- a digest is one `DigestRun` row per person and period, inserted in the transaction that queues
  the digest: the unique key lets one of two concurrent runs write it, the other finds the row
  taken and sends nothing;
- the closing notice is queued once per idea and closing date: the ideas are locked while the
  notices already written are checked (PostgreSQL; SQLite lets one writer in at a time).

This module reads practices, ideas and authorities, so it sits above them; the low-level
notification package (models, services, kinds) never imports it.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import exists, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from exchange.auth.models import DigestFrequency, User
from exchange.authorities.models import authority_theme
from exchange.catalogue.services import listed_condition
from exchange.database import utcnow
from exchange.extensions import db
from exchange.i18n import localized
from exchange.notifications.kinds import NotificationKind
from exchange.notifications.models import DigestRun, Notification
from exchange.notifications.preferences import CLOSING_SOON_KIND, DIGEST_KIND, preferences_url
from exchange.notifications.services import queue_notification
from exchange.submissions.models import (
    CoOwner,
    CoOwnerStatus,
    Revision,
    Submission,
    revision_theme,
)
from exchange.submissions.urls import item_edit_url, item_url
from exchange.workflow import KIND_LABELS, Kind, State

log = logging.getLogger(__name__)

PERIOD_LENGTH = {
    DigestFrequency.DAILY: timedelta(days=1),
    DigestFrequency.WEEKLY: timedelta(days=7),
}


# Digests -----------------------------------------------------------------------------------------


def period_start(frequency: DigestFrequency, now: datetime) -> date:
    """The first day of the period `now` falls in: the day itself, or the Monday of its week
    (UTC). Two runs in the same period share it, and so the same DigestRun key."""
    day = now.date()
    if frequency == DigestFrequency.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day


def _owned_ids(authority_id: int):
    """The items an authority owns or co-owns (an idea)."""
    return union(
        select(Submission.id).where(Submission.authority_id == authority_id),
        select(CoOwner.submission_id).where(
            CoOwner.authority_id == authority_id, CoOwner.status == CoOwnerStatus.ACCEPTED
        ),
    )


def authority_theme_ids(authority_id: int) -> set[int]:
    """The themes an authority works on: those of its profile and those of its own items (the
    version being written and the published one)."""

    profile = select(authority_theme.c.theme_id).where(
        authority_theme.c.authority_id == authority_id
    )
    revisions = select(Submission.working_revision_id, Submission.published_revision_id).where(
        Submission.id.in_(_owned_ids(authority_id)), Submission.state != State.REJECTED
    )
    revision_ids = {rid for row in db.session.execute(revisions) for rid in row if rid}
    items = select(revision_theme.c.theme_id).where(revision_theme.c.revision_id.in_(revision_ids))
    return set(db.session.scalars(profile)) | (
        set(db.session.scalars(items)) if revision_ids else set()
    )


def new_items(
    authority_id: int, since: datetime, until: datetime, theme_ids: set[int] | None = None
) -> list[int]:
    """Public practices and ideas first published in [since, until), in the authority's themes
    (`theme_ids`, when the caller has them already) and not its own, newest first."""
    if theme_ids is None:
        theme_ids = authority_theme_ids(authority_id)
    if not theme_ids:
        return []
    in_themes = exists(
        select(revision_theme.c.theme_id).where(
            revision_theme.c.revision_id == Submission.published_revision_id,
            revision_theme.c.theme_id.in_(theme_ids),
        )
    )
    return list(
        db.session.scalars(
            select(Submission.id)
            .where(
                listed_condition(),
                Submission.first_published_at >= since,
                Submission.first_published_at < until,
                in_themes,
                Submission.id.not_in(_owned_ids(authority_id)),
            )
            .order_by(Submission.first_published_at.desc(), Submission.id.desc())
        )
    )


def write_digest(
    user: User, frequency: DigestFrequency, now: datetime, theme_ids: set[int] | None = None
) -> DigestRun:
    """Record this period's digest for `user` and, if anything is new, queue it.

    The DigestRun row is flushed first: if this period's row exists already (beat fired twice,
    two beats), the flush raises IntegrityError before anything is queued, and the caller rolls
    back. The digest covers what was published since the person's last digest (or, for a first
    digest, one period back).
    """
    previous = db.session.scalar(
        select(DigestRun.created_at)
        .where(DigestRun.user_id == user.id)
        .order_by(DigestRun.created_at.desc())
        .limit(1)
    )
    run = DigestRun(
        user_id=user.id,
        frequency=frequency.value,
        period_start=period_start(frequency, now),
        created_at=now,
        items=0,
    )
    db.session.add(run)
    db.session.flush()  # the unique key decides here, before anything is queued
    since = previous or now - PERIOD_LENGTH[frequency]
    ids = new_items(user.authority_id, since, now, theme_ids)
    run.items = len(ids)
    if ids:
        shown = ids[: current_app.config["DIGEST_MAX_ITEMS"]]
        notification = queue_notification(
            user, DIGEST_KIND, submission_ids=shown, total=len(ids), frequency=frequency.value
        )
        db.session.flush()
        run.notification_id = notification.id
    db.session.flush()
    return run


@dataclass(frozen=True)
class DigestOutcome:
    people: int  # people whose digest this run wrote (sent or, with nothing new, not)
    sent: int  # digests queued
    taken: int  # people whose digest for the period was already written


def send_digests(frequency: DigestFrequency, now: datetime | None = None) -> DigestOutcome:
    """Write this period's digest of everyone who chose `frequency`.

    Each person is one transaction, committed before the next: a failure or a concurrent run
    costs at most that person's digest of this run, and a second run of the same period finds
    every row taken and sends nothing.
    """
    now = now or utcnow()
    user_ids = db.session.scalars(
        select(User.id)
        .where(
            User.digest_frequency == frequency,
            User.active.is_(True),
            User.email_confirmed_at.is_not(None),
            User.authority_id.is_not(None),
        )
        .order_by(User.id)
    ).all()
    db.session.commit()
    people = sent = taken = 0
    themes: dict[int, set[int]] = {}  # per authority: its members share them
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        if user is None:  # deleted since the list was read
            continue
        if user.authority_id not in themes:
            themes[user.authority_id] = authority_theme_ids(user.authority_id)
        try:
            run = write_digest(user, frequency, now, themes[user.authority_id])
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            taken += 1
            continue
        people += 1
        sent += run.notification_id is not None
    log.info(
        "digests written",
        extra={"frequency": frequency.value, "people": people, "sent": sent, "taken": taken},
    )
    return DigestOutcome(people=people, sent=sent, taken=taken)


@dataclass(frozen=True)
class DigestItem:
    kind: Kind
    kind_label: str
    title: str
    language: str
    summary: str
    authority: str
    country_code: str
    themes: list[str]
    url: str
    open_until: date | None


def _digest_context(notification) -> dict:
    ids = notification.payload.get("submission_ids") or []
    found = {
        submission.id: submission
        for submission in db.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids))
            .options(selectinload(Submission.published_revision).selectinload(Revision.themes))
        )
    }
    items = []
    for submission_id in ids:
        submission = found.get(submission_id)
        # Archived or closed since the digest was written: no longer worth a visit.
        if submission is None or not submission.is_public:
            continue
        revision = submission.published_revision
        items.append(
            DigestItem(
                kind=submission.kind,
                kind_label=str(KIND_LABELS[submission.kind]),
                title=revision.title,
                language=revision.language,
                summary=_shorten(revision.summary),
                authority=submission.authority.name,
                country_code=submission.authority.country_code,
                themes=[localized(theme, "label") for theme in revision.themes],
                url=item_url(submission, _external=True),
                open_until=submission.open_until,
            )
        )
    practices = [item for item in items if item.kind == Kind.PRACTICE]
    ideas = [item for item in items if item.kind == Kind.IDEA]
    total = notification.payload.get("total") or len(ids)
    return {
        "practices": practices,
        "ideas": ideas,
        "count": len(items),
        "total": total,
        "more": max(0, total - len(ids)),
        "weekly": notification.payload.get("frequency") == DigestFrequency.WEEKLY.value,
        "catalogue_url": url_for("catalogue.index", _external=True),
        "preferences_url": preferences_url(),
    }


def _shorten(text: str, length: int = 200) -> str:
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


def _digest_link(notification) -> str:
    return url_for("catalogue.index")


# Ideas closing soon ------------------------------------------------------------------------------


def _owners(submission: Submission) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.authority_id.in_(submission.owner_authority_ids()), User.active.is_(True))
            .order_by(User.id)
        )
    )


def _noticed(submission_ids: list[int]) -> set[tuple[int, str]]:
    """(idea id, closing date) of the closing notices already written for these ideas."""
    idea = Notification.payload["submission_id"].as_integer()
    rows = db.session.execute(
        select(idea, Notification.payload["open_until"].as_string()).where(
            Notification.kind == CLOSING_SOON_KIND, idea.in_(submission_ids)
        )
    )
    return {(submission_id, open_until) for submission_id, open_until in rows}


def notify_ideas_closing_soon(today: date | None = None) -> int:
    """Tell the owners of each published idea that closes to new partners within
    IDEA_CLOSING_NOTICE_DAYS days, once per idea and closing date (an idea whose date is moved
    later is told again when the new date comes near). Returns how many ideas were noticed.

    The ideas are locked first, so that a second run at the same time waits and then finds the
    notices written (PostgreSQL; skip_locked lets it go on with the others). The caller commits.
    """
    today = today or date.today()
    horizon = today + timedelta(days=current_app.config["IDEA_CLOSING_NOTICE_DAYS"])
    ideas = db.session.scalars(
        select(Submission)
        .where(
            Submission.kind == Kind.IDEA,
            Submission.state == State.PUBLISHED,
            Submission.open_until > today,
            Submission.open_until <= horizon,
        )
        .order_by(Submission.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not ideas:
        return 0
    noticed = _noticed([idea.id for idea in ideas])
    count = 0
    for idea in ideas:
        closing = idea.open_until.isoformat()
        if (idea.id, closing) in noticed:
            continue
        owners = _owners(idea)
        for person in owners:
            queue_notification(person, CLOSING_SOON_KIND, submission_id=idea.id, open_until=closing)
        count += bool(owners)
    db.session.flush()
    return count


def _closing_context(notification) -> dict:
    submission = db.session.get(Submission, notification.payload["submission_id"])
    open_until = date.fromisoformat(notification.payload["open_until"])
    return {
        "submission": submission,
        "title": submission.title,
        "open_until": open_until,
        "item_url": item_url(submission, _external=True),
        "edit_url": item_edit_url(submission, _external=True),
    }


def _closing_link(notification) -> str | None:
    submission = db.session.get(Submission, notification.payload["submission_id"])
    return item_url(submission) if submission is not None else None


KINDS = (
    NotificationKind(DIGEST_KIND, "email/notifications/digest", _digest_context, link=_digest_link),
    NotificationKind(
        CLOSING_SOON_KIND,
        "email/notifications/idea_closing_soon",
        _closing_context,
        link=_closing_link,
    ),
)
