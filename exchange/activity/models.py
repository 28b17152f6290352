from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.database import UTCDateTime, utcnow
from exchange.extensions import db


class ActivityEntry(db.Model):
    """One change, written in the same transaction as the change itself. Never updated."""

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (db.Index("ix_activity_entry_subject", "subject_type", "subject_id"),)


@event.listens_for(ActivityEntry, "before_update")
@event.listens_for(ActivityEntry, "before_delete")
def _refuse_change(mapper, connection, target):
    # The database refuses too (a trigger on PostgreSQL); this catches it early everywhere.
    raise RuntimeError("the activity log is append-only")


# How each action reads in a history ("<who>: <what>").
ACTION_LABELS = {
    "authority.create": _l("registered the authority"),
    "authority.update_profile": _l("updated the profile"),
    "authority.verify": _l("verified the authority"),
    "authority.reject": _l("did not accept the registration"),
    "authority.resubmit": _l("corrected the profile and sent it for verification again"),
    "join_request.create": _l("asked to join"),
    "join_request.approve": _l("approved a request to join"),
    "join_request.reject": _l("declined a request to join"),
    "submission.create": _l("started the draft"),
    "submission.revise": _l("started a new version of the published text"),
    "submission.submit": _l("submitted it for review"),
    "submission.start_review": _l("started the review"),
    "submission.request_changes": _l("requested changes"),
    "submission.publish": _l("approved and published it"),
    "submission.reject": _l("rejected it"),
    "submission.archive": _l("archived it"),
    "submission.close": _l("closed the idea"),
    "submission.invite_co_owner": _l("invited another authority to co-own the idea"),
    "submission.accept_co_ownership": _l("accepted to co-own the idea"),
    "submission.decline_co_ownership": _l("declined to co-own the idea"),
    "attachment.add": _l("attached a file"),
    "attachment.remove": _l("removed a file"),
    "interest.create": _l("showed interest"),
    "interest.answer": _l("answered an interest"),
    "notification.resend": _l("sent a notification again"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
