"""Test set-up on the real parts.

- Database: PostgreSQL when TEST_DATABASE_URL is set, otherwise a SQLite file. The schema is built
  by the migrations themselves, once per run; every test starts from empty tables.
- Worker: with TEST_BROKER_URL (Redis), a real `celery worker` process on that broker; otherwise a
  Celery worker in a thread of this process on the in-memory broker. Either way tasks go through a
  broker and a worker, never eager mode.
- E-mail: a real SMTP server (aiosmtpd) in this process; tests read what arrived, and can make it
  answer with temporary or permanent errors.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from exchange import create_app
from exchange.extensions import db, limiter
from tests.mailserver import MailServer

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-production-checks"
BASE_URL = "http://exchange.test"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1).replace(
            "postgres://", "postgresql+psycopg://", 1
        )
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory, mail_server) -> dict:
    broker = os.environ.get("TEST_BROKER_URL")
    return {
        "EXCHANGE_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "BASE_URL": BASE_URL,
        "SERVER_NAME": None,
        "SMTP_HOST": mail_server.host,
        "SMTP_PORT": mail_server.port,
        "SMTP_TIMEOUT": 5.0,
        "MAIL_RETRY_BASE_SECONDS": 0.2,
        "MAIL_RETRY_MAX_SECONDS": 2.0,
        "MAIL_MAX_ATTEMPTS": 5,
        "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments")),
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8192,
        "RATELIMIT_STORAGE_URI": broker or "memory://",
        "CELERY": {
            "broker_url": broker or "memory://",
            "result_backend": broker or "cache+memory://",
            "broker_transport_options": {},
        },
    }


class IsolatedClient(FlaskClient):
    """Each request in an app context of its own, as in a real server.

    Tests run inside an app context; without this, Flask would reuse it for the request, and
    `g` (the signed-in user, the CSRF token) and the database session would leak between
    requests and between clients.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(settings):
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()  # the migrations build the schema: they are tested on every run
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def worker(app, settings):
    """A Celery worker consuming from the test broker for the whole run."""
    celery_app = app.extensions["celery"]
    if os.environ.get("TEST_BROKER_URL"):
        yield from _worker_process(celery_app, settings)
    else:
        yield from _worker_thread(celery_app)


def _worker_thread(celery_app):
    import celery.contrib.testing.tasks  # noqa: F401 (registers celery.ping)
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ) as worker:
        yield worker


def _worker_process(celery_app, settings):
    env = {
        **os.environ,
        "EXCHANGE_ENV": "testing",
        "SECRET_KEY": settings["SECRET_KEY"],
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": settings["CELERY"]["broker_url"],
        "CELERY_RESULT_BACKEND": settings["CELERY"]["result_backend"],
        "BASE_URL": settings["BASE_URL"],
        "SMTP_HOST": settings["SMTP_HOST"],
        "SMTP_PORT": str(settings["SMTP_PORT"]),
        "EXCHANGE_MAIL_RETRY_BASE_SECONDS": str(settings["MAIL_RETRY_BASE_SECONDS"]),
        "EXCHANGE_MAIL_RETRY_MAX_SECONDS": str(settings["MAIL_RETRY_MAX_SECONDS"]),
        "EXCHANGE_MAIL_MAX_ATTEMPTS": str(settings["MAIL_MAX_ATTEMPTS"]),
        "EXCHANGE_ARGON2_TIME_COST": "1",
        "EXCHANGE_ARGON2_MEMORY_COST": "8192",
    }
    # Nothing left from an earlier run may reach this worker.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "exchange.worker",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-worker-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker process did not start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(autouse=True)
def _context(app):
    """Every test runs inside the app context, and starts from empty tables."""
    with app.app_context():
        limiter.reset()
        yield
        db.session.rollback()
        db.session.remove()
        _empty_tables()


def _empty_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        _truncate(tables)
        return
    with db.engine.begin() as connection:
        # Tables that refer to each other (submission, revision) empty in any order.
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        for name in tables:
            connection.execute(text(f'DELETE FROM "{name}"'))
        connection.execute(text("DELETE FROM submission_fts"))
        connection.execute(text("PRAGMA foreign_keys=ON"))


def _truncate(tables: list[str], attempts: int = 10) -> None:
    """TRUNCATE every table. Ids are not restarted: a task the worker still holds from this
    test then finds no row in the next one. The worker process may be finishing a task when
    the test ends; TRUNCATE then waits for it, or deadlocks with it and is tried again."""
    quoted = ", ".join(f'"{name}"' for name in tables)
    for attempt in range(attempts):
        try:
            with db.engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                connection.execute(text(f"TRUNCATE {quoted} CASCADE"))
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def mailbox(mail_server):
    """What the SMTP server received during this test."""
    mail_server.reset()
    return mail_server


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def reference(app):
    from exchange.reference.services import load_reference

    load_reference()
    db.session.commit()


CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    response = client.get(path)
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or predicate}")
        time.sleep(interval)
