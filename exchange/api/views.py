"""The pages around the API: its documentation (/developers/api), and one's personal API tokens
(/account/api-tokens: create one — shown once — and revoke)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from exchange.access import is_signed_in, require
from exchange.actions import perform
from exchange.api import docs, services
from exchange.api.forms import TokenForm
from exchange.api.models import ApiToken
from exchange.extensions import db

bp = Blueprint("developers", __name__)


@bp.get("/developers/api")
def api_docs():
    """The API's documentation, made from its OpenAPI document."""
    return render_template(
        "api/docs.html",
        documentation=docs.describe(docs.openapi_document()),
        openapi_url=url_for("api-docs.openapi_json", _external=True),
        api_url=url_for("api.index", _external=True),
    )


def _tokens_page(status: int = 200, form: TokenForm | None = None, created=None):
    user = current_user._get_current_object()
    return (
        render_template(
            "api/tokens.html",
            form=form or TokenForm(formdata=None),
            tokens=services.tokens_of(user),
            created=created,
            api_url=url_for("api.index", _external=True),
        ),
        status,
    )


@bp.get("/account/api-tokens")
@require(is_signed_in)
def tokens():
    """One's personal API tokens."""
    return _tokens_page()


@bp.post("/account/api-tokens")
@require(is_signed_in)
def create_token():
    """A new token, shown on the page that answers this request and never again (it is not
    flashed: the session cookie would carry it)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(422, form)
    done, result = perform(
        services.create_token, current_user._get_current_object(), form.name.data, form=form
    )
    if not done:
        return _tokens_page(422, form)
    token, secret = result
    return _tokens_page(201, created={"token": token, "secret": secret})


@bp.post("/account/api-tokens/<int:api_token_id>/revoke")
@require(is_signed_in)
def revoke_token(api_token_id: int):
    """Revoke one of one's tokens; another person's does not exist for them."""
    token = db.session.get(ApiToken, api_token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not token.active:
        flash(_("This token was already revoked."), "info")
        return redirect(url_for("developers.tokens"))
    done, _result = perform(services.revoke_token, current_user._get_current_object(), token)
    if done:
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("developers.tokens"))
