from exchange.activity.models import ActivityEntry
from exchange.extensions import db


def record_activity(
    actor,
    subject,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    data: dict | None = None,
) -> ActivityEntry:
    """Append one entry for `subject` (a model instance with an id) to the activity log."""
    if subject.id is None:
        db.session.flush()
    entry = ActivityEntry(
        actor_id=getattr(actor, "id", None),
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        action=action,
        from_state=str(from_state) if from_state is not None else None,
        to_state=str(to_state) if to_state is not None else None,
        comment=comment,
        data=data or {},
    )
    db.session.add(entry)
    return entry


def activity_for(subject) -> list[ActivityEntry]:
    return db.session.scalars(
        db.select(ActivityEntry)
        .where(
            ActivityEntry.subject_type == subject.__tablename__,
            ActivityEntry.subject_id == subject.id,
        )
        .order_by(ActivityEntry.created_at, ActivityEntry.id)
    ).all()
