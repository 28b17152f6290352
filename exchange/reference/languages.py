"""Languages an authority can work in: those official in the EU and in Latin America, named in
the reader's language by Babel (CLDR data)."""

from babel import Locale
from flask_babel import get_locale

from exchange.reference.countries import sort_key

WORKING_LANGUAGES = (
    "en es pt fr de it nl pl ro el cs hu sv bg da fi sk hr lt sl lv et ga mt qu gn ay ht".split()
)


def language_name(code: str, language: str | None = None) -> str:
    display = Locale.parse(language or (get_locale().language if get_locale() else "en"))
    # CLDR names every language, including those it has no locale data for (Aymara, Guarani).
    name = display.languages.get(code) or code
    return name[:1].upper() + name[1:]


def language_choices(language: str | None = None) -> list[tuple[str, str]]:
    return sorted(
        ((code, language_name(code, language)) for code in WORKING_LANGUAGES),
        key=lambda item: sort_key(item[1]),
    )
