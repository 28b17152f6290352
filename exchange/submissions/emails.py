"""The e-mails about practices and ideas: review decisions, co-ownership, interest."""

from flask import url_for

from exchange.extensions import db
from exchange.notifications.kinds import NotificationKind
from exchange.submissions.models import CoOwner, Interest, Review, Submission
from exchange.submissions.urls import item_edit_url, item_url


def _item(submission: Submission) -> dict:
    return {
        "submission": submission,
        "title": submission.title,
        "item_url": item_url(submission, _external=True),
        "edit_url": item_edit_url(submission, _external=True),
        "workspace_url": url_for("workspace.index", _external=True),
    }


def _submission(notification) -> dict:
    context = _item(db.session.get(Submission, notification.payload["submission_id"]))
    review_id = notification.payload.get("review_id")
    context["review"] = db.session.get(Review, review_id) if review_id else None
    return context


def _workspace(section: str) -> str:
    """The workspace, opened at one of its sections."""
    return url_for("workspace.index", _anchor=section, _external=True)


def _co_owner(notification) -> dict:
    co_owner = db.session.get(CoOwner, notification.payload["co_owner_id"])
    context = {**_item(co_owner.submission), "co_owner": co_owner}
    if notification.kind == "submissions.co_owner_invited":
        context["workspace_url"] = _workspace("invitations")  # where the invitation is answered
    return context


def _interest(notification) -> dict:
    interest = db.session.get(Interest, notification.payload["interest_id"])
    context = {**_item(interest.submission), "interest": interest}
    if notification.kind == "submissions.interest_received":
        context["workspace_url"] = _workspace("interests-received")  # where it is answered
    return context


def _kind(name: str, context) -> NotificationKind:
    return NotificationKind(f"submissions.{name}", f"email/submissions/{name}", context)


KINDS = (
    _kind("received", _submission),
    _kind("changes_requested", _submission),
    _kind("published", _submission),
    _kind("rejected", _submission),
    _kind("archived", _submission),
    _kind("closed", _submission),
    _kind("co_owner_invited", _co_owner),
    _kind("co_owner_answered", _co_owner),
    _kind("interest_received", _interest),
    _kind("interest_answered", _interest),
)
