from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from exchange.auth.services import set_language
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.extensions import db
from exchange.i18n import LANGUAGE_COOKIE
from exchange.reference.services import all_programmes

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    verified = db.session.scalar(
        select(func.count())
        .select_from(Authority)
        .where(Authority.status == AuthorityStatus.VERIFIED)
    )
    return render_template(
        "main/index.html", programmes=all_programmes(), verified_authorities=verified
    )


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site, never another host, may be a redirect target."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.post("/language")
def choose_language():
    language = request.form.get("language", "")
    target = safe_next(request.form.get("next"), url_for("main.index"))
    response = redirect(target)
    if language in current_app.config["LANGUAGES"]:
        set_language(current_user, language)
        db.session.commit()
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response


@bp.get("/healthz")
def healthz():
    """Whether the database and the broker answer; 503 if either does not."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        celery = current_app.extensions["celery"]
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "error", **checks), 200 if healthy else 503
