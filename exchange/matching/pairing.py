"""Choosing pairs under capacities: a maximum-weight b-matching, and the greedy result beside it.

Each edge (u, v, w) is a possible pair with its score; each node may take part in at most its
capacity of the chosen edges; the chosen edges have the largest possible total score. Solved as
an integer programme by HiGHS (`scipy.optimize.milp`): one 0/1 variable per edge, one row per
node. Between the two sides (EU with LAC) the graph is bipartite, its constraint matrix totally
unimodular, and the linear relaxation has an integral optimal vertex: HiGHS's dual simplex
(`scipy.optimize.linprog`, method "highs-ds") finds it, ten to twenty times faster than going
through the MIP solver. Should a solution come back fractional — possible when a coordinator
pairs authorities of the same side, where odd cycles break unimodularity — the same problem is
solved again as an integer programme (`scipy.optimize.milp`, HiGHS's branch and cut).
"""

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

# A variable this close to 0 or 1 is taken as integral.
INTEGRAL_TOLERANCE = 1e-6


def b_matching(
    u: np.ndarray, v: np.ndarray, weight: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """The edges (a boolean mask) of a maximum-weight b-matching: node k in at most
    capacity[k] chosen edges. u, v index nodes (u != v); weights should be positive."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.float64)
    edges = len(weight)
    if edges == 0:
        return np.zeros(0, dtype=bool)
    # Only the nodes that have edges become rows.
    nodes, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    rows = inverse
    cols = np.concatenate([np.arange(edges), np.arange(edges)])
    incidence = sparse.csr_array(
        (np.ones(2 * edges), (rows, cols)), shape=(len(nodes), edges), dtype=np.float64
    )
    bounds = capacity[nodes]
    relaxed = linprog(-weight, A_ub=incidence, b_ub=bounds, bounds=(0, 1), method="highs-ds")
    if relaxed.status == 0:
        x = relaxed.x
        if np.all(np.minimum(np.abs(x), np.abs(1 - x)) <= INTEGRAL_TOLERANCE):
            return x > 0.5
    result = milp(
        c=-weight,
        constraints=LinearConstraint(incidence, lb=-np.inf, ub=bounds),
        integrality=np.ones(edges),
        bounds=Bounds(0, 1),
        # Optimal, not "within 0.01 %" (HiGHS's default gap).
        options={"mip_rel_gap": 0.0},
    )
    if result.x is None:  # pragma: no cover - choosing nothing is always feasible
        raise RuntimeError(f"b-matching failed: {result.message}")
    return result.x > 0.5


def greedy_matching(
    u: np.ndarray, v: np.ndarray, weight: np.ndarray, capacity: np.ndarray, order: np.ndarray
) -> np.ndarray:
    """The edges that taking the best remaining pair each time would choose; `order` is the
    edges best first (ties already broken by the caller)."""
    left = np.asarray(capacity, dtype=np.int64).copy()
    chosen = np.zeros(len(weight), dtype=bool)
    for e in order.tolist():
        a, b = int(u[e]), int(v[e])
        if left[a] > 0 and left[b] > 0:
            chosen[e] = True
            left[a] -= 1
            left[b] -= 1
    return chosen
