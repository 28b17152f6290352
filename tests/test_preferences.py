"""E-mail preferences: kinds switched off stay in-app only, mandatory kinds always go out, and
every other e-mail carries a one-click unsubscribe link (and the List-Unsubscribe headers)."""

import re

import pytest
from sqlalchemy import select

from exchange.auth.models import DigestFrequency, User
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.preferences import DIGEST_KIND, unsubscribe_token
from exchange.notifications.services import queue_notification
from tests.conftest import csrf_token, wait_for
from tests.factories import log_in, make_member

UNSUBSCRIBE_LINK = re.compile(r"http://exchange\.test/notifications/unsubscribe/[^\s\"<>]+")


def radio_checked(page: str, value: str) -> bool:
    return any(
        f'value="{value}"' in tag and "checked" in tag
        for tag in re.findall(r'<input[^>]*name="digest_frequency"[^>]*>', page)
    )


def reload_user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def status_of(notification_id: int) -> NotificationStatus:
    db.session.expire_all()
    return db.session.get(Notification, notification_id).status


def verified_notice(member) -> Notification:
    notification = queue_notification(
        member, "authorities.verified", authority_id=member.authority_id
    )
    db.session.commit()
    return notification


# Switched-off kinds ------------------------------------------------------------------------------


def test_a_muted_kind_is_kept_in_app_and_not_emailed(worker, mailbox, client):
    member = make_member(email="muted@example.org")
    member.email_muted_kinds = ["authorities.verified"]
    db.session.commit()
    muted = verified_notice(member)
    assert muted.status == NotificationStatus.SKIPPED

    # Something sent after it arrives alone: the muted one was never dispatched.
    sentinel = queue_notification(member, "auth.confirm_email")
    db.session.commit()
    (message,) = mailbox.wait_for(1)
    assert message.subject == "Confirm your e-mail address for Exchange"
    wait_for(lambda: status_of(sentinel.id) == NotificationStatus.SENT)
    assert status_of(muted.id) == NotificationStatus.SKIPPED
    row = db.session.get(Notification, muted.id)
    assert row.attempts == 0
    assert row.sent_at is None

    # It is in the centre, marked as not e-mailed.
    log_in(client, member)
    page = client.get("/notifications/").get_data(as_text=True)
    assert f'data-notification="{muted.id}"' in page
    assert "Not e-mailed: you switched these e-mails off." in page


def test_a_mandatory_kind_is_emailed_even_when_listed_as_muted(worker, mailbox):
    member = make_member(email="safety@example.org")
    member.email_muted_kinds = ["auth.reset_password", "authorities.verified"]
    db.session.commit()
    notification = queue_notification(member, "auth.reset_password")
    db.session.commit()
    assert notification.status == NotificationStatus.PENDING
    (message,) = mailbox.wait_for(1)
    assert message.to == "safety@example.org"
    assert message.subject == "Choose a new password for Exchange"


# Headers and the link in the e-mail --------------------------------------------------------------


def test_non_mandatory_mail_has_one_click_headers_and_link(worker, mailbox):
    member = make_member(email="lists@example.org")
    verified_notice(member)
    (message,) = mailbox.wait_for(1)
    header = message.message["List-Unsubscribe"]
    assert header.startswith("<http://exchange.test/notifications/unsubscribe/")
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As written on the wire: the URL itself, not folded into encoded words.
    assert dict(message.message.raw_items())["List-Unsubscribe"] == header
    link = header.strip("<>")
    assert link == unsubscribe_link_for(member.id, "authorities.verified")
    # The same link in both parts, for people whose client shows no button.
    assert UNSUBSCRIBE_LINK.findall(message.text) == [link]
    assert link in message.html


def test_mandatory_mail_has_no_unsubscribe_headers_or_link(worker, mailbox):
    member = make_member(email="nolist@example.org")
    queue_notification(member, "auth.confirm_email")
    db.session.commit()
    (message,) = mailbox.wait_for(1)
    assert message.message["List-Unsubscribe"] is None
    assert message.message["List-Unsubscribe-Post"] is None
    assert "/notifications/unsubscribe/" not in message.text
    assert "/notifications/unsubscribe/" not in message.html


def unsubscribe_link_for(user_id: int, kind: str) -> str:
    return f"http://exchange.test/notifications/unsubscribe/{unsubscribe_token(user_id, kind)}"


def path_of(link: str) -> str:
    return link.removeprefix("http://exchange.test")


# The unsubscribe page ----------------------------------------------------------------------------


def test_unsubscribe_asks_first_then_mutes_only_that_kind(client):
    member = make_member(email="ana.lopez@example.org")
    member.email_muted_kinds = ["submissions.archived"]
    db.session.commit()
    path = path_of(unsubscribe_link_for(member.id, "authorities.verified"))

    page = client.get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Your authority is verified" in body
    assert "a…@example.org" in body
    assert "ana.lopez" not in body
    assert reload_user(member.id).email_muted_kinds == [
        "submissions.archived"
    ]  # GET changes nothing

    # The page's button: a plain POST, with no login and no CSRF token.
    done = client.post(path)
    assert done.status_code == 200
    assert "You will not receive e-mails about this any more" in done.get_data(as_text=True)
    assert reload_user(member.id).email_muted_kinds == [
        "authorities.verified",
        "submissions.archived",
    ]
    # Again: nothing changes, same answer.
    assert client.post(path).status_code == 200
    assert reload_user(member.id).email_muted_kinds == [
        "authorities.verified",
        "submissions.archived",
    ]


def test_one_click_post_from_a_mail_client_mutes_without_csrf(app, client):
    assert app.config.get("WTF_CSRF_ENABLED", True), "CSRF must be on for this test to mean much"
    member = make_member()
    path = path_of(unsubscribe_link_for(member.id, "submissions.interest_received"))
    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert reload_user(member.id).email_muted_kinds == ["submissions.interest_received"]
    # Other forms still need their token.
    other = make_member()
    log_in(client, other)
    refused = client.post("/notifications/preferences", data={"digest_frequency": "none"})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        # Signed for another purpose (a password reset token's salt differs).
        "eyJ1IjoxLCJrIjoiYXV0aG9yaXRpZXMudmVyaWZpZWQifQ.forged",
    ],
)
def test_a_bad_token_is_refused_and_changes_nothing(client, token):
    member = make_member()
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 400
    assert client.post(f"/notifications/unsubscribe/{token}").status_code == 400
    assert reload_user(member.id).email_muted_kinds == []


def test_a_token_for_a_mandatory_kind_is_refused(client):
    member = make_member()
    path = path_of(unsubscribe_link_for(member.id, "auth.reset_password"))
    assert client.post(path).status_code == 400
    assert reload_user(member.id).email_muted_kinds == []


def test_a_token_does_not_work_for_another_kind_or_person(client):
    member, other = make_member(), make_member()
    signature = unsubscribe_token(member.id, "authorities.verified").rpartition(".")[2]
    tampered = unsubscribe_token(other.id, "authorities.verified").rpartition(".")[0]
    assert client.post(f"/notifications/unsubscribe/{tampered}.{signature}").status_code == 400
    assert reload_user(other.id).email_muted_kinds == []


def test_unsubscribing_from_the_digest_stops_the_digest(client):
    member = make_member()
    assert member.digest_frequency == DigestFrequency.WEEKLY
    path = path_of(unsubscribe_link_for(member.id, DIGEST_KIND))
    assert "Stop the digest" in client.get(path).get_data(as_text=True)
    assert client.post(path).status_code == 200
    user = reload_user(member.id)
    assert user.digest_frequency == DigestFrequency.NONE
    assert user.email_muted_kinds == []


# The preferences page ----------------------------------------------------------------------------


def test_preferences_list_kinds_by_feature_with_mandatory_ones_locked(client):
    member = make_member()
    log_in(client, member)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    for heading in ("Your account", "Your authority", "Practices and ideas"):
        assert heading in page
    # Mandatory: shown, checked, not switchable, not posted.
    assert re.search(r'id="kind-auth.reset_password" checked disabled', page)
    assert 'name="email_kinds" value="auth.reset_password"' not in page
    assert "Always sent" in page
    assert re.search(r'name="email_kinds" value="authorities.verified" [^>]*checked', page)
    assert 'value="notifications.idea_closing_soon"' in page
    assert radio_checked(page, "weekly")


def test_saving_preferences_mutes_what_is_unticked(client):
    member = make_member()
    log_in(client, member)
    token = csrf_token(client, "/notifications/preferences")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    offered = re.findall(r'name="email_kinds" value="([^"]+)"', page)
    kept = [kind for kind in offered if kind != "submissions.interest_received"]
    response = client.post(
        "/notifications/preferences",
        data={"csrf_token": token, "email_kinds": kept, "digest_frequency": "daily"},
    )
    assert response.status_code == 302
    user = reload_user(member.id)
    assert user.email_muted_kinds == ["submissions.interest_received"]
    assert user.digest_frequency == DigestFrequency.DAILY
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert not re.search(
        r'name="email_kinds" value="submissions.interest_received" [^>]*checked', page
    )
    assert radio_checked(page, "daily")


def test_bad_preferences_are_refused_on_the_field_and_nothing_is_lost(client):
    member = make_member()
    log_in(client, member)
    token = csrf_token(client, "/notifications/preferences")
    response = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": token,
            "email_kinds": ["authorities.verified", "auth.reset_password"],
            "digest_frequency": "hourly",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="digest_frequency-error"' in page
    assert 'id="email_kinds-error"' in page
    # What was ticked is still ticked.
    assert re.search(r'name="email_kinds" value="authorities.verified" [^>]*checked', page)
    user = reload_user(member.id)
    assert user.email_muted_kinds == []
    assert user.digest_frequency == DigestFrequency.WEEKLY


def test_preferences_need_a_login(client):
    response = client.get("/notifications/preferences")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_muted_kind_keeps_its_notification(worker, mailbox):
    """Switching off e-mails never loses the in-app record."""
    member = make_member()
    member.email_muted_kinds = ["authorities.verified"]
    db.session.commit()
    verified_notice(member)
    verified_notice(member)
    rows = db.session.scalars(select(Notification).where(Notification.user_id == member.id)).all()
    assert [row.status for row in rows] == [NotificationStatus.SKIPPED] * 2
