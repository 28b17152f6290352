"""Writing notifications with the change they report, and delivering them exactly once.

The life of a notification:
1. A service calls `queue_notification` inside its transaction; the row is flushed with the
   change.
2. When that transaction commits, the ids written in it are handed to Celery (`dispatch`); if it
   rolls back, nothing is sent because nothing was written.
3. A worker runs `deliver_batch` (the ids committed together, or one id for a retry): it claims
   the rows in the database (so that a second copy of the task does nothing), renders each
   e-mail in its recipient's language, sends it, and records the outcome. Temporary SMTP
   failures are retried with backoff; permanent ones mark the row failed.
4. `sweep_notifications`, run by beat, dispatches again any row whose dispatch was lost (broker
   down, process killed) or whose claim was abandoned.
"""

import logging
import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from sqlalchemy import Connection, bindparam, event, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from exchange.config import SEND_BATCH_TASK, SEND_TASK, send_time_limit
from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.kinds import get_kind
from exchange.notifications.mail import PermanentMailError, TemporaryMailError, send_message
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.preferences import list_unsubscribe_headers

log = logging.getLogger(__name__)

_TO_DISPATCH = "exchange.notifications.to_dispatch"
_EMAIL_CONTEXT = "exchange.email_context"


def queue_notification(
    user, kind: str, *, to_address: str | None = None, **payload
) -> Notification:
    """Write one notification for `user` in the current transaction.

    It is sent only if the transaction commits. `payload` holds ids and plain values, which the
    kind's context function turns into the e-mail's variables at sending time. A kind the person
    switched off is kept for the notification centre only (SKIPPED, never dispatched); mandatory
    kinds are e-mailed whatever the person's preferences say.
    """
    definition = get_kind(kind)  # an unknown kind is a programming error: fail now
    notification = Notification(
        user=user, kind=kind, to_address=to_address or user.email, payload=payload
    )
    if not definition.mandatory and kind in (user.email_muted_kinds or []):
        notification.status = NotificationStatus.SKIPPED
    db.session.add(notification)
    return notification


# Dispatch after commit ---------------------------------------------------------------------------


def _collect_new_notifications(session, flush_context) -> None:
    ids = session.info.setdefault(_TO_DISPATCH, set())
    ids.update(
        obj.id
        for obj in session.new
        if isinstance(obj, Notification) and obj.status != NotificationStatus.SKIPPED
    )


def _dispatch_after_commit(session) -> None:
    ids = session.info.pop(_TO_DISPATCH, None)
    if ids:
        dispatch(sorted(ids))


def _forget_after_rollback(session) -> None:
    session.info.pop(_TO_DISPATCH, None)


def install_dispatch_hooks(session) -> None:
    """Hand the notifications written in a transaction to the workers once it commits."""
    for name, listener in (
        ("after_flush", _collect_new_notifications),
        ("after_commit", _dispatch_after_commit),
        ("after_rollback", _forget_after_rollback),
    ):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def dispatch(notification_ids: list[int]) -> int:
    """Publish send tasks for these ids, MAIL_BATCH_SIZE ids per task; returns how many ids
    were published.

    Publishing tries a few times quickly and then gives up, so that a broker outage never hangs
    the request: the rows are still pending and the sweep dispatches them later.
    """
    celery = current_app.extensions["celery"]
    task = celery.tasks[SEND_BATCH_TASK]
    policy = current_app.config["CELERY_PUBLISH_RETRY_POLICY"]
    size = current_app.config["MAIL_BATCH_SIZE"]
    published = 0
    try:
        # One connection for all of them.
        with celery.producer_or_acquire() as producer:
            for start in range(0, len(notification_ids), size):
                batch = list(notification_ids[start : start + size])
                task.apply_async((batch,), retry=True, retry_policy=policy, producer=producer)
                published += len(batch)
    except Exception:
        # The broker is down: the next ids would fail the same way, after the same wait.
        log.warning(
            "could not publish notifications; the sweep will retry",
            extra={"notification_ids": notification_ids[published : published + 20]},
            exc_info=True,
        )
    return published


def publish_retry(notification_id: int, countdown: float) -> bool:
    """Publish the send task for one notification to run in `countdown` seconds. False if the
    broker refused: the row stays pending (or claimed) and the sweep takes it up."""
    celery = current_app.extensions["celery"]
    try:
        celery.tasks[SEND_TASK].apply_async(
            (notification_id,),
            countdown=countdown,
            retry=True,
            retry_policy=current_app.config["CELERY_PUBLISH_RETRY_POLICY"],
        )
    except Exception:
        log.warning(
            "could not publish a retry; the sweep will take it up",
            extra={"notification_id": notification_id},
            exc_info=True,
        )
        return False
    return True


# Rendering ---------------------------------------------------------------------------------------


def _render_block(template_name: str, block: str, context: dict) -> str:
    template = current_app.jinja_env.get_template(template_name)
    return "".join(template.blocks[block](template.new_context(context))).strip()


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@contextmanager
def email_context() -> Iterator[None]:
    """A request context to render e-mails in: `url_for` gives absolute links to BASE_URL, not
    to whatever host a web request came in on. One serves a whole batch of messages."""
    if has_request_context() and request.environ.get(_EMAIL_CONTEXT):
        yield
        return
    with current_app.test_request_context(
        "/", base_url=current_app.config["BASE_URL"], environ_overrides={_EMAIL_CONTEXT: True}
    ):
        yield


def render_notification(notification: Notification) -> RenderedEmail:
    """The notification's subject, text and HTML in the recipient's language, links absolute."""
    kind = get_kind(notification.kind)
    language = notification.user.language or "en"
    with email_context(), force_locale(language):
        context = {
            "notification": notification,
            "recipient": notification.user,
            "payload": notification.payload,
            "base_url": current_app.config["BASE_URL"],
            **kind.context(notification),
        }
        current_app.update_template_context(context)
        environment = current_app.jinja_env
        subject = _render_block(f"{kind.template}.txt", "subject", context)
        text = environment.get_template(f"{kind.template}.txt").render(context)
        html = environment.get_template(f"{kind.template}.html").render(context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def _header(value: str) -> str | Header:
    """A header value as is when it is ASCII, else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8")


class _Policy(Compat32):
    """compat32, without the cost of folding a header that needs no folding.

    compat32 runs every header through email.header.Header, even an ASCII one that fits on its
    line as it is, and a message has fifteen of them; such a header is written as is here,
    which is what Header would have written. Anything else is folded as compat32 folds it.
    """

    def _fits(self, name: str, value) -> bool:
        return (
            isinstance(value, str)
            and value.isascii()
            and "\n" not in value
            and "\r" not in value
            and value == value.strip()
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
        )

    def fold(self, name, value):
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if self._fits(name, value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _Policy()


class _Unfolded:
    """A header value written as is, on one line. The classic MIME classes would fold a long
    List-Unsubscribe URL onto a second line; mail clients should get it whole (RFC 5322 allows
    998 characters). Anything not a str is taken for a Header, whose encode() writes it."""

    def __init__(self, value: str):
        self.value = value

    def encode(self, linesep: str = "\n", maxlinelen: int | None = None) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value


def build_message(notification: Notification, rendered: RenderedEmail) -> MIMEMultipart:
    """The e-mail: a text and an HTML part, in the recipient's language.

    Built with the classic MIME classes (the compat32 policy): they write the same message as
    EmailMessage for a third of the CPU, which counts when a worker sends thousands.
    """
    config = current_app.config
    host = urlsplit(config["BASE_URL"]).hostname or "exchange.localhost"
    language = notification.user.language or "en"
    # A boundary of our own: "=_" never occurs in base64, so the generator need not search the
    # parts for it.
    message = MIMEMultipart("alternative", boundary=f"=_{secrets.token_hex(16)}", policy=_POLICY)
    message["Subject"] = _header(rendered.subject)
    message["From"] = config["MAIL_FROM"]
    message["To"] = formataddr((notification.user.name, notification.to_address), "utf-8")
    message["Date"] = formatdate(localtime=False)
    # Stable per notification: should a message ever go out twice, mail systems see one.
    message["Message-ID"] = f"<notification.{notification.id}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = language
    # One-click unsubscribe for the kinds a person may switch off (never on mandatory ones).
    for name, value in list_unsubscribe_headers(notification):
        message[name] = _Unfolded(value)
    message.attach(MIMEText(rendered.text, "plain", "utf-8", policy=_POLICY))
    message.attach(MIMEText(rendered.html, "html", "utf-8", policy=_POLICY))
    return message


# Delivery ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "failed", "retry", "busy" or "skipped"
    retry_in: float | None = None


def _retry_delay(attempts: int) -> float:
    """Exponential backoff, capped, with jitter so that the messages held up by one outage do
    not all come back at the same moment. The cap stays below the broker's visibility timeout
    (checked when the settings load)."""
    config = current_app.config
    delay = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    delay = min(delay, config["MAIL_RETRY_MAX_SECONDS"])
    return delay * random.uniform(0.5, 1.0)  # noqa: S311  # nosec B311  # jitter, not security


def _claim(connection: Connection, notification_ids: list[int], now: datetime) -> set[int]:
    """Take these rows for this worker; returns the ids taken. A row that is sent, failed, or
    held by another worker is not taken.

    One UPDATE for the whole batch, committed before anything is sent: of any number of copies
    of a task running at once, exactly one takes each row. A claim older than
    MAIL_CLAIM_TIMEOUT_SECONDS belongs to a worker that died (a live send is stopped before, by
    the task's time limit) and can be taken over.
    """
    stale = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    table = Notification.__table__
    # Plain Core statements here and below: they run for every message, the ORM's bookkeeping
    # is not needed.
    result = connection.execute(
        update(table)
        .where(
            table.c.id.in_(notification_ids),
            or_(
                table.c.status == NotificationStatus.PENDING,
                (table.c.status == NotificationStatus.SENDING) & (table.c.claimed_at < stale),
            ),
        )
        .values(status=NotificationStatus.SENDING, claimed_at=now, attempts=table.c.attempts + 1)
        .returning(table.c.id)
    )
    return set(result.scalars())


def _release(connection: Connection, notification_ids: list[int], claimed_at: datetime) -> None:
    """Give back rows this worker claimed (at `claimed_at`) but did not try, as they were."""
    table = Notification.__table__
    connection.execute(
        update(table)
        .where(
            table.c.id.in_(notification_ids),
            table.c.status == NotificationStatus.SENDING,
            table.c.claimed_at == claimed_at,
        )
        .values(status=NotificationStatus.PENDING, claimed_at=None, attempts=table.c.attempts - 1)
    )


def _record(connection: Connection, notification_id: int, **values) -> None:
    table = Notification.__table__
    connection.execute(update(table).where(table.c.id == notification_id).values(**values))


def _sent_statement():
    table = Notification.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("notification_id"))
        .values(
            status=NotificationStatus.SENT,
            sent_at=bindparam("sent_at"),
            last_error=None,
            subject=bindparam("subject"),
        )
    )


_SENT = _sent_statement()


def _record_sent(connection: Connection, notification_id: int, subject: str) -> None:
    """Mark the row sent. Between the server's 250 and this statement's commit lies the one
    moment where a worker killed outright makes a message go out twice (SMTP has no two-phase
    commit), so it is kept short: one statement built once, committed on its own."""
    connection.execute(
        _SENT, {"notification_id": notification_id, "sent_at": utcnow(), "subject": subject}
    )


def _claim_expires_in(connection: Connection, notification_id: int) -> float | None:
    """Seconds until another worker's claim on the row goes stale; None if nobody holds it."""
    table = Notification.__table__
    row = connection.execute(
        select(table.c.status, table.c.claimed_at).where(table.c.id == notification_id)
    ).one_or_none()
    if row is None or row.status != NotificationStatus.SENDING or row.claimed_at is None:
        return None
    timeout = current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"]
    return max((row.claimed_at - utcnow()).total_seconds() + timeout, 0.0)


def _not_claimed(connection: Connection, notification_id: int, redelivered: bool):
    """What to do with a row that was not ours to take.

    Usually nothing ("skipped": sent, failed, or being sent by another copy of the task). But
    when the broker says the message is a redelivery, the worker that claimed the row may have
    died (a killed pool process has its message given back at once): it comes back when that
    claim goes stale ("busy") and takes the row over if nobody finished it.
    """
    expires_in = _claim_expires_in(connection, notification_id) if redelivered else None
    if expires_in is not None:
        return DeliveryOutcome("busy", retry_in=expires_in + 0.5)
    return DeliveryOutcome("skipped")


def _fail(connection: Connection, notification_id: int, error: str) -> DeliveryOutcome:
    _record(connection, notification_id, status=NotificationStatus.FAILED, last_error=error[:2000])
    log.warning("notification failed", extra={"notification_id": notification_id})
    return DeliveryOutcome("failed")


class _SentButNotRecorded(Exception):
    """The server took the message, then the database failed to record it."""


def _send(connection: Connection, notification: Notification, claimed_at: datetime):
    """Render and send one notification this worker has claimed, and record the outcome."""
    config = current_app.config
    max_attempts = config["MAIL_MAX_ATTEMPTS"]
    if notification.attempts > max_attempts:
        # Taken over again and again from workers that died while sending it (a message that
        # kills its worker, say): stop rather than loop.
        return _fail(
            connection,
            notification.id,
            f"gave up after {max_attempts} attempts: the worker sending it stopped",
        )
    try:
        rendered = render_notification(notification)
        message = build_message(notification, rendered)
    except SQLAlchemyError:
        # The database failed while the e-mail's content was read: not the notification's
        # fault. Given back, to be tried again.
        _release(connection, [notification.id], claimed_at)
        raise
    except Exception as exc:
        # A bug in rendering will not mend itself by retrying; the row shows what went wrong.
        log.exception(
            "notification could not be rendered", extra={"notification_id": notification.id}
        )
        return _fail(connection, notification.id, f"{type(exc).__name__}: {exc}")
    try:
        send_message(config, message, [notification.to_address])
    except TemporaryMailError as exc:
        if notification.attempts >= max_attempts:
            return _fail(
                connection,
                notification.id,
                f"gave up after {notification.attempts} attempts: {exc}",
            )
        delay = _retry_delay(notification.attempts)
        _record(
            connection,
            notification.id,
            status=NotificationStatus.PENDING,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            last_error=str(exc)[:2000],
        )
        log.info("temporary mail failure, will retry", extra={"notification_id": notification.id})
        return DeliveryOutcome("retry", retry_in=delay)
    except PermanentMailError as exc:
        return _fail(connection, notification.id, str(exc))
    try:
        _record_sent(connection, notification.id, rendered.subject[:300])
    except SQLAlchemyError as exc:
        raise _SentButNotRecorded from exc
    log.info("notification sent", extra={"notification_id": notification.id})
    return DeliveryOutcome("sent")


def _deliver(
    notification_ids: list[int], *, redelivered: bool, budget: float | None
) -> list[tuple[int, DeliveryOutcome]]:
    """Claim the rows, then send each claimed one; the outcome for each id.

    Each statement commits on its own (autocommit): the claim must be committed before anything
    is sent, and each outcome is recorded as soon as it is known, so that a worker killed
    mid-batch leaves every message it sent marked sent. After `budget` seconds the rows not yet
    tried are given back and handed to the broker as a new batch ("handed_back").
    """
    started = time.monotonic()
    db.session.commit()
    connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    claimed_at = utcnow()
    claimed = _claim(connection, notification_ids, claimed_at)
    results = [
        (notification_id, _not_claimed(connection, notification_id, redelivered))
        for notification_id in notification_ids
        if notification_id not in claimed
    ]
    ours = [notification_id for notification_id in notification_ids if notification_id in claimed]
    notifications = {}
    if ours:
        notifications = {
            notification.id: notification
            for notification in db.session.scalars(
                select(Notification)
                .where(Notification.id.in_(ours))
                .options(joinedload(Notification.user))
                .execution_options(populate_existing=True)
            )
        }
    with email_context():
        for position, notification_id in enumerate(ours):
            if budget is not None and position and time.monotonic() - started > budget:
                rest = ours[position:]
                _release(connection, rest, claimed_at)
                dispatch(rest)
                results.extend((i, DeliveryOutcome("handed_back")) for i in rest)
                break
            try:
                outcome = _send(connection, notifications[notification_id], claimed_at)
            except _SentButNotRecorded:
                # Out of our hands: the row stays claimed, and the sweep would take it up again
                # once the claim is stale (the Message-ID is the same, for mail systems that
                # notice).
                log.exception(
                    "notification sent but not recorded", extra={"notification_id": notification_id}
                )
                outcome = DeliveryOutcome("sent")
                connection = _reconnect()
            except Exception:
                # The database failed us (a lock, a lost connection): not a reason to leave the
                # rest of the batch behind. This one is tried again on its own; should that
                # publish fail too, the sweep takes it up.
                log.exception(
                    "notification could not be delivered",
                    extra={"notification_id": notification_id},
                )
                outcome = DeliveryOutcome(
                    "retry", retry_in=current_app.config["MAIL_RETRY_BASE_SECONDS"]
                )
                connection = _reconnect()
            results.append((notification_id, outcome))
    db.session.commit()
    return results


def _reconnect() -> Connection:
    db.session.rollback()
    return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def deliver_notification(notification_id: int, *, redelivered: bool = False) -> DeliveryOutcome:
    """Send the notification unless it was already sent, failed, or is being sent elsewhere.

    Safe to run any number of times for the same id: the database claim lets one run send.
    A copy that finds the row claimed does nothing ("skipped"), unless the broker says it is a
    redelivery and the claim may be a dead worker's ("busy": see _not_claimed).
    """
    ((_, outcome),) = _deliver([notification_id], redelivered=redelivered, budget=None)
    return outcome


def deliver_batch(notification_ids: list[int], *, redelivered: bool = False) -> dict[str, int]:
    """Deliver each notification of a batch (see deliver_notification); those to try again
    later get a task of their own with its countdown. Returns the count of each outcome.

    A batch that runs long (a slow SMTP server) stops taking new rows after a third of the send
    time limit and hands the rest back to the broker as a new batch, so that the limit only
    ever stops a worker that is stuck.
    """
    budget = send_time_limit(current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"]) / 3
    outcomes: dict[str, int] = {}
    for notification_id, outcome in _deliver(
        list(notification_ids), redelivered=redelivered, budget=budget
    ):
        outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
        if outcome.status in {"retry", "busy"}:
            publish_retry(notification_id, outcome.retry_in)
    return outcomes


def sweep_notifications(limit: int = 1000) -> int:
    """Dispatch again every row whose dispatch was lost or whose worker vanished.

    That is a pending row due for longer than MAIL_SWEEP_GRACE_SECONDS (its task was never
    published, or the broker lost it: a Redis restarted without persistence loses its queues),
    and a row claimed longer than MAIL_CLAIM_TIMEOUT_SECONDS ago by a worker that never finished.
    A copy that the broker did keep does no harm: the claim lets one copy send.

    Each pending row it picks gets a fresh `next_attempt_at`, so a queue that is merely slow is
    not flooded with copies at every sweep. Works in batches of `limit` until no row is due or
    the broker refuses. Returns how many rows were dispatched.
    """
    config = current_app.config
    dispatched = 0
    last_id = 0
    while True:
        now = utcnow()
        due = now - timedelta(seconds=config["MAIL_SWEEP_GRACE_SECONDS"])
        stale = now - timedelta(seconds=config["MAIL_CLAIM_TIMEOUT_SECONDS"])
        ids = db.session.scalars(
            select(Notification.id)
            .where(
                Notification.id > last_id,
                or_(
                    (Notification.status == NotificationStatus.PENDING)
                    & (Notification.next_attempt_at <= due),
                    (Notification.status == NotificationStatus.SENDING)
                    & (Notification.claimed_at < stale),
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        if not ids:
            return dispatched
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == NotificationStatus.PENDING)
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        published = dispatch(ids)
        dispatched += published
        if published < len(ids) or len(ids) < limit:
            return dispatched
        last_id = ids[-1]
