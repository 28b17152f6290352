"""The coordinators' notification log (search, failed messages, resending one or many behind a
confirmation) and the preview of a decision's e-mail before it is sent."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from exchange.activity.models import ActivityEntry
from exchange.database import utcnow
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import queue_notification
from exchange.submissions.models import Review, Submission
from exchange.workflow import State
from tests.conftest import csrf_token, wait_for
from tests.factories import (
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
)

ROW = re.compile(r'<tr data-notification="(\d+)">(.*?)</tr>', re.S)


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def rows(page: str) -> dict[int, str]:
    return {int(number): body for number, body in ROW.findall(page)}


def reload(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def write(user, kind="auth.confirm_email", *, status=None, days_ago=0, error=None, attempts=0):
    """A notification row as the log shows it, written as history: inserted directly, so that
    no worker is asked to send it."""
    status = status or NotificationStatus.SENT
    created = utcnow() - timedelta(days=days_ago)
    notification_id = db.session.execute(
        insert(Notification)
        .values(
            user_id=user.id,
            kind=kind,
            to_address=user.email,
            payload={"authority_id": user.authority_id},
            status=status,
            attempts=attempts,
            last_error=error,
            created_at=created,
            next_attempt_at=created,
            sent_at=created if status == NotificationStatus.SENT else None,
        )
        .returning(Notification.id)
    ).scalar_one()
    db.session.commit()
    return db.session.get(Notification, notification_id)


# Access ------------------------------------------------------------------------------------------


def test_the_log_is_for_coordinators_and_admins(app, client):
    assert client.get("/notifications/log").status_code == 302
    assert signed_in(app, make_member()).get("/notifications/log").status_code == 403
    assert signed_in(app, make_coordinator()).get("/notifications/log").status_code == 200
    assert signed_in(app, make_admin()).get("/notifications/log").status_code == 200


# Searching ---------------------------------------------------------------------------------------


@pytest.fixture
def history():
    ana = make_member(name="Ana Quispe", email="ana.quispe@tacna.example")
    marco = make_member(name="Marco Rossi", email="marco@bologna.example")
    return {
        "ana_old": write(ana, days_ago=20),
        "ana_failed": write(
            ana,
            "authorities.verified",
            status=NotificationStatus.FAILED,
            days_ago=2,
            error="550 5.1.1 Mailbox unavailable",
            attempts=1,
        ),
        "marco_pending": write(marco, status=NotificationStatus.PENDING, days_ago=1),
        "marco_skipped": write(marco, "authorities.verified", status=NotificationStatus.SKIPPED),
    }


def found(client, **args) -> set[int]:
    response = client.get("/notifications/log", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return set(rows(response.get_data(as_text=True)))


def test_search_by_recipient_kind_status_and_dates(app, history):
    client = signed_in(app, make_coordinator())
    ids = {name: n.id for name, n in history.items()}
    every = set(ids.values())
    assert found(client) >= every
    assert found(client, recipient="tacna.example") == {ids["ana_old"], ids["ana_failed"]}
    assert found(client, recipient="ROSSI") == {ids["marco_pending"], ids["marco_skipped"]}
    assert found(client, kind="authorities.verified") == {ids["ana_failed"], ids["marco_skipped"]}
    assert found(client, status="failed") == {ids["ana_failed"]}
    assert found(client, status="skipped", recipient="marco") == {ids["marco_skipped"]}
    today = utcnow().date()
    assert found(client, date_from=(today - timedelta(days=3)).isoformat()) == every - {
        ids["ana_old"]
    }
    assert found(
        client,
        date_from=(today - timedelta(days=25)).isoformat(),
        date_to=(today - timedelta(days=2)).isoformat(),
    ) == {ids["ana_old"], ids["ana_failed"]}
    # A search for % is a search for the character, not for everything.
    assert found(client, recipient="%") == set()


def test_a_failed_message_shows_its_error_and_attempts(app, history):
    client = signed_in(app, make_coordinator())
    page = client.get("/notifications/log").get_data(as_text=True)
    failed = rows(page)[history["ana_failed"].id]
    assert '<span class="badge text-bg-danger">Failed</span>' in failed
    assert "550 5.1.1 Mailbox unavailable" in failed
    assert '<td class="text-end">1</td>' in failed
    assert "Your authority is verified" in failed  # the kind in words
    sent = rows(page)[history["ana_old"].id]
    assert "Mailbox unavailable" not in sent
    assert 'name="notification_ids"' not in sent  # only failed ones can be chosen


def test_bad_search_values_are_refused_on_their_field(app, history):
    client = signed_in(app, make_coordinator())
    response = client.get(
        "/notifications/log",
        query_string={"status": "lost", "date_from": "2026-05-10", "date_to": "2026-05-01"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="status-error"[^>]*>\s*<span>Choose from the list.</span>', page)
    assert re.search(r'id="date_to-error"[^>]*>\s*<span>This date is before the first one', page)
    # What was typed stays in the form.
    assert 'value="2026-05-10"' in page
    bad_date = client.get("/notifications/log", query_string={"date_from": "10/05/2026"})
    assert bad_date.status_code == 422
    assert 'id="date_from-error"' in bad_date.get_data(as_text=True)


def test_the_log_is_paginated(app):
    member = make_member()
    for _ in range(55):
        write(member)
    client = signed_in(app, make_coordinator())
    assert len(found(client)) == 50
    assert len(found(client, page=2)) == 5


# Resending ---------------------------------------------------------------------------------------


def fail_for_real(mailbox, user) -> Notification:
    """A message the SMTP server refuses for good, through the real worker."""
    mailbox.answer_next("550 5.1.1 Mailbox unavailable")
    notification = queue_notification(user, "auth.confirm_email")
    db.session.commit()
    return wait_for(
        lambda: (n := reload(notification.id)).status == NotificationStatus.FAILED and n
    )


def test_resend_delivers_a_failed_message_and_logs_it(app, worker, mailbox):
    member = make_member(email="bounced@example.org")
    failed = fail_for_real(mailbox, member)
    assert failed.last_error.startswith("550")
    coordinator = make_coordinator()
    client = signed_in(app, coordinator)
    token = csrf_token(client, "/notifications/log")
    response = client.post(
        f"/notifications/log/{failed.id}/resend",
        data={"csrf_token": token, "filters": "status=failed"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/log?status=failed"

    (message,) = mailbox.wait_for(1)
    assert message.to == "bounced@example.org"
    row = wait_for(lambda: (n := reload(failed.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 1  # counted afresh
    assert row.last_error is None
    entry = db.session.scalars(
        select(ActivityEntry).where(
            ActivityEntry.subject_type == "notification", ActivityEntry.subject_id == failed.id
        )
    ).one()
    assert (entry.action, entry.actor_id) == ("notification.resend", coordinator.id)
    assert (entry.from_state, entry.to_state) == ("failed", "pending")
    assert entry.data["error"].startswith("550")


def test_only_failed_messages_can_be_resent(app, history):
    client = signed_in(app, make_coordinator())
    token = csrf_token(client, "/notifications/log")
    sent = history["ana_old"]
    client.post(f"/notifications/log/{sent.id}/resend", data={"csrf_token": token})
    assert reload(sent.id).status == NotificationStatus.SENT
    assert count(ActivityEntry, ActivityEntry.action == "notification.resend") == 0
    # Members may not resend at all.
    member = signed_in(app, make_member())
    refused = member.post(
        f"/notifications/log/{history['ana_failed'].id}/resend",
        data={"csrf_token": csrf_token(member, "/notifications/")},
    )
    assert refused.status_code == 403
    assert reload(history["ana_failed"].id).status == NotificationStatus.FAILED


def test_bulk_resend_shows_a_confirmation_before_sending(app, worker, mailbox):
    first = fail_for_real(mailbox, make_member(email="one@example.org"))
    second = fail_for_real(mailbox, make_member(email="two@example.org"))
    done = write(make_member(email="fine@example.org"))
    client = signed_in(app, make_coordinator())
    page = client.get("/notifications/log").get_data(as_text=True)
    token = csrf_token(client, "/notifications/log")
    assert f'name="notification_ids" value="{first.id}"' in page

    chosen = {"csrf_token": token, "notification_ids": [first.id, second.id, done.id]}
    confirm = client.post("/notifications/log/resend", data=chosen)
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert "Nothing has been sent yet." in body
    assert "2 messages will be sent again" in body
    assert "1 message will be left as it is" in body
    # Nothing changed, nothing sent.
    assert reload(first.id).status == NotificationStatus.FAILED
    assert reload(second.id).status == NotificationStatus.FAILED
    assert mailbox.messages == []

    response = client.post("/notifications/log/resend", data={**chosen, "confirm": "yes"})
    assert response.status_code == 302
    messages = mailbox.wait_for(2)
    assert sorted(m.to for m in messages) == ["one@example.org", "two@example.org"]
    for notification in (first, second):
        wait_for(lambda n=notification: reload(n.id).status == NotificationStatus.SENT)
    assert reload(done.id).attempts == 0


def test_bulk_resend_without_a_choice_is_refused(app, history):
    client = signed_in(app, make_coordinator())
    token = csrf_token(client, "/notifications/log")
    response = client.post("/notifications/log/resend", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Choose at least one message." in response.get_data(as_text=True)


# Previewing a decision's e-mail ------------------------------------------------------------------

PREVIEW_SUBJECT = re.compile(r'<dd class="preview-subject" lang="(\w+)">(.*?)</dd>', re.S)
PREVIEW_TEXT = re.compile(r'<pre class="[^"]*preview-text" lang="\w+">(.*?)</pre>', re.S)


def previews(page: str) -> list[tuple[str, str, str]]:
    subjects = PREVIEW_SUBJECT.findall(page)
    texts = PREVIEW_TEXT.findall(page)
    return [
        (language, html.unescape(subject), html.unescape(text))
        for (language, subject), text in zip(subjects, texts, strict=True)
    ]


@pytest.fixture
def under_review(reference):
    authority = make_authority(name="Gobierno Regional de Tacna")
    author = make_member(authority, name="Lucía Torres", language="es", email="lucia@example.org")
    colleague = make_member(authority, name="João Silva", language="pt", email="joao@example.org")
    coordinator = make_coordinator()
    practice = make_submission(author, state="in_review", reviewer=coordinator)
    return practice, author, colleague, coordinator


def test_preview_shows_the_exact_email_and_saves_nothing(app, worker, mailbox, under_review):
    practice, _author, _colleague, coordinator = under_review
    client = signed_in(app, coordinator)
    token = csrf_token(client, f"/review/{practice.id}")
    mailbox.wait_for(2)  # "received", to both authors
    mailbox.reset()
    before = (count(Notification), count(Review), count(ActivityEntry))
    form = {
        "csrf_token": token,
        "comment": "Añadan cifras de consumo de agua.",
        "note": "¡Gracias por el trabajo! <Escríbanme> si hay dudas.",
    }

    response = client.post(f"/review/{practice.id}/preview/request_changes", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing has been sent or saved." in page
    shown = previews(page)
    assert [language for language, _, _ in shown] == ["es", "pt"]
    for _, _, text in shown:
        assert "Añadan cifras de consumo de agua." in text
        assert "¡Gracias por el trabajo! <Escríbanme> si hay dudas." in text
    # The HTML version opens alone, as a mail client shows it: its styles, no script.
    html_part = client.post(f"/review/{practice.id}/preview/request_changes/1", data=form)
    assert html_part.status_code == 200
    assert html_part.mimetype == "text/html"
    assert '<html lang="pt">' in html_part.get_data(as_text=True)
    assert "&lt;Escríbanme&gt;" in html_part.get_data(as_text=True)
    csp = html_part.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert (
        client.post(f"/review/{practice.id}/preview/request_changes/2", data=form).status_code
        == 404
    )
    # What was typed is kept in the form.
    assert "Añadan cifras de consumo de agua.</textarea>" in page
    # Nothing saved, nothing sent.
    assert (count(Notification), count(Review), count(ActivityEntry)) == before
    db.session.expire_all()
    assert db.session.get(Submission, practice.id).state == State.IN_REVIEW

    # Then the decision itself: the e-mails are the ones previewed.
    form.pop("csrf_token")
    response = client.post(
        f"/review/{practice.id}/request_changes", data={"csrf_token": token, **form}
    )
    assert response.status_code == 302
    messages = {m.to: m for m in mailbox.wait_for(2)}
    for (_, subject, text), address in zip(
        shown, ["lucia@example.org", "joao@example.org"], strict=True
    ):
        assert messages[address].subject == subject
        # The same text, but for the line ends that the wire format changes.
        assert messages[address].text.replace("\r\n", "\n").rstrip() == text.rstrip()


def test_preview_in_the_recipients_language(app, under_review):
    practice, _author, _colleague, coordinator = under_review
    client = signed_in(app, coordinator)
    token = csrf_token(client, f"/review/{practice.id}")
    response = client.post(
        f"/review/{practice.id}/preview/publish", data={"csrf_token": token, "comment": ""}
    )
    assert response.status_code == 200
    (spanish, portuguese) = previews(response.get_data(as_text=True))
    assert spanish[2].startswith("Hola, Lucía Torres:")
    assert portuguese[2].startswith("Olá, João Silva,")
    db.session.expire_all()
    assert db.session.get(Submission, practice.id).state == State.IN_REVIEW


def test_preview_refuses_what_the_decision_would_refuse(app, under_review):
    practice, *_rest, coordinator = under_review
    client = signed_in(app, coordinator)
    token = csrf_token(client, f"/review/{practice.id}")
    before = count(Notification)
    response = client.post(
        f"/review/{practice.id}/preview/reject",
        data={"csrf_token": token, "comment": "", "note": "Una nota"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="comment-error"[^>]*>\s*<span>Write a comment for the authors', page)
    assert "Una nota</textarea>" in page
    # The HTML version, in a tab of its own, sends back to the review page with the reason.
    html_part = client.post(
        f"/review/{practice.id}/preview/reject/0",
        data={"csrf_token": token, "comment": "", "note": "Una nota"},
    )
    assert html_part.status_code == 302
    assert html_part.headers["Location"] == f"/review/{practice.id}"
    assert "Write a comment for the authors" in client.get(f"/review/{practice.id}").get_data(
        as_text=True
    )
    assert count(Notification) == before


def test_only_coordinators_preview(app, under_review):
    practice, author, *_rest = under_review
    client = signed_in(app, author)
    response = client.post(
        f"/review/{practice.id}/preview/publish",
        data={"csrf_token": csrf_token(client, "/notifications/")},
    )
    assert response.status_code == 403


def test_a_decision_without_a_note_has_no_note(app, worker, mailbox, under_review):
    practice, author, _colleague, coordinator = under_review
    client = signed_in(app, coordinator)
    token = csrf_token(client, f"/review/{practice.id}")
    client.post(f"/review/{practice.id}/publish", data={"csrf_token": token, "comment": ""})
    published = db.session.scalars(
        select(Notification).where(Notification.kind == "submissions.published")
    ).all()
    assert all("note" not in n.payload for n in published)
    message = wait_for(
        lambda: [m for m in mailbox.to(author.email) if "publicad" in m.subject.lower()]
    )[0]
    assert "A note from the coordinator" not in message.text
