"""Every failure under /api/ answers JSON, never an HTML page.

The app's error pages are handlers registered by status code (exchange.templating); each is
wrapped so that a request under the API's prefix gets the JSON body instead:

    {"code": 404, "status": "Not Found", "message": "…", "errors": {…}}

`errors` appears on 400 and says what is wrong with which parameter. Routing errors (an unknown
path, a method the path does not take) never reach a blueprint's own handlers, which is why the
app's handlers are wrapped rather than the blueprint given handlers of its own.
"""

from functools import wraps

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"

# Headers of the error worth keeping in the JSON answer (Allow on 405, Retry-After on 429,
# WWW-Authenticate on 401); the body's type is ours.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _messages() -> dict[int, str]:
    return {
        400: _("The request is not valid: see errors for what is wrong with which parameter."),
        401: _("This needs a valid API token: send it as 'Authorization: Bearer <token>'."),
        403: _("Your token may not read this."),
        404: _("There is nothing here, or it is not public."),
        405: _("This address does not take that method: the API only reads (GET)."),
        429: _("Too many requests: wait a little (see the Retry-After header) and try again."),
        500: _("Something went wrong on our side. It has been logged; try again later."),
    }


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(error: HTTPException, errors: dict | None = None, message: str | None = None):
    """The JSON answer for an HTTP error."""
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = errors or data.get("errors") or data.get("messages")
    body = {
        "code": code,
        "status": error.name,
        "message": message or data.get("message") or _messages().get(code) or error.description,
    }
    if errors:
        body["errors"] = _flatten(errors)
    headers = {name: value for name, value in error.get_headers() if name in KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    return body, code, headers


def _flatten(errors: dict) -> dict:
    """webargs nests the messages under their location ({"query": {"limit": [...]}}): the API
    takes nothing but query parameters, so the parameter names are enough."""
    if set(errors) <= {"query", "querystring", "json", "headers", "view_args"}:
        flat = {}
        for value in errors.values():
            flat.update(value)
        return flat
    return errors


def install_json_errors(app: Flask) -> None:
    """Make every error handler of the app answer JSON under API_PREFIX (call after the error
    pages are registered); HTTP errors without a page of their own answer JSON there too."""

    def for_api(handler):
        @wraps(handler)
        def wrapper(error):
            if not is_api_request():
                return handler(error)
            if not isinstance(error, HTTPException):
                error = InternalServerError(original_exception=error)
            return json_error(error)

        return wrapper

    for handlers in app.error_handler_spec[None].values():
        for exception_class, handler in list(handlers.items()):
            handlers[exception_class] = for_api(handler)

    def plain(error):
        return error  # Flask's own answer outside the API

    app.register_error_handler(HTTPException, for_api(plain))
