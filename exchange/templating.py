"""What every template can use, and the error pages."""

from flask import Flask, render_template
from flask.globals import request_ctx
from flask_babel import format_date, format_datetime
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from exchange.activity.models import action_label
from exchange.i18n import current_language, localized
from exchange.reference.countries import country_name, subdivision_name
from exchange.reference.languages import language_name
from exchange.submissions.urls import item_edit_url, item_url
from exchange.workflow import KIND_LABELS as ITEM_KIND_LABELS
from exchange.workflow import STATE_LABELS

LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português"}


def _lazy_text_as_html(lazy: LazyString):
    return escape(str(lazy))


def init_templating(app: Flask) -> None:
    # A lazily translated text is text, not markup: Flask-Babel's LazyString passes itself off
    # as safe HTML, so that what a message was formatted with (a code or a name someone typed,
    # e.g. "%(code)s is not a sub-region…") would reach the page unescaped. Escape it instead.
    LazyString.__html__ = _lazy_text_as_html
    app.jinja_env.globals.update(
        localized=localized,
        country_name=country_name,
        subdivision_name=subdivision_name,
        language_name=language_name,
        item_url=item_url,
        item_edit_url=item_edit_url,
        state_labels=STATE_LABELS,
        item_kind_labels=ITEM_KIND_LABELS,
        current_language=current_language,
        language_names=LANGUAGE_NAMES,
    )
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _navigation():
        return {"user": current_user}

    def error_page(code: int):
        def handler(error):
            if request_ctx.url_adapter is None:
                return _bare_error(error, code)
            return render_template(f"errors/{code}.html", error=error), code

        return handler

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, error_page(code))

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        if request_ctx.url_adapter is None:
            return _bare_error(error, 400)
        return render_template("errors/400.html", error=error, csrf=True), 400

    @app.after_request
    def _no_store_private_pages(response):
        # Pages for a signed-in person are not kept by shared caches or the back button.
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


def _bare_error(error, code: int):
    """Werkzeug's plain error page, for requests refused before routing (a Host header not in
    TRUSTED_HOSTS): without a URL adapter the site's templates, which build links, cannot render."""
    if isinstance(error, HTTPException):
        return error.get_response(), error.code or code
    return InternalServerError().get_response(), code
