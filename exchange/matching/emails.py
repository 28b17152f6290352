"""The e-mails about matches: proposed, accepted by the other side, declined, connected (the
introduction, with contacts), reminded, expired, stage reminder, closed.

Anonymity is decided here: only the introduction (`matching.connected`) puts the other side's
contacts in its context; every other e-mail describes the other authority by what is public.
"""

from flask import url_for

from exchange.authorities.models import KIND_LABELS
from exchange.extensions import db
from exchange.matching import services
from exchange.matching.models import MATCH_STATUS_LABELS, STAGE_LABELS, Match
from exchange.matching.reasons import describe
from exchange.notifications.kinds import NotificationKind
from exchange.reference.countries import country_name, subdivision_name
from exchange.submissions.models import Submission
from exchange.submissions.urls import item_url
from exchange.workflow import KIND_LABELS as ITEM_KIND_LABELS

ITEMS_IN_OFFER = 10


def _items(authority_id: int) -> list[dict]:
    return [
        {
            "title": item.published_revision.title,
            "kind": ITEM_KIND_LABELS[item.kind],
            "language": item.published_revision.language,
            "url": item_url(item, _external=True),
        }
        for item in services.public_items(authority_id, limit=ITEMS_IN_OFFER)
    ]


def _place(authority) -> str:
    country = country_name(authority.country_code)
    if authority.subdivision_code:
        return f"{subdivision_name(authority.subdivision_code)}, {country}"
    return country


def _match(notification) -> dict:
    """What every match e-mail knows: the recipient's authority ("own"), the other one, the
    links to the match's page, and the reasons in words. For a coordinator (no side), "own" is
    the side that acted and "other" its counterpart."""
    match = db.session.get(Match, notification.payload["match_id"])
    side = match.side_of(notification.user.authority_id)
    if side == "a" or side is None:
        own, other = match.authority_a, match.authority_b
    else:
        own, other = match.authority_b, match.authority_a
    if side is None and match.answer_b == "declined":
        own, other = match.authority_b, match.authority_a
    match_url = url_for("matches.show", match_id=match.id, _external=True)
    return {
        "match": match,
        "side": side,
        "own": own,
        "other": other,
        "match_url": match_url,
        "accept_url": url_for("matches.show", match_id=match.id, _anchor="answer", _external=True),
        "decline_url": url_for(
            "matches.show", match_id=match.id, _anchor="decline", _external=True
        ),
        "status_label": MATCH_STATUS_LABELS[match.status],
        "reasons": describe(match.reasons, match.authority_a.name, match.authority_b.name),
        "workspace_url": url_for("workspace.index", _anchor="matches", _external=True),
    }


def _offer(notification) -> dict:
    """The match and what the other authority offers: its public profile and items."""
    context = _match(notification)
    other = context["other"]
    context.update(
        other_kind=KIND_LABELS[other.kind],
        other_place=_place(other),
        other_themes=[theme.label for theme in other.themes],
        other_items=_items(other.id),
    )
    submission_id = context["match"].submission_id
    submission = db.session.get(Submission, submission_id) if submission_id else None
    context["submission"] = submission if submission and submission.is_public else None
    context["submission_url"] = (
        item_url(submission, _external=True) if context["submission"] else None
    )
    return context


def _introduction(notification) -> dict:
    """The only e-mail with the other side's contacts: sent once both have accepted."""
    context = _offer(notification)
    context["contacts"] = services.contacts(context["other"])
    return context


def _closed(notification) -> dict:
    context = _match(notification)
    context["reason"] = notification.payload.get("reason") or ""
    return context


def _stage(notification) -> dict:
    context = _match(notification)
    match = context["match"]
    context["stage_label"] = STAGE_LABELS[match.stage] if match.stage else ""
    context["stage_url"] = url_for(
        "matches.show", match_id=match.id, _anchor="stage", _external=True
    )
    return context


def _link(notification) -> str:
    """The match's page, for the notification centre."""
    return url_for("matches.show", match_id=notification.payload["match_id"])


def _kind(name: str, context) -> NotificationKind:
    return NotificationKind(f"matching.{name}", f"email/matching/{name}", context, link=_link)


KINDS = (
    _kind("proposed", _offer),
    _kind("accepted", _offer),
    _kind("declined", _match),
    _kind("connected", _introduction),
    _kind("reminder", _offer),
    _kind("expired", _match),
    _kind("stage_reminder", _stage),
    _kind("closed", _closed),
)
