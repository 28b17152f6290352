"""Notifications through the real parts: a broker, a worker, and an SMTP server."""

import os
import socket
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import (
    SEND_TASK,
    deliver_notification,
    queue_notification,
    sweep_notifications,
)
from tests.conftest import csrf_token, other_app, wait_for
from tests.factories import log_in, make_member
from tests.mailserver import MailServer


def reload(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def notify(user, kind="auth.confirm_email") -> Notification:
    notification = queue_notification(user, kind)
    db.session.commit()
    return notification


def send_task(app):
    return app.extensions["celery"].tasks[SEND_TASK]


def settle(user, mailbox, already: int):
    """Send one more message and wait for it: whatever was dispatched before has run too."""
    notify(user)
    return mailbox.wait_for(already + 1)


def test_a_rolled_back_change_sends_nothing(worker, mailbox):
    member = make_member(email="rollback@example.org")
    queue_notification(member, "auth.confirm_email")
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0

    sentinel = make_member(email="sentinel@example.org")
    messages = settle(sentinel, mailbox, already=0)
    assert [m.to for m in messages] == ["sentinel@example.org"]


def test_a_committed_change_sends_exactly_one_message(worker, mailbox):
    member = make_member(email="once@example.org")
    notification = notify(member)
    (message,) = mailbox.wait_for(1)
    assert message.to == "once@example.org"
    assert message.message["Message-ID"] == f"<notification.{notification.id}@exchange.test>"
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)
    sentinel = make_member(email="sentinel@example.org")
    messages = settle(sentinel, mailbox, already=1)
    assert [m.to for m in messages].count("once@example.org") == 1
    row = reload(notification.id)
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.subject == message.subject


def test_the_same_task_run_again_and_concurrently_sends_one(app, worker, mailbox):
    member = make_member(email="twice@example.org")
    notification = notify(member)  # dispatched once by the commit
    task = send_task(app)
    # Two more copies of the same message, at the same time.
    results = [task.apply_async((notification.id,), ignore_result=False) for _ in range(2)]
    for result in results:
        result.get(timeout=15)
    mailbox.wait_for(1)
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)
    # And once more after it was sent.
    task.apply_async((notification.id,), ignore_result=False).get(timeout=15)
    assert [m.to for m in mailbox.messages] == ["twice@example.org"]
    assert reload(notification.id).attempts == 1


def test_delivery_is_idempotent_when_called_directly(worker, mailbox):
    member = make_member(email="direct@example.org")
    notification = notify(member)
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)
    assert deliver_notification(notification.id).status == "skipped"
    assert len(mailbox.messages) == 1


def test_temporary_smtp_failures_are_retried_then_delivered_once(worker, mailbox):
    mailbox.answer_next("451 4.3.0 Try again later", "451 4.3.0 Try again later")
    member = make_member(email="retry@example.org")
    notification = notify(member)
    (message,) = mailbox.wait_for(1)
    assert message.to == "retry@example.org"
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 3
    assert row.last_error is None
    assert mailbox.transactions == 3
    # Backoff: 0.2 s, then 0.4 s (at least half of each, with jitter).
    first, second, third = mailbox.transaction_times
    assert second - first >= 0.1 - 0.02
    assert third - second >= 0.2 - 0.02


def test_notifications_committed_together_go_in_batches_each_once(app, worker, mailbox):
    size = app.config["MAIL_BATCH_SIZE"]
    members = [make_member(email=f"batch{i}@example.org") for i in range(size + 3)]
    db.session.commit()
    # The third transaction of the first batch is refused for now: that one comes back alone.
    mailbox.answer_next(None, None, "451 4.3.0 Try again later")
    notifications = [queue_notification(member, "auth.confirm_email") for member in members]
    db.session.commit()
    messages = mailbox.wait_for(len(members))
    assert sorted(m.to for m in messages) == sorted(member.email for member in members)
    rows = [
        wait_for(lambda n=n: (row := reload(n.id)).status == NotificationStatus.SENT and row)
        for n in notifications
    ]
    assert sorted(row.attempts for row in rows) == [1] * (len(members) - 1) + [2]
    assert mailbox.transactions == len(members) + 1
    assert len(settle(members[0], mailbox, already=len(members))) == len(members) + 1


def test_a_batch_that_runs_long_hands_the_rest_back(app, worker, mailbox, monkeypatch):
    from exchange.notifications import services

    members = [make_member(email=f"slow{i}@example.org") for i in range(3)]
    db.session.commit()
    notifications = [queue_notification(member, "auth.confirm_email") for member in members]
    db.session.flush()
    db.session.info.pop("exchange.notifications.to_dispatch", None)  # delivered by hand below
    db.session.commit()
    handed_back = []

    def dispatch(ids):
        handed_back.extend(ids)
        return len(ids)

    monkeypatch.setattr(services, "send_time_limit", lambda claim_timeout: 0.0)
    monkeypatch.setattr(services, "dispatch", dispatch)
    outcomes = services.deliver_batch([n.id for n in notifications])
    # Over its budget after the first send: the other two go back to the broker, untouched.
    assert outcomes == {"sent": 1, "handed_back": 2}
    assert handed_back == [notifications[1].id, notifications[2].id]
    assert [m.to for m in mailbox.wait_for(1)] == ["slow0@example.org"]
    assert [reload(n.id).status for n in notifications] == [
        NotificationStatus.SENT,
        NotificationStatus.PENDING,
        NotificationStatus.PENDING,
    ]


def test_a_database_error_on_one_row_does_not_hold_up_the_batch(app, worker, mailbox, monkeypatch):
    from exchange.notifications import services

    members = [make_member(email=f"locked{i}@example.org") for i in range(3)]
    db.session.commit()
    notifications = [queue_notification(member, "auth.confirm_email") for member in members]
    db.session.flush()
    db.session.info.pop("exchange.notifications.to_dispatch", None)  # delivered by hand below
    db.session.commit()
    real = services.render_notification
    broken = [notifications[0].id]  # once: its retry goes through

    def render(notification):
        if notification.id in broken:
            broken.remove(notification.id)
            raise OperationalError("SELECT practice", {}, Exception("server closed the connection"))
        return real(notification)

    monkeypatch.setattr(services, "render_notification", render)
    outcomes = services.deliver_batch([n.id for n in notifications])
    assert outcomes == {"retry": 1, "sent": 2}
    # The other two went out; the first was given back, comes back on its own task and goes
    # out too, counted as one attempt.
    messages = mailbox.wait_for(3)
    row = wait_for(
        lambda: (n := reload(notifications[0].id)).status == NotificationStatus.SENT and n
    )
    assert row.attempts == 1
    assert sorted(m.to for m in messages) == [m.email for m in members]


def test_a_permanent_smtp_failure_marks_the_notification_failed(worker, mailbox):
    mailbox.answer_next("550 5.1.1 Mailbox unavailable")
    member = make_member(email="bounce@example.org")
    notification = notify(member)
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.FAILED and n)
    assert row.last_error.startswith("550")
    assert row.attempts == 1
    sentinel = make_member(email="sentinel@example.org")
    messages = settle(sentinel, mailbox, already=0)
    assert [m.to for m in messages] == ["sentinel@example.org"]
    assert mailbox.transactions == 2  # the failed one was never tried again


def test_temporary_failures_give_up_after_the_last_attempt(app, worker, mailbox):
    attempts = app.config["MAIL_MAX_ATTEMPTS"]
    mailbox.answer_next(*["421 4.4.2 Connection dropped"] * attempts)
    member = make_member(email="flaky@example.org")
    notification = notify(member)
    row = wait_for(
        lambda: (n := reload(notification.id)).status == NotificationStatus.FAILED and n,
        timeout=30,
    )
    assert row.attempts == attempts
    assert "gave up" in row.last_error
    assert mailbox.messages == []


def test_broker_down_the_request_succeeds_and_the_sweep_delivers(app, settings, worker, mailbox):
    make_member(email="waiting@example.org", confirmed=False)
    # The same app, but its broker is a port where nothing listens.
    with other_app(settings, {"CELERY": {"broker_url": "redis://127.0.0.1:1/0"}}) as broken:
        client = broken.test_client()
        log_in(client, SimpleNamespace(email="waiting@example.org"))
        started = time.monotonic()
        response = client.post("/account/confirmation", data={"csrf_token": csrf_token(client)})
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 5, "the request must not hang while the broker is down"

    (notification,) = db.session.scalars(select(Notification)).all()
    assert reload(notification.id).status == NotificationStatus.PENDING
    time.sleep(0.3)
    assert mailbox.messages == []

    # Later, beat's sweep (with a reachable broker) finds it.
    app.config["MAIL_SWEEP_GRACE_SECONDS"] = 0
    try:
        assert sweep_notifications() == 1
    finally:
        app.config["MAIL_SWEEP_GRACE_SECONDS"] = 60.0
    (message,) = mailbox.wait_for(1)
    assert message.to == "waiting@example.org"
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)


def test_the_sweep_leaves_recent_and_finished_rows_alone(app, worker, mailbox):
    member = make_member(email="recent@example.org")
    notification = notify(member)
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)
    app.config["MAIL_SWEEP_GRACE_SECONDS"] = 0
    try:
        assert sweep_notifications() == 0
    finally:
        app.config["MAIL_SWEEP_GRACE_SECONDS"] = 60.0


@pytest.mark.skipif(
    bool(os.environ.get("TEST_BROKER_URL")),
    reason="changes the settings of the in-process worker; with a worker process, "
    "tests/test_delivery_faults.py plays the same with a worker of its own",
)
def test_an_unreachable_smtp_server_is_retried_until_it_answers(app, worker):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    saved = {name: app.config[name] for name in ("SMTP_PORT", "MAIL_MAX_ATTEMPTS")}
    app.config.update(SMTP_PORT=port, MAIL_MAX_ATTEMPTS=20)
    server = MailServer(port=port)
    try:
        notification = notify(make_member(email="unreachable@example.org"))
        row = wait_for(lambda: (n := reload(notification.id)).attempts >= 3 and n)
        assert "refused" in row.last_error.lower()
        server.start()
        (message,) = server.wait_for(1)
        assert message.to == "unreachable@example.org"
        row = wait_for(
            lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n
        )
        assert row.last_error is None
        time.sleep(2.2)  # the longest backoff: no copy comes after
        assert server.transactions == 1
    finally:
        app.config.update(saved)
        server.stop()


def test_a_batch_in_several_languages_writes_each_message_in_its_own(worker, mailbox):
    from tests.test_emails import SUBJECTS

    languages = ["pt", "en", "es", "en", "pt"]
    members = [
        make_member(email=f"lang{i}@example.org", language=language)
        for i, language in enumerate(languages)
    ]
    db.session.commit()
    for member in members:  # one transaction: one batch, rendered in one request context
        queue_notification(member, "auth.confirm_email")
    db.session.commit()
    messages = {m.to: m for m in mailbox.wait_for(len(members))}
    for member, language in zip(members, languages, strict=True):
        message = messages[member.email]
        assert message.subject == SUBJECTS["auth.confirm_email"][language]
        assert message.message["Content-Language"] == language
