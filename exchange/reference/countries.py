"""Countries and sub-regions from ISO 3166 (pycountry), with names in the reader's language.

Which side of the cooperation a country is on is a fact of membership, not of ISO 3166, so the two
lists are kept here: the 27 EU member states, and the 33 countries of the UN M49 region "Latin
America and the Caribbean".
"""

import gettext
import unicodedata
from enum import StrEnum
from functools import cache

import pycountry
from babel import Locale
from flask_babel import get_locale


class Side(StrEnum):
    EU = "EU"
    LAC = "LAC"


EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
LATIN_AMERICA_AND_CARIBBEAN = frozenset(
    "AG AR BS BB BZ BO BR CL CO CR CU DM DO EC SV GD GT GY HT HN JM MX NI PA PY PE KN LC VC SR TT "
    "UY VE".split()
)


def side_of(country_code: str) -> Side | None:
    if country_code in EU_MEMBER_STATES:
        return Side.EU
    if country_code in LATIN_AMERICA_AND_CARIBBEAN:
        return Side.LAC
    return None


@cache
def _translator(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def country_name(code: str, language: str | None = None) -> str:
    """The country's everyday name in the reader's language ("Bolivia", "Alemanha"), from the
    Unicode CLDR data that Babel carries; ISO 3166's own name when CLDR has none."""
    name = Locale.parse(language or _language()).territories.get(code)
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country is not None else code


def subdivision_name(code: str, language: str | None = None) -> str:
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None:
        return code
    return _translator("iso3166-2", language or _language()).gettext(subdivision.name)


def is_subdivision_of(subdivision_code: str, country_code: str) -> bool:
    subdivision = pycountry.subdivisions.get(code=subdivision_code)
    return subdivision is not None and subdivision.country_code == country_code


def sort_key(label: str) -> str:
    """A sort key that puts "Ávila" beside "Avila" (Babel has no collation of its own)."""
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """EU and Latin-American countries as (code, name) pairs, sorted by name in `language`."""
    language = language or _language()
    choices = [
        (code, country_name(code, language))
        for code in EU_MEMBER_STATES | LATIN_AMERICA_AND_CARIBBEAN
    ]
    return sorted(choices, key=lambda item: sort_key(item[1]))


def subdivision_choices(country_code: str, language: str | None = None) -> list[tuple[str, str]]:
    """The country's ISO 3166-2 subdivisions as (code, name) pairs, sorted by name."""
    language = language or _language()
    subdivisions = pycountry.subdivisions.get(country_code=country_code) or []
    choices = [(s.code, subdivision_name(s.code, language)) for s in subdivisions]
    return sorted(choices, key=lambda item: sort_key(item[1]))
