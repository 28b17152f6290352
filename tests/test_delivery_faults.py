"""Delivery under faults, played with the real parts.

Most of these need what only the PostgreSQL + Redis mode has: worker processes that can be
killed and restarted, Redis redelivering what a dead worker held, a broker of the test's own to
pause or restart. They are skipped in the SQLite mode, with the reason. Every worker process a
test starts consumes a queue of its own, so the session's worker never takes its tasks.

Settings that make the faults quick to play (and that the settings checks accept):
the claim of a dead worker goes stale after 3 s (so a send is stopped after 1.5 s and SMTP
gives up after 1 s), and Redis hands an unacknowledged message to another worker after 6 s.
"""

import itertools
import os
import signal
import socket
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from exchange.config import SEND_TASK, ConfigurationError, load_config
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import queue_notification, sweep_notifications
from tests.conftest import csrf_token, merged, needs_worker_process, other_app, wait_for
from tests.factories import log_in, make_member
from tests.mailserver import MailServer

PROCESS_MODE = bool(os.environ.get("TEST_BROKER_URL"))

# Quick faults: see the module's docstring.
FAST_RECOVERY = {
    "MAIL_CLAIM_TIMEOUT_SECONDS": 3,
    "SMTP_TIMEOUT": 1.0,
    "BROKER_VISIBILITY_TIMEOUT_SECONDS": 6,
    "MAIL_RETRY_BASE_SECONDS": 0.2,
    "MAIL_RETRY_MAX_SECONDS": 1.0,
    "CELERY": {
        # Look for messages past their visibility timeout every second (not every 100 s).
        "broker_transport_options": {"unacked_restore_interval": 1, "unacked_restore_throttle": 1},
    },
}


def reload(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def notify(user) -> Notification:
    notification = queue_notification(user, "auth.confirm_email")
    db.session.commit()
    return notification


def message_ids(mailbox) -> list[str]:
    return [str(m.message["Message-ID"]) for m in mailbox.messages]


def children_of(pid: int) -> list[int]:
    """The pool processes of a worker (Linux /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (name) state ppid ...": the name may hold spaces, so split after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


@pytest.fixture
def fault_worker(app, settings, worker_processes):
    """`fault_worker(overrides, ...)`: a worker process with these settings on a queue of its
    own, and an app (its context pushed) that publishes there. Further calls add workers on the
    same queue (`count=2`: two, started at once; then a list is returned)."""
    with ExitStack() as stack:
        apps: dict[str, Flask] = {}

        def start(overrides: dict, *, queue: str = "faults", **options):
            if queue not in apps:
                unique = f"{queue}-{uuid.uuid4().hex[:8]}"
                full = {
                    **overrides,
                    "CELERY": {**overrides.get("CELERY", {}), "task_default_queue": unique},
                }
                apps[queue] = stack.enter_context(other_app(settings, full))
                apps[queue].config["TEST_OVERRIDES"] = full
            publisher = apps[queue]
            workers = worker_processes(
                celery_app=publisher.extensions["celery"],
                settings_overrides=publisher.config["TEST_OVERRIDES"],
                **options,
            )
            return publisher, workers if len(workers) > 1 else workers[0]

        yield start


# Settings --------------------------------------------------------------------------------------


def configured(tmp_path, **overrides) -> Flask:
    """Settings loaded for a Redis broker (never connected to)."""
    app = Flask("delivery_settings", instance_path=str(tmp_path))
    celery = {"broker_url": "redis://127.0.0.1:6379/15", **overrides.pop("CELERY", {})}
    load_config(app, {"SECRET_KEY": "k" * 40, "CELERY": celery, **overrides})
    return app


def test_a_retry_cap_at_or_beyond_the_visibility_timeout_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="MAIL_RETRY_MAX_SECONDS"):
        configured(tmp_path, MAIL_RETRY_MAX_SECONDS=3600.0)
    with pytest.raises(ConfigurationError, match="visibility timeout"):
        configured(tmp_path, MAIL_RETRY_MAX_SECONDS=600.0, BROKER_VISIBILITY_TIMEOUT_SECONDS=600)
    # The visibility timeout given as a transport option is the one checked.
    with pytest.raises(ConfigurationError, match="visibility timeout"):
        configured(tmp_path, CELERY={"broker_transport_options": {"visibility_timeout": 900}})
    app = configured(tmp_path, MAIL_RETRY_MAX_SECONDS=1800.0)
    options = app.config["CELERY"]["broker_transport_options"]
    assert options["visibility_timeout"] == 3600
    assert options["socket_timeout"] == app.config["BROKER_SOCKET_TIMEOUT_SECONDS"]
    assert options["health_check_interval"] == app.config["BROKER_HEALTH_CHECK_SECONDS"]


def test_a_send_is_stopped_before_its_claim_goes_stale(tmp_path):
    app = configured(tmp_path, MAIL_CLAIM_TIMEOUT_SECONDS=600.0)
    limit = app.config["CELERY"]["task_annotations"][SEND_TASK]["time_limit"]
    # Celery looks at time limits once a second.
    assert app.config["SMTP_TIMEOUT"] < limit < 600 - 1
    with pytest.raises(ConfigurationError, match="SMTP_TIMEOUT"):
        configured(tmp_path, MAIL_CLAIM_TIMEOUT_SECONDS=10.0, SMTP_TIMEOUT=10.0)
    with pytest.raises(ConfigurationError, match="MAIL_CLAIM_TIMEOUT_SECONDS"):
        configured(tmp_path, MAIL_CLAIM_TIMEOUT_SECONDS=1)


def test_the_quick_settings_of_these_tests_pass_the_checks(tmp_path):
    app = configured(tmp_path, **FAST_RECOVERY)
    assert app.config["CELERY"]["broker_transport_options"]["visibility_timeout"] == 6


# The broker down when a user acts --------------------------------------------------------------


class BlackHole:
    """A TCP port that accepts connections and never answers, like a hung server."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


def request_confirmation(web_app, email: str) -> tuple[int, float]:
    """The member asks for the confirmation e-mail again; returns the status and seconds."""
    client = web_app.test_client()
    log_in(client, SimpleNamespace(email=email))
    token = csrf_token(client)
    started = time.monotonic()
    response = client.post("/account/confirmation", data={"csrf_token": token})
    return response.status_code, time.monotonic() - started


QUICK_BROKER = {
    "BROKER_SOCKET_TIMEOUT_SECONDS": 0.5,
    "BROKER_CONNECT_TIMEOUT_SECONDS": 0.5,
    # A worker whose connection broke during a pause reconnects within a few seconds.
    "BROKER_HEALTH_CHECK_SECONDS": 1,
}


def test_a_broker_that_stops_answering_does_not_hang_the_request(app, settings, worker, mailbox):
    hole = BlackHole()
    make_member(email="hung-broker@example.org", confirmed=False)
    try:
        overrides = {**QUICK_BROKER, "CELERY": {"broker_url": f"redis://127.0.0.1:{hole.port}/0"}}
        with other_app(settings, overrides) as web:
            status, elapsed = request_confirmation(web, "hung-broker@example.org")
    finally:
        hole.close()
    assert status == 302
    # Two tries, each given up after 0.5 s.
    assert elapsed < 3, f"the request took {elapsed:.1f} s"
    (notification,) = db.session.scalars(select(Notification)).all()
    assert notification.status == NotificationStatus.PENDING
    assert mailbox.messages == []

    # The sweep of a beat whose broker answers sends it, once.
    app.config["MAIL_SWEEP_GRACE_SECONDS"] = 0
    try:
        assert sweep_notifications() == 1
    finally:
        app.config["MAIL_SWEEP_GRACE_SECONDS"] = 60.0
    (message,) = mailbox.wait_for(1)
    assert message.to == "hung-broker@example.org"
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)


# Beat (in the worker process) runs only the sweep, every half second; a row is due for it a
# second after it was made.
BEAT_SWEEPS_OFTEN = {
    "MAIL_SWEEP_INTERVAL_SECONDS": 0.5,
    "MAIL_SWEEP_GRACE_SECONDS": 1,
    "CELERY": {
        "beat_schedule": {
            "sweep-notifications": {"task": "exchange.notifications.tasks.sweep_notifications"}
        }
    },
}


@needs_worker_process
def test_a_paused_broker_then_the_periodic_sweep_delivers(
    settings, fault_worker, own_redis, mailbox, tmp_path
):
    # The worker (and its beat) rides out a pause of a few seconds: a command of its that timed
    # out mid-pause (an ack) can leave kombu's consumer stuck until its connection is replaced,
    # which is not what this test is about. The web process gives up after half a second.
    broker = {"CELERY": {"broker_url": own_redis.url}}
    worker_side = merged(BEAT_SWEEPS_OFTEN, {"BROKER_SOCKET_TIMEOUT_SECONDS": 10}, broker)
    publisher, _ = fault_worker(worker_side, beat_schedule=tmp_path / "beat-schedule")
    queue = publisher.config["TEST_OVERRIDES"]["CELERY"]["task_default_queue"]
    make_member(email="paused-broker@example.org", confirmed=False)

    web_side = merged(QUICK_BROKER, broker, {"CELERY": {"task_default_queue": queue}})
    with other_app(settings, web_side) as web:
        own_redis.pause()  # still accepts connections; answers nothing
        try:
            status, elapsed = request_confirmation(web, "paused-broker@example.org")
            assert status == 302
            assert elapsed < 3, f"the request took {elapsed:.1f} s"
            (notification,) = db.session.scalars(select(Notification)).all()
            time.sleep(0.5)
            assert reload(notification.id).status == NotificationStatus.PENDING
        finally:
            own_redis.resume()

    # Beat (in the worker) sweeps every half second; the row is due a second after it was made.
    (message,) = mailbox.wait_for(1, timeout=20)
    assert message.to == "paused-broker@example.org"
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 1
    time.sleep(1.5)  # more sweeps: nothing more is sent
    assert len(mailbox.messages) == 1


@needs_worker_process
def test_a_broker_restart_that_loses_the_queue_is_made_good_by_the_sweep(
    settings, fault_worker, own_redis, mailbox, tmp_path
):
    overrides = merged(BEAT_SWEEPS_OFTEN, {"CELERY": {"broker_url": own_redis.url}})
    # The queue's app first; no worker yet, so the task waits in Redis.
    _, worker = fault_worker(overrides, beat_schedule=tmp_path / "beat-schedule")
    worker.stop()
    notification = notify(make_member(email="lost-queue@example.org"))
    assert mailbox.messages == []

    own_redis.restart()  # no persistence: the queued task is gone
    fault_worker(overrides, beat_schedule=tmp_path / "beat-schedule")

    (message,) = mailbox.wait_for(1, timeout=20)
    assert message.to == "lost-queue@example.org"
    wait_for(lambda: reload(notification.id).status == NotificationStatus.SENT)
    time.sleep(1.5)
    assert len(mailbox.messages) == 1


# A worker killed in the middle of sending -------------------------------------------------------


@needs_worker_process
def test_a_worker_killed_mid_send_delivers_once_after_a_restart(fault_worker, mailbox):
    _, first = fault_worker(FAST_RECOVERY)
    mailbox.delay_next(30)  # the message waits for its answer: the kill lands there
    notification = notify(make_member(email="killed@example.org"))
    assert mailbox.holding.wait(15), "the worker never reached the end of the data"
    first.kill()  # the whole worker, pool and all, as when its machine dies
    time.sleep(0.2)
    assert mailbox.messages == [], "a message whose sender died before the answer is not taken"
    assert reload(notification.id).status == NotificationStatus.SENDING

    # Another worker. Redis gives it the message the dead one never acknowledged once the
    # visibility timeout has passed; by then the dead worker's claim is stale, so it sends.
    fault_worker(FAST_RECOVERY)
    (message,) = mailbox.wait_for(1, timeout=20)
    assert message.message["Message-ID"] == f"<notification.{notification.id}@exchange.test>"
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 2
    # A sweep now (a copy of the task) sends nothing more.
    assert sweep_notifications() == 0
    time.sleep(1)
    assert len(mailbox.messages) == 1


# Celery notices a dead pool process two or three seconds after it died; the time limit of the
# task it ran must not go off before (it would acknowledge the message: then only the sweep
# would send it). 4.5 s here, 540 s with the default settings.
POOL_KILL = merged(
    FAST_RECOVERY, {"MAIL_CLAIM_TIMEOUT_SECONDS": 6, "BROKER_VISIBILITY_TIMEOUT_SECONDS": 12}
)


@needs_worker_process
def test_a_pool_process_killed_mid_send_delivers_once(fault_worker, mailbox):
    _, worker = fault_worker(POOL_KILL)
    mailbox.delay_next(30)
    notification = notify(make_member(email="pool-killed@example.org"))
    assert mailbox.holding.wait(15)
    (child,) = children_of(worker.process.pid)
    os.kill(child, signal.SIGKILL)  # the out-of-memory killer's way
    # The worker starts a new pool process and gets the message back at once (late
    # acknowledgement, rejected on worker loss); the dead claim is still fresh, so that copy
    # comes back when it goes stale, and sends.
    (message,) = mailbox.wait_for(1, timeout=20)
    assert message.to == "pool-killed@example.org"
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 2
    time.sleep(1)
    assert len(mailbox.messages) == 1


@needs_worker_process
def test_a_worker_killed_mid_run_another_finishes_the_run_once(fault_worker, mailbox):
    # Worker A sends five, and is killed while the sixth waits for its answer; worker B,
    # started afterwards, sends the rest, and the sixth once Redis gives it back.
    _, first = fault_worker(FAST_RECOVERY)
    mailbox.delay_next(*[0.05] * 5, 30, *[0.05] * 14)
    members = [make_member(email=f"run{i}@example.org") for i in range(20)]
    notifications = [queue_notification(member, "auth.confirm_email") for member in members]
    db.session.commit()
    wait_for(lambda: mailbox.holds == 6 and mailbox.holding.is_set(), timeout=20)
    first.kill()
    fault_worker(FAST_RECOVERY)

    mailbox.wait_for(20, timeout=30)
    wait_for(
        lambda: all(reload(n.id).status == NotificationStatus.SENT for n in notifications),
        timeout=20,
    )
    time.sleep(1)
    ids = message_ids(mailbox)
    assert sorted(ids) == sorted(f"<notification.{n.id}@exchange.test>" for n in notifications)


# SMTP failing for a while -------------------------------------------------------------------


@pytest.fixture
def unreachable_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@needs_worker_process
def test_an_unreachable_smtp_server_is_retried_until_it_answers(fault_worker, unreachable_port):
    overrides = {**FAST_RECOVERY, "SMTP_PORT": unreachable_port, "MAIL_MAX_ATTEMPTS": 20}
    fault_worker(overrides)
    notification = notify(make_member(email="unreachable@example.org"))
    row = wait_for(lambda: (n := reload(notification.id)).attempts >= 3 and n, timeout=20)
    assert "refused" in (row.last_error or "").lower()
    assert row.status in {NotificationStatus.PENDING, NotificationStatus.SENDING}

    server = MailServer(port=unreachable_port)
    server.start()
    try:
        (message,) = server.wait_for(1, timeout=20)
        assert message.to == "unreachable@example.org"
        row = wait_for(
            lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n
        )
        assert row.last_error is None
        time.sleep(1.5)  # at least the longest backoff: no copy comes after
        assert len(server.messages) == 1
        assert server.transactions == 1
    finally:
        server.stop()


@needs_worker_process
def test_4xx_answers_are_retried_with_backoff_below_the_visibility_timeout(fault_worker, mailbox):
    # Backoff 0.2, 0.4, 0.8, 1.0, 1.0 s (halved at most by jitter), well inside the 6 s
    # visibility timeout: Redis never hands a waiting retry to another worker, so each attempt
    # is one transaction, and the last one delivers.
    fault_worker({**FAST_RECOVERY, "MAIL_MAX_ATTEMPTS": 8}, concurrency=2)
    mailbox.answer_next(*["451 4.3.0 Try again later"] * 5)
    notification = notify(make_member(email="backoff@example.org"))
    mailbox.wait_for(1, timeout=20)
    row = wait_for(lambda: (n := reload(notification.id)).status == NotificationStatus.SENT and n)
    assert row.attempts == 6
    assert mailbox.transactions == 6
    times = mailbox.transaction_times
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, backoff in zip(gaps, [0.2, 0.4, 0.8, 1.0, 1.0], strict=True):
        assert gap >= backoff / 2 - 0.05, gaps
    time.sleep(1.5)
    assert len(mailbox.messages) == 1


# Connections ----------------------------------------------------------------------------------


def test_a_worker_sends_many_messages_over_one_connection(worker, mailbox):
    members = [make_member(email=f"reuse{i}@example.org") for i in range(12)]
    for member in members:
        queue_notification(member, "auth.confirm_email")
    db.session.commit()
    mailbox.wait_for(12)
    # One connection per worker process (two in the process mode), kept across tasks.
    assert len(mailbox.connections) <= 2
    assert sum(mailbox.connections) == 12


@needs_worker_process
def test_a_connection_the_server_closed_is_replaced_without_a_failed_attempt(fault_worker):
    server = MailServer(idle_timeout=0.5)
    server.start()
    try:
        fault_worker({**FAST_RECOVERY, "SMTP_PORT": server.port})
        first = notify(make_member(email="first@example.org"))
        server.wait_for(1)
        time.sleep(1.2)  # the server closes the idle connection (421)
        second = notify(make_member(email="second@example.org"))
        server.wait_for(2)
        for notification in (first, second):
            wait_for(lambda n=notification: reload(n.id).status == NotificationStatus.SENT)
            assert reload(notification.id).attempts == 1
        assert server.transactions == 2
        assert len(server.connections) == 2
    finally:
        server.stop()


@needs_worker_process
def test_a_stopping_worker_closes_its_connection(fault_worker, mailbox):
    _, worker = fault_worker(FAST_RECOVERY)
    notify(make_member(email="quit@example.org"))
    mailbox.wait_for(1)
    assert mailbox.quits == 0  # kept open between tasks
    worker.stop()
    wait_for(lambda: mailbox.quits == 1, timeout=10)


@needs_worker_process
def test_two_worker_processes_send_side_by_side(fault_worker, mailbox):
    # Each message takes the server 0.2 s to answer: one process sends 5 a second.
    fault_worker(FAST_RECOVERY, count=2)
    mailbox.delay_next(*[0.2] * 16)
    members = [make_member(email=f"scale{i}@example.org") for i in range(16)]
    db.session.commit()
    # Sixteen people acting at once: sixteen transactions, each dispatching its own message
    # (what one transaction writes goes out as one batch, which one process sends).
    for member in members:
        queue_notification(member, "auth.confirm_email")
        db.session.commit()
    mailbox.wait_for(16, timeout=20)
    # Both processes sent, at the same time: one process waits 0.2 s for each answer, so a
    # transaction starting less than that after the one before was another process's.
    gaps = [after - before for before, after in itertools.pairwise(mailbox.transaction_times)]
    assert sum(gap < 0.15 for gap in gaps) >= 4, gaps
    assert len(mailbox.connections) == 2
    assert min(mailbox.connections) >= 4, mailbox.connections
