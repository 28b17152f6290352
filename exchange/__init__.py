"""Exchange: the working platform of the EU–Latin America cooperation on regional and urban
policy."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from exchange.config import load_config


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `overrides` (tests use these)."""
    app = Flask(
        __name__,
        template_folder="../templates",
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    load_config(app, overrides)

    from exchange.inputs import init_inputs
    from exchange.logging import configure_logging

    init_inputs(app)  # before any route is added: the id converter

    configure_logging(app)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    _init_extensions(app)
    _register_features(app)

    from exchange.celery import celery_init_app

    celery_init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from flask_talisman import Talisman

    from exchange.auth.models import User
    from exchange.extensions import babel, csrf, db, limiter, login_manager, migrate
    from exchange.i18n import select_locale
    from exchange.notifications.services import install_dispatch_hooks

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.normpath(os.path.join(app.root_path, "..", "migrations")),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    install_dispatch_hooks(db.session)

    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["HTTPS"],
        strict_transport_security=True,  # sent only over HTTPS
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "font-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        },
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        # The id carries the account's session token: rotating it (logout, new password)
        # invalidates every copy of the cookie.
        user_id, _, token = session_id.partition(":")
        if not user_id.isdigit() or not token:
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_token != token:
            return None
        return user


def _register_features(app: Flask) -> None:
    from exchange.admin.views import bp as admin_bp
    from exchange.api import init_api
    from exchange.attachments.views import bp as attachments_bp
    from exchange.auth.emails import KINDS as AUTH_KINDS
    from exchange.auth.views import bp as auth_bp
    from exchange.authorities.emails import KINDS as AUTHORITY_KINDS
    from exchange.authorities.views import bp as authorities_bp
    from exchange.catalogue.views import bp as catalogue_bp
    from exchange.cli import exchange_cli
    from exchange.feeds.views import bp as feeds_bp
    from exchange.ideas.views import bp as ideas_bp
    from exchange.insight.views import bp as insight_bp
    from exchange.interests.views import bp as interests_bp
    from exchange.main.views import bp as main_bp
    from exchange.matching import models as _matching_models  # noqa: F401 (its tables)
    from exchange.matching.console import bp as brokerage_bp
    from exchange.matching.emails import KINDS as MATCHING_KINDS
    from exchange.matching.views import bp as matches_bp
    from exchange.notifications.centre import bp as notifications_bp
    from exchange.notifications.kinds import register_kinds
    from exchange.notifications.views import bp as mailbox_bp
    from exchange.practices.views import bp as practices_bp
    from exchange.programmes.views import bp as programmes_bp
    from exchange.review.views import bp as review_bp
    from exchange.submissions.emails import KINDS as SUBMISSION_KINDS
    from exchange.submissions.views import bp as submissions_bp
    from exchange.templating import init_templating
    from exchange.workspace.views import bp as workspace_bp

    register_kinds(*AUTH_KINDS, *AUTHORITY_KINDS, *SUBMISSION_KINDS, *MATCHING_KINDS)
    init_templating(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(authorities_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(practices_bp, url_prefix="/practices")
    app.register_blueprint(ideas_bp, url_prefix="/ideas")
    app.register_blueprint(submissions_bp, url_prefix="/items")
    app.register_blueprint(attachments_bp, url_prefix="/attachments")
    app.register_blueprint(interests_bp, url_prefix="/interests")
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(catalogue_bp, url_prefix="/catalogue")
    app.register_blueprint(programmes_bp, url_prefix="/programmes")
    app.register_blueprint(feeds_bp, url_prefix="/feeds")
    app.register_blueprint(workspace_bp, url_prefix="/workspace")
    app.register_blueprint(matches_bp, url_prefix="/matches")
    app.register_blueprint(brokerage_bp, url_prefix="/brokerage")
    app.register_blueprint(notifications_bp, url_prefix="/notifications")
    app.register_blueprint(insight_bp, url_prefix="/insight")
    if app.config["EXCHANGE_ENV"] == "development":
        # Caught e-mails, readable in the browser: development machines only.
        app.register_blueprint(mailbox_bp)
    app.cli.add_command(exchange_cli)
    init_api(app)  # after the error pages: it makes them answer JSON under /api/
