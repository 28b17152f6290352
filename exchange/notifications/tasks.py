from celery import shared_task

from exchange.notifications import services


@shared_task(bind=True, name="exchange.notifications.tasks.send_notification", max_retries=None)
def send_notification(self, notification_id: int) -> None:
    """Deliver one notification, once, however often this task runs for it.

    Acknowledged late (a worker killed mid-way leaves the message to be redelivered); the database
    claim makes a redelivery or a duplicate do nothing. Temporary SMTP failures come back here after
    a backoff; the delay is capped well inside the broker's visibility timeout.
    """
    outcome = services.deliver_notification(notification_id)
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.retry_in)


@shared_task(name="exchange.notifications.tasks.sweep_notifications")
def sweep_notifications() -> None:
    """Dispatch notifications whose dispatch was lost (run every minute by beat)."""
    services.sweep_notifications()
