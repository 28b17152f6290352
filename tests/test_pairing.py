"""The pairing round and proposals: a maximum-weight b-matching under capacities, checked
against brute force on small random cases, and against the greedy result."""

import random

import numpy as np
import pytest

from exchange.matching.engine import MIN_PAIR_SCORE, pairing_round, propose, rank
from exchange.matching.pairing import b_matching, greedy_matching
from tests.test_matching_engine import VOCABULARY, make


def best_total(edges: list[tuple[int, int, float]], capacity: dict[int, int]) -> float:
    """The best total by trying every subset of edges (depth-first, capacities checked)."""
    best = 0.0
    left = dict(capacity)

    def search(k: int, total: float) -> None:
        nonlocal best
        if k == len(edges):
            best = max(best, total)
            return
        u, v, w = edges[k]
        if left[u] > 0 and left[v] > 0:
            left[u] -= 1
            left[v] -= 1
            search(k + 1, total + w)
            left[u] += 1
            left[v] += 1
        search(k + 1, total)

    search(0, 0.0)
    return best


def small_case(seed: int):
    rng = random.Random(seed)
    codes = sorted(VOCABULARY.keywords)[:6]  # few themes: many overlapping pairs
    profiles = []
    for pid in range(1, 9):
        side = "EU" if pid <= 4 else "LAC"
        profiles.append(
            make(
                pid,
                side,
                kind=rng.choice(("municipality", "region")),
                languages=[rng.choice(("en", "es"))],
                themes=rng.sample(codes, rng.randint(1, 3)),
                capacity=rng.randint(1, 2),
            )
        )
    return profiles


@pytest.mark.parametrize("seed", range(25))
def test_pairing_round_is_optimal_on_small_cases(seed):
    profiles = small_case(seed)
    capacity = {p.id: p.capacity for p in profiles}
    # Every pair the engine would consider, with its reciprocal score.
    scores = {
        (min(s.authority_id, s.counterpart_id), max(s.authority_id, s.counterpart_id)): s.score
        for suggestions in rank(profiles, VOCABULARY, top_k=100).values()
        for s in suggestions
    }
    edges = sorted((a, b, w) for (a, b), w in scores.items())
    assert all(w >= MIN_PAIR_SCORE for _, _, w in edges)
    result = pairing_round(profiles, VOCABULARY)
    assert result.total == pytest.approx(best_total(edges, capacity), abs=1e-6)
    assert result.greedy_total <= result.total + 1e-9
    assert result.total == pytest.approx(sum(s.score for s in result.pairs), abs=1e-6)
    used = {p.id: 0 for p in profiles}
    for s in result.pairs:
        used[s.authority_id] += 1
        used[s.counterpart_id] += 1
        assert {s.authority_id <= 4, s.counterpart_id <= 4} == {True, False}  # EU with LAC
    assert all(used[pid] <= capacity[pid] for pid in used)


def test_pairing_round_respects_exclusions_and_capacity_zero():
    profiles = small_case(3)
    excluded = frozenset((a, b) for a in range(1, 5) for b in range(5, 9) if (a + b) % 2)
    result = pairing_round(profiles, VOCABULARY, excluded=excluded)
    assert not {(s.authority_id, s.counterpart_id) for s in result.pairs} & excluded
    closed = [p if p.id != 1 else make(1, themes=sorted(p.themes), capacity=0) for p in profiles]
    assert all(
        1 not in (s.authority_id, s.counterpart_id) for s in pairing_round(closed, VOCABULARY).pairs
    )


def test_propose_equals_the_pairing_round_between_sides():
    profiles = small_case(5)
    assert tuple(propose(profiles, VOCABULARY)) == pairing_round(profiles, VOCABULARY).pairs


def test_greedy_can_be_worse_than_optimal():
    # a–x is the best single pair, but taking it leaves a–y and b–x out: 0.9 < 0.8 + 0.8.
    u = np.array([0, 0, 1])
    v = np.array([2, 3, 2])
    w = np.array([0.9, 0.8, 0.8])
    capacity = np.array([1, 1, 1, 1])
    optimal = b_matching(u, v, w, capacity)
    greedy = greedy_matching(u, v, w, capacity, np.argsort(-w, kind="stable"))
    assert w[optimal].sum() == pytest.approx(1.6)
    assert w[greedy].sum() == pytest.approx(0.9)


def test_b_matching_with_odd_cycles_stays_integral():
    # A triangle (same-side pairing): the linear relaxation's optimum is 1.5 with every edge at
    # one half; the integer programme takes one edge.
    u = np.array([0, 1, 2])
    v = np.array([1, 2, 0])
    w = np.array([1.0, 1.0, 1.0])
    chosen = b_matching(u, v, w, np.array([1, 1, 1]))
    assert chosen.sum() == 1
    assert b_matching(u, v, w, np.array([2, 2, 2])).sum() == 3


def test_b_matching_of_nothing():
    empty = np.zeros(0)
    assert len(b_matching(empty, empty, empty, np.zeros(0))) == 0


def test_the_solver_beats_greedy_on_real_profiles_sometimes():
    results = [pairing_round(small_case(seed), VOCABULARY) for seed in range(5)]
    assert any(r.greedy_total < r.total - 1e-9 for r in results)
