"""The authority e-mails: verification, and requests to join."""

from flask import url_for

from exchange.authorities.models import Authority, JoinRequest
from exchange.extensions import db
from exchange.notifications.kinds import NotificationKind


def _authority(notification) -> dict:
    authority = db.session.get(Authority, notification.payload["authority_id"])
    return {
        "authority": authority,
        "authority_url": url_for("authorities.show", authority_id=authority.id, _external=True),
        "edit_url": url_for("authorities.edit", authority_id=authority.id, _external=True),
        "reason": notification.payload.get("reason"),
    }


def _join_request(notification) -> dict:
    join_request = db.session.get(JoinRequest, notification.payload["join_request_id"])
    return {
        "join_request": join_request,
        "authority": join_request.authority,
        "requester": join_request.user,
        "members_url": url_for(
            "authorities.members", authority_id=join_request.authority_id, _external=True
        ),
        "account_url": url_for("auth.account", _external=True),
    }


KINDS = (
    NotificationKind("authorities.verified", "email/authorities/verified", _authority),
    NotificationKind("authorities.rejected", "email/authorities/rejected", _authority),
    NotificationKind("authorities.join_request", "email/authorities/join_request", _join_request),
    NotificationKind("authorities.join_approved", "email/authorities/join_approved", _join_request),
    NotificationKind("authorities.join_rejected", "email/authorities/join_rejected", _join_request),
)
