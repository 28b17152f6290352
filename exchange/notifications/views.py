"""The caught e-mails of a development machine (registered only when EXCHANGE_ENV=development)."""

from pathlib import Path

from flask import Blueprint, abort, current_app, make_response, render_template

from exchange.extensions import talisman
from exchange.notifications.catcher import caught_mail_dir, read_maildir

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mail")


def _maildir() -> Path:
    return caught_mail_dir(current_app)


def _find(key: str):
    for found, message in read_maildir(_maildir()):
        if found == key:
            return message
    abort(404)


@bp.get("/")
def index():
    return render_template("mailbox/index.html", messages=read_maildir(_maildir())[:200])


@bp.get("/<key>")
def show(key: str):
    message = _find(key)
    text = message.get_body(preferencelist=("plain",))
    return render_template(
        "mailbox/show.html",
        key=key,
        message=message,
        text=text.get_content() if text else "",
        has_html=message.get_body(preferencelist=("html",)) is not None,
    )


@bp.get("/<key>/html")
# The message's own markup, shown alone: no script at all, its inline styles allowed.
@talisman(
    content_security_policy={
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "img-src": "data:",
        "frame-ancestors": "'none'",
    }
)
def show_html(key: str):
    part = _find(key).get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    return make_response(part.get_content())
