"""The matching engine on hand-made profiles: each signal, across languages, reciprocity, the
constraints, determinism, and the themes suggested from free text. No database: the engine is
pure functions over plain data."""

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from exchange.matching import engine
from exchange.matching.engine import (
    DEFAULT_WEIGHTS,
    ENGINE_VERSION,
    MIN_PAIR_SCORE,
    SIGNALS,
    explain_pair,
    match_all,
    propose,
    rank,
    suggest_themes,
)
from exchange.matching.types import Document, Profile, ThemeVocabulary, WantedPartner

THEMES = Path(__file__).resolve().parent.parent / "exchange" / "reference" / "data" / "themes.json"


def _vocabulary() -> ThemeVocabulary:
    data = json.loads(THEMES.read_text(encoding="utf-8"))
    return ThemeVocabulary(
        keywords={
            t["code"]: {lang: tuple(words) for lang, words in t["keywords"].items()}
            for t in data["themes"]
        },
        groups={t["code"]: t["group"] for t in data["themes"]},
    )


VOCABULARY = _vocabulary()


def make(
    pid: int,
    side: str = "EU",
    *,
    kind: str = "municipality",
    country: str | None = None,
    languages=("en",),
    themes=(),
    objectives=(),
    programmes=(),
    areas=(),
    texts=(),
    wanted=(),
    capacity: int = 3,
) -> Profile:
    return Profile(
        id=pid,
        side=side,
        kind=kind,
        country=country or ("ES" if side == "EU" else "MX"),
        languages=frozenset(languages),
        themes=frozenset(themes),
        objectives=frozenset(objectives),
        programmes=frozenset(programmes),
        border_areas=frozenset(areas),
        documents=tuple(Document(text, language) for text, language in texts),
        wanted=tuple(wanted),
        capacity=capacity,
    )


def reason(suggestion, signal):
    found = [r for r in suggestion.reasons if r.signal == signal]
    return found[0] if found else None


def pair(a, b, *others, **kwargs):
    """How b suits a (and back), rarity measured over a, b and `others`."""
    return explain_pair(a, b, VOCABULARY, population=others, **kwargs)


# Themes from free text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Water management and circular economy in the city", "en"),
        ("La gestión del agua y la economía circular en la ciudad", "es"),
        ("Gestion del agua y economia circular", "es"),  # typed without accents
        ("A gestão da água e a economia circular na cidade", "pt"),
    ],
)
def test_suggest_themes_in_each_language(text, language):
    codes = [code for code, _ in suggest_themes(text, language, VOCABULARY)]
    assert set(codes[:2]) == {"water-management", "circular-economy"}


def test_suggested_themes_are_scored_best_first_and_limited():
    text = "Turismo de aventura, ecoturismo y turistas; también el patrimonio cultural."
    found = suggest_themes(text, "es", VOCABULARY, limit=1)
    assert found[0][0] == "tourism"
    assert len(found) == 1
    assert 0 < found[0][1] < 1
    scores = [score for _, score in suggest_themes(text, "es", VOCABULARY)]
    assert scores == sorted(scores, reverse=True)


def test_keywords_match_whole_words_only():
    # "sports" holds "ports" (blue economy) and "rewater" holds "water": neither counts.
    assert suggest_themes("New sports halls and rewatering schedules", "en", VOCABULARY) == []
    assert suggest_themes("", "en", VOCABULARY) == []


def test_a_text_in_an_unknown_language_tries_all_three():
    codes = [code for code, _ in suggest_themes("economía circular", "xx", VOCABULARY)]
    assert codes == ["circular-economy"]


# Each signal ---------------------------------------------------------------------------------


SPANISH = "Gestión del agua y economía circular: aguas residuales y materiales reciclados."
ENGLISH = "Water management and circular economy: wastewater and recycled materials."


def test_a_spanish_profile_finds_its_english_counterpart():
    spanish = make(
        1,
        "LAC",
        languages=("es",),
        texts=[(SPANISH, "es")],
    )
    english = make(2, "EU", texts=[(ENGLISH, "en")])
    decoy = make(3, "EU", texts=[("Tourism and cultural heritage in the historic centre.", "en")])
    found = rank([spanish, english, decoy], VOCABULARY)[1]
    assert [s.counterpart_id for s in found] == [2]
    text = reason(found[0], "text")
    assert {"water-management", "circular-economy"} <= set(text.details)
    assert text.score > 0.3
    assert {"water-management", "circular-economy"} <= set(reason(found[0], "themes").details)


def test_rare_themes_weigh_more_than_common_ones():
    me = make(1, themes=["tourism", "aquaculture"])
    common = make(2, "LAC", themes=["tourism"])
    rare = make(3, "LAC", themes=["aquaculture"])
    crowd = [make(10 + k, "LAC", themes=["tourism"]) for k in range(8)]
    with_common = reason(pair(me, common, rare, *crowd), "themes")
    with_rare = reason(pair(me, rare, common, *crowd), "themes")
    assert with_rare.score > with_common.score > 0
    assert with_common.details == ("tourism",)
    assert with_rare.details == ("aquaculture",)


def test_a_theme_of_the_same_group_counts_a_little():
    me = make(1, themes=["water-management"])
    near = make(2, "LAC", themes=["waste-management"])  # both "environment"
    far = make(3, "LAC", themes=["tourism"])
    assert reason(pair(me, near), "themes").score > 0
    assert reason(pair(me, far), "themes").score == 0


def test_objectives_then_programmes_and_absent_without_either():
    me = make(1, themes=["ict"], objectives=["IURC-1"], programmes=["IURC"])
    same = make(2, "LAC", themes=["ict"], objectives=["IURC-1"], programmes=["IURC"])
    programme = make(3, "LAC", themes=["ict"], objectives=["IURC-2"], programmes=["IURC"])
    other = make(4, "LAC", themes=["ict"], objectives=["INNOVACT-1"], programmes=["INNOVACT"])
    scores = [reason(pair(me, b), "objectives").score for b in (same, programme, other)]
    assert scores[0] == 1.0
    assert scores[0] > scores[1] > scores[2] == 0
    assert reason(pair(me, same), "objectives").details == ("IURC-1",)
    assert reason(pair(me, programme), "objectives").details == ("IURC",)
    nothing = make(5, "LAC", themes=["ict"])
    assert (
        reason(
            pair(replace(me, objectives=frozenset(), programmes=frozenset()), nothing), "objectives"
        )
        is None
    )


def test_border_areas_same_comparable_or_none():
    me = make(1, "LAC", kind="region", country="PE", themes=["tourism"], areas=["PE-CL"])
    same = make(2, "LAC", kind="region", country="CL", themes=["tourism"], areas=["PE-CL"])
    neighbour = make(3, "LAC", kind="region", country="PE", themes=["tourism"], areas=["BO-PE"])
    overseas = make(4, "EU", kind="region", themes=["tourism"], areas=["ES-PT"])
    inland = make(5, "EU", kind="region", themes=["tourism"])
    scores = [reason(pair(me, b), "border_area").score for b in (same, neighbour, overseas, inland)]
    assert scores == [1.0, 0.6, 0.4, 0.0]
    assert reason(pair(me, same), "border_area").details == ("PE-CL",)
    # Neither in a border area: the signal says nothing (absent, not zero).
    assert reason(pair(inland, replace(inland, id=6, side="LAC")), "border_area") is None


def test_wanted_partner_absent_unless_an_idea_asks_for_something():
    me = make(1, themes=["tourism"], wanted=[WantedPartner()])
    them = make(2, "LAC", kind="region", themes=["tourism"])
    assert reason(pair(me, them), "wanted_partner") is None
    asks = replace(
        me,
        wanted=(
            WantedPartner(
                kinds=frozenset({"region"}), sides=frozenset({"LAC"}), themes=frozenset({"tourism"})
            ),
        ),
    )
    met = reason(pair(asks, them), "wanted_partner")
    assert met.score == 1.0
    assert set(met.details) == {"region", "LAC", "tourism"}
    city = replace(them, kind="municipality")
    assert reason(pair(asks, city), "wanted_partner").score < 1.0
    # The wanted profile counts in the directed score of the one who asks.
    with_wish = pair(asks, them)
    without = pair(replace(asks, wanted=()), them)
    assert with_wish.score_for > without.score_for


def test_language_in_common_and_spanish_with_portuguese():
    me = make(1, languages=["es"], themes=["ict"])
    scores = {
        code: reason(pair(me, make(2, "LAC", languages=[code], themes=["ict"])), "language")
        for code in ("es", "pt", "en")
    }
    assert (scores["es"].score, scores["es"].details) == (1.0, ("es",))
    assert (scores["pt"].score, scores["pt"].details) == (0.5, ("es", "pt"))
    assert scores["en"].score == 0.0


def test_kind_of_authority_is_a_preference():
    me = make(1, kind="municipality", themes=["ict"])
    scores = [
        reason(pair(me, make(2, "LAC", kind=kind, themes=["ict"])), "kind").score
        for kind in ("municipality", "metropolitan_area", "region")
    ]
    assert scores[0] == 1.0
    assert scores[0] > scores[1] > scores[2]


def test_reasons_are_scored_weighted_and_coded():
    a = make(
        1,
        kind="region",
        languages=["es"],
        themes=["tourism"],
        objectives=["INNOVACT-1"],
        areas=["ES-PT"],
        texts=[("Turismo de aventura y ecoturismo.", "es")],
    )
    b = make(
        2,
        "LAC",
        kind="region",
        languages=["es"],
        themes=["tourism"],
        objectives=["INNOVACT-1"],
        areas=["PE-CL"],
        texts=[("Turismo de aventura andino.", "es")],
        wanted=[WantedPartner(kinds=frozenset({"region"}))],
    )
    suggestion = pair(a, b)
    assert {r.signal for r in suggestion.reasons} == set(SIGNALS)
    for r in suggestion.reasons:
        assert 0 <= r.score <= 1
        assert r.weight == DEFAULT_WEIGHTS[r.signal]
        assert all(isinstance(code, str) for code in r.details)
    contributions = [r.score * r.weight for r in suggestion.reasons]
    assert contributions == sorted(contributions, reverse=True)


# Reciprocity -----------------------------------------------------------------------------------


def test_a_one_sided_fit_ranks_below_a_mutual_one():
    me = make(1, themes=["aquaculture", "blue-economy"])
    mutual = make(2, "LAC", themes=["aquaculture", "blue-economy"])
    # Covers everything I do, but I cover little of what it does.
    many = ["tourism", "ict", "agri-food", "energy-efficiency", "social-cohesion", "value-chains"]
    broad = make(3, "LAC", themes=["aquaculture", "blue-economy", *many])
    found = rank([me, mutual, broad], VOCABULARY)[1]
    assert [s.counterpart_id for s in found] == [2, 3]
    one_sided = found[1]
    assert one_sided.score_for >= found[0].score_for * 0.9  # it suits me well enough…
    assert one_sided.score_back < one_sided.score_for  # …but I do not suit it
    harmonic = (
        2
        * one_sided.score_for
        * one_sided.score_back
        / (one_sided.score_for + one_sided.score_back)
    )
    assert one_sided.score == pytest.approx(harmonic, abs=1e-6)
    # Seen from the other side, the same pair with the directions swapped.
    back = next(s for s in rank([me, mutual, broad], VOCABULARY)[3] if s.counterpart_id == 1)
    assert (back.score_for, back.score_back) == (one_sided.score_back, one_sided.score_for)


# Constraints -----------------------------------------------------------------------------------


def _population():
    return [
        make(1, themes=["tourism", "cultural-heritage"]),
        make(2, themes=["tourism", "cultural-heritage"]),
        make(3, "LAC", themes=["tourism", "cultural-heritage"]),
        make(4, "LAC", themes=["tourism", "cultural-heritage"]),
    ]


def test_only_the_other_side_unless_asked_and_never_oneself():
    ranking = rank(_population(), VOCABULARY)
    assert set(ranking) == {1, 2, 3, 4}
    assert [s.counterpart_id for s in ranking[1]] == [3, 4]
    same_side = rank(_population(), VOCABULARY, same_side=True)
    assert [s.counterpart_id for s in same_side[1]] == [2, 3, 4]
    proposals = propose(_population(), VOCABULARY, same_side=True)
    assert all(s.authority_id != s.counterpart_id for s in proposals)


def test_excluded_pairs_are_never_suggested():
    excluded = frozenset({(1, 3), (2, 4)})
    ranking = rank(_population(), VOCABULARY, excluded=excluded)
    assert [s.counterpart_id for s in ranking[1]] == [4]
    assert [s.counterpart_id for s in ranking[3]] == [2]
    pairs = {
        (s.authority_id, s.counterpart_id)
        for s in propose(_population(), VOCABULARY, excluded=excluded)
    }
    assert pairs == {(1, 4), (2, 3)}


def test_propose_respects_capacity():
    hub = make(1, "LAC", themes=["tourism"], capacity=2)
    guests = [make(10 + k, themes=["tourism"]) for k in range(5)]
    proposals = propose([hub, *guests], VOCABULARY)
    assert len(proposals) == 2
    assert all(s.authority_id < s.counterpart_id for s in proposals)
    full = replace(hub, capacity=0)
    assert propose([full, *guests], VOCABULARY) == []
    # The ranking is not limited by capacity: it is what the authority would like.
    assert len(rank([full, *guests], VOCABULARY)[1]) == 5


def test_nothing_below_the_minimum_score():
    me = make(1, themes=["tourism", "ict", "agri-food", "aquaculture"], kind="national_body")
    weak = make(
        2,
        "LAC",
        themes=[
            "tourism",
            "value-chains",
            "social-cohesion",
            "waste-management",
            "water-management",
        ],
        kind="municipality",
        languages=["pt"],
    )
    assert pair(me, weak).score < MIN_PAIR_SCORE
    assert rank([me, weak], VOCABULARY) == {1: [], 2: []}
    assert propose([me, weak], VOCABULARY) == []


def test_rank_for_some_profiles_only():
    ranking = rank(_population(), VOCABULARY, for_ids=[3, 99])
    assert set(ranking) == {3}
    assert [s.counterpart_id for s in ranking[3]] == [1, 2]


# Versions, weights, determinism ------------------------------------------------------------------


def test_version_and_weights():
    assert isinstance(ENGINE_VERSION, str)
    assert len(ENGINE_VERSION) <= 20  # the column that records it
    assert set(DEFAULT_WEIGHTS) == set(SIGNALS)
    run = match_all(_population(), VOCABULARY, weights={"kind": 0.5})
    assert run.weights["kind"] == 0.5
    assert run.weights["themes"] == DEFAULT_WEIGHTS["themes"]
    assert run.engine_version == ENGINE_VERSION
    with pytest.raises(ValueError, match="unknown signal"):
        rank(_population(), VOCABULARY, weights={"colour": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        rank(_population(), VOCABULARY, weights={"kind": -1})


def test_a_weight_of_zero_turns_a_signal_off():
    a = make(1, languages=["es"], themes=["tourism"])
    b = make(2, "LAC", languages=["es"], themes=["tourism"])
    assert reason(pair(a, b), "language") is not None
    assert reason(pair(a, b, weights={"language": 0}), "language") is None


def random_population(seed: int, count: int = 40) -> list[Profile]:
    rng = random.Random(seed)
    codes = sorted(VOCABULARY.keywords)
    kinds = ("municipality", "region", "metropolitan_area", "agency")
    profiles = []
    for pid in range(1, count + 1):
        themes = rng.sample(codes, rng.randint(1, 4))
        language = rng.choice(("en", "es", "pt"))
        words = [rng.choice(VOCABULARY.keywords[t][language]) for t in themes for _ in range(3)]
        profiles.append(
            make(
                pid,
                rng.choice(("EU", "LAC")),
                kind=rng.choice(kinds),
                languages=[language],
                themes=themes if rng.random() < 0.7 else (),
                objectives=rng.sample(["IURC-1", "IURC-2", "INNOVACT-1"], rng.randint(0, 2)),
                areas=["PE-CL"] if rng.random() < 0.1 else (),
                texts=[(" y ".join(words), language)],
                wanted=[WantedPartner(themes=frozenset(themes[:1]))] if rng.random() < 0.3 else (),
                capacity=rng.randint(0, 3),
            )
        )
    return profiles


def test_same_input_same_output_in_any_order():
    profiles = random_population(7)
    first = match_all(profiles, VOCABULARY)
    again = match_all(profiles, VOCABULARY)
    shuffled = list(profiles)
    random.Random(1).shuffle(shuffled)
    # Documents and codes in another order too.
    shuffled = [replace(p, documents=tuple(reversed(p.documents))) for p in shuffled]
    other_order = match_all(shuffled, VOCABULARY)
    assert first.ranking == again.ranking == other_order.ranking
    assert first.proposals == again.proposals == other_order.proposals
    assert first.total == other_order.total
    assert any(first.ranking.values())
    for suggestions in first.ranking.values():
        scores = [(-s.score, s.counterpart_id) for s in suggestions]
        assert scores == sorted(scores)  # best first, ties by id


def test_two_profiles_with_the_same_id_are_refused():
    with pytest.raises(ValueError, match="same id"):
        rank([make(1), make(1, "LAC")], VOCABULARY)


def test_empty_and_tiny_populations():
    assert rank([], VOCABULARY) == {}
    assert propose([], VOCABULARY) == []
    assert rank([make(1, themes=["ict"])], VOCABULARY) == {1: []}
    assert engine.pairing_round([], VOCABULARY).pairs == ()


def test_generated_candidates_agree_with_scoring_every_pair():
    # Small enough that each profile's candidate list could hold the whole other side: what
    # candidate generation drops is only what shares no theme and no word.
    profiles = random_population(11, count=60)
    generated = match_all(profiles, VOCABULARY, exhaustive=False)
    every_pair = match_all(profiles, VOCABULARY, exhaustive=True)
    assert generated.candidate_pairs <= every_pair.candidate_pairs
    agree = sum(
        [s.counterpart_id for s in generated.ranking[pid][:3]]
        == [s.counterpart_id for s in every_pair.ranking[pid][:3]]
        for pid in every_pair.ranking
    )
    assert agree >= 0.9 * len(profiles)
    shuffled = list(reversed(profiles))
    assert match_all(shuffled, VOCABULARY, exhaustive=False).ranking == generated.ranking
