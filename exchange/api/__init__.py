"""The public API (/api/v1/), its OpenAPI document and docs, and personal API tokens.

`init_api(app)` is called by the app factory once the error pages are registered.
"""

from flask import Flask
from flask_smorest import Api

API_PREFIX = "/api/v1"


class ExchangeApi(Api):
    """flask-smorest, except that it leaves the app's error pages alone: its own handler would
    answer JSON for every page of the site. exchange.api.errors answers JSON under /api/ only."""

    def _register_error_handlers(self):
        pass


def init_api(app: Flask) -> None:
    from exchange.api import models as _models  # noqa: F401 (its table)
    from exchange.api.errors import install_json_errors
    from exchange.api.resources import BEARER, api_limit, bp
    from exchange.api.schemas import ErrorSchema
    from exchange.api.views import bp as developers_bp

    app.config.setdefault("API_TITLE", "Exchange API")
    app.config.setdefault("API_VERSION", "1.0")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "Published good practices, project ideas open to partners, verified "
                    "authorities, programmes, objectives and themes of the EU–Latin America "
                    "cooperation on regional and urban policy; and, with a personal token, your "
                    "own authority's drafts and matches. Every answer is JSON, errors included."
                ),
            },
        },
    )
    ExchangeApi.ERROR_SCHEMA = ErrorSchema
    api = ExchangeApi(app)
    api.spec.components.security_scheme(
        BEARER,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created on your account page.",
        },
    )
    api.register_blueprint(bp, url_prefix=API_PREFIX)
    api_limit(app.blueprints["api-docs"])  # the OpenAPI document counts as the API
    app.register_blueprint(developers_bp)
    install_json_errors(app)
