"""The plain data the matching engine works on. No Flask, no database: the services build these
from the rows (exchange/matching/services.py), the engine (exchange/matching/engine.py) returns
suggestions, and the services store them.

The engine's entry points (in exchange/matching/engine.py):

- `rank(profiles, vocabulary, *, top_k=10, excluded=frozenset(), same_side=False,
  weights=None) -> dict[int, list[Suggestion]]`: for every profile, its best counterparts,
  best first, each with the reciprocal score and the reasons; never a pair in `excluded`, never
  a profile with itself, only the other side unless `same_side`.
- `propose(profiles, vocabulary, *, excluded=frozenset(), same_side=False, weights=None)
  -> list[Suggestion]`: the pairs to propose to coordinators, each authority in at most
  `capacity` of them (its remaining open-match capacity), chosen to maximise the total score.
- `pairing_round(profiles, vocabulary, *, excluded=frozenset(), weights=None) -> PairingResult`:
  partners for all the profiles at once (EU with LAC), each taking at most its capacity,
  maximising the total score with a maintained solver; and the greedy total beside it.
- `suggest_themes(text, language, vocabulary, *, limit=5) -> list[tuple[str, float]]`: theme
  codes that a free text in `language` is about, best first (for forms and for matching across
  languages).
Deterministic for the same input; `ENGINE_VERSION` and the weights used are recorded with every
stored proposal.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A text an authority wrote: its profile description, a published practice or idea."""

    text: str
    language: str  # "en", "es" or "pt"


@dataclass(frozen=True)
class WantedPartner:
    """The partner profile one of the authority's open project ideas asks for."""

    kinds: frozenset[str] = frozenset()  # authority kinds, e.g. {"region"}; empty: any
    sides: frozenset[str] = frozenset()  # {"EU"}, {"LAC"}; empty: any
    themes: frozenset[str] = frozenset()  # theme codes; empty: any


@dataclass(frozen=True)
class Profile:
    """One verified authority, as the engine sees it."""

    id: int
    side: str  # "EU" or "LAC"
    kind: str  # municipality, metropolitan_area, region, national_body, cross_border_body, agency
    country: str  # ISO 3166-1 alpha-2
    languages: frozenset[str] = frozenset()  # working languages (ISO 639-1)
    themes: frozenset[str] = frozenset()  # theme codes: its profile's and its published items'
    objectives: frozenset[str] = frozenset()  # programme objective codes of its items
    programmes: frozenset[str] = frozenset()  # programme codes it takes part in
    border_areas: frozenset[str] = frozenset()  # border-area codes
    documents: tuple[Document, ...] = ()
    wanted: tuple[WantedPartner, ...] = ()
    capacity: int = 3  # how many more open matches it can take now


@dataclass(frozen=True)
class ThemeVocabulary:
    """The theme taxonomy with the words that suggest each theme, per language (reference data,
    edited by admins: passed in, never read by the engine itself)."""

    keywords: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # theme code -> {"en": (...), "es": (...), "pt": (...)}
    # theme code -> its group code (themes of the same group are "comparable")
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    """One signal of a suggestion, measured on its own: what it scored and why."""

    signal: str  # themes, objectives, text, border_area, wanted_partner, language, kind
    score: float  # in [0, 1]
    weight: float
    details: tuple[str, ...] = ()  # codes: shared theme codes, objective codes, languages…


@dataclass(frozen=True)
class Suggestion:
    authority_id: int
    counterpart_id: int
    score: float  # reciprocal, in [0, 1]: the harmonic mean of the two directions
    score_for: float  # how well the counterpart suits the authority
    score_back: float  # how well the authority suits the counterpart
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class PairingResult:
    pairs: tuple[Suggestion, ...]
    total: float
    greedy_total: float  # what taking the best remaining pair each time would have reached
