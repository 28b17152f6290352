"""What each person receives by e-mail, and the one-click unsubscribe links.

The in-app record of a notification always stays; a person only chooses which kinds are also
e-mailed (`User.email_muted_kinds`) and how often the digest comes (`User.digest_frequency`).
Mandatory kinds (address confirmation, password reset) are e-mailed whatever these say.

Every e-mail of a kind that can be switched off carries a link that switches it off with one
click, without logging in: a signed token names the person and the kind. The token never
expires (an old e-mail must still work) and doing it twice changes nothing.
"""

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from exchange.auth.models import DigestFrequency, User
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.notifications.kinds import NotificationKind, all_kinds, get_kind

DIGEST_KIND = "notifications.digest"
CLOSING_SOON_KIND = "notifications.idea_closing_soon"

UNSUBSCRIBE_SALT = "exchange.unsubscribe"

# The features, in the order the preferences list them.
GROUP_LABELS = {
    "auth": _l("Your account"),
    "authorities": _l("Your authority"),
    "submissions": _l("Practices and ideas"),
    "matching": _l("Matches"),
    "notifications": _l("News"),
}
# Kinds listed with another feature than their name says.
KIND_GROUPS = {CLOSING_SOON_KIND: "submissions"}

KIND_LABELS = {
    "auth.confirm_email": _l("Confirming your e-mail address"),
    "auth.reset_password": _l("Choosing a new password"),
    "auth.confirm_email_change": _l("Confirming a new e-mail address"),
    "authorities.verified": _l("Your authority is verified"),
    "authorities.rejected": _l("Your authority's registration is not accepted"),
    "authorities.join_request": _l("Requests to join your authority"),
    "authorities.join_approved": _l("Your request to join an authority is approved"),
    "authorities.join_rejected": _l("Your request to join an authority is declined"),
    "submissions.received": _l("A practice or idea is received for review"),
    "submissions.changes_requested": _l("Changes are requested on a practice or idea"),
    "submissions.published": _l("A practice or idea is published"),
    "submissions.rejected": _l("A practice or idea is not accepted"),
    "submissions.archived": _l("A practice or idea is archived"),
    "submissions.closed": _l("A project idea is closed to new partners"),
    "submissions.co_owner_invited": _l("Invitations to co-own a project idea"),
    "submissions.co_owner_answered": _l("Answers to your co-ownership invitations"),
    "submissions.interest_received": _l("Interest shown in your practices and ideas"),
    "submissions.interest_answered": _l("Answers to the interest you showed"),
    CLOSING_SOON_KIND: _l("A project idea closes to new partners soon"),
    "matching.proposed": _l("A match is proposed"),
    "matching.accepted": _l("The other side accepted a match"),
    "matching.declined": _l("A match is declined"),
    "matching.connected": _l("Introductions to new partners"),
    "matching.reminder": _l("Reminders of matches waiting for your answer"),
    "matching.expired": _l("A match expired"),
    "matching.stage_reminder": _l("Reminders to update a partnership's stage"),
    "matching.closed": _l("A match is closed"),
    DIGEST_KIND: _l("Digest of new practices and ideas in your themes"),
}

DIGEST_FREQUENCY_LABELS = {
    DigestFrequency.DAILY: _l("Daily"),
    DigestFrequency.WEEKLY: _l("Weekly, on Mondays"),
    DigestFrequency.NONE: _l("Never"),
}


def kind_label(name: str) -> str:
    """The kind in words, for people (the name itself for a kind nobody labelled)."""
    label = KIND_LABELS.get(name)
    return str(label) if label is not None else name


def _group(name: str) -> str:
    return KIND_GROUPS.get(name) or name.partition(".")[0]


@dataclass(frozen=True)
class KindChoice:
    name: str
    label: str
    mandatory: bool


@dataclass(frozen=True)
class KindGroup:
    label: str
    kinds: list[KindChoice]


def is_switchable(kind: NotificationKind) -> bool:
    """Kinds a person may stop receiving by e-mail. The digest has its own setting (how often)."""
    return not kind.mandatory and kind.name != DIGEST_KIND


def switchable_kinds() -> list[str]:
    """The names of the kinds offered on the preferences page."""
    return [kind.name for kind in all_kinds() if is_switchable(kind)]


def grouped_kinds() -> list[KindGroup]:
    """Every kind but the digest, by feature, labelled; mandatory ones marked as such."""
    groups: dict[str, list[KindChoice]] = {}
    for kind in all_kinds():
        if kind.name == DIGEST_KIND:
            continue
        groups.setdefault(_group(kind.name), []).append(
            KindChoice(kind.name, kind_label(kind.name), kind.mandatory)
        )
    order = list(GROUP_LABELS)
    return [
        KindGroup(str(GROUP_LABELS.get(key, key)), kinds)
        for key, kinds in sorted(
            groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
        )
    ]


def is_emailed(user: User, kind_name: str) -> bool:
    """Whether a notification of this kind goes to `user` by e-mail (it is kept in-app anyway);
    for the digest, whether the person gets one at all."""
    if kind_name == DIGEST_KIND:
        return user.digest_frequency != DigestFrequency.NONE
    if get_kind(kind_name).mandatory:
        return True
    return kind_name not in (user.email_muted_kinds or [])


def update_preferences(user: User, emailed: set[str], digest_frequency: str) -> None:
    """Keep e-mailing the kinds in `emailed`, stop the other switchable ones; set how often the
    digest comes. Mandatory kinds cannot be switched off, whatever `emailed` says."""
    switchable = switchable_kinds()
    unknown = set(emailed) - set(switchable) - {k.name for k in all_kinds() if k.mandatory}
    if unknown:
        raise ActionError(_l("Choose from the list."), field="email_kinds")
    try:
        frequency = DigestFrequency(digest_frequency)
    except ValueError:
        raise ActionError(_l("Choose from the list."), field="digest_frequency") from None
    # Kinds no longer registered stay as they were: a feature switched off for a while keeps
    # the person's choice.
    kept = [name for name in (user.email_muted_kinds or []) if name not in switchable]
    user.email_muted_kinds = sorted({*kept, *(name for name in switchable if name not in emailed)})
    user.digest_frequency = frequency
    db.session.flush()


def mute_kind(user: User, kind_name: str) -> bool:
    """Stop e-mailing this kind to `user` (for the digest: no more digests). Returns False if it
    was already so; doing it again changes nothing."""
    if kind_name == DIGEST_KIND:
        if user.digest_frequency == DigestFrequency.NONE:
            return False
        user.digest_frequency = DigestFrequency.NONE
    else:
        if get_kind(kind_name).mandatory:
            raise ActionError(_l("These e-mails cannot be switched off."))
        muted = list(user.email_muted_kinds or [])
        if kind_name in muted:
            return False
        # A new list: the JSON column sees assignments, not changes made in place.
        user.email_muted_kinds = sorted({*muted, kind_name})
    db.session.flush()
    return True


# One-click unsubscribe ---------------------------------------------------------------------------


class UnsubscribeTokenError(Exception):
    """The link was altered, or names a person or a kind that no longer exists."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind_name: str) -> str:
    # Deterministic: the e-mail and its preview carry the same link.
    return _serializer().dumps({"u": user_id, "k": kind_name})


def read_unsubscribe_token(token: str) -> tuple[User, NotificationKind]:
    """The person and the kind a token was made for; UnsubscribeTokenError if it is not good."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise UnsubscribeTokenError("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise UnsubscribeTokenError("invalid")
    try:
        kind = get_kind(str(data.get("k")))
    except LookupError:
        raise UnsubscribeTokenError("unknown kind") from None
    user = db.session.get(User, data["u"])
    if user is None:
        raise UnsubscribeTokenError("unknown person")
    return user, kind


def unsubscribe_url(notification) -> str | None:
    """The absolute one-click link that stops this notification's kind, or None for a mandatory
    kind. Built on BASE_URL, like every link of the e-mail, wherever it is called from."""
    kind = get_kind(notification.kind)
    if kind.mandatory:
        return None
    token = unsubscribe_token(notification.user_id or notification.user.id, kind.name)
    base_url = current_app.config["BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        return url_for("notifications.unsubscribe", token=token, _external=True)


def list_unsubscribe_headers(notification) -> list[tuple[str, str]]:
    """RFC 2369 and RFC 8058 headers for the notification's e-mail: mail clients then offer their
    own "unsubscribe" button, which POSTs List-Unsubscribe=One-Click to the link. None for
    mandatory kinds."""
    url = unsubscribe_url(notification)
    if url is None:
        return []
    return [
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def preferences_url() -> str:
    base_url = current_app.config["BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        return url_for("notifications.edit_preferences", _external=True)
