"""Writing notifications with the change they report, and delivering them exactly once.

The life of a notification:
1. A service calls `queue_notification` inside its transaction; the row is flushed with the
   change.
2. When that transaction commits, the ids written in it are handed to Celery (`dispatch`); if it
   rolls back, nothing is sent because nothing was written.
3. A worker runs `deliver_notification`: it claims the row in the database (so that a second
   copy of the task does nothing), renders the e-mail in the recipient's language, sends it, and
   records the outcome. Temporary SMTP failures are retried with backoff; permanent ones mark the
   row failed.
4. `sweep_notifications`, run by beat, dispatches again any row whose dispatch was lost (broker
   down, process killed) or whose claim was abandoned.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, or_, select, update
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


def render_notification(notification: Notification) -> RenderedEmail:
    """The notification's subject, text and HTML in the recipient's language, links absolute."""
    kind = get_kind(notification.kind)
    language = notification.user.language or "en"
    base_url = current_app.config["BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url), force_locale(language):
        context = {
            "notification": notification,
            "recipient": notification.user,
            "payload": notification.payload,
            "base_url": base_url,
            **kind.context(notification),
        }
        current_app.update_template_context(context)
        subject = _render_block(f"{kind.template}.txt", "subject", context)
        text = render_template(f"{kind.template}.txt", **context)
        html = render_template(f"{kind.template}.html", **context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def _header(value: str) -> str | Header:
    """A header value as is when it is ASCII, else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8")


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
    message = MIMEMultipart("alternative")
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
    message.attach(MIMEText(rendered.text, "plain", "utf-8"))
    message.attach(MIMEText(rendered.html, "html", "utf-8"))
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


def _claim(notification_id: int) -> bool:
    """Take the row for this worker; False if it is sent, failed, or another worker has it.

    One UPDATE, committed before anything is sent: of any number of copies of the task running
    at once, exactly one matches the row. A claim older than MAIL_CLAIM_TIMEOUT_SECONDS belongs
    to a worker that died (a live send is stopped before, by the task's time limit) and can be
    taken over.
    """
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    table = Notification.__table__
    # A plain Core statement: this runs for every message, the ORM's bookkeeping is not needed.
    result = db.session.connection().execute(
        update(table)
        .where(
            table.c.id == notification_id,
            or_(
                table.c.status == NotificationStatus.PENDING,
                (table.c.status == NotificationStatus.SENDING) & (table.c.claimed_at < stale),
            ),
        )
        .values(status=NotificationStatus.SENDING, claimed_at=now, attempts=table.c.attempts + 1)
    )
    return result.rowcount == 1


def _claim_expires_in(notification_id: int) -> float | None:
    """Seconds until another worker's claim on the row goes stale; None if nobody holds it."""
    row = db.session.execute(
        select(Notification.status, Notification.claimed_at).where(
            Notification.id == notification_id
        )
    ).one_or_none()
    db.session.rollback()
    if row is None or row.status != NotificationStatus.SENDING or row.claimed_at is None:
        return None
    timeout = current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"]
    return max((row.claimed_at - utcnow()).total_seconds() + timeout, 0.0)


def deliver_notification(notification_id: int, *, redelivered: bool = False) -> DeliveryOutcome:
    """Send the notification unless it was already sent, failed, or is being sent elsewhere.

    Safe to run any number of times for the same id: the database claim lets one run send.
    A copy that finds the row claimed does nothing ("skipped"), unless the broker says it is a
    redelivery: then the worker that claimed it may have died (a killed pool process has its
    message given back at once), so it comes back when that claim goes stale ("busy") and
    takes the row over if nobody finished it.
    """
    # Each statement of a delivery commits on its own: the claim must be committed before
    # anything is sent, and the outcome is one UPDATE. Three statements, not three transactions.
    db.session.commit()
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    if not _claim(notification_id):
        expires_in = _claim_expires_in(notification_id) if redelivered else None
        if expires_in is not None:
            return DeliveryOutcome("busy", retry_in=expires_in + 0.5)
        return DeliveryOutcome("skipped")
    notification = db.session.get(
        Notification,
        notification_id,
        options=[joinedload(Notification.user)],
        populate_existing=True,
    )
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    if notification.attempts > max_attempts:
        # Taken over again and again from workers that died while sending it (a message that
        # kills its worker, say): stop rather than loop.
        _fail(notification, f"gave up after {max_attempts} attempts: the worker sending it stopped")
        return DeliveryOutcome("failed")
    try:
        rendered = render_notification(notification)
        notification.subject = rendered.subject[:300]
        send_message(current_app.config, build_message(notification, rendered))
    except TemporaryMailError as exc:
        if notification.attempts >= max_attempts:
            _fail(notification, f"gave up after {notification.attempts} attempts: {exc}")
            return DeliveryOutcome("failed")
        delay = _retry_delay(notification.attempts)
        notification.status = NotificationStatus.PENDING
        notification.next_attempt_at = utcnow() + timedelta(seconds=delay)
        notification.last_error = str(exc)[:2000]
        db.session.commit()
        log.info("temporary mail failure, will retry", extra={"notification_id": notification_id})
        return DeliveryOutcome("retry", retry_in=delay)
    except PermanentMailError as exc:
        _fail(notification, str(exc))
        return DeliveryOutcome("failed")
    except Exception as exc:
        # A bug in rendering will not mend itself by retrying; the row shows what went wrong.
        log.exception(
            "notification could not be rendered", extra={"notification_id": notification_id}
        )
        db.session.rollback()
        notification = db.session.get(Notification, notification_id)
        _fail(notification, f"{type(exc).__name__}: {exc}")
        return DeliveryOutcome("failed")
    table = Notification.__table__
    db.session.connection().execute(
        update(table)
        .where(table.c.id == notification_id)
        .values(
            status=NotificationStatus.SENT,
            sent_at=utcnow(),
            last_error=None,
            subject=notification.subject,
        )
    )
    db.session.expunge(notification)  # its in-memory state is behind the row now
    db.session.commit()
    log.info("notification sent", extra={"notification_id": notification_id})
    return DeliveryOutcome("sent")


def deliver_batch(notification_ids: list[int], *, redelivered: bool = False) -> dict[str, int]:
    """Deliver each notification of a batch (see deliver_notification); those to try again
    later get a task of their own with its countdown. Returns the count of each outcome.

    A batch that runs long (a slow SMTP server) stops taking new rows after a third of the send
    time limit and hands the rest back to the broker as a new batch, so that the limit only
    ever stops a worker that is stuck.
    """
    config = current_app.config
    budget = send_time_limit(config["MAIL_CLAIM_TIMEOUT_SECONDS"]) / 3
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    for position, notification_id in enumerate(notification_ids):
        if position and time.monotonic() - started > budget:
            rest = list(notification_ids[position:])
            outcomes["handed_back"] = dispatch(rest)
            break
        try:
            outcome = deliver_notification(notification_id, redelivered=redelivered)
        except Exception:
            # The database failed us (a lock, a lost connection): not a reason to leave the
            # rest of the batch behind. This one is tried again on its own; should that publish
            # fail too, the sweep takes it up.
            log.exception(
                "notification could not be delivered", extra={"notification_id": notification_id}
            )
            db.session.rollback()
            outcome = DeliveryOutcome("retry", retry_in=config["MAIL_RETRY_BASE_SECONDS"])
        outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
        if outcome.status in {"retry", "busy"}:
            publish_retry(notification_id, outcome.retry_in)
    return outcomes


def _fail(notification: Notification, error: str) -> None:
    notification.status = NotificationStatus.FAILED
    notification.last_error = error[:2000]
    db.session.commit()
    log.warning("notification failed", extra={"notification_id": notification.id})


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
