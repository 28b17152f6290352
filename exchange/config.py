"""Settings: defaults here, then the environment, then the overrides given to `create_app`.

Nothing in this module runs at import time; `load_config` is called by the factory.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from flask import Flask

LANGUAGES = ("en", "es", "pt")

# Values that must never reach production as a SECRET_KEY.
INSECURE_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret", "development"}

# Settings whose names bandit's B105 takes for passwords, one per line so that each exception is
# narrow: the demo logins' password (published in the README; `seed-demo` refuses to run in
# production), the API's rate per token, and no SMTP password unless the environment gives one.
DEMO_PASSWORD = "exchange-demo-2026"  # noqa: S105  # nosec B105  # public by design
API_TOKEN_RATE_LIMIT = "1200 per minute"  # noqa: S105  # nosec B105  # a rate, not a secret
SMTP_PASSWORD = None


class ConfigurationError(RuntimeError):
    """The app cannot start with the settings it was given."""


def _defaults(instance_path: Path) -> dict:
    return {
        "EXCHANGE_ENV": "development",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'exchange.sqlite'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": "http://127.0.0.1:5000",
        "LANGUAGES": LANGUAGES,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        # Requests: 16 MiB is enough for attachments to come and small enough to refuse abuse.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "TRUSTED_HOSTS": None,
        "PROXY_FIX": False,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session does
        # Served over HTTPS: redirect plain HTTP, HSTS, cookies with the Secure flag. Defaults to
        # on in production; off elsewhere.
        "HTTPS": None,
        # Tokens sent by e-mail.
        "EMAIL_CONFIRM_MAX_AGE": int(timedelta(days=3).total_seconds()),
        "PASSWORD_RESET_MAX_AGE": int(timedelta(hours=2).total_seconds()),
        "EMAIL_CHANGE_MAX_AGE": int(timedelta(days=1).total_seconds()),
        # Failed log-ins allowed per account and per client address.
        "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",
        # None: the broker's Redis when the broker is Redis (shared by every web process),
        # otherwise this process's memory.
        "RATELIMIT_STORAGE_URI": None,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        # The public API (/api/v1/): requests per client address without a token, and per
        # personal token with one (every endpoint counts against the same budget).
        "API_RATE_LIMIT": "300 per minute",
        "API_TOKEN_RATE_LIMIT": API_TOKEN_RATE_LIMIT,
        # Mail.
        "MAIL_FROM": "Exchange <no-reply@exchange.localhost>",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 8025,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": SMTP_PASSWORD,
        "SMTP_STARTTLS": False,
        "SMTP_SSL": False,
        "SMTP_TIMEOUT": 10.0,
        "MAIL_MAX_ATTEMPTS": 8,
        "MAIL_RETRY_BASE_SECONDS": 30.0,
        # Backoff never waits longer than this. It must stay below the broker's visibility
        # timeout (checked below): a retry waits in a worker as an unacknowledged message, and
        # Redis hands a message unacknowledged for longer to another worker.
        "MAIL_RETRY_MAX_SECONDS": 1800.0,
        # A row claimed this long ago by a worker that never finished is taken up again. A send
        # is stopped well before (the send task's time limit), so a live send is never taken up.
        "MAIL_CLAIM_TIMEOUT_SECONDS": 600.0,
        # Rows whose dispatch is older than this are dispatched again by the sweep, which beat
        # runs every MAIL_SWEEP_INTERVAL_SECONDS.
        "MAIL_SWEEP_GRACE_SECONDS": 60.0,
        "MAIL_SWEEP_INTERVAL_SECONDS": 60.0,
        # A worker process keeps its SMTP connection open between messages; one idle for longer
        # than this is checked with NOOP before it is used again.
        "SMTP_NOOP_AFTER_SECONDS": 5.0,
        # Notifications committed together are handed to the workers in tasks of up to this
        # many: one task, one broker round trip, one SMTP connection for the lot.
        "MAIL_BATCH_SIZE": 20,
        # Redis as the broker: a message not acknowledged within the visibility timeout is given
        # to another worker; a command unanswered within the socket timeout fails (a Redis that
        # stops answering must not hang a web request).
        "BROKER_VISIBILITY_TIMEOUT_SECONDS": 3600,
        "BROKER_CONNECT_TIMEOUT_SECONDS": 3.0,
        "BROKER_SOCKET_TIMEOUT_SECONDS": 2.0,
        # How often a worker checks its broker connections (kombu's and redis-py's health
        # checks): a consumer whose connection broke while Redis stalled (a failed ack, a reply
        # that never comes) reconnects within about twice this, not kombu's default 25 s.
        "BROKER_HEALTH_CHECK_SECONDS": 10,
        "MAIL_CATCHER_DIR": None,
        "CELERY": {
            "broker_url": f"sqla+sqlite:///{instance_path / 'broker.sqlite'}",
            "task_ignore_result": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "result_serializer": "json",
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "broker_connection_timeout": 3,
            "broker_transport_options": {},
            "beat_schedule": {
                "sweep-notifications": {
                    "task": "exchange.notifications.tasks.sweep_notifications",
                    "schedule": 60.0,
                },
                "close-expired-ideas": {
                    "task": "exchange.submissions.tasks.close_expired_ideas",
                    "schedule": 3600.0,  # hourly: an idea closes within the hour its date passes
                },
                # Authorities whose profile or items changed, once the changes have settled.
                "matching-recompute-changed": {
                    "task": "exchange.matching.tasks.recompute_changed",
                    "schedule": 60.0,
                },
                "matching-nightly-run": {
                    "task": "exchange.matching.tasks.run_full_matching",
                    "schedule": crontab(hour=2, minute=30),
                },
                "matching-remind-and-expire": {
                    "task": "exchange.matching.tasks.remind_and_expire",
                    "schedule": 3600.0,
                },
                "matching-stage-reminders": {
                    "task": "exchange.matching.tasks.remind_stage_updates",
                    "schedule": 3600.0,
                },
                # Digests at a fixed hour (UTC); a second firing in the same period sends nothing.
                "send-daily-digests": {
                    "task": "exchange.notifications.tasks.send_daily_digests",
                    "schedule": crontab(hour=6, minute=0),
                },
                "send-weekly-digests": {
                    "task": "exchange.notifications.tasks.send_weekly_digests",
                    "schedule": crontab(hour=6, minute=15, day_of_week="monday"),
                },
                "notify-ideas-closing-soon": {
                    "task": "exchange.notifications.tasks.notify_ideas_closing_soon",
                    "schedule": crontab(hour=7, minute=0),
                },
            },
            "timezone": "UTC",
        },
        # Publishing a task must never hang a web request: two quick tries, each bounded by the
        # broker timeouts above, then the sweep.
        "CELERY_PUBLISH_RETRY_POLICY": {
            "max_retries": 1,
            "interval_start": 0.1,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        # Matching. A change to a profile, a practice or an idea is recomputed once no other
        # change has followed for this long, so that ten quick edits cost one computation.
        "MATCHING_DEBOUNCE_SECONDS": 120,
        # Authorities per chunk of a full run (each chunk is a task any worker can take).
        "MATCHING_CHUNK_SIZE": 1000,
        # Counterparts kept per authority when scoring (the candidates of the proposals).
        "MATCHING_TOP_K": 10,
        # The engine's weights per signal; None: the engine's defaults.
        "MATCHING_WEIGHTS": None,
        # A run not finished after this long is taken for dead: recomputations go ahead.
        "MATCHING_RUN_TIMEOUT_SECONDS": 3600,
        # A match waits this long for both answers; the side(s) that have not answered are
        # reminded once after MATCH_REMINDER_DAYS.
        "MATCH_EXPIRY_DAYS": 21,
        "MATCH_REMINDER_DAYS": 7,
        # Connected partners are asked to update their stage when it has not moved for this
        # long (at most once per period).
        "STAGE_REMINDER_DAYS": 30,
        # Notifications. At most this many items are listed in a digest (the rest are counted).
        "DIGEST_MAX_ITEMS": 20,
        # The owners of a published idea are told this many days before it closes to partners.
        "IDEA_CLOSING_NOTICE_DAYS": 7,
        "DEMO_PASSWORD": DEMO_PASSWORD,
        # Attachments: kept outside the web root under random names.
        "ATTACHMENT_DIR": str(instance_path / "attachments"),
        "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    }


def _from_environment(config: dict) -> None:
    """Read the conventional variable names that hosting platforms and compose files use."""
    env = os.environ
    if env.get("EXCHANGE_ENV"):
        config["EXCHANGE_ENV"] = env["EXCHANGE_ENV"]
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        # Platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        config["SQLALCHEMY_DATABASE_URI"] = url
    if env.get("SECRET_KEY"):
        config["SECRET_KEY"] = env["SECRET_KEY"]
    if env.get("BASE_URL"):
        config["BASE_URL"] = env["BASE_URL"].rstrip("/")
    if env.get("CELERY_BROKER_URL"):
        config["CELERY"]["broker_url"] = env["CELERY_BROKER_URL"]
    if env.get("CELERY_RESULT_BACKEND"):
        config["CELERY"]["result_backend"] = env["CELERY_RESULT_BACKEND"]
    if env.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = env["RATELIMIT_STORAGE_URI"]
    if env.get("TRUSTED_HOSTS"):
        config["TRUSTED_HOSTS"] = [h.strip() for h in env["TRUSTED_HOSTS"].split(",") if h.strip()]
    for name in (
        "SMTP_HOST",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "MAIL_FROM",
        "MAIL_CATCHER_DIR",
        "ATTACHMENT_DIR",
    ):
        if env.get(name):
            config[name] = env[name]
    if env.get("SMTP_PORT"):
        config["SMTP_PORT"] = int(env["SMTP_PORT"])
    for name in ("SMTP_STARTTLS", "SMTP_SSL", "PROXY_FIX", "HTTPS"):
        if env.get(name):
            config[name] = env[name].lower() in {"1", "true", "yes", "on"}


def _secret_key_for_development(instance_path: Path) -> str:
    """A random key kept in the instance folder, so that sessions survive a restart."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(app: Flask, overrides: dict | None) -> None:
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    config = _defaults(instance_path)
    _from_environment(config)
    # Any other setting can be given as EXCHANGE_<NAME> (JSON values are parsed).
    app.config.update(config)
    app.config.from_prefixed_env("EXCHANGE")
    for key, value in (overrides or {}).items():
        if key == "CELERY":
            app.config["CELERY"] = {**app.config["CELERY"], **value}
        else:
            app.config[key] = value

    env = app.config["EXCHANGE_ENV"]
    if env not in {"development", "testing", "production"}:
        raise ConfigurationError(
            f"EXCHANGE_ENV must be development, testing or production, not {env!r}"
        )
    if env == "production":
        key = app.config.get("SECRET_KEY") or ""
        if key.lower() in INSECURE_SECRET_KEYS or len(key) < 32:
            raise ConfigurationError(
                "Production needs a real SECRET_KEY: set the SECRET_KEY environment variable to "
                "a random value of at least 32 characters."
            )
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key_for_development(instance_path)

    if app.config["HTTPS"] is None:
        app.config["HTTPS"] = env == "production"
    if app.config["HTTPS"]:
        # Cookies never travel in the clear.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    broker = app.config["CELERY"]["broker_url"]
    if broker.startswith(("redis://", "rediss://")):
        # A message not acknowledged within the visibility timeout is redelivered; retry
        # countdowns stay below it. Connecting and commands give up quickly instead of hanging.
        app.config["CELERY"]["broker_transport_options"] = {
            "visibility_timeout": app.config["BROKER_VISIBILITY_TIMEOUT_SECONDS"],
            "socket_connect_timeout": app.config["BROKER_CONNECT_TIMEOUT_SECONDS"],
            "socket_timeout": app.config["BROKER_SOCKET_TIMEOUT_SECONDS"],
            "health_check_interval": max(int(app.config["BROKER_HEALTH_CHECK_SECONDS"]), 1),
            **app.config["CELERY"]["broker_transport_options"],
        }
    _check_delivery_settings(app.config)
    if not app.config["RATELIMIT_STORAGE_URI"]:
        redis = broker.startswith(("redis://", "rediss://"))
        app.config["RATELIMIT_STORAGE_URI"] = broker if redis else "memory://"


# The send tasks' names, as exchange.notifications.tasks registers them (not imported: config
# loads before any feature): one notification (retries, resends), and a batch (dispatch).
SEND_TASK = "exchange.notifications.tasks.send_notification"
SEND_BATCH_TASK = "exchange.notifications.tasks.send_notifications"


def send_time_limit(claim_timeout: float) -> float:
    """How long one send may run before its worker process is stopped.

    Below the claim timeout by a margin (Celery checks time limits about once a second), so that
    a send still running is never taken up by a second worker.
    """
    return min(claim_timeout - 1.5, 0.9 * claim_timeout)


def _check_delivery_settings(config) -> None:
    """Refuse mail settings under which a message could be sent twice or retried forever."""
    celery = config["CELERY"]
    retry_base = float(config["MAIL_RETRY_BASE_SECONDS"])
    retry_max = float(config["MAIL_RETRY_MAX_SECONDS"])
    if retry_base <= 0 or retry_max < retry_base:
        raise ConfigurationError(
            "MAIL_RETRY_BASE_SECONDS must be above 0 and MAIL_RETRY_MAX_SECONDS at least as much"
        )
    if int(config["MAIL_MAX_ATTEMPTS"]) < 1:
        raise ConfigurationError("MAIL_MAX_ATTEMPTS must be at least 1")
    claim_timeout = float(config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    if claim_timeout < 3:
        raise ConfigurationError("MAIL_CLAIM_TIMEOUT_SECONDS must be at least 3 seconds")
    limit = send_time_limit(claim_timeout)
    if float(config["SMTP_TIMEOUT"]) >= limit:
        raise ConfigurationError(
            f"SMTP_TIMEOUT ({config['SMTP_TIMEOUT']:g} s) must be below the send time limit "
            f"({limit:g} s, from MAIL_CLAIM_TIMEOUT_SECONDS = {claim_timeout:g} s)"
        )
    # A retry is a message that a worker holds, unacknowledged, for its countdown (at most
    # MAIL_RETRY_MAX_SECONDS after an SMTP failure, or the claim timeout when a redelivered
    # copy waits for a dead worker's claim to go stale) and then while it runs. Held longer
    # than the visibility timeout, Redis would hand it to a second worker, again and again.
    visibility = celery["broker_transport_options"].get("visibility_timeout")
    longest_hold = max(retry_max, claim_timeout + 1) + limit
    if visibility is not None and longest_hold >= float(visibility):
        raise ConfigurationError(
            f"the broker's visibility timeout ({float(visibility):g} s) must exceed the longest "
            f"a worker holds a retry: MAIL_RETRY_MAX_SECONDS ({retry_max:g} s) or "
            f"MAIL_CLAIM_TIMEOUT_SECONDS + 1 ({claim_timeout + 1:g} s), plus the send time "
            f"limit ({limit:g} s)"
        )
    # A send that outlives its claim could be sent again by another worker: the worker process
    # is stopped first (prefork pool; the solo and threads pools have no time limits).
    # A batch is stopped by the same limit: each row's claim is taken just before its own send,
    # so no claim is older than the task when the limit stops it.
    celery["task_annotations"] = {
        **(celery.get("task_annotations") or {}),
        SEND_TASK: {"time_limit": limit},
        SEND_BATCH_TASK: {"time_limit": limit},
    }
    if int(config["MAIL_BATCH_SIZE"]) < 1:
        raise ConfigurationError("MAIL_BATCH_SIZE must be at least 1")
    sweep = celery.get("beat_schedule", {}).get("sweep-notifications")
    if sweep is not None:
        celery["beat_schedule"] = {
            **celery["beat_schedule"],
            "sweep-notifications": {
                **sweep,
                "schedule": float(config["MAIL_SWEEP_INTERVAL_SECONDS"]),
            },
        }
