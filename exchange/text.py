"""Language-aware text processing for search (and matching): English, Spanish and Portuguese.

A document is reduced to the stems of its words in its own language (Snowball stemmers), without
accents and without stop words. A query, whose language nobody knows, is reduced to the stems of
each of its words in all three languages: a word matches a document if any of them does. So
"gestión del agua", "gestion agua" and "gestiones del agua" find the same practices, and the same
code serves PostgreSQL's full-text search and SQLite's FTS5.

Two weaknesses of the stemmers are covered here, because people type queries without accents and
Snowball is not always consistent with itself:
- an accented word is indexed under two stems, that of the word and that of the word without its
  accents (Portuguese "inovação" → "inov" and "inovaca"), so a query typed without accents
  ("inovacao" → "inovaca") finds it; a Portuguese query without accents also tries the usual
  endings with their accents ("inovacoes" → "inovações" → "inov");
- a query word also tries the stem of its stem (Spanish "ciudades" → "ciudad" → "ciud", the stem
  of "ciudad"), so a plural finds the singular as well as the other way round.
"""

import re
import unicodedata
from functools import cache, lru_cache

import snowballstemmer
from stop_words import get_stop_words

LANGUAGES = ("en", "es", "pt")
_STEMMER_NAMES = {"en": "english", "es": "spanish", "pt": "portuguese"}
# Letters and digits; an underscore separates words (as PostgreSQL's parser does).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_WORDS = 8
# Portuguese endings that people type without their accents, and the accented spelling the
# stemmer knows: "inovacao" → "inovação", "regioes" → "regiões".
_PORTUGUESE_ENDINGS = (
    ("coes", "ções"),
    ("cao", "ção"),
    ("oes", "ões"),
    ("aes", "ães"),
    ("ao", "ão"),
)


def fold(text: str) -> str:
    """Lower case without accents: "Gestión" → "gestion"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _stemmer(language: str):
    return snowballstemmer.stemmer(_STEMMER_NAMES.get(language, "english"))


@cache
def stop_words(language: str) -> frozenset[str]:
    words = get_stop_words(language if language in LANGUAGES else "en")
    # The lists carry a few numbers ("10"); numbers are worth searching for.
    return frozenset(fold(word) for word in words if not any(ch.isdigit() for ch in word))


@cache
def _all_stop_words() -> frozenset[str]:
    return frozenset().union(*(stop_words(language) for language in LANGUAGES))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if not w.isdigit() or len(w) >= 2]


def _stem(word: str, language: str) -> str:
    return fold(_stemmer(language).stemWord(word))


@lru_cache(maxsize=200_000)
def _word_terms(word: str, language: str) -> tuple[str, ...]:
    """The index terms of one (lower-case) word of a document: nothing for a stop word."""
    folded = fold(word)
    if folded in stop_words(language) or len(word) < 2:
        return ()
    stem = _stem(word, language)
    if folded == word:
        return (stem,)
    stem_of_folded = _stem(folded, language)
    return (stem,) if stem_of_folded == stem else (stem, stem_of_folded)


def document_terms(text: str, language: str) -> list[str]:
    """The index terms of a text written in `language`, in order."""
    return [term for word in words(text) for term in _word_terms(word, language)]


def document_positions(text: str, language: str) -> list[tuple[str, ...]]:
    """The index terms of a text word by word, stop words left out: one tuple per remaining
    word (one term, or two for an accented word), so that phrases can be matched in order.
    Flattened, it is `document_terms(text, language)`."""
    found = []
    for word in words(text):
        terms = _word_terms(word, language)
        if terms:
            found.append(terms)
    return found


def document_text(text: str, language: str) -> str:
    return " ".join(document_terms(text, language))


def _spellings(word: str, language: str) -> set[str]:
    spellings = {word, fold(word)}
    if language == "pt":
        folded = fold(word)
        for plain, accented in _PORTUGUESE_ENDINGS:
            if folded.endswith(plain):
                spellings.add(folded[: -len(plain)] + accented)
                break
    return spellings


def word_variants(word: str) -> set[str]:
    """The terms a query word may have been indexed under, in any of the languages."""
    variants = {fold(word)}
    for language in LANGUAGES:
        for spelling in _spellings(word, language):
            stem = _stemmer(language).stemWord(spelling)
            variants.add(fold(stem))
            variants.add(_stem(stem, language))
    variants.discard("")
    return variants


def query_terms(query: str) -> list[set[str]]:
    """For each meaningful word of the query, the stems it may have in any of the languages."""
    stops = _all_stop_words()
    found: list[set[str]] = []
    for word in words(query):
        if fold(word) in stops or len(word) < 2:
            continue
        variants = word_variants(word)
        if variants and variants not in found:
            found.append(variants)
        if len(found) == MAX_QUERY_WORDS:
            break
    return found
