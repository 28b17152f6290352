from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from exchange.auth.models import DigestFrequency
from exchange.extensions import db
from exchange.notifications import digests, services
from exchange.notifications.connection import close_connections


@shared_task(bind=True, name="exchange.notifications.tasks.send_notification")
def send_notification(self, notification_id: int) -> dict[str, int]:
    """Deliver one notification, once, however often this task runs for it: a batch of one
    (see send_notifications). Retries and rows handed back one by one come this way.

    Acknowledged late and rejected back to the queue if its worker dies (a worker killed mid-way
    leaves the message to be redelivered); the database claim makes a redelivery or a duplicate
    do nothing. Temporary SMTP failures come back as a new message after a backoff whose cap
    stays below the broker's visibility timeout. A time limit below the claim timeout (set with
    the settings) stops a send before another worker could take its row over.
    """
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return services.deliver_batch([notification_id], redelivered=redelivered)


@shared_task(bind=True, name="exchange.notifications.tasks.send_notifications")
def send_notifications(self, notification_ids: list[int]) -> dict[str, int]:
    """Deliver a batch of notifications (those committed together): the claim makes every row
    go out once, however often this batch runs. Rows to try again later get a send_notification
    task of their own, with its countdown."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return services.deliver_batch(notification_ids, redelivered=redelivered)


@shared_task(name="exchange.notifications.tasks.sweep_notifications")
def sweep_notifications() -> int:
    """Dispatch notifications whose dispatch was lost or whose worker died (run by beat every
    MAIL_SWEEP_INTERVAL_SECONDS). Any number of beats may run it at once: it only publishes
    copies, and the claim lets one copy send."""
    return services.sweep_notifications()


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close_smtp_connections(**kwargs) -> None:
    """QUIT the SMTP connections this worker process kept open (prefork children get
    worker_process_shutdown, the solo and threads pools worker_shutdown)."""
    close_connections()


@shared_task(name="exchange.notifications.tasks.send_daily_digests")
def send_daily_digests() -> int:
    """Today's digest for everyone who chose a daily one (daily, by beat). Running it again the
    same day sends nothing more: each person's DigestRun for the day is taken."""
    return digests.send_digests(DigestFrequency.DAILY).sent


@shared_task(name="exchange.notifications.tasks.send_weekly_digests")
def send_weekly_digests() -> int:
    """This week's digest for everyone who chose a weekly one (Mondays, by beat). Running it again
    the same week sends nothing more."""
    return digests.send_digests(DigestFrequency.WEEKLY).sent


@shared_task(name="exchange.notifications.tasks.notify_ideas_closing_soon")
def notify_ideas_closing_soon() -> int:
    """Tell the owners of ideas that close to new partners soon (daily, by beat); each idea once
    per closing date, however often it runs."""
    noticed = digests.notify_ideas_closing_soon()
    db.session.commit()
    return noticed
