"""Language choice and access to the multilingual fields of reference data."""

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """The person's choice, then the language cookie, then the browser's preference."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        if current_user and current_user.is_authenticated and current_user.language in languages:
            return current_user.language
        cookie = request.cookies.get(LANGUAGE_COOKIE)
        if cookie in languages:
            return cookie
        return request.accept_languages.best_match(languages) or languages[0]
    return languages[0]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def localized(obj, field: str, language: str | None = None) -> str:
    """`obj.<field>_<language>`, falling back to English when that translation is empty."""
    language = language or current_language()
    value = getattr(obj, f"{field}_{language}", None)
    return value or getattr(obj, f"{field}_en")
