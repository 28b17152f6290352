"""The notification benchmark: 5,000 e-mails through Celery workers on Redis, with and without
faults, against plain smtplib.

    .venv/bin/python bench/notifications.py \\
        --database postgresql://postgres@127.0.0.1/exchange_bench_notifications \\
        --redis redis://127.0.0.1:6379/9

1. Creates the database if it does not exist and builds the schema with the migrations (its
   own database: the schema is emptied first). Empties Redis db 9 (its own db; nothing else on
   that server is touched). Creates 5,000 people (en/es/pt in turn).
2. Without faults: a local aiosmtpd server; a pool of worker processes (`celery worker`, the
   prefork pool, production settings) on Redis. 5,000 notifications (address confirmations and
   password resets) are written in one transaction; the clock runs from its commit (which
   dispatches them) until the SMTP server has all 5,000. Then the baseline: the same 5,000
   rows, rendered beforehand, sent with plain smtplib over one connection. Also measured: how
   long a message is out (accepted by the server) before its row says sent, the moment where a
   worker killed outright makes a message go out twice.
3. With faults (--fault-runs times, once by default), the same 5,000 on a redis-server of the
   benchmark's own (port 6390, no persistence, started and stopped here: the machine's Redis is
   never restarted), beat sweeping every 2 s (grace 10 s): 20 % of SMTP transactions answered
   451; one worker SIGKILLed (with its pool) once 30 % are delivered, and a new one started;
   Redis restarted (its queues lost) once 60 % are delivered.
4. Scale-out (unless --no-scale): 1,000 notifications into an SMTP server that takes 20 ms to
   answer each message (a remote server's latency), with 1, 2 and 4 worker processes.

Every run prints its throughput and the counts delivered, lost and duplicated, counted by
Message-ID at the SMTP server. Targets (issue 5): workers >= 0.3 x the smtplib baseline without
faults; with faults 5,000 delivered, 0 lost, 0 duplicated. Not part of the test suite.
"""

import argparse
import asyncio
import collections
import json
import os
import random
import re
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalogue import _sqlalchemy_url  # noqa: E402

KINDS = ("auth.confirm_email", "auth.reset_password")
LANGUAGES = ("en", "es", "pt")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The SMTP server ---------------------------------------------------------------------------------


@dataclass
class SMTPCounter:
    """An aiosmtpd handler that counts messages by Message-ID, and can refuse some with 451 or
    take a while to answer."""

    temporary_failure_rate: float = 0.0
    delay: float = 0.0
    seed: int = 5
    ids: collections.Counter = field(default_factory=collections.Counter)
    # When each Message-ID was first accepted (time.time()): against the row's sent_at, how
    # long a message is out before the database knows it.
    accepted_at: dict = field(default_factory=dict)
    transactions: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.random = random.Random(self.seed)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.transactions += 1
            if self.random.random() < self.temporary_failure_rate:
                self.refused += 1
                return "451 4.3.0 Try again later"
            match = MESSAGE_ID.search(envelope.content)
            message_id = match.group(1).decode() if match else "?"
            self.ids[message_id] += 1
            self.accepted_at.setdefault(message_id, time.time())
        return "250 2.0.0 Accepted"

    def reset(self, *, temporary_failure_rate: float = 0.0, delay: float = 0.0) -> None:
        with self.lock:
            self.ids.clear()
            self.accepted_at.clear()
            self.transactions = self.refused = 0
            self.temporary_failure_rate = temporary_failure_rate
            self.delay = delay

    @property
    def distinct(self) -> int:
        with self.lock:
            return len(self.ids)

    def counts(self, expected: set[str]) -> dict:
        with self.lock:
            delivered = len(expected & set(self.ids))
            return {
                "delivered": delivered,
                "lost": len(expected) - delivered,
                "duplicated": sum(n - 1 for n in self.ids.values() if n > 1),
                "duplicated_ids": sorted(i for i, n in self.ids.items() if n > 1),
                "unexpected": len(set(self.ids) - expected),
                "transactions": self.transactions,
                "refused_451": self.refused,
            }


# Processes -----------------------------------------------------------------------------------


class RedisServer:
    """The benchmark's own redis-server (no persistence), to restart without harm to others."""

    def __init__(self, port: int, directory: Path):
        self.port, self.directory, self.process = port, directory, None

    def start(self) -> None:
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
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class Processes:
    """Celery worker and beat processes, each in a process group of its own."""

    def __init__(self, env: dict, logs: Path, label: str):
        self.env, self.logs, self.label = env, logs, label
        self.running: list[subprocess.Popen] = []
        self.started = 0

    def _spawn(self, arguments: list[str]) -> subprocess.Popen:
        self.started += 1
        log = open(self.logs / f"{self.label}-process-{self.started}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "exchange.worker", *arguments],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def worker(self, concurrency: int, pool: str = "prefork") -> subprocess.Popen:
        return self._spawn(
            [
                "worker",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"bench-{self.started + 1}-{secrets.token_hex(3)}@%h",
            ]
        )

    def beat(self, schedule: Path) -> subprocess.Popen:
        return self._spawn(["beat", "--loglevel", "WARNING", "--schedule", str(schedule)])

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool at once, as when its machine dies."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.running.clear()


def wait_for_workers(celery_app, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            replies = celery_app.control.ping(timeout=1)
        except Exception:  # the broker may still be coming back
            replies = []
        if len(replies) >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(replies)} of {count} workers answered")


# The app, the data ------------------------------------------------------------------------------


def settings_for(args, broker: str, smtp_port: int) -> dict:
    """The app's settings, for this process (create_app) and as the workers' environment."""
    return {
        "EXCHANGE_ENV": "production",
        "SECRET_KEY": args.secret_key,
        "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(args.database),
        "BASE_URL": "https://exchange.bench",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "CELERY": {"broker_url": broker, "result_backend": None},
    }


def worker_environment(settings: dict, extra: dict) -> dict:
    env = {
        **os.environ,
        "EXCHANGE_ENV": settings["EXCHANGE_ENV"],
        "SECRET_KEY": settings["SECRET_KEY"],
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": settings["CELERY"]["broker_url"],
        "BASE_URL": settings["BASE_URL"],
        "SMTP_HOST": settings["SMTP_HOST"],
        "SMTP_PORT": str(settings["SMTP_PORT"]),
        "INSTANCE_PATH": extra.pop("INSTANCE_PATH"),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    for name, value in extra.items():
        if name == "CELERY":
            for key, item in value.items():
                env[f"EXCHANGE_CELERY__{key}"] = json.dumps(item)
        else:
            env[f"EXCHANGE_{name}"] = json.dumps(value)
    return env


def make_app(settings: dict, extra: dict, instance: Path):
    from exchange import create_app

    os.environ["INSTANCE_PATH"] = str(instance)
    overrides = {**settings, **{k: v for k, v in extra.items() if k != "CELERY"}}
    overrides["CELERY"] = {**settings["CELERY"], **extra.get("CELERY", {})}
    return create_app(overrides)


def prepare_database(app, people: int) -> None:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from exchange.auth.models import User
    from exchange.extensions import db

    url = urlsplit(app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""))
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        password_hash = "$argon2id$v=19$m=8192,t=1,p=1$YmVuY2htYXJr$" + "A" * 43
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"person{i}@bench.example",
                    "name": f"Person {i}",
                    "password_hash": password_hash,
                    "language": LANGUAGES[i % 3],
                    "session_token": secrets.token_hex(16),
                }
                for i in range(people)
            ],
        )
        db.session.commit()


def queue_all(count: int) -> list[int]:
    """Write `count` notifications in one transaction (not committed yet)."""
    from sqlalchemy import select

    from exchange.auth.models import User
    from exchange.extensions import db
    from exchange.notifications.services import queue_notification

    users = db.session.scalars(select(User).order_by(User.id).limit(count)).all()
    notifications = [
        queue_notification(user, KINDS[i % len(KINDS)]) for i, user in enumerate(users)
    ]
    db.session.flush()
    return [n.id for n in notifications]


def expected_ids(app, ids: list[int]) -> set[str]:
    host = urlsplit(app.config["BASE_URL"]).hostname
    return {f"<notification.{i}@{host}>" for i in ids}


def status_counts(ids: list[int]) -> dict:
    from sqlalchemy import func, select

    from exchange.extensions import db
    from exchange.notifications.models import Notification

    db.session.rollback()
    rows = db.session.execute(
        select(Notification.status, func.count())
        .where(Notification.id.in_(ids))
        .group_by(Notification.status)
    ).all()
    return {str(status): count for status, count in rows}


# Runs ----------------------------------------------------------------------------------------


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_workers(app, smtp: SMTPCounter, count: int, events=(), timeout: float = 600) -> dict:
    """Commit `count` notifications, wait until the SMTP server has them all and every row is
    finished; `events` are (fraction delivered, action) pairs played on the way."""
    from exchange.extensions import db

    with app.app_context():
        ids = queue_all(count)
        expected = expected_ids(app, ids)
        pending = sorted(events, key=lambda event: event[0])
        busy_before, total_before = cpu_times()
        started = time.monotonic()
        db.session.commit()  # dispatches the 5,000 tasks, as any service's commit does
        committed = time.monotonic() - started
        while True:
            # Distinct Message-IDs so far (those of this run: the counter was reset before).
            delivered = smtp.distinct
            while pending and delivered >= pending[0][0] * count:
                _, action = pending.pop(0)
                action()
            if delivered >= count:
                elapsed = time.monotonic() - started
                busy_after, total_after = cpu_times()
                break
            if time.monotonic() - started > timeout:
                elapsed = time.monotonic() - started
                busy_after, total_after = cpu_times()
                print(f"  gave up after {timeout:.0f} s")
                break
            time.sleep(0.05)
        # Every row finished (sent), then a moment for any late copy to show up.
        deadline = time.monotonic() + 60
        while status_counts(ids).get("sent", 0) < count and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)
        result = smtp.counts(expected)
        result.update(
            elapsed=elapsed,
            throughput=count / elapsed,
            commit_seconds=committed,
            cpu_busy=(busy_after - busy_before) / (total_after - total_before),
            statuses=status_counts(ids),
            ids=ids,
        )
        return result


def run_baseline(app, smtp_port: int, ids: list[int], smtp: SMTPCounter) -> dict:
    """The same rows rendered here, then sent with plain smtplib over one connection."""
    from exchange.extensions import db
    from exchange.notifications.models import Notification
    from exchange.notifications.services import build_message, render_notification

    with app.app_context():
        messages = []
        for notification_id in ids:
            notification = db.session.get(Notification, notification_id)
            messages.append(build_message(notification, render_notification(notification)))
        db.session.rollback()
        expected = expected_ids(app, ids)
    smtp.reset()
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as connection:
        for message in messages:
            connection.send_message(message)
    elapsed = time.monotonic() - started
    result = smtp.counts(expected)
    result.update(elapsed=elapsed, throughput=len(messages) / elapsed)
    return result


def describe_window(app, smtp: SMTPCounter, result: dict, processes: int) -> None:
    """How long a message is out (accepted by the SMTP server) before its row says sent.

    SMTP has no two-phase commit: a worker killed outright inside that window leaves a message
    that went out on a row that says it did not, and the message goes out again. The chance
    that a SIGKILL lands there is about the window over the time each process spends on one
    message, once for each process killed.
    """
    from datetime import UTC

    from sqlalchemy import select

    from exchange.extensions import db
    from exchange.notifications.models import Notification

    host = urlsplit(app.config["BASE_URL"]).hostname
    with app.app_context():
        rows = db.session.execute(
            select(Notification.id, Notification.sent_at).where(Notification.id.in_(result["ids"]))
        ).all()
        db.session.rollback()
    accepted = dict(smtp.accepted_at)
    gaps = sorted(
        (row.sent_at.replace(tzinfo=UTC).timestamp() - accepted[key]) * 1000
        for row in rows
        if row.sent_at and (key := f"<notification.{row.id}@{host}>") in accepted
    )
    if not gaps:
        return
    per_message = 1000 * processes / result["throughput"]
    mean = sum(gaps) / len(gaps)
    result["window_ms"] = mean
    result["per_message_ms"] = per_message
    print(
        f"  accepted by the server -> sent_at taken: mean {mean:.2f} ms, "
        f"p50 {gaps[len(gaps) // 2]:.2f}, p99 {gaps[int(len(gaps) * 0.99)]:.2f} ms "
        f"(plus the UPDATE's round trip); each process spends {per_message:.1f} ms on a message"
    )


def describe(label: str, result: dict) -> None:
    print(
        f"  {label}: {result['throughput']:.0f} messages/s ({result['elapsed']:.1f} s); "
        f"delivered {result['delivered']}, lost {result['lost']}, "
        f"duplicated {result['duplicated']}"
        + (f"; rows {result['statuses']}" if "statuses" in result else "")
        + (f"; CPU busy {result['cpu_busy']:.0%}" if "cpu_busy" in result else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1/exchange_bench_notifications"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--fault-redis-port", type=int, default=6390)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo"])
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--fault-runs", type=int, default=1, help="how often to run with faults")
    parser.add_argument("--no-scale", action="store_true")
    args = parser.parse_args()
    args.secret_key = secrets.token_urlsafe(48)

    from aiosmtpd.controller import Controller

    smtp = SMTPCounter()
    smtp_port = free_port()
    # A generous data size limit and idle timeout; 8 KiB lines are plenty for these messages.
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    temporary = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    print(f"logs: {temporary}")
    quick = {
        # The sweep of production: every minute, rows a minute overdue.
        "INSTANCE_PATH": str(temporary),
        "CELERY": {"worker_prefetch_multiplier": 1},
    }
    settings = settings_for(args, args.redis, smtp_port)
    app = make_app(settings, quick, temporary)
    celery_app = app.extensions["celery"]
    prepare_database(app, args.count)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()  # db 9: the benchmark's own

    results = {}
    processes = Processes(worker_environment(settings, dict(quick)), temporary, "workers")
    try:
        # 1. Without faults.
        print(
            f"\n{args.count} notifications, {args.workers} worker processes x "
            f"{args.concurrency} pool processes, Redis {args.redis}"
        )
        for _ in range(args.workers):
            processes.worker(args.concurrency, args.pool)
        wait_for_workers(celery_app, args.workers)
        smtp.reset()
        results["workers"] = run_workers(app, smtp, args.count)
        describe("workers", results["workers"])
        describe_window(app, smtp, results["workers"], args.workers * args.concurrency)
        processes.stop_all()
        results["baseline"] = run_baseline(app, smtp_port, results["workers"]["ids"], smtp)
        describe("smtplib, one connection", results["baseline"])
        ratio = results["workers"]["throughput"] / results["baseline"]["throughput"]
        print(f"  ratio: {ratio:.2f} (target >= 0.30)")

        # 2. With faults.
        if not args.no_faults:
            results["faults"] = [
                run_faults(args, smtp, smtp_port, temporary, run)
                for run in range(1, args.fault_runs + 1)
            ]

        # 3. Scale-out.
        if not args.no_scale:
            results["scale"] = run_scale(args, smtp, smtp_port, temporary, app)
    finally:
        processes.stop_all()
        controller.stop()

    print_table(args, results)


def run_faults(args, smtp: SMTPCounter, smtp_port: int, temporary: Path, run: int) -> dict:
    redis = RedisServer(args.fault_redis_port, temporary)
    redis.start()
    broker = f"redis://127.0.0.1:{args.fault_redis_port}/0"
    faulty = {
        "INSTANCE_PATH": str(temporary),
        "MAIL_SWEEP_INTERVAL_SECONDS": 2,
        "MAIL_SWEEP_GRACE_SECONDS": 10,
        "MAIL_CLAIM_TIMEOUT_SECONDS": 10,
        "SMTP_TIMEOUT": 5,
        "MAIL_RETRY_BASE_SECONDS": 0.5,
        "MAIL_RETRY_MAX_SECONDS": 4,
        "MAIL_MAX_ATTEMPTS": 20,
        "BROKER_VISIBILITY_TIMEOUT_SECONDS": 30,
        "CELERY": {
            "worker_prefetch_multiplier": 1,
            "broker_transport_options": {
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            },
            "beat_schedule": {
                "sweep-notifications": {"task": "exchange.notifications.tasks.sweep_notifications"}
            },
        },
    }
    settings = settings_for(args, broker, smtp_port)
    app = make_app(settings, faulty, temporary)
    celery_app = app.extensions["celery"]
    processes = Processes(worker_environment(settings, dict(faulty)), temporary, f"faults-{run}")
    print(
        f"\nwith faults: 20 % of transactions answered 451, a worker SIGKILLed at 30 %, "
        f"Redis (port {args.fault_redis_port}, no persistence) restarted at 60 %"
    )
    try:
        workers = [processes.worker(args.concurrency) for _ in range(args.workers)]
        processes.beat(temporary / "beat-schedule")
        wait_for_workers(celery_app, args.workers)
        smtp.reset(temporary_failure_rate=0.2)
        log = []

        def kill_a_worker():
            log.append(f"SIGKILL worker (pid {workers[0].pid}) at {smtp.distinct} delivered")
            Processes.kill(workers[0])
            workers[0] = processes.worker(args.concurrency)

        def restart_redis():
            log.append(f"Redis restarted at {smtp.distinct} delivered")
            redis.restart()

        result = run_workers(
            app, smtp, args.count, events=[(0.3, kill_a_worker), (0.6, restart_redis)]
        )
        for line in log:
            print(f"  {line}")
        describe("workers, with faults", result)
        print(f"  SMTP transactions {result['transactions']}, 451: {result['refused_451']}")
        if result["duplicated_ids"]:
            print(f"  sent twice: {', '.join(result['duplicated_ids'])}")
        return result
    finally:
        processes.stop_all()
        redis.stop()


def run_scale(args, smtp: SMTPCounter, smtp_port: int, temporary: Path, app) -> dict:
    """The same pipeline against a server that takes 20 ms per message, 1, 2 and 4 workers."""
    from exchange.extensions import db
    from exchange.notifications.models import Notification

    count = min(1000, args.count)
    settings = settings_for(args, args.redis, smtp_port)
    extra = {"INSTANCE_PATH": str(temporary), "CELERY": {"worker_prefetch_multiplier": 1}}
    results = {}
    print(f"\nscale-out: {count} notifications, the SMTP server answering each in 20 ms")
    for workers in (1, 2, 4):
        with app.app_context():  # fresh rows for each run
            db.session.query(Notification).delete()
            db.session.commit()
        processes = Processes(
            worker_environment(settings, dict(extra)), temporary, f"scale-{workers}"
        )
        try:
            for _ in range(workers):
                processes.worker(1)
            wait_for_workers(app.extensions["celery"], workers)
            smtp.reset(delay=0.02)
            result = run_workers(app, smtp, count)
        finally:
            processes.stop_all()
        results[workers] = result
        describe(f"{workers} worker process(es)", result)
    smtp.reset()
    return results


def print_table(args, results: dict) -> None:
    workers, baseline = results["workers"], results["baseline"]
    ratio = workers["throughput"] / baseline["throughput"]
    pool = f"{args.workers} workers x {args.concurrency}"
    print("\n| run | messages/s | vs smtplib | delivered | lost | duplicated |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| smtplib, one connection (baseline) | {baseline['throughput']:.0f} | 1.00 | "
        f"{baseline['delivered']} | {baseline['lost']} | {baseline['duplicated']} |"
    )
    print(
        f"| Celery on Redis, {pool}, no faults | {workers['throughput']:.0f} | {ratio:.2f} | "
        f"{workers['delivered']} | {workers['lost']} | {workers['duplicated']} |"
    )
    for run, faults in enumerate(results.get("faults", []), start=1):
        print(
            f"| same, 20 % 451 + worker SIGKILL + Redis restart (run {run}) | "
            f"{faults['throughput']:.0f} | {faults['throughput'] / baseline['throughput']:.2f} | "
            f"{faults['delivered']} | {faults['lost']} | {faults['duplicated']} |"
        )
    if "scale" in results:
        print("\n| worker processes (SMTP answers in 20 ms) | messages/s | vs one |")
        print("|---:|---:|---:|")
        one = results["scale"][1]["throughput"]
        for count, result in results["scale"].items():
            print(f"| {count} | {result['throughput']:.0f} | {result['throughput'] / one:.2f} |")


if __name__ == "__main__":
    main()
