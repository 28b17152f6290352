"""The notification centre: every notification of a person, in words, linked to what it is
about, with read marks and the unread count in the page header."""

import re
from datetime import timedelta

import pytest

from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from tests.conftest import csrf_token
from tests.factories import log_in, make_coordinator, make_member, make_submission

ENTRY = re.compile(r'<li class="list-group-item[^"]*" data-notification="(\d+)">(.*?)</li>', re.S)
HEADER_BADGE = re.compile(
    r'Notifications <span class="badge rounded-pill text-bg-warning">(\d+)'
    r'<span class="visually-hidden"> unread</span></span>'
)


def entries(page: str) -> list[tuple[int, str]]:
    return [(int(number), body) for number, body in ENTRY.findall(page)]


def header_count(page: str) -> int | None:
    match = HEADER_BADGE.search(page)
    return int(match.group(1)) if match else None


def notify(user, kind, minutes_ago: int = 0, **payload) -> Notification:
    notification = queue_notification(user, kind, **payload)
    notification.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return notification


def test_the_centre_needs_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_lists_the_persons_notifications_newest_first_in_words(client):
    member = make_member(name="Lucía Torres")
    other = make_member()
    confirm = notify(member, "auth.confirm_email", minutes_ago=30)
    verified = notify(
        member, "authorities.verified", minutes_ago=10, authority_id=member.authority_id
    )
    notify(other, "authorities.verified", authority_id=other.authority_id)

    log_in(client, member)
    page = client.get("/notifications/").get_data(as_text=True)
    listed = entries(page)
    assert [number for number, _ in listed] == [verified.id, confirm.id]

    body = dict(listed)
    # The kind in words, the subject, a link to what it is about, the date, unread marked.
    assert "Your authority is verified" in body[verified.id]
    assert f"{member.authority.name} is verified on Exchange" in body[verified.id]
    assert f'href="http://localhost/authorities/{member.authority_id}"' in body[verified.id]
    assert "<time datetime=" in body[verified.id]
    assert '<span class="badge text-bg-primary">Unread</span>' in body[verified.id]
    # Mandatory kinds are there too, leading to the account.
    assert "Confirm your e-mail address for Exchange" in body[confirm.id]
    assert 'href="/account"' in body[confirm.id]
    assert "2 unread notifications." in page


def test_items_and_digests_link_to_their_pages(client, reference):
    member = make_member()
    practice = make_submission(member, state="published")
    published = db.session.scalars(
        db.select(Notification).where(
            Notification.user_id == member.id, Notification.kind == "submissions.published"
        )
    ).one()
    digest = notify(member, "notifications.digest", submission_ids=[practice.id], total=1)
    log_in(client, member)
    body = dict(entries(client.get("/notifications/").get_data(as_text=True)))
    assert f'/practices/{practice.id}"' in body[published.id]
    assert "Your daily digest: 1 new practice or idea in your themes" in body[digest.id]
    assert 'href="/catalogue/"' in body[digest.id]


def test_a_notification_about_something_deleted_still_shows(client):
    member = make_member()
    orphan = notify(member, "authorities.verified", authority_id=999_999)
    log_in(client, member)
    response = client.get("/notifications/")
    assert response.status_code == 200
    body = dict(entries(response.get_data(as_text=True)))
    assert "Your authority is verified" in body[orphan.id]
    assert "href=" not in body[orphan.id]


def test_unread_count_in_the_header_and_marking_read(client):
    member = make_member()
    first = notify(member, "auth.confirm_email", minutes_ago=5)
    notify(member, "authorities.verified", authority_id=member.authority_id)
    log_in(client, member)
    assert header_count(client.get("/workspace/").get_data(as_text=True)) == 2

    token = csrf_token(client, "/notifications/")
    response = client.post(f"/notifications/{first.id}/read", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, first.id).read_at is not None
    page = client.get("/notifications/").get_data(as_text=True)
    assert header_count(page) == 1
    assert "Unread</span>" not in dict(entries(page))[first.id]

    # Unread only.
    unread = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert first.id not in [number for number, _ in entries(unread)]

    response = client.post("/notifications/read", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert header_count(page) is None
    assert "0 unread notifications." in page


def test_marking_read_twice_keeps_the_first_time(client):
    member = make_member()
    notification = notify(member, "auth.confirm_email")
    log_in(client, member)
    token = csrf_token(client, "/notifications/")
    client.post(f"/notifications/{notification.id}/read", data={"csrf_token": token})
    db.session.expire_all()
    first = db.session.get(Notification, notification.id).read_at
    client.post(f"/notifications/{notification.id}/read", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at == first


def test_another_persons_notification_cannot_be_marked(client):
    member, other = make_member(), make_member()
    theirs = notify(other, "auth.confirm_email")
    log_in(client, member)
    token = csrf_token(client, "/notifications/")
    assert (
        client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_marking_read_needs_the_csrf_token(client):
    member = make_member()
    notification = notify(member, "auth.confirm_email")
    log_in(client, member)
    assert client.post(f"/notifications/{notification.id}/read").status_code == 400
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at is None


@pytest.mark.parametrize("count", [30])
def test_the_centre_is_paginated(client, count):
    member = make_member()
    for minute in range(count):
        queue_notification(member, "auth.confirm_email").created_at = utcnow() - timedelta(
            minutes=minute
        )
    db.session.commit()
    log_in(client, member)
    first = client.get("/notifications/").get_data(as_text=True)
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert len(entries(first)) == 25
    assert len(entries(second)) == count - 25
    assert 'aria-current="page">2</a>' in second


def test_coordinators_find_the_log_from_the_centre(client):
    coordinator = make_coordinator()
    log_in(client, coordinator)
    assert 'href="/notifications/log"' in client.get("/notifications/").get_data(as_text=True)
    member = make_member()
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    log_in(client, member)
    assert 'href="/notifications/log"' not in client.get("/notifications/").get_data(as_text=True)


def test_a_published_item_notifies_and_shows_in_the_centre(client, reference):
    member = make_member()
    make_submission(member, state="published")
    log_in(client, member)
    page = client.get("/notifications/").get_data(as_text=True)
    subjects = " ".join(body for _, body in entries(page))
    assert "We received “Riego tecnificado en zonas áridas de Tacna” for review" in subjects
    assert "“Riego tecnificado en zonas áridas de Tacna” is published" in subjects
