"""What the matching engine reads in the profiles: themes found in free text, and the matrices
its signals are computed on.

Pure functions over the plain data of `exchange.matching.types`; the only other import from the
project is `exchange.text` (the same stems, stop words and accent folding as the catalogue search).

Themes from free text: every keyword of the vocabulary is reduced to the stems of its words in
its own language (stop words left out, so "gestión del agua" is ("gestion", "agu")) and matched
as a phrase, whole words only, against the stems of a text written in that language; at each
place the longest keyword wins. The theme codes are the same in every language, which is what
lets a Spanish text about "gestión del agua" meet an English one about "water management".
"""

from array import array
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from exchange.matching.types import Profile, ThemeVocabulary, WantedPartner
from exchange.text import LANGUAGES, document_positions

# A keyword of several words says more than a single word ("water management" vs "water").
PHRASE_WEIGHT = 1.5
WORD_WEIGHT = 1.0
# suggest_themes: evidence e (keyword hits, weighted) becomes the score e / (e + SATURATION):
# one word mentioned once gives 0.33, a phrase twice 0.6, ten hits 0.83.
SATURATION = 2.0
# A theme found only in an authority's texts counts for this much of a declared one, if its
# keywords come up at least twice: one mention is as often in passing ("water" in a text about
# tourism) as it is a topic.
DERIVED_THEME_WEIGHT = 0.6
DERIVED_MIN_EVIDENCE = 2.0
# Text vectors keep their strongest terms only: the long tail of a profile's words changes the
# cosine very little and would cost memory and time at 50,000 authorities.
TEXT_TERMS_PER_PROFILE = 150
LEXICAL_CHUNK = 2_000  # profiles at a time while the text matrix is built

# Authority kinds (exchange.authorities.models.AuthorityKind, repeated here because the engine
# imports nothing from the application) and how much each suits the other as a counterpart.
# Peers first (city with city, region with region); a metropolitan area is close to a city;
# a cross-border body and an agency work with regions more than with national ministries.
KINDS = (
    "municipality",
    "metropolitan_area",
    "region",
    "national_body",
    "cross_border_body",
    "agency",
)
_KIND_AFFINITY = {
    ("municipality", "municipality"): 1.0,
    ("municipality", "metropolitan_area"): 0.8,
    ("municipality", "region"): 0.3,
    ("municipality", "national_body"): 0.1,
    ("municipality", "cross_border_body"): 0.4,
    ("municipality", "agency"): 0.5,
    ("metropolitan_area", "metropolitan_area"): 1.0,
    ("metropolitan_area", "region"): 0.5,
    ("metropolitan_area", "national_body"): 0.2,
    ("metropolitan_area", "cross_border_body"): 0.4,
    ("metropolitan_area", "agency"): 0.5,
    ("region", "region"): 1.0,
    ("region", "national_body"): 0.5,
    ("region", "cross_border_body"): 0.6,
    ("region", "agency"): 0.6,
    ("national_body", "national_body"): 1.0,
    ("national_body", "cross_border_body"): 0.3,
    ("national_body", "agency"): 0.5,
    ("cross_border_body", "cross_border_body"): 1.0,
    ("cross_border_body", "agency"): 0.5,
    ("agency", "agency"): 0.8,
}
UNKNOWN_KIND_AFFINITY = 0.5
# Spanish and Portuguese speakers read each other fairly well: half a common language.
NEAR_LANGUAGES = frozenset({frozenset({"es", "pt"})})
NEAR_LANGUAGE_SCORE = 0.5


def kind_affinity(kind_a: str, kind_b: str) -> float:
    """How much an authority of kind_b suits one of kind_a (symmetric), in [0, 1]."""
    if kind_a == kind_b:
        return _KIND_AFFINITY.get((kind_a, kind_b), 1.0)
    found = _KIND_AFFINITY.get((kind_a, kind_b), _KIND_AFFINITY.get((kind_b, kind_a)))
    return UNKNOWN_KIND_AFFINITY if found is None else found


# Themes from free text ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Phrase:
    positions: tuple[tuple[str, ...], ...]  # each keyword word: its stems (one or two)
    themes: tuple[int, ...]  # theme indexes the phrase suggests
    weight: float


@dataclass(frozen=True)
class CompiledVocabulary:
    """The vocabulary's keywords as stemmed phrases, indexed by the stems of their first word."""

    themes: tuple[str, ...]  # theme codes, sorted: the columns of every theme matrix
    groups: tuple[str, ...]  # per theme: its group code (its own code when it has none)
    starts: dict  # language -> first stem -> phrases starting with it, longest first


def vocabulary_key(vocabulary: ThemeVocabulary) -> tuple:
    """A hashable, order-independent summary of a vocabulary (it holds dicts: no hash)."""
    return (
        tuple(
            (code, tuple(sorted((lang, tuple(words)) for lang, words in by_language.items())))
            for code, by_language in sorted(vocabulary.keywords.items())
        ),
        tuple(sorted(vocabulary.groups.items())),
    )


def compile_vocabulary(vocabulary: ThemeVocabulary) -> CompiledVocabulary:
    """The vocabulary ready for matching (cached: forms call this while people type)."""
    return _compile(vocabulary_key(vocabulary))


@lru_cache(maxsize=8)
def _compile(key: tuple) -> CompiledVocabulary:
    keywords, groups = key
    group_of = dict(groups)
    codes = tuple(sorted({code for code, _ in keywords} | set(group_of)))
    index = {code: i for i, code in enumerate(codes)}
    # The same stemmed phrase may belong to several themes ("cluster"): it counts for each,
    # split between them.
    phrases: dict[str, dict[tuple, set[int]]] = {}
    for code, by_language in keywords:
        for language, words in by_language:
            for keyword in words:
                positions = tuple(document_positions(keyword, language))
                if positions:
                    phrases.setdefault(language, {}).setdefault(positions, set()).add(index[code])
    starts: dict[str, dict[str, list[_Phrase]]] = {}
    for language, found in sorted(phrases.items()):
        by_start: dict[str, list[_Phrase]] = {}
        for positions, themes in sorted(found.items()):
            weight = (PHRASE_WEIGHT if len(positions) > 1 else WORD_WEIGHT) / len(themes)
            phrase = _Phrase(positions, tuple(sorted(themes)), weight)
            for stem in positions[0]:
                by_start.setdefault(stem, []).append(phrase)
        for stem_phrases in by_start.values():
            stem_phrases.sort(key=lambda p: (-len(p.positions), p.positions))
        starts[language] = by_start
    return CompiledVocabulary(
        themes=codes,
        groups=tuple(group_of.get(code, code) for code in codes),
        starts=starts,
    )


def _match(positions: list[tuple[str, ...]], by_start: dict, evidence: dict[int, float]) -> None:
    """Adds to `evidence` the keywords found in a text's word stems (longest match first)."""
    count = len(positions)
    # Few words start a keyword: look only there (a set test per word, in C).
    starting = by_start.keys()
    hits = [at for at, stems in enumerate(positions) if not starting.isdisjoint(stems)]
    free = 0  # the first position not inside a keyword already matched
    for at in hits:
        if at < free:
            continue
        best = None
        for stem in positions[at]:
            for phrase in by_start.get(stem, ()):
                length = len(phrase.positions)
                if best is not None and length <= len(best.positions):
                    break
                if at + length <= count and all(
                    any(s in positions[at + k] for s in phrase.positions[k])
                    for k in range(1, length)
                ):
                    best = phrase
                    break
        if best is None:
            continue
        for theme in best.themes:
            evidence[theme] = evidence.get(theme, 0.0) + best.weight
        free = at + len(best.positions)


def theme_evidence(text: str, language: str, compiled: CompiledVocabulary) -> dict[int, float]:
    """Weighted keyword hits per theme index in a text. A language other than en/es/pt (or
    none) is tried as each of the three, keeping each theme's best."""
    if language in LANGUAGES:
        evidence: dict[int, float] = {}
        _match(document_positions(text, language), compiled.starts.get(language, {}), evidence)
        return evidence
    best: dict[int, float] = {}
    for candidate in LANGUAGES:
        found = theme_evidence(text, candidate, compiled)
        for theme, value in found.items():
            best[theme] = max(best.get(theme, 0.0), value)
    return best


def evidence_score(evidence: float) -> float:
    """Keyword evidence as a score in [0, 1)."""
    return evidence / (evidence + SATURATION)


def suggest_themes(
    text: str, language: str, vocabulary: ThemeVocabulary, *, limit: int = 5
) -> list[tuple[str, float]]:
    """Theme codes the text is about, with a score in [0, 1), best first (ties by code)."""
    compiled = compile_vocabulary(vocabulary)
    evidence = theme_evidence(text, language, compiled)
    ranked = sorted(
        ((compiled.themes[t], round(evidence_score(e), 4)) for t, e in evidence.items()),
        key=lambda item: (-item[1], item[0]),
    )
    return ranked[: max(limit, 0)]


# The population's matrices -------------------------------------------------------------------


def smooth_idf(document_frequency: np.ndarray, count: int) -> np.ndarray:
    """ln((1 + N) / (1 + df)) + 1: rare features weigh more, none weighs nothing."""
    return np.log((1.0 + count) / (1.0 + document_frequency)) + 1.0


def _code_matrix(sets: list[frozenset[str]]) -> tuple[tuple[str, ...], np.ndarray]:
    """Codes (sorted) and a 0/1 profile × code matrix. Dense: objectives, programmes and border
    areas are tens of codes, not thousands."""
    codes = tuple(sorted(set().union(*sets))) if sets else ()
    index = {code: i for i, code in enumerate(codes)}
    matrix = np.zeros((len(sets), len(codes)), dtype=np.float32)
    for row, found in enumerate(sets):
        for code in found:
            matrix[row, index[code]] = 1.0
    return codes, matrix


def area_countries(code: str) -> frozenset[str]:
    """The countries a border-area code names ("PE-CL" → {"PE", "CL"}, "AR-PY-BR" → three):
    border areas are coded by their countries' ISO codes. Anything else names none."""
    parts = code.split("-")
    if all(len(p) == 2 and p.isalpha() and p.isupper() for p in parts):
        return frozenset(parts)
    return frozenset()


@dataclass
class Population:
    """Everything the signals need, one row per profile (sorted by id)."""

    profiles: list[Profile]
    ids: np.ndarray  # int64
    index: dict[int, int]
    compiled: CompiledVocabulary
    side: np.ndarray  # int: index into `sides`
    sides: tuple[str, ...]
    kind: np.ndarray  # int: index into `kinds`
    kinds: tuple[str, ...]
    kind_affinity: np.ndarray  # kinds × kinds
    # Themes: the vocabulary's, then declared codes it does not know
    theme_codes: tuple[str, ...]
    theme_index: dict[str, int]
    group_codes: tuple[str, ...]  # the columns of group_membership
    declared: np.ndarray  # N × T, 1 for a declared theme
    membership: np.ndarray  # N × T in [0, 1]: declared, or DERIVED_THEME_WEIGHT × text score
    group_of_theme: np.ndarray  # T: group index
    group_membership: np.ndarray  # N × G: the best membership in each group
    theme_idf: np.ndarray  # T
    has_themes: np.ndarray  # N bool
    # Texts
    lexical: sparse.csr_array  # N × V, rows of unit norm before pruning
    concepts: np.ndarray  # N × T, unit rows: the themes the texts are about
    has_text: np.ndarray  # N bool
    # Objectives and programmes
    objective_codes: tuple[str, ...]
    objectives: np.ndarray  # N × objectives, 0/1
    programme_codes: tuple[str, ...]
    programmes: np.ndarray
    # Border areas
    area_codes: tuple[str, ...]
    areas: np.ndarray
    country_codes: tuple[str, ...]
    area_country: np.ndarray  # N × countries: the countries of the profile's areas
    cross_border: np.ndarray  # N bool: in a border area, or a cross-border body
    # Languages
    language_sets: list[frozenset[str]]  # declared working languages and those of the texts
    language_codes: tuple[str, ...]
    languages: np.ndarray  # N × languages, float32 0/1
    near_languages: np.ndarray  # languages × languages: NEAR_LANGUAGE_SCORE for es–pt
    # Wanted partners, flattened: entries of profile i are w_start[i]:w_start[i + 1]
    w_entries: list[WantedPartner]
    w_start: np.ndarray
    w_kind: np.ndarray  # E × kinds: how well each kind meets the entry's kinds
    w_has_kind: np.ndarray  # E
    w_side: np.ndarray  # E × sides
    w_has_side: np.ndarray
    w_theme: np.ndarray  # E × T: idf weights of the wanted themes, summing to 1
    w_has_theme: np.ndarray


def _text_features(
    profile: Profile,
    compiled: CompiledVocabulary,
    terms: dict[str, int],
    found_terms: array,
    found_counts: array,
) -> tuple[int, dict[int, float]]:
    """Appends a profile's term numbers and their counts (all its texts) to the two buffers;
    returns how many terms, and the theme evidence of its texts. Growing buffers for all
    profiles, not a dict per profile: at 50,000 authorities dicts of ints cost gigabytes."""
    counts: Counter[str] = Counter()
    evidence: dict[int, float] = {}
    for document in profile.documents:
        language = document.language
        if language in LANGUAGES:
            positions = document_positions(document.text, language)
            _match(positions, compiled.starts.get(language, {}), evidence)
        else:
            positions = document_positions(document.text, "en")
            for theme, value in theme_evidence(document.text, language, compiled).items():
                evidence[theme] = evidence.get(theme, 0.0) + value
        counts.update([term for stems in positions for term in stems])
    found_terms.extend(terms.setdefault(term, len(terms)) for term in counts)
    found_counts.extend(counts.values())
    return len(counts), evidence


def _lexical_matrix(
    lengths: np.ndarray, found_terms: array, found_counts: array, terms: dict[str, int]
) -> sparse.csr_array:
    """TF-IDF (1 + ln tf) rows of unit norm, each keeping its TEXT_TERMS_PER_PROFILE strongest
    terms, and no term that only one profile uses (it can match nobody). Profile i has
    `lengths[i]` term numbers (in order of first appearance) and counts in the buffers; the
    columns are renumbered in the terms' alphabetical order, so that nothing depends on the
    order of the input. Built LEXICAL_CHUNK profiles at a time: only the document frequencies
    need them all."""
    n = len(lengths)
    term_count = len(terms)
    renumber = np.empty(term_count, dtype=np.int32)
    renumber[np.fromiter(terms.values(), dtype=np.int64, count=term_count)] = np.argsort(
        np.array(list(terms.keys()), dtype=object), kind="stable"
    ).argsort()
    empty = np.zeros(0, dtype=np.int32)
    all_terms = renumber[np.frombuffer(found_terms, dtype=np.int32)] if found_terms else empty
    all_counts = np.frombuffer(found_counts, dtype=np.int32) if found_counts else empty
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    rows = [
        (all_terms[offsets[i] : offsets[i + 1]], all_counts[offsets[i] : offsets[i + 1]])
        for i in range(n)
    ]
    df = np.zeros(term_count, dtype=np.int64)
    np.add.at(df, all_terms, 1)  # a profile's term numbers are distinct
    idf = smooth_idf(df.astype(np.float64), n).astype(np.float32)
    kept_rows, kept_cols, kept_values = [], [], []
    for start in range(0, n, LEXICAL_CHUNK):
        chunk = rows[start : start + LEXICAL_CHUNK]
        lengths = np.fromiter((len(c) for c, _ in chunk), dtype=np.int64, count=len(chunk))
        row_of = np.repeat(np.arange(len(chunk)), lengths)
        cols = np.concatenate([c for c, _ in chunk])
        tf = np.concatenate([t for _, t in chunk]).astype(np.float32)
        order = np.argsort(row_of * max(term_count, 1) + cols, kind="stable")
        row_of, cols, tf = row_of[order], cols[order], tf[order]
        values = (1.0 + np.log(tf)) * idf[cols]
        norms = np.sqrt(
            np.bincount(row_of, weights=values.astype(np.float64) ** 2, minlength=len(chunk))
        )
        values = values / np.where(norms > 0, norms, 1.0)[row_of].astype(np.float32)
        keep = df[cols] > 1
        keep &= top_per_row(row_of, values, TEXT_TERMS_PER_PROFILE, len(chunk))
        kept_rows.append(row_of[keep] + start)
        kept_cols.append(cols[keep])
        kept_values.append(values[keep])
    if not kept_rows:
        return sparse.csr_array((n, term_count), dtype=np.float32)
    matrix = sparse.csr_array(
        (np.concatenate(kept_values), (np.concatenate(kept_rows), np.concatenate(kept_cols))),
        shape=(n, term_count),
        dtype=np.float32,
    )
    matrix.sort_indices()
    return matrix


def top_per_row(rows: np.ndarray, values: np.ndarray, limit, n: int) -> np.ndarray:
    """A mask of the `limit` largest values of each row (`limit` a number or one per row;
    ties: the lower position first). `rows` are row numbers below n, in any order."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    # One stable sort on row + (1 - value) / 3: rows stay apart (values scaled into [-1, 1]), the
    # largest value comes first within a row, ties keep their order. Three times faster than
    # np.lexsort on the millions of entries of the text matrix.
    spread = float(np.max(np.abs(values))) if len(values) else 1.0
    key = rows.astype(np.float64) + (1.0 - values.astype(np.float64) / max(spread, 1e-300)) / 3
    order = np.argsort(key, kind="stable")
    sorted_rows = rows[order]
    first = np.searchsorted(sorted_rows, np.arange(n))
    rank = np.arange(len(order)) - first[sorted_rows]
    limits = np.broadcast_to(np.asarray(limit), (n,))
    mask = np.zeros(len(values), dtype=bool)
    mask[order[rank < limits[sorted_rows]]] = True
    return mask


def build_population(profiles, vocabulary: ThemeVocabulary) -> Population:
    """The matrices of a population of profiles (sorted by id, whatever their input order)."""
    ordered = sorted(profiles, key=lambda p: p.id)
    ids = np.array([p.id for p in ordered], dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError("two profiles have the same id")
    n = len(ordered)
    compiled = compile_vocabulary(vocabulary)
    # Declared themes outside the vocabulary still count (as themes without keywords).
    used = {t for p in ordered for t in p.themes} | {
        t for p in ordered for w in p.wanted for t in w.themes
    }
    extra = tuple(sorted(used - set(compiled.themes)))
    theme_codes = compiled.themes + extra
    groups = compiled.groups + extra
    t_index = {code: i for i, code in enumerate(theme_codes)}
    t_count = len(theme_codes)

    terms: dict[str, int] = {}
    found_terms, found_counts = array("i"), array("i")
    lengths = np.zeros(n, dtype=np.int64)
    evidence_rows: list[dict[int, float]] = []
    for i, profile in enumerate(ordered):
        lengths[i], evidence = _text_features(profile, compiled, terms, found_terms, found_counts)
        evidence_rows.append(evidence)

    declared = np.zeros((n, t_count), dtype=np.float32)
    evidence = np.zeros((n, t_count), dtype=np.float64)
    for i, profile in enumerate(ordered):
        for code in profile.themes:
            declared[i, t_index[code]] = 1.0
        for theme, value in evidence_rows[i].items():
            evidence[i, theme] = value
    strong = evidence >= DERIVED_MIN_EVIDENCE
    derived = (DERIVED_THEME_WEIGHT * strong * evidence / (evidence + SATURATION)).astype(
        np.float32
    )
    membership = np.maximum(declared, derived)
    theme_idf = smooth_idf(membership.sum(axis=0, dtype=np.float64), n)
    group_codes = sorted(set(groups))
    g_index = {code: i for i, code in enumerate(group_codes)}
    group_of_theme = np.array([g_index[g] for g in groups], dtype=np.int64)
    group_membership = np.zeros((n, len(group_codes)), dtype=np.float32)
    for g in range(len(group_codes)):
        columns = np.flatnonzero(group_of_theme == g)
        group_membership[:, g] = membership[:, columns].max(axis=1)

    concepts = (np.log1p(evidence) * theme_idf).astype(np.float32)
    norms = np.linalg.norm(concepts, axis=1, keepdims=True)
    concepts /= np.where(norms > 0, norms, 1.0)
    lexical = _lexical_matrix(lengths, found_terms, found_counts, terms)
    has_text = lengths > 0
    del found_terms, found_counts

    sides = tuple(sorted({"EU", "LAC"} | {p.side for p in ordered}))
    kinds = KINDS + tuple(sorted({p.kind for p in ordered} - set(KINDS)))
    kind_matrix = np.array([[kind_affinity(a, b) for b in kinds] for a in kinds], dtype=np.float32)
    side_index = {s: i for i, s in enumerate(sides)}
    kind_index = {k: i for i, k in enumerate(kinds)}

    objective_codes, objectives = _code_matrix([p.objectives for p in ordered])
    programme_codes, programmes = _code_matrix([p.programmes for p in ordered])
    area_codes, areas = _code_matrix([p.border_areas for p in ordered])
    countries = sorted(set().union(*(area_countries(c) for c in area_codes)) if area_codes else ())
    c_index = {c: i for i, c in enumerate(countries)}
    incidence = np.zeros((len(area_codes), len(countries)), dtype=np.float32)
    for a, code in enumerate(area_codes):
        for country in area_countries(code):
            incidence[a, c_index[country]] = 1.0
    area_country = ((areas @ incidence) > 0).astype(np.float32)
    cross_border = np.array(
        [bool(p.border_areas) or p.kind == "cross_border_body" for p in ordered], dtype=bool
    )

    language_sets = [
        frozenset(p.languages) | {d.language for d in p.documents if d.language} for p in ordered
    ]
    language_codes = tuple(sorted(set().union(*language_sets))) if language_sets else ()
    l_index = {code: i for i, code in enumerate(language_codes)}
    languages = np.zeros((n, len(language_codes)), dtype=np.float32)
    for i, found in enumerate(language_sets):
        for code in found:
            languages[i, l_index[code]] = 1.0
    near = np.zeros((len(language_codes),) * 2, dtype=np.float32)
    for pair in NEAR_LANGUAGES:
        a, b = sorted(pair)
        if a in l_index and b in l_index:
            near[l_index[a], l_index[b]] = near[l_index[b], l_index[a]] = NEAR_LANGUAGE_SCORE

    entries = [
        (i, w)
        for i, p in enumerate(ordered)
        for w in p.wanted
        if w.kinds or w.sides or w.themes  # an entry that asks for nothing is no signal
    ]
    e_count = len(entries)
    w_start = np.searchsorted(
        np.array([i for i, _ in entries], dtype=np.int64), np.arange(n + 1), side="left"
    )
    w_kind = np.zeros((e_count, len(kinds)), dtype=np.float32)
    w_side = np.zeros((e_count, len(sides)), dtype=np.float32)
    w_theme = np.zeros((e_count, t_count), dtype=np.float32)
    w_has_kind = np.zeros(e_count, dtype=bool)
    w_has_side = np.zeros(e_count, dtype=bool)
    w_has_theme = np.zeros(e_count, dtype=bool)
    for e, (_, wanted) in enumerate(entries):
        if wanted.kinds:
            w_has_kind[e] = True
            for k in kinds:
                w_kind[e, kind_index[k]] = max(kind_affinity(w, k) for w in wanted.kinds)
        if wanted.sides:
            w_has_side[e] = True
            for s in wanted.sides:
                if s in side_index:
                    w_side[e, side_index[s]] = 1.0
        if wanted.themes:
            w_has_theme[e] = True
            columns = [t_index[t] for t in wanted.themes]
            weights = theme_idf[columns]
            w_theme[e, columns] = weights / weights.sum()

    return Population(
        profiles=ordered,
        ids=ids,
        index={int(pid): i for i, pid in enumerate(ids)},
        compiled=compiled,
        theme_codes=theme_codes,
        theme_index=t_index,
        group_codes=tuple(group_codes),
        side=np.array([side_index[p.side] for p in ordered], dtype=np.int64),
        sides=sides,
        kind=np.array([kind_index[p.kind] for p in ordered], dtype=np.int64),
        kinds=kinds,
        kind_affinity=kind_matrix,
        declared=declared,
        membership=membership,
        group_of_theme=group_of_theme,
        group_membership=group_membership,
        theme_idf=theme_idf,
        has_themes=membership.max(axis=1, initial=0.0) > 0,
        lexical=lexical,
        concepts=concepts,
        has_text=has_text,
        objective_codes=objective_codes,
        objectives=objectives,
        programme_codes=programme_codes,
        programmes=programmes,
        area_codes=area_codes,
        areas=areas,
        country_codes=tuple(countries),
        area_country=area_country,
        cross_border=cross_border,
        language_sets=language_sets,
        language_codes=language_codes,
        languages=languages,
        near_languages=near,
        w_entries=[w for _, w in entries],
        w_start=w_start,
        w_kind=w_kind,
        w_has_kind=w_has_kind,
        w_side=w_side,
        w_has_side=w_has_side,
        w_theme=w_theme,
        w_has_theme=w_has_theme,
    )
