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
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, or_, select, update

from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.kinds import get_kind
from exchange.notifications.mail import PermanentMailError, TemporaryMailError, send_message
from exchange.notifications.models import Notification, NotificationStatus

log = logging.getLogger(__name__)

_TO_DISPATCH = "exchange.notifications.to_dispatch"
SEND_TASK = "exchange.notifications.tasks.send_notification"


def queue_notification(
    user, kind: str, *, to_address: str | None = None, **payload
) -> Notification:
    """Write one notification for `user` in the current transaction.

    It is sent only if the transaction commits. `payload` holds ids and plain values, which the
    kind's context function turns into the e-mail's variables at sending time.
    """
    get_kind(kind)  # an unknown kind is a programming error: fail now, not in the worker
    notification = Notification(
        user=user, kind=kind, to_address=to_address or user.email, payload=payload
    )
    db.session.add(notification)
    return notification


# Dispatch after commit ---------------------------------------------------------------------------


def _collect_new_notifications(session, flush_context) -> None:
    ids = session.info.setdefault(_TO_DISPATCH, set())
    ids.update(obj.id for obj in session.new if isinstance(obj, Notification))


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
    """Publish a send task per id; returns how many were published.

    Publishing tries a few times quickly and then gives up, so that a broker outage never hangs
    the request: the rows are still pending and the sweep dispatches them later.
    """
    celery = current_app.extensions["celery"]
    task = celery.tasks[SEND_TASK]
    policy = current_app.config["CELERY_PUBLISH_RETRY_POLICY"]
    published = 0
    for notification_id in notification_ids:
        try:
            task.apply_async((notification_id,), retry=True, retry_policy=policy)
        except Exception:
            log.warning(
                "could not publish notification; the sweep will retry",
                extra={"notification_id": notification_id},
                exc_info=True,
            )
            # The broker is down: the next ids would fail the same way, after the same wait.
            break
        published += 1
    return published


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


def build_message(notification: Notification, rendered: RenderedEmail) -> EmailMessage:
    config = current_app.config
    host = urlsplit(config["BASE_URL"]).hostname or "exchange.localhost"
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(display_name=notification.user.name, addr_spec=notification.to_address)
    message["Date"] = formatdate(localtime=False)
    # Stable per notification: should a message ever go out twice, mail systems see one.
    message["Message-ID"] = f"<notification.{notification.id}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    # After the parts: setting the content clears the Content-* headers.
    message["Content-Language"] = notification.user.language or "en"
    return message


# Delivery ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "failed", "retry" or "skipped"
    retry_in: float | None = None


def _retry_delay(attempts: int) -> float:
    config = current_app.config
    delay = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    return min(delay, config["MAIL_RETRY_MAX_SECONDS"])


def _claim(notification_id: int) -> bool:
    """Take the row for this worker; False if it is sent, failed, or another worker has it."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            or_(
                Notification.status == NotificationStatus.PENDING,
                (Notification.status == NotificationStatus.SENDING)
                & (Notification.claimed_at < stale),
            ),
        )
        .values(
            status=NotificationStatus.SENDING,
            claimed_at=now,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver_notification(notification_id: int) -> DeliveryOutcome:
    """Send the notification unless it was already sent, failed, or is being sent elsewhere.

    Safe to run any number of times for the same id: the database claim lets one run send.
    """
    if not _claim(notification_id):
        return DeliveryOutcome("skipped")
    notification = db.session.get(Notification, notification_id)
    try:
        rendered = render_notification(notification)
        notification.subject = rendered.subject[:300]
        send_message(current_app.config, build_message(notification, rendered))
    except TemporaryMailError as exc:
        if notification.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
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
    notification.status = NotificationStatus.SENT
    notification.sent_at = utcnow()
    notification.last_error = None
    db.session.commit()
    log.info("notification sent", extra={"notification_id": notification_id})
    return DeliveryOutcome("sent")


def _fail(notification: Notification, error: str) -> None:
    notification.status = NotificationStatus.FAILED
    notification.last_error = error[:2000]
    db.session.commit()
    log.warning("notification failed", extra={"notification_id": notification.id})


def sweep_notifications(limit: int = 1000) -> int:
    """Dispatch again every row whose dispatch was lost or whose worker vanished.

    Each row it picks gets a fresh `next_attempt_at`, so a queue that is merely slow is not
    flooded with copies at every sweep. Returns how many rows were dispatched.
    """
    config = current_app.config
    now = utcnow()
    due = now - timedelta(seconds=config["MAIL_SWEEP_GRACE_SECONDS"])
    stale = now - timedelta(seconds=config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    ids = db.session.scalars(
        select(Notification.id)
        .where(
            or_(
                (Notification.status == NotificationStatus.PENDING)
                & (Notification.next_attempt_at <= due),
                (Notification.status == NotificationStatus.SENDING)
                & (Notification.claimed_at < stale),
            )
        )
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    if not ids:
        return 0
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.status == NotificationStatus.PENDING)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return dispatch(ids)
