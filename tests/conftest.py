"""Test set-up on the real parts.

- Database: PostgreSQL when TEST_DATABASE_URL is set, otherwise a SQLite file. The schema is built
  by the migrations themselves, once per run; every test starts from empty tables.
- Worker: with TEST_BROKER_URL (Redis), a real `celery worker` process on that broker; otherwise a
  Celery worker in a thread of this process on the in-memory broker. Either way tasks go through a
  broker and a worker, never eager mode.
- E-mail: a real SMTP server (aiosmtpd) in this process; tests read what arrived, and can make it
  answer with temporary or permanent errors.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import current_app
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
            # The in-memory broker polls its queues; once a second would make every test wait.
            "broker_transport_options": {} if broker else {"polling_interval": 0.02},
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


def worker_environment(settings: dict, overrides: dict | None = None) -> dict[str, str]:
    """The environment of a worker process on the test database, broker and SMTP server.

    `overrides` are settings as `create_app` takes them (a "CELERY" dict is merged key by
    key); they reach the process as EXCHANGE_<NAME> variables, JSON-encoded.
    """
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
        "EXCHANGE_SMTP_TIMEOUT": str(settings["SMTP_TIMEOUT"]),
        "EXCHANGE_MAIL_RETRY_BASE_SECONDS": str(settings["MAIL_RETRY_BASE_SECONDS"]),
        "EXCHANGE_MAIL_RETRY_MAX_SECONDS": str(settings["MAIL_RETRY_MAX_SECONDS"]),
        "EXCHANGE_MAIL_MAX_ATTEMPTS": str(settings["MAIL_MAX_ATTEMPTS"]),
        "EXCHANGE_ARGON2_TIME_COST": "1",
        "EXCHANGE_ARGON2_MEMORY_COST": "8192",
    }
    for name, value in (overrides or {}).items():
        if name == "CELERY":
            for key, item in value.items():
                env[f"EXCHANGE_CELERY__{key}"] = json.dumps(item)
            # Celery reads this variable itself, over its settings.
            if "broker_url" in value:
                env["CELERY_BROKER_URL"] = value["broker_url"]
        else:
            env[f"EXCHANGE_{name}"] = json.dumps(value)
    return env


class WorkerProcess:
    """A `celery worker` process of its own (and its pool), which a test can kill and restart.

    It runs in a process group of its own, so that `kill()` takes the pool processes with the
    main one, as when a machine or a container dies.
    """

    def __init__(
        self,
        celery_app,
        env: dict[str, str],
        *,
        name: str,
        concurrency: int = 2,
        beat_schedule: Path | None = None,
    ):
        self.celery_app = celery_app
        self.env = env
        self.name = f"{name}-{os.getpid()}"
        self.concurrency = concurrency
        self.beat_schedule = beat_schedule
        self.process: subprocess.Popen | None = None

    def launch(self) -> "WorkerProcess":
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "exchange.worker",
            "worker",
            "--concurrency",
            str(self.concurrency),
            "--loglevel",
            os.environ.get("TEST_WORKER_LOGLEVEL", "WARNING"),
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{self.name}@%h",
        ]
        if self.beat_schedule is not None:
            command += ["--beat", "--schedule", str(self.beat_schedule)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60) -> "WorkerProcess":
        deadline = time.monotonic() + timeout
        while not self.answers_ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the Celery worker process {self.name} did not start")
        return self

    def start(self, timeout: float = 60) -> "WorkerProcess":
        return self.launch().wait_ready(timeout)

    def answers_ping(self) -> bool:
        try:
            replies = self.celery_app.control.ping(timeout=0.5)
        except self.celery_app.connection_for_read().connection_errors:
            time.sleep(0.2)  # the broker restarted under a pooled connection: try again
            return False
        return any(name.startswith(f"{self.name}@") for reply in replies for name in reply)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: nothing gets to clean up."""
        if self.process is None or self.process.poll() is not None:
            return  # gone, and its pool with it (a warm shutdown waits for the pool)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM): the worker finishes what it runs; killed if it lingers."""
        stop_all([self])


def stop_all(workers: list[WorkerProcess], timeout: float = 20) -> None:
    """Warm shutdown of these workers at once; whatever lingers is killed."""
    for worker in workers:
        if worker.running:
            worker.process.terminate()
    deadline = time.monotonic() + timeout
    for worker in workers:
        if worker.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        worker.kill()  # whatever is left of its group


def _worker_process(celery_app, settings):
    # Nothing left from an earlier run may reach this worker.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    worker = WorkerProcess(celery_app, worker_environment(settings), name="test-worker")
    worker.start()
    try:
        yield worker.process
    finally:
        worker.stop()


needs_worker_process = pytest.mark.skipif(
    not os.environ.get("TEST_BROKER_URL"),
    reason="needs PostgreSQL, Redis and worker processes (set TEST_DATABASE_URL and "
    "TEST_BROKER_URL): killing a worker, a redelivery by Redis, a broker that stops answering "
    "cannot be played with the in-process worker on the memory broker",
)


@pytest.fixture
def worker_processes(app, settings):
    """Start extra worker processes: `worker_processes(celery_app=..., settings_overrides=...)`.

    Each consumes its own queue (so that the session's worker takes none of its tasks) and
    takes `settings` as the app does. Every process started is stopped after the test.
    """
    started: list[WorkerProcess] = []

    def start(
        *,
        celery_app,
        settings_overrides: dict | None = None,
        name: str = "fault-worker",
        concurrency: int = 1,
        beat_schedule: Path | None = None,
        count: int = 1,
    ) -> list[WorkerProcess]:
        workers = [
            WorkerProcess(
                celery_app,
                worker_environment(settings, settings_overrides),
                name=f"{name}-{len(started) + i}",
                concurrency=concurrency,
                beat_schedule=beat_schedule,
            )
            for i in range(count)
        ]
        started.extend(workers)
        for worker in workers:
            worker.launch()
        return [worker.wait_ready() for worker in workers]

    yield start
    # The test is over: no need to wait for a warm shutdown.
    for worker in started:
        worker.kill()


class RedisServer:
    """A redis-server of the test's own, on a free port, without persistence: one that the
    test may pause, kill and restart (never the machine's Redis, which others use)."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted, nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Killed and started again on the same port: without persistence, empty."""
        self.stop()
        self.start()


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def merged(*layers: dict) -> dict:
    """Settings, each layer over the ones before; their CELERY dicts merged key by key."""
    result: dict = {"CELERY": {}}
    for layer in layers:
        result = {**result, **layer, "CELERY": {**result["CELERY"], **layer.get("CELERY", {})}}
    return result


@contextmanager
def other_app(settings: dict, overrides: dict):
    """Another app on the test database (another web process, or one with another broker),
    its app context pushed. The extensions that live at module level (the limiter, Celery's
    default app) are put back afterwards: the in-process worker runs its tasks in the Flask app
    of Celery's current app."""
    test_app = current_app._get_current_object()
    celery = test_app.extensions["celery"]
    saved_limiter = dict(vars(limiter))
    app = create_app(merged(settings, overrides))
    app.test_client_class = IsolatedClient
    try:
        with app.app_context():
            yield app
            db.session.remove()
    finally:
        vars(limiter).clear()
        vars(limiter).update(saved_limiter)
        celery.set_default()
        celery.set_current()
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        app.extensions["celery"].close()


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
