"""The matching engine: for verified authorities, the counterparts that suit them, with the
reasons why. Pure functions over the plain data of `exchange.matching.types`: no Flask, no
database, nothing imported from the application but `exchange.text` and those types, so the
same code runs in the web process, in Celery workers and in the benchmarks.

Entry points (the contract is in types.py): `rank`, `propose`, `pairing_round`,
`suggest_themes`; and, for callers that want both a ranking and proposals from one computation,
`match_all`; for a pair a coordinator puts together by hand, `explain_pair`.

Who is in the population is the caller's business: the services pass verified authorities only
(unverified ones never reach the engine), with `capacity` already reduced by their open matches,
and `excluded` holding every pair already matched, declined or dismissed.

## Signals

Each signal is measured on its own for the directed fit "how well B suits A", as a score in
[0, 1]. A signal that says nothing about A (A has no border area, wants no partner in
particular, has no objectives…) is absent, not zero: it leaves the weighted mean. The directed
score is the weighted mean of the present signals; the pair's score is the harmonic mean of the
two directions, so that a one-sided fit ranks low.

- themes — the share of A's themes that B works on, each weighing its IDF over the population
  (rare themes weigh more); a theme of the same group counts GROUP_CREDIT. Themes are the
  declared ones and, at DERIVED_THEME_WEIGHT, those found in the texts at least twice
  (features.py). Present when A has themes. Details: the theme codes both work on, rarest
  first.
- text — cosine of all their texts (profile, practices, ideas): half the words (the square
  root of the TF-IDF cosine of Snowball stems, each text in its own language), half the themes
  the texts speak of (language-neutral, from the vocabulary's keywords in en/es/pt), so that
  "gestión del agua y economía circular" meets "water management and circular economy".
  Symmetric; present when A has texts. Details: the theme codes both texts are about,
  strongest first.
- objectives — the share of A's programme objectives that B's items also serve (0.7) and of
  A's programmes that B takes part in (0.3). Present when A has objectives or programmes.
  Details: the objective codes in common; failing those, the programme codes in common.
- border_area — 1 for a border area in common; 0.6 for areas that share a country (area codes
  name their countries: "PE-CL" and "CO-PE" have Peru in common); 0.4 when B is a cross-border
  region too (cross-border regions learning from each other, across the ocean as well, is what
  INNOVACT is about); else 0. Present when A is in a border area or is a cross-border body.
  Details: the area codes in common; failing those, both sides' area codes.
- wanted_partner — for each of A's open ideas that asks for something, the mean over what it
  asks (kinds, by kind affinity; sides; the wanted themes, IDF-weighted share B works on) of
  what B meets; A's best idea counts. Absent when A wants nothing in particular. Details: what
  the other side meets of the best idea (of either side): kind codes, side codes ("EU", "LAC"),
  theme codes.
- language — 1 for a working language in common (declared, or of their texts), 0.5 for Spanish
  with Portuguese. Symmetric. Details: the common language codes, or "es", "pt" for the
  half point.
- kind — kind affinity (features.KINDS): 1 for peers (city with city, region with region), 0.8
  for a municipality with a metropolitan area, down to 0.1 for a municipality with a ministry.
  Symmetric, always present. Details: the authority's kind, the counterpart's kind.

Reasons carry, per signal present in either direction, the mean of its directed scores, its
weight and the detail codes — plain codes only (theme, objective or programme, border-area,
language, kind and side codes) that the services turn into words; they are sorted by
contribution (score × weight), then in the order of SIGNALS.

## Constraints and selection

Only the other side (EU with LAC) unless `same_side`; never a profile with itself; never a pair
in `excluded`; nothing below MIN_PAIR_SCORE; and a topical gate: two authorities with nothing
in common on topic (no theme, not even one of the same group, no words or themes in their
texts) score 0, however well the rest fits. `propose` and `pairing_round` choose pairs so that
each profile is in at most `capacity` of them and the total score is maximal (a b-matching
solved by HiGHS, see pairing.py), on the candidate graph reduced to each profile's best
PAIRING_DEPTH_EXTRA + capacity edges; the greedy total on the same graph is reported beside it.

## Scale

Up to EXHAUSTIVE_PAIRS pairs, every pair is scored. Beyond, never a dense N × N: candidates
come from a sparse product of short profile vectors (each profile's CANDIDATE_FEATURES
strongest rare features: text terms, themes, pairs of themes, each used by at most
CANDIDATE_MAX_DF profiles of the other side), in row chunks, keeping each profile's
CANDIDATES_PER_PROFILE best; the full signals are computed for those pairs only (in both
directions). The cost of the product is bounded by CANDIDATE_MAX_DF per feature, so the run
grows about linearly with N rather than with N².

## Determinism

Profiles are sorted by id before anything else; every ranking breaks ties by id; scores are
rounded to 6 decimals. The same input in any order gives the same output. ENGINE_VERSION and the
weights used are to be stored with every proposal.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress

import numpy as np
from scipy import sparse

from exchange.matching import features
from exchange.matching.features import Population, build_population, top_per_row
from exchange.matching.pairing import b_matching, greedy_matching
from exchange.matching.types import (
    PairingResult,
    Profile,
    Reason,
    Suggestion,
    ThemeVocabulary,
)

ENGINE_VERSION = "1.0"
SIGNALS = ("themes", "text", "objectives", "wanted_partner", "kind", "border_area", "language")
DEFAULT_WEIGHTS = {
    "themes": 0.30,
    "text": 0.25,
    "objectives": 0.12,
    "wanted_partner": 0.12,
    "kind": 0.08,
    "border_area": 0.07,
    "language": 0.06,
}
# Below this reciprocal score a pair is not worth a coordinator's time: it is neither ranked
# nor proposed. Two authorities with one theme in common out of four each and unrelated texts
# score about 0.13 — 0.33 if they are also of the same kind and share a language; two that
# share their themes and write about them (in any language) score above 0.6.
MIN_PAIR_SCORE = 0.2
GROUP_CREDIT = 0.25
TEXT_CONCEPT_SHARE = 0.5  # the rest of the text score is the words
# TF-IDF cosines of whole profiles seldom pass 0.3 while theme cosines spread over [0, 1]: the
# square root puts the words on the same footing before they are mixed.
LEXICAL_POWER = 0.5
OBJECTIVE_SHARE = 0.7  # the rest of the objectives score is the programmes
BORDER_SAME_AREA = 1.0
BORDER_SHARED_COUNTRY = 0.6
BORDER_BOTH_CROSS_BORDER = 0.4
# A theme counts as "shared" in the reasons when both work on it at least this much (a theme
# found only in the texts, twice, is 0.6 × 0.5 = 0.3; a declared one 1).
REASON_THEME_LEVEL = 0.2
REASON_TEXT_THEMES = 3
REASON_DECIMALS = 2  # a reason's score is for explaining; the pair's score keeps 6 decimals

# Candidate generation (see "Scale" above). Up to EXHAUSTIVE_PAIRS pairs (about 300
# authorities on each side) every pair is scored; beyond, candidates are generated.
EXHAUSTIVE_PAIRS = 100_000
CANDIDATES_PER_PROFILE = 40
CANDIDATE_FEATURES = 40
CANDIDATE_MAX_DF = 500
CANDIDATE_MIN_FEATURES = 3  # a profile whose features are all common keeps its best few anyway
CANDIDATE_THEMES_FOR_PAIRS = 4  # pairs among a profile's four strongest themes
CANDIDATE_CELLS = 4_000_000  # rows × columns of one chunk of the candidate product
PAIR_CHUNK = 20_000
SUGGESTION_CHUNK = 50_000
PAIRING_DEPTH_EXTRA = 3
SCORE_DECIMALS = 6


# Public API ---------------------------------------------------------------------------------


def suggest_themes(
    text: str, language: str, vocabulary: ThemeVocabulary, *, limit: int = 5
) -> list[tuple[str, float]]:
    """Theme codes that a free text written in `language` (en, es, pt; another or none: all
    three are tried) is about, best first, each with a score in [0, 1): keyword phrases of the
    vocabulary matched on word stems, whole words only, accents and stop words aside."""
    return features.suggest_themes(text, language, vocabulary, limit=limit)


def rank(
    profiles: Iterable[Profile],
    vocabulary: ThemeVocabulary,
    *,
    top_k: int = 10,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    same_side: bool = False,
    weights: Mapping[str, float] | None = None,
    for_ids: Iterable[int] | None = None,
) -> dict[int, list[Suggestion]]:
    """For every profile (or only those of `for_ids`, the population staying the whole input),
    its best counterparts, best first (ties by id), at most `top_k`, each with the reciprocal
    score and the reasons: never itself, never a pair in `excluded`, only the other side unless
    `same_side`, nothing below MIN_PAIR_SCORE. Every requested profile is a key."""
    return match_all(
        profiles,
        vocabulary,
        top_k=top_k,
        excluded=excluded,
        same_side=same_side,
        weights=weights,
        for_ids=for_ids,
        with_proposals=False,
    ).ranking


def propose(
    profiles: Iterable[Profile],
    vocabulary: ThemeVocabulary,
    *,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    same_side: bool = False,
    weights: Mapping[str, float] | None = None,
) -> list[Suggestion]:
    """The pairs to propose to coordinators: each profile in at most `capacity` of them, the
    total score as high as possible (b-matching, see pairing.py), none below MIN_PAIR_SCORE or
    in `excluded`. Each pair once, authority_id < counterpart_id, best first."""
    return match_all(
        profiles,
        vocabulary,
        top_k=0,
        excluded=excluded,
        same_side=same_side,
        weights=weights,
    ).proposals


def pairing_round(
    profiles: Iterable[Profile],
    vocabulary: ThemeVocabulary,
    *,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    weights: Mapping[str, float] | None = None,
) -> PairingResult:
    """Partners for all the profiles at once, EU with LAC, each taking at most its capacity,
    maximising the total score with HiGHS; the greedy total on the same pairs beside it."""
    result = match_all(profiles, vocabulary, top_k=0, excluded=excluded, weights=weights)
    return PairingResult(
        pairs=tuple(result.proposals), total=result.total, greedy_total=result.greedy_total
    )


@dataclass(frozen=True)
class MatchRun:
    """A ranking and proposals computed together (one set of features, one candidate set)."""

    ranking: dict[int, list[Suggestion]]
    proposals: list[Suggestion]
    total: float
    greedy_total: float
    candidate_pairs: int
    weights: dict[str, float]
    engine_version: str = ENGINE_VERSION


def match_all(
    profiles: Iterable[Profile],
    vocabulary: ThemeVocabulary,
    *,
    top_k: int = 10,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    same_side: bool = False,
    weights: Mapping[str, float] | None = None,
    for_ids: Iterable[int] | None = None,
    with_proposals: bool = True,
    exhaustive: bool | None = None,
) -> MatchRun:
    """`rank` and `propose` from one computation (what a full nightly run wants): the ranking
    for every profile (or those of `for_ids`; then no proposals), and the proposals.
    `exhaustive`: score every pair (True), only generated candidates (False), or decide by
    the number of pairs (None: up to EXHAUSTIVE_PAIRS)."""
    used = resolve_weights(weights)
    population = build_population(profiles, vocabulary)
    n = len(population.profiles)
    rows = None
    if for_ids is not None:
        rows = np.array(
            sorted({population.index[i] for i in for_ids if i in population.index}),
            dtype=np.int64,
        )
        with_proposals = False
    depth = max(CANDIDATES_PER_PROFILE, 4 * top_k)
    first, second = _candidates(population, same_side, depth, rows, exhaustive)
    first, second = _drop_excluded(population, first, second, excluded)
    scores = _score(population, first, second, used)

    requested = np.arange(n) if rows is None else rows
    ranking = _ranking(population, scores, requested, top_k, used) if top_k > 0 else {}
    if top_k <= 0:
        ranking = {int(population.ids[i]): [] for i in requested}
    proposals: list[Suggestion] = []
    total = greedy_total = 0.0
    if with_proposals:
        proposals, total, greedy_total = _propose(population, scores, used)
    return MatchRun(
        ranking=ranking,
        proposals=proposals,
        total=total,
        greedy_total=greedy_total,
        candidate_pairs=len(first),
        weights=used,
    )


def explain_pair(
    authority: Profile,
    counterpart: Profile,
    vocabulary: ThemeVocabulary,
    *,
    population: Iterable[Profile] = (),
    weights: Mapping[str, float] | None = None,
) -> Suggestion:
    """The score and reasons of one pair, whatever its score and sides (for a match a
    coordinator makes by hand). Rarity (IDF) is measured over `population` plus the two."""
    used = resolve_weights(weights)
    others = {p.id: p for p in population}
    others[authority.id] = authority
    others[counterpart.id] = counterpart
    built = build_population(others.values(), vocabulary)
    a, b = built.index[authority.id], built.index[counterpart.id]
    scores = _score(built, np.array([a]), np.array([b]), used)
    return _suggestions(built, scores, np.array([0]), np.array([a]), np.array([b]), used)[0]


def resolve_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """DEFAULT_WEIGHTS with the given ones instead (a weight of 0 turns a signal off)."""
    used = dict(DEFAULT_WEIGHTS)
    for name, value in (weights or {}).items():
        if name not in DEFAULT_WEIGHTS:
            raise ValueError(f"unknown signal {name!r}; the signals are {', '.join(SIGNALS)}")
        if not value >= 0:
            raise ValueError(f"the weight of {name!r} must be a number >= 0")
        used[name] = float(value)
    if sum(used.values()) <= 0:
        raise ValueError("at least one signal needs a positive weight")
    return used


# Candidates --------------------------------------------------------------------------------


def _candidate_vectors(population: Population, same_side: bool) -> sparse.csr_array:
    """Each profile's short vector for candidate generation: its strongest features among the
    text terms, themes and pairs of themes that few profiles of the other side use."""
    n = len(population.profiles)
    lexical = population.lexical.tocoo()
    weighted = population.membership * population.theme_idf.astype(np.float32)
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)
    weighted = weighted / np.where(norms > 0, norms, 1.0)
    theme_rows, theme_cols = np.nonzero(weighted)
    theme_count = weighted.shape[1]
    # Pairs of themes: one theme is common at 50,000 authorities, two together are not.
    strongest = np.argsort(-weighted, axis=1, kind="stable")[:, :CANDIDATE_THEMES_FOR_PAIRS]
    pair_rows, pair_cols, pair_values = [], [], []
    for x in range(strongest.shape[1]):
        for y in range(x + 1, strongest.shape[1]):
            a, b = strongest[:, x], strongest[:, y]
            value = np.sqrt(weighted[np.arange(n), a] * weighted[np.arange(n), b])
            present = value > 0
            pair_rows.append(np.flatnonzero(present))
            pair_cols.append((np.minimum(a, b) * theme_count + np.maximum(a, b))[present])
            pair_values.append(value[present])
    lexical_columns = population.lexical.shape[1]
    rows = np.concatenate([lexical.row, theme_rows, *pair_rows]).astype(np.int64)
    cols = np.concatenate(
        [
            lexical.col,
            lexical_columns + theme_cols,
            *(lexical_columns + theme_count + c for c in pair_cols),
        ]
    ).astype(np.int64)
    values = np.concatenate([lexical.data, weighted[theme_rows, theme_cols], *pair_values]).astype(
        np.float32
    )
    width = lexical_columns + theme_count + theme_count * theme_count

    # Document frequency in the other side: what a feature costs in the product.
    side = population.side
    if same_side:
        common = np.bincount(cols, minlength=width)[cols] > CANDIDATE_MAX_DF
    else:
        per_side = {s: np.bincount(cols[side[rows] == s], minlength=width) for s in np.unique(side)}
        total = np.bincount(cols, minlength=width)
        other_df = np.zeros(len(cols), dtype=np.int64)
        for s, df in per_side.items():
            mine = side[rows] == s
            other_df[mine] = (total - df)[cols[mine]]
        common = other_df > CANDIDATE_MAX_DF
    kept = ~common
    kept_per_row = np.bincount(rows[kept], minlength=n)
    deficit = np.maximum(CANDIDATE_MIN_FEATURES - kept_per_row, 0)
    if deficit.any():
        dropped = np.flatnonzero(common)
        rescue = top_per_row(rows[dropped], values[dropped], deficit, n)
        kept[dropped[rescue]] = True
    kept_index = np.flatnonzero(kept)
    best = top_per_row(rows[kept_index], values[kept_index], CANDIDATE_FEATURES, n)
    chosen = kept_index[best]
    matrix = sparse.csr_array(
        (values[chosen], (rows[chosen], cols[chosen])), shape=(n, width), dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def _candidates(
    population: Population,
    same_side: bool,
    depth: int,
    rows: np.ndarray | None,
    exhaustive: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (i < j, row indexes, sorted): for each profile its `depth` best by the
    candidate product, in both directions (a pair is in if either side picked the other)."""
    n = len(population.profiles)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    side = population.side
    groups = [np.arange(n)] if same_side else [np.flatnonzero(side == s) for s in np.unique(side)]
    plan = [
        (sources, targets)
        for group in groups
        for sources in [group if rows is None else np.intersect1d(group, rows)]
        for targets in [np.arange(n) if same_side else np.setdiff1d(np.arange(n), group)]
        if len(sources) and len(targets)
    ]
    if exhaustive is None:
        exhaustive = sum(len(s) * len(t) for s, t in plan) <= 2 * EXHAUSTIVE_PAIRS
    if exhaustive:
        # Few enough pairs to score them all: no candidate can be missed.
        found_i = [np.repeat(s, len(t)) for s, t in plan]
        found_j = [np.tile(t, len(s)) for s, t in plan]
        return _unique_pairs(found_i, found_j, n)
    vectors = _candidate_vectors(population, same_side)
    if rows is not None:
        depth *= 2  # only one direction is looked at: look further
    found_i, found_j = [], []
    for group in groups:
        sources = group if rows is None else np.intersect1d(group, rows)
        targets = np.arange(n) if same_side else np.setdiff1d(np.arange(n), group)
        if len(sources) == 0 or len(targets) == 0:
            continue
        target_matrix = vectors[targets].T.tocsr()
        step = max(1, CANDIDATE_CELLS // len(targets))
        for start in range(0, len(sources), step):
            chunk = sources[start : start + step]
            product = (vectors[chunk] @ target_matrix).toarray()
            if same_side:
                product[np.arange(len(chunk)), np.searchsorted(targets, chunk)] = 0.0
            keep = min(depth, product.shape[1])
            if keep < product.shape[1]:
                best = np.argpartition(-product, keep - 1, axis=1)[:, :keep]
            else:
                best = np.broadcast_to(np.arange(keep), (len(chunk), keep))
            values = np.take_along_axis(product, best, axis=1)
            hit_rows, hit_cols = np.nonzero(values > 0)
            found_i.append(chunk[hit_rows])
            found_j.append(targets[best[hit_rows, hit_cols]])
    return _unique_pairs(found_i, found_j, n)


def _unique_pairs(found_i, found_j, n):
    """Pairs (i < j) once each, sorted, without a profile paired with itself."""
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    i = np.concatenate(found_i).astype(np.int64)
    j = np.concatenate(found_j).astype(np.int64)
    low, high = np.minimum(i, j), np.maximum(i, j)
    keys = np.unique((low * n + high)[low != high])
    return keys // n, keys % n


def _drop_excluded(population, first, second, excluded):
    if not excluded or len(first) == 0:
        return first, second
    n = len(population.profiles)
    index = population.index
    keys = [
        min(index[a], index[b]) * n + max(index[a], index[b])
        for a, b in excluded
        if a in index and b in index
    ]
    keep = ~np.isin(first * n + second, np.array(keys, dtype=np.int64))
    return first[keep], second[keep]


# Signals -----------------------------------------------------------------------------------


@dataclass
class _Scores:
    first: np.ndarray  # i < j
    second: np.ndarray
    forward: np.ndarray  # signals × pairs: how well j suits i
    forward_present: np.ndarray  # signals × pairs, bool
    backward: np.ndarray  # how well i suits j
    backward_present: np.ndarray
    fit_forward: np.ndarray  # directed scores
    fit_backward: np.ndarray
    score: np.ndarray  # reciprocal


def _directed(population: Population, a: np.ndarray, b: np.ndarray):
    """Signal scores and presence for "how well b suits a", one column per pair."""
    p = len(a)
    scores = np.zeros((len(SIGNALS), p), dtype=np.float64)
    present = np.zeros((len(SIGNALS), p), dtype=bool)
    row = {name: k for k, name in enumerate(SIGNALS)}

    # Themes: the IDF-weighted share of a's themes that b covers.
    idf = population.theme_idf
    mine = population.membership[a]
    theirs = population.membership[b]
    shared = np.minimum(mine, theirs)
    near = np.minimum(mine, population.group_membership[b][:, population.group_of_theme])
    near = np.clip(near - shared, 0.0, None)
    total = mine @ idf
    present[row["themes"]] = total > 0
    scores[row["themes"]] = np.divide(
        shared @ idf + GROUP_CREDIT * (near @ idf), total, out=np.zeros(p), where=total > 0
    )

    # Text: symmetric, present when a has written something.
    lexical = population.lexical
    words = np.asarray(lexical[a].multiply(lexical[b]).sum(axis=1)).ravel()
    words = np.clip(words, 0.0, 1.0) ** LEXICAL_POWER
    concepts = np.einsum("ij,ij->i", population.concepts[a], population.concepts[b])
    present[row["text"]] = population.has_text[a]
    scores[row["text"]] = np.clip(
        (1 - TEXT_CONCEPT_SHARE) * words + TEXT_CONCEPT_SHARE * concepts, 0.0, 1.0
    )

    # Objectives and programmes.
    objectives_a = population.objectives[a]
    programmes_a = population.programmes[a]
    count_o = objectives_a.sum(axis=1)
    count_p = programmes_a.sum(axis=1)
    cover_o = np.divide(
        np.einsum("ij,ij->i", objectives_a, population.objectives[b]),
        count_o,
        out=np.zeros(p),
        where=count_o > 0,
    )
    cover_p = np.divide(
        np.einsum("ij,ij->i", programmes_a, population.programmes[b]),
        count_p,
        out=np.zeros(p),
        where=count_p > 0,
    )
    both = (count_o > 0) & (count_p > 0)
    present[row["objectives"]] = (count_o > 0) | (count_p > 0)
    scores[row["objectives"]] = np.where(
        both, OBJECTIVE_SHARE * cover_o + (1 - OBJECTIVE_SHARE) * cover_p, cover_o + cover_p
    )

    # Border areas.
    areas_a = population.areas[a]
    same_area = np.einsum("ij,ij->i", areas_a, population.areas[b]) > 0
    same_country = np.einsum("ij,ij->i", population.area_country[a], population.area_country[b]) > 0
    present[row["border_area"]] = population.cross_border[a]
    scores[row["border_area"]] = np.select(
        [same_area, same_country, population.cross_border[b]],
        [BORDER_SAME_AREA, BORDER_SHARED_COUNTRY, BORDER_BOTH_CROSS_BORDER],
        0.0,
    )

    # Wanted partners: the best of a's ideas.
    wanted, wanted_present = _wanted(population, a, b)
    present[row["wanted_partner"]] = wanted_present
    scores[row["wanted_partner"]] = wanted

    # Language: symmetric.
    languages_a = population.languages[a]
    languages_b = population.languages[b]
    common = np.einsum("ij,ij->i", languages_a, languages_b) > 0
    near_language = (
        ((languages_a @ population.near_languages) * languages_b).max(axis=1, initial=0.0)
        if languages_a.shape[1]
        else np.zeros(p)
    )
    present[row["language"]] = languages_a.sum(axis=1) > 0
    scores[row["language"]] = np.where(common, 1.0, near_language)

    # Kind: symmetric, always present.
    present[row["kind"]] = True
    scores[row["kind"]] = population.kind_affinity[population.kind[a], population.kind[b]]
    return scores, present


def _wanted(population: Population, a: np.ndarray, b: np.ndarray):
    """For each pair, the best of a's wanted-partner entries that b meets, and whether a has
    any entry at all."""
    start = population.w_start
    counts = start[a + 1] - start[a]
    present = counts > 0
    result = np.zeros(len(a))
    if not present.any():
        return result, present
    pairs = np.flatnonzero(present)
    repeat = counts[pairs]
    pair_of_entry = np.repeat(pairs, repeat)
    offsets = np.cumsum(repeat) - repeat
    entry = start[a[pair_of_entry]] + (np.arange(repeat.sum()) - np.repeat(offsets, repeat))
    other = b[pair_of_entry]
    kind_score = population.w_kind[entry, population.kind[other]]
    side_score = population.w_side[entry, population.side[other]]
    theme_score = np.einsum(
        "ij,ij->i", population.w_theme[entry], population.membership[other]
    ).astype(np.float64)
    has_kind = population.w_has_kind[entry]
    has_side = population.w_has_side[entry]
    has_theme = population.w_has_theme[entry]
    asked = has_kind.astype(np.float64) + has_side + has_theme
    met = has_kind * kind_score + has_side * side_score + has_theme * theme_score
    per_entry = met / asked
    best = np.maximum.reduceat(per_entry, offsets)
    result[pairs] = best
    return result, present


def _combine(scores: np.ndarray, present: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    w = np.array([weights[name] for name in SIGNALS])[:, None] * present
    total = w.sum(axis=0)
    return np.divide(
        (w * scores).sum(axis=0), total, out=np.zeros(scores.shape[1]), where=total > 0
    )


def _harmonic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    total = x + y
    return np.divide(2 * x * y, total, out=np.zeros_like(total), where=total > 0)


def _score(population: Population, first, second, weights) -> _Scores:
    """All signals for the candidate pairs, both directions, in chunks."""
    count = len(first)
    shape = (len(SIGNALS), count)
    # Single precision for the per-signal scores (millions of pairs at 50,000 authorities);
    # the combined scores are computed in double precision.
    forward = np.zeros(shape, dtype=np.float32)
    backward = np.zeros(shape, dtype=np.float32)
    forward_present, backward_present = np.zeros(shape, bool), np.zeros(shape, bool)
    for start in range(0, count, PAIR_CHUNK):
        part = slice(start, start + PAIR_CHUNK)
        forward[:, part], forward_present[:, part] = _directed(
            population, first[part], second[part]
        )
        backward[:, part], backward_present[:, part] = _directed(
            population, second[part], first[part]
        )
    # The topical gate: two authorities that share nothing on topic (no theme, not even a
    # related one, no words or themes in their texts) are no pair, whatever else they share.
    topical = [SIGNALS.index("themes"), SIGNALS.index("text")]
    on_topic = (forward[topical] * forward_present[topical]).any(axis=0) | (
        backward[topical] * backward_present[topical]
    ).any(axis=0)
    fit_forward = np.round(_combine(forward, forward_present, weights) * on_topic, SCORE_DECIMALS)
    fit_backward = np.round(
        _combine(backward, backward_present, weights) * on_topic, SCORE_DECIMALS
    )
    return _Scores(
        first=first,
        second=second,
        forward=forward,
        forward_present=forward_present,
        backward=backward,
        backward_present=backward_present,
        fit_forward=fit_forward,
        fit_backward=fit_backward,
        score=np.round(_harmonic(fit_forward, fit_backward), SCORE_DECIMALS),
    )


# Selection ---------------------------------------------------------------------------------


def _ranking(population, scores: _Scores, requested, top_k, weights):
    n = len(population.profiles)
    owner = np.concatenate([scores.first, scores.second])
    other = np.concatenate([scores.second, scores.first])
    pair = np.concatenate([np.arange(len(scores.first))] * 2)
    value = np.concatenate([scores.score, scores.score])
    wanted = np.zeros(n, dtype=bool)
    wanted[requested] = True
    keep = wanted[owner] & (value >= MIN_PAIR_SCORE)
    owner, other, pair, value = owner[keep], other[keep], pair[keep], value[keep]
    # Best first, ties by the counterpart's id (rows are in id order).
    order = np.lexsort((other, -value, owner))
    owner, other, pair = owner[order], other[order], pair[order]
    first = np.searchsorted(owner, np.arange(n))
    position = np.arange(len(owner)) - first[owner]
    chosen = position < top_k
    ranking = {int(population.ids[i]): [] for i in requested}
    made = _suggestions(population, scores, pair[chosen], owner[chosen], other[chosen], weights)
    for suggestion in made:
        ranking[suggestion.authority_id].append(suggestion)
    return ranking


def _propose(population, scores: _Scores, weights):
    """The b-matching over the candidate pairs above MIN_PAIR_SCORE, between profiles that
    have capacity left, reduced to each profile's best PAIRING_DEPTH_EXTRA + capacity pairs."""
    n = len(population.profiles)
    capacity = np.array([max(p.capacity, 0) for p in population.profiles], dtype=np.int64)
    first, second, value = scores.first, scores.second, scores.score
    usable = (value >= MIN_PAIR_SCORE) & (capacity[first] > 0) & (capacity[second] > 0)
    edges = np.flatnonzero(usable)
    if len(edges) == 0:
        return [], 0.0, 0.0
    ends = np.concatenate([first[edges], second[edges]])
    doubled = np.concatenate([edges, edges])
    # Deterministic: the edges are in id order, and ties keep that order.
    ranked = top_per_row(ends, value[doubled], capacity + PAIRING_DEPTH_EXTRA, n)
    in_graph = np.zeros(len(scores.first), dtype=bool)
    in_graph[doubled[ranked]] = True
    edges = np.flatnonzero(in_graph & usable)
    u, v, w = first[edges], second[edges], value[edges]
    chosen = b_matching(u, v, w, capacity)
    order = np.lexsort((v, u, -w))
    greedy = greedy_matching(u, v, w, capacity, order)
    picked = edges[chosen]
    picked = picked[np.lexsort((second[picked], first[picked], -value[picked]))]
    proposals = _suggestions(population, scores, picked, first[picked], second[picked], weights)
    total = round(float(w[chosen].sum()), SCORE_DECIMALS)
    greedy_total = round(float(w[greedy].sum()), SCORE_DECIMALS)
    return proposals, total, greedy_total


# Reasons -----------------------------------------------------------------------------------


def _suggestions(population, scores: _Scores, pairs, owners, others, weights) -> list[Suggestion]:
    """The suggestions of candidate pairs `pairs`, each seen from `owners` (rows) with `others`
    the counterparts: scores, and reasons with their detail codes (computed here only, for the
    pairs that are returned), SUGGESTION_CHUNK pairs at a time to bound the memory."""
    made: list[Suggestion] = []
    caches: tuple[dict, dict] = ({}, {})
    for start in range(0, len(pairs), SUGGESTION_CHUNK):
        part = slice(start, start + SUGGESTION_CHUNK)
        made.extend(
            _suggestion_chunk(
                population, scores, pairs[part], owners[part], others[part], weights, caches
            )
        )
    return made


def _suggestion_chunk(population, scores, pairs, owners, others, weights, caches):
    forward = scores.first[pairs] == owners
    mine = np.where(forward, scores.forward[:, pairs], scores.backward[:, pairs])
    mine_on = np.where(forward, scores.forward_present[:, pairs], scores.backward_present[:, pairs])
    theirs = np.where(forward, scores.backward[:, pairs], scores.forward[:, pairs])
    theirs_on = np.where(
        forward, scores.backward_present[:, pairs], scores.forward_present[:, pairs]
    )
    count = mine_on.astype(np.int64) + theirs_on
    mean = np.round(
        np.divide(mine * mine_on + theirs * theirs_on, np.maximum(count, 1)), REASON_DECIMALS
    ).tolist()
    fit_for = np.where(forward, scores.fit_forward[pairs], scores.fit_backward[pairs]).tolist()
    fit_back = np.where(forward, scores.fit_backward[pairs], scores.fit_forward[pairs]).tolist()
    score = scores.score[pairs].tolist()
    owners_list, others_list = owners.tolist(), others.tolist()
    mine_on_list, theirs_on_list = mine_on.tolist(), theirs_on.tolist()
    shown = [
        s
        for s, name in enumerate(SIGNALS)
        if weights[name] > 0 and (mine_on[s].any() or theirs_on[s].any())
    ]
    details = {
        s: _details(population, SIGNALS[s], owners, others, mine_on[s], theirs_on[s]) for s in shown
    }
    # Equal reasons (and equal lists of them) are one object each: at 50,000 authorities the
    # ranking holds half a million suggestions, and most of their reasons repeat.
    cache, lists = caches
    ids = population.ids.tolist()
    made = []
    for p, (i, j) in enumerate(zip(owners_list, others_list, strict=True)):
        reasons = []
        for s in shown:
            if not (mine_on_list[s][p] or theirs_on_list[s][p]):
                continue
            name = SIGNALS[s]
            weight = weights[name]
            key = (s, mean[s][p], details[s][p])
            reason = cache.get(key)
            if reason is None:
                reason = cache[key] = Reason(
                    signal=name, score=mean[s][p], weight=weight, details=details[s][p]
                )
            reasons.append((-mean[s][p] * weight, s, reason))
        reasons.sort(key=lambda item: item[:2])
        ordered = tuple(reason for _, _, reason in reasons)
        ordered = lists.setdefault(ordered, ordered)
        made.append(
            Suggestion(
                authority_id=ids[i],
                counterpart_id=ids[j],
                score=score[p],
                score_for=fit_for[p],
                score_back=fit_back[p],
                reasons=ordered,
            )
        )
    return made


def _compress(codes: tuple[str, ...], mask: np.ndarray) -> list[tuple[str, ...]]:
    """Row by row, the codes whose column is set (in the order of `codes`)."""
    return [tuple(compress(codes, row)) for row in mask.tolist()]


def _details(population: Population, signal, owners, others, mine_on, theirs_on):
    """The detail codes of one signal for each (owner, other) pair."""
    profiles = population.profiles
    if signal == "themes":
        # Rarest first: columns in IDF order, then a plain compress per row.
        order = sorted(
            range(len(population.theme_codes)),
            key=lambda t: (-population.theme_idf[t], population.theme_codes[t]),
        )
        codes = tuple(population.theme_codes[t] for t in order)
        both = np.minimum(population.membership[owners], population.membership[others])
        return _compress(codes, (both >= REASON_THEME_LEVEL)[:, order])
    if signal == "text":
        both = population.concepts[owners] * population.concepts[others]
        best = np.argsort(-both, axis=1, kind="stable")[:, :REASON_TEXT_THEMES]
        values = np.take_along_axis(both, best, axis=1) > 0
        codes = population.theme_codes
        return [
            tuple(codes[t] for t, on in zip(row, on_row, strict=True) if on)
            for row, on_row in zip(best.tolist(), values.tolist(), strict=True)
        ]
    found = []
    for p, (i, j) in enumerate(zip(owners.tolist(), others.tolist(), strict=True)):
        profile, other = profiles[i], profiles[j]
        if signal == "objectives":
            # The objectives in common; failing those, the programmes.
            common = profile.objectives & other.objectives
            found.append(tuple(sorted(common or (profile.programmes & other.programmes))))
        elif signal == "border_area":
            found.append(_border_details(population, i, j))
        elif signal == "wanted_partner":
            met: set[str] = set()
            if mine_on[p]:
                met.update(_wanted_met(population, i, j))
            if theirs_on[p]:
                met.update(_wanted_met(population, j, i))
            found.append(tuple(sorted(met)))
        elif signal == "language":
            found.append(
                _language_details(population.language_sets[i], population.language_sets[j])
            )
        elif signal == "kind":
            found.append((profile.kind, other.kind))
        else:  # pragma: no cover - every signal is listed above
            found.append(())
    return found


def _border_details(population: Population, i, j) -> tuple[str, ...]:
    """The border areas behind the score: those in common, else both sides' areas."""
    profile, other = population.profiles[i], population.profiles[j]
    same = profile.border_areas & other.border_areas
    if same:
        return tuple(sorted(same))
    if population.cross_border[i] and population.cross_border[j]:
        return tuple(sorted(profile.border_areas | other.border_areas))
    return ()


def _language_details(mine: frozenset[str], theirs: frozenset[str]) -> tuple[str, ...]:
    """The languages in common, else the near pair (es, pt) that earned half a point."""
    common = sorted(mine & theirs)
    if common:
        return tuple(common)
    for pair in sorted(features.NEAR_LANGUAGES, key=sorted):
        if pair <= (mine | theirs) and not pair <= mine and not pair <= theirs:
            return tuple(sorted(pair))
    return ()


def _wanted_met(population: Population, i, j) -> tuple[str, ...]:
    """What the best of i's wanted-partner entries asks that j meets, as codes."""
    start, end = population.w_start[i], population.w_start[i + 1]
    other = population.profiles[j]
    best, best_score, best_codes = None, -1.0, ()
    for e in range(start, end):
        wanted = population.w_entries[e]
        met, asked, codes = 0.0, 0, []
        if wanted.kinds:
            asked += 1
            score = float(population.w_kind[e, population.kind[j]])
            met += score
            if other.kind in wanted.kinds:
                codes.append(other.kind)
        if wanted.sides:
            asked += 1
            if other.side in wanted.sides:
                met += 1
                codes.append(other.side)
        if wanted.themes:
            asked += 1
            met += float(population.w_theme[e] @ population.membership[j])
            index = population.theme_index
            codes.extend(
                c
                for c in sorted(wanted.themes)
                if population.membership[j, index[c]] >= REASON_THEME_LEVEL
            )
        if met / asked > best_score:
            best, best_score, best_codes = e, met / asked, tuple(codes)
    return best_codes if best is not None else ()
