"""The public API, /api/v1/: reading published practices, open ideas, verified authorities and
the reference data, and — with a personal token — one's own authority's items and matches.

Every operation is a GET; lists are paged with a cursor (see exchange.api.pagination). What is
public is decided by exchange.api.queries (the catalogue's rules); what is said is decided by
exchange.api.schemas. The OpenAPI document is generated from these functions, their arguments and
their schemas by flask-smorest.

CSRF: CSRFProtect checks only the methods that change something (POST, PUT, PATCH, DELETE), and
the API has none of them, so it needs no exemption. Nor could a page on another site borrow a
visitor's session here: the API ignores the session cookie; only a token sent in the
Authorization header, which a browser never adds by itself, opens a member's own data.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from exchange.api import queries, schemas
from exchange.api.models import ApiToken
from exchange.api.pagination import CursorError, Page
from exchange.api.services import authenticate, bearer_token, find_token
from exchange.auth.models import User
from exchange.authorities.models import Authority
from exchange.extensions import db, limiter
from exchange.matching import services as matching
from exchange.matching.models import Answer, Match, MatchStatus, Stage
from exchange.submissions.models import Submission
from exchange.workflow import Kind

BEARER = "bearerAuth"
# Ids in paths: a number the database can hold (anything else is a 404, never a 500).
MAX_ID = 2**31 - 1
ERROR = schemas.ErrorSchema


class QueryParser(FlaskParser):
    """Query parameters: a wrong or unknown one is refused with 400, naming it."""

    DEFAULT_VALIDATION_STATUS = 400


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = QueryParser(unknown=RAISE)


bp = ApiBlueprint(
    "api",
    __name__,
    description="Exchange's public data, and a member's own with a personal token.",
)


# Rate limits: per token when a valid one is sent, per client address otherwise ------------------


def current_token() -> ApiToken | None:
    """The valid token sent with this request, if any (looked up once per request)."""
    if "api_token" not in g:
        g.api_token = find_token(bearer_token(request.headers.get("Authorization")))
    return g.api_token


def _rate_limit() -> str:
    config = current_app.config
    return config["API_TOKEN_RATE_LIMIT"] if current_token() else config["API_RATE_LIMIT"]


def _rate_key() -> str:
    token = current_token()
    return f"api-token:{token.id}" if token else f"api-address:{get_remote_address()}"


# One budget for the whole API (every endpoint counts against it).
api_limit = limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_key)
api_limit(bp)


@bp.after_request
def _readable_from_any_site(response):
    # Nothing here depends on cookies (a token travels in a header a page must set itself), so
    # pages on other sites may read the answers.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# Helpers ------------------------------------------------------------------------------------------


def _page_response(page: Page, endpoint: str) -> dict:
    """A page, with the address of the next one (the same query, the next cursor)."""
    next_url = None
    if page.next_cursor:
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        params.append(("cursor", page.next_cursor))
        next_url = url_for(endpoint, _external=True) + "?" + urlencode(params)
    return {
        "items": page.items,
        "limit": page.limit,
        "next_cursor": page.next_cursor,
        "next": next_url,
    }


def _paged(read, *args, **kwargs) -> Page:
    """Run a paged read; a cursor or a code it does not know is a 400 naming the parameter."""
    try:
        return read(*args, **kwargs)
    except CursorError:
        abort(400, errors={"cursor": [_("Not a cursor of this list: start again without one.")]})
    except queries.UnknownCodes as error:
        abort(400, errors=error.errors)


def _found(row):
    if row is None:
        abort(404)
    return row


def _codes(args: dict, *names: str) -> queries.Codes:
    plural = {"theme": "themes", "programme": "programmes", "objective": "objectives",
              "border_area": "border_areas", "group": "groups"}  # fmt: skip
    return queries.Codes(**{plural[name]: tuple(args.get(name, ())) for name in names})


ERRORS_OF_LISTS = (400, 429)


def _document_errors(*codes):
    def decorator(view):
        for code in codes:
            view = bp.alt_response(code, schema=ERROR)(view)
        return view

    return decorator


# The index ----------------------------------------------------------------------------------------


@bp.get("/", strict_slashes=False)  # /api/v1 too, without a redirect (an HTML body)
@bp.response(200, schemas.IndexSchema)
@_document_errors(429)
def index():
    """What the API offers, and where its documentation is."""
    resources = {
        name: url_for(f"api.{endpoint}", _external=True)
        for name, endpoint in (
            ("practices", "list_practices"),
            ("ideas", "list_ideas"),
            ("authorities", "list_authorities"),
            ("programmes", "list_programmes"),
            ("objectives", "list_objectives"),
            ("themes", "list_themes"),
            ("me", "get_me"),
        )
    }
    return {
        "name": "Exchange API",
        "version": current_app.config["API_VERSION"],
        "openapi": url_for("api-docs.openapi_json", _external=True),
        "docs": url_for("developers.api_docs", _external=True),
        "resources": resources,
    }


# Practices and ideas ------------------------------------------------------------------------------


def _item_query(args: dict, *codes: str) -> queries.ItemQuery:
    return queries.ItemQuery(
        query=args["q"],
        codes=_codes(args, *codes),
        countries=tuple(args["country"]),
        sides=tuple(args["side"]),
        languages=tuple(args["language"]),
        authority_ids=tuple(args["authority"]),
    )


@bp.get("/practices")
@bp.arguments(schemas.ItemArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.PracticePageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_practices(**args):
    """Published good practices, newest first.

    Filters combine (all must hold); the values of one filter are alternatives. `q` searches the
    full text in the three languages, as the catalogue does."""
    asked = _item_query(args, "theme", "programme", "objective")
    page = _paged(queries.public_items, Kind.PRACTICE, asked, args["cursor"], args["limit"])
    return _page_response(page, "api.list_practices")


@bp.get(f"/practices/<int(max={MAX_ID}):submission_id>")
@bp.response(200, schemas.PracticeSchema)
@_document_errors(404, 429)
def get_practice(submission_id: int):
    """A published good practice, as its public page shows it."""
    return _found(queries.public_item(Kind.PRACTICE, submission_id))


@bp.get("/ideas")
@bp.arguments(schemas.IdeaArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.IdeaPageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_ideas(**args):
    """Cross-border project ideas open to partners, newest first.

    Filters combine (all must hold); the values of one filter are alternatives. `q` searches the
    full text in the three languages, as the catalogue does."""
    asked = _item_query(args, "theme", "programme", "objective", "border_area")
    page = _paged(queries.public_items, Kind.IDEA, asked, args["cursor"], args["limit"])
    return _page_response(page, "api.list_ideas")


@bp.get(f"/ideas/<int(max={MAX_ID}):submission_id>")
@bp.response(200, schemas.IdeaSchema)
@_document_errors(404, 429)
def get_idea(submission_id: int):
    """A project idea open to partners, as its public page shows it."""
    return _found(queries.public_item(Kind.IDEA, submission_id))


# Authorities --------------------------------------------------------------------------------------


@bp.get("/authorities")
@bp.arguments(schemas.AuthorityArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.AuthorityPageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_authorities(**args):
    """Verified authorities, in the order they joined."""
    asked = queries.AuthorityQuery(
        codes=_codes(args, "theme", "programme", "border_area"),
        countries=tuple(args["country"]),
        sides=tuple(args["side"]),
        kinds=tuple(args["kind"]),
    )
    page = _paged(queries.public_authorities, asked, args["cursor"], args["limit"])
    return _page_response(page, "api.list_authorities")


@bp.get(f"/authorities/<int(max={MAX_ID}):authority_id>")
@bp.response(200, schemas.AuthoritySchema)
@_document_errors(404, 429)
def get_authority(authority_id: int):
    """A verified authority's public profile."""
    return _found(queries.public_authority(authority_id))


# Reference data -----------------------------------------------------------------------------------


@bp.get("/programmes")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.ProgrammePageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_programmes(**args):
    """The programmes of the cooperation, with their objectives."""
    page = _paged(queries.programmes, args["cursor"], args["limit"])
    return _page_response(page, "api.list_programmes")


@bp.get(f"/programmes/<int(max={MAX_ID}):programme_id>")
@bp.response(200, schemas.ProgrammeSchema)
@_document_errors(404, 429)
def get_programme(programme_id: int):
    """A programme and its objectives."""
    return _found(queries.programme(programme_id))


@bp.get("/objectives")
@bp.arguments(schemas.ObjectiveArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.ObjectivePageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_objectives(**args):
    """The programmes' objectives, by code."""
    page = _paged(queries.objectives, _codes(args, "programme"), args["cursor"], args["limit"])
    return _page_response(page, "api.list_objectives")


@bp.get(f"/objectives/<int(max={MAX_ID}):objective_id>")
@bp.response(200, schemas.ObjectiveSchema)
@_document_errors(404, 429)
def get_objective(objective_id: int):
    """A programme objective."""
    return _found(queries.objective(objective_id))


@bp.get("/themes")
@bp.arguments(schemas.ThemeArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.ThemePageSchema)
@_document_errors(*ERRORS_OF_LISTS)
def list_themes(**args):
    """The themes practices, ideas and authorities are tagged with."""
    page = _paged(queries.themes, _codes(args, "group"), args["cursor"], args["limit"])
    return _page_response(page, "api.list_themes")


@bp.get(f"/themes/<int(max={MAX_ID}):theme_id>")
@bp.response(200, schemas.ThemeSchema)
@_document_errors(404, 429)
def get_theme(theme_id: int):
    """A theme."""
    return _found(queries.theme(theme_id))


# A member's own, with a token ---------------------------------------------------------------------


def token_required(view):
    """Only with a valid token (401 otherwise); the token's use is noted."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = authenticate(bearer_token(request.headers.get("Authorization")))
        if token is None:
            abort(401, headers={"WWW-Authenticate": 'Bearer realm="Exchange API"'})
        db.session.commit()  # when the token was last used
        g.api_token = token
        return view(token, *args, **kwargs)

    wrapper = bp.doc(security=[{BEARER: []}])(wrapper)
    for code in (401, 429):
        wrapper = bp.alt_response(code, schema=ERROR)(wrapper)
    return wrapper


def _authority_of(token: ApiToken) -> Authority:
    """The authority the token's owner works for; 403 for someone who works for none."""
    authority = token.user.authority
    if authority is None:
        abort(403, message=_("This account works for no authority: it has no items or matches."))
    return authority


@bp.get("/me")
@token_required
@bp.response(200, schemas.MeSchema)
def get_me(token: ApiToken):
    """Who the token speaks for: its authority, and the token itself."""
    return {"authority": token.user.authority, "token": token}


@bp.get("/me/items")
@token_required
@bp.arguments(schemas.OwnItemArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.OwnItemPageSchema)
@_document_errors(400, 403)
def list_own_items(token: ApiToken, **args):
    """Your authority's practices and ideas (owned or co-owned) in every state — drafts, under
    review, published, archived — newest first."""
    authority = _authority_of(token)
    page = _paged(
        queries.own_items,
        authority.id,
        tuple(args["kind"]),
        tuple(args["state"]),
        args["cursor"],
        args["limit"],
    )
    return _page_response(page, "api.list_own_items")


@bp.get(f"/me/items/<int(max={MAX_ID}):submission_id>")
@token_required
@bp.response(200, schemas.OwnItemSchema)
@_document_errors(403, 404)
def get_own_item(token: ApiToken, submission_id: int):
    """One of your authority's practices or ideas, in any state."""
    return _found(queries.own_item(_authority_of(token).id, submission_id))


@dataclass
class MatchView:
    """A match as one side sees it (what MatchSchema dumps)."""

    id: int
    status: MatchStatus
    created_at: datetime
    expires_at: datetime | None
    connected_at: datetime | None
    closed_at: datetime | None
    stage: Stage | None
    score: float | None
    note: str
    your_answer: Answer
    their_answer: Answer
    counterpart: Authority
    about: Submission | None  # the practice or idea it is about, if public
    contacts_visible: bool
    contacts: list[User] | None = None  # the other side's members, once both accepted


def _match_views(matches: list[Match], token: ApiToken, authority: Authority) -> list[MatchView]:
    user = token.user
    about = queries.public_submissions(m.submission_id for m in matches)
    views = []
    for match in matches:
        side = match.side_of(authority.id)
        other = match.authority_b if side == "a" else match.authority_a
        visible = match.contacts_visible_to(user)
        views.append(
            MatchView(
                id=match.id,
                status=match.status,
                created_at=match.created_at,
                expires_at=match.expires_at,
                connected_at=match.connected_at,
                closed_at=match.closed_at,
                stage=match.stage,
                score=match.score,
                note=match.note,
                your_answer=match.answer_of(side),
                their_answer=match.answer_of("b" if side == "a" else "a"),
                counterpart=other,
                about=about.get(match.submission_id),
                contacts_visible=visible,
                contacts=matching.contacts(other) if visible else None,
            )
        )
    return views


@bp.get("/me/matches")
@token_required
@bp.arguments(schemas.MatchArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.MatchPageSchema)
@_document_errors(400, 403)
def list_own_matches(token: ApiToken, **args):
    """Your authority's matches in every status, newest first. The other side's contacts appear
    once both sides have accepted, as on the match's page."""
    authority = _authority_of(token)
    page = _paged(queries.own_matches, authority.id, tuple(args["status"]), args["cursor"],
                  args["limit"])  # fmt: skip
    page.items = _match_views(page.items, token, authority)
    return _page_response(page, "api.list_own_matches")


@bp.get(f"/me/matches/<int(max={MAX_ID}):match_id>")
@token_required
@bp.response(200, schemas.MatchSchema)
@_document_errors(403, 404)
def get_own_match(token: ApiToken, match_id: int):
    """One of your authority's matches."""
    authority = _authority_of(token)
    match = _found(queries.own_match(authority.id, match_id))
    return _match_views([match], token, authority)[0]
