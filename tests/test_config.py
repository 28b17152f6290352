"""Settings: defaults, then the environment, then the overrides given to `create_app`; and the
checks that keep a production app from starting with unsafe settings."""

import os
from contextlib import contextmanager

import pytest
from flask import Flask, current_app

from exchange import create_app
from exchange.config import ConfigurationError, load_config
from exchange.extensions import db, limiter
from tests.conftest import IsolatedClient

GOOD_KEY = "k" * 24 + "-production-key-of-48-chars-" + "z" * 8

# Environment variables the settings read; each test starts without them.
READ_FROM_ENVIRONMENT = (
    "EXCHANGE_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "BASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "RATELIMIT_STORAGE_URI",
    "TRUSTED_HOSTS",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_SSL",
    "MAIL_FROM",
    "MAIL_CATCHER_DIR",
    "PROXY_FIX",
    "HTTPS",
)


@contextmanager
def extra_app(overrides: dict):
    """`create_app(overrides)` beside the app the other tests use.

    A new app re-binds the extensions that live at module level (the limiter's storage, Celery's
    default app); they are put back when the block ends, so that the rest of the run sees the
    test app unchanged.
    """
    test_app = current_app._get_current_object()
    celery = test_app.extensions["celery"]
    saved = {extension: dict(vars(extension)) for extension in (limiter,)}
    app = None
    try:
        app = create_app(overrides)
        app.test_client_class = IsolatedClient
        yield app
    finally:
        for extension, state in saved.items():
            vars(extension).clear()
            vars(extension).update(state)
        celery.set_default()
        celery.set_current()
        if app is not None:
            with app.app_context():
                for engine in db.engines.values():
                    engine.dispose()


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """No setting comes from this machine's environment; the instance folder is a fresh one."""
    for name in READ_FROM_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("EXCHANGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    return monkeypatch


def settings_without(settings: dict, *names: str) -> dict:
    return {key: value for key, value in settings.items() if key not in names}


def configured(tmp_path, overrides: dict | None = None) -> Flask:
    """A bare Flask app with only the settings loaded: no extension is touched."""
    app = Flask("config_test", instance_path=str(tmp_path / "instance"))
    load_config(app, overrides)
    return app


# Production refuses unsafe keys ----------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "dev", "DEV", "change-me", "x" * 31])
def test_production_refuses_a_missing_or_weak_secret_key(environment, settings, key):
    overrides = {**settings_without(settings, "SECRET_KEY"), "EXCHANGE_ENV": "production"}
    if key is not None:
        environment.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(overrides)


def test_production_refuses_a_weak_key_given_as_an_override(environment, settings):
    with pytest.raises(ConfigurationError):
        create_app({**settings, "EXCHANGE_ENV": "production", "SECRET_KEY": "dev"})


def test_production_refuses_a_known_insecure_value_however_long_it_is(environment, tmp_path):
    environment.setenv("EXCHANGE_ENV", "production")
    environment.setenv("SECRET_KEY", "development")
    with pytest.raises(ConfigurationError):
        configured(tmp_path)


def test_an_unknown_environment_name_is_refused(environment, tmp_path):
    environment.setenv("EXCHANGE_ENV", "staging")
    with pytest.raises(ConfigurationError, match="staging"):
        configured(tmp_path, {"SECRET_KEY": GOOD_KEY})


def test_production_with_a_good_key_sends_cookies_over_https_only(environment, settings):
    environment.setenv("SECRET_KEY", GOOD_KEY)
    overrides = {**settings_without(settings, "SECRET_KEY"), "EXCHANGE_ENV": "production"}
    with extra_app(overrides) as app:
        config = app.config
        assert config["SECRET_KEY"] == GOOD_KEY
        assert config["HTTPS"] is True
        assert config["SESSION_COOKIE_SECURE"] is True
        assert config["REMEMBER_COOKIE_SECURE"] is True
        assert config["SESSION_COOKIE_HTTPONLY"] is True
        assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert config["REMEMBER_COOKIE_HTTPONLY"] is True
        assert "mailbox" not in app.blueprints  # caught e-mail is readable in development only


def test_development_shows_caught_mail(environment, settings):
    with extra_app({**settings, "EXCHANGE_ENV": "development"}) as app:
        assert "mailbox" in app.blueprints
        assert app.config["HTTPS"] is False


def test_testing_and_development_do_not_force_https(environment, tmp_path):
    app = configured(tmp_path, {"EXCHANGE_ENV": "testing", "SECRET_KEY": GOOD_KEY})
    assert app.config["HTTPS"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_https_can_be_asked_for_outside_production(environment, tmp_path):
    environment.setenv("HTTPS", "yes")
    app = configured(tmp_path, {"EXCHANGE_ENV": "testing", "SECRET_KEY": GOOD_KEY})
    assert app.config["HTTPS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_keeps_a_generated_key_in_the_instance_folder(environment, tmp_path):
    first = configured(tmp_path)
    assert first.config["EXCHANGE_ENV"] == "development"
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    path = tmp_path / "instance" / "secret_key"
    assert path.read_text().strip() == key
    assert path.stat().st_mode & 0o777 == 0o600
    # The next start reads the same key: sessions survive a restart.
    assert configured(tmp_path).config["SECRET_KEY"] == key


# The environment -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://exchange:pw@db:5432/exchange",
            "postgresql+psycopg://exchange:pw@db:5432/exchange",
        ),
        ("postgresql://exchange@db/exchange", "postgresql+psycopg://exchange@db/exchange"),
        ("postgresql+psycopg://db/exchange", "postgresql+psycopg://db/exchange"),
        ("sqlite:////var/lib/exchange.sqlite", "sqlite:////var/lib/exchange.sqlite"),
    ],
)
def test_database_url_names_the_driver(environment, tmp_path, url, expected):
    environment.setenv("DATABASE_URL", url)
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_the_app_builds_a_psycopg_engine_from_a_postgres_url(environment, settings):
    # The engine is created, never connected: nothing reaches a database server.
    environment.setenv("DATABASE_URL", "postgres://exchange:pw@db.invalid:5432/exchange")
    with (
        extra_app(settings_without(settings, "SQLALCHEMY_DATABASE_URI")) as app,
        app.app_context(),
    ):
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.engine.url.host == "db.invalid"


def test_overrides_win_over_the_environment(environment, tmp_path):
    environment.setenv("DATABASE_URL", "postgres://db/exchange")
    environment.setenv("EXCHANGE_MAIL_MAX_ATTEMPTS", "3")
    app = configured(
        tmp_path,
        {"SECRET_KEY": GOOD_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://", "MAIL_MAX_ATTEMPTS": 9},
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["MAIL_MAX_ATTEMPTS"] == 9


def test_the_broker_and_result_backend_come_from_the_environment(environment, tmp_path):
    environment.setenv("CELERY_BROKER_URL", "amqp://guest@rabbit:5672//")
    environment.setenv("CELERY_RESULT_BACKEND", "db+postgresql://db/results")
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    celery = app.config["CELERY"]
    assert celery["broker_url"] == "amqp://guest@rabbit:5672//"
    assert celery["result_backend"] == "db+postgresql://db/results"
    # The rest of the Celery settings keep their defaults.
    assert celery["task_serializer"] == "json"
    assert celery["accept_content"] == ["json"]
    assert celery["task_acks_late"] is True


def test_a_celery_override_is_merged_into_the_defaults(environment, tmp_path):
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY, "CELERY": {"broker_url": "memory://"}})
    assert app.config["CELERY"]["broker_url"] == "memory://"
    assert app.config["CELERY"]["task_serializer"] == "json"
    assert "sweep-notifications" in app.config["CELERY"]["beat_schedule"]


@pytest.mark.parametrize("broker", ["redis://cache:6379/0", "rediss://:pw@cache:6380/1"])
def test_rate_limits_share_the_redis_broker(environment, tmp_path, broker):
    environment.setenv("CELERY_BROKER_URL", broker)
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    assert app.config["RATELIMIT_STORAGE_URI"] == broker
    # Redis redelivers unacknowledged tasks after the visibility timeout; connecting gives up fast.
    options = app.config["CELERY"]["broker_transport_options"]
    assert options["visibility_timeout"] == 3600
    assert options["socket_connect_timeout"] == 3
    assert app.config["MAIL_RETRY_MAX_SECONDS"] < options["visibility_timeout"]


@pytest.mark.parametrize("broker", [None, "amqp://rabbit//", "memory://"])
def test_rate_limits_stay_in_memory_without_redis(environment, tmp_path, broker):
    if broker:
        environment.setenv("CELERY_BROKER_URL", broker)
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "visibility_timeout" not in app.config["CELERY"]["broker_transport_options"]


def test_an_explicit_rate_limit_storage_wins(environment, tmp_path):
    environment.setenv("CELERY_BROKER_URL", "redis://cache:6379/0")
    environment.setenv("RATELIMIT_STORAGE_URI", "redis://limits:6379/3")
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://limits:6379/3"


def test_prefixed_variables_are_read_with_their_json_types(environment, tmp_path):
    environment.setenv("EXCHANGE_MAIL_MAX_ATTEMPTS", "3")
    environment.setenv("EXCHANGE_MAIL_RETRY_BASE_SECONDS", "2.5")
    environment.setenv("EXCHANGE_LOGIN_LIMIT_PER_ACCOUNT", "5 per minute")
    environment.setenv("EXCHANGE_RATELIMIT_HEADERS_ENABLED", "false")
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    assert app.config["MAIL_MAX_ATTEMPTS"] == 3
    assert app.config["MAIL_RETRY_BASE_SECONDS"] == 2.5
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per minute"
    assert app.config["RATELIMIT_HEADERS_ENABLED"] is False


def test_a_prefixed_variable_reaches_the_app_factory(environment, settings):
    environment.setenv("EXCHANGE_MAIL_MAX_ATTEMPTS", "3")
    with extra_app(settings_without(settings, "MAIL_MAX_ATTEMPTS")) as app:
        assert app.config["MAIL_MAX_ATTEMPTS"] == 3


def test_conventional_names_are_read(environment, tmp_path):
    environment.setenv("BASE_URL", "https://exchange.example.org/")
    environment.setenv("TRUSTED_HOSTS", "exchange.example.org, www.exchange.example.org,")
    environment.setenv("SMTP_HOST", "mail.example.org")
    environment.setenv("SMTP_PORT", "587")
    environment.setenv("SMTP_STARTTLS", "true")
    environment.setenv("SMTP_SSL", "0")
    environment.setenv("PROXY_FIX", "1")
    environment.setenv("MAIL_FROM", "Exchange <exchange@example.org>")
    app = configured(tmp_path, {"SECRET_KEY": GOOD_KEY})
    config = app.config
    assert config["BASE_URL"] == "https://exchange.example.org"
    assert config["TRUSTED_HOSTS"] == ["exchange.example.org", "www.exchange.example.org"]
    assert (config["SMTP_HOST"], config["SMTP_PORT"]) == ("mail.example.org", 587)
    assert config["SMTP_STARTTLS"] is True
    assert config["SMTP_SSL"] is False
    assert config["PROXY_FIX"] is True
    assert config["MAIL_FROM"] == "Exchange <exchange@example.org>"


def test_the_test_app_is_left_as_it_was(app, environment, settings, client):
    """Creating apps here (production, HTTPS) must not change the app the other tests use."""
    environment.setenv("SECRET_KEY", GOOD_KEY)
    with extra_app({**settings_without(settings, "SECRET_KEY"), "EXCHANGE_ENV": "production"}):
        pass
    assert app.config["SESSION_COOKIE_SECURE"] is False
    response = client.get("/login")
    assert response.status_code == 200  # not redirected to https
    assert "Strict-Transport-Security" not in response.headers
