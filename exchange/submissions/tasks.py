from celery import shared_task

from exchange.extensions import db
from exchange.submissions import services


@shared_task(name="exchange.submissions.tasks.close_expired_ideas")
def close_expired_ideas() -> int:
    """Close the published ideas whose open-until date has passed (daily, by beat). Running it
    twice closes nothing twice: a closed idea is no longer published."""
    closed = services.close_expired_ideas()
    db.session.commit()
    return closed
