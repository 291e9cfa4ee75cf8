"""`assign`: the engine on a `Problem` — aggregate, solve a candidate graph, certify over all
feasible pairs, enlarge until proven (or solve the full feasible graph), spread back."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ._arrays import distinct
from ._candidates import CategoryIndex, candidates, count_feasible_upper, full_graph, merge_into
from ._certificate import Checked, violations
from ._groups import Groups, group, spread
from ._problem import Problem
from ._solvers import Solution, duals_only, slim, solve_graph, units_per_km, z_order

__all__ = ["FULL_GRAPH_MAX_PAIRS", "Assignment", "assign"]

_IntArray = NDArray[np.intp]
_FloatArray = NDArray[np.float64]

#: Largest full feasible graph (pairs of rows and classes) the exact fallback builds:
#: about 1 GB at its peak.
FULL_GRAPH_MAX_PAIRS = 20_000_000


@dataclass(frozen=True)
class Assignment:
    """Array-level outcome of `assign`.

    Attributes
    ----------
    need, volunteer : ndarray of int
        Indices of the matched pairs, sorted by need.
    km, cost : ndarray of float
        Distance and cost (km plus penalty) of each pair.
    proven_optimal : bool
        Whether the dual certificate holds over every feasible pair.
    path : str
        What produced the result: ``"candidate_graph"`` (a certified candidate graph),
        ``"full_graph"`` (the exact solve of every feasible pair, after the certificate
        rounds ran out) or ``"unproven"`` (rounds ran out and the full graph would not
        fit in `FULL_GRAPH_MAX_PAIRS`: the best routing found, not proven).
    cost_resolution_km : float
        Costs are compared exactly as whole multiples of this (1e-9 km unless the
        instance's sums could overflow); served weight is compared exactly.
    groups : Groups
        The rows (co-located need groups) and classes the solve ran on.
    solution : Solution
        The last solve: routing and dual prices.
    rounds, checked_pairs : int
        Solve rounds, and pairs examined by the certificate in all.
    candidate_seconds, solve_seconds, certify_seconds : float
        Time by phase.
    """

    need: _IntArray
    volunteer: _IntArray
    km: _FloatArray
    cost: _FloatArray
    proven_optimal: bool
    path: str
    cost_resolution_km: float
    groups: Groups
    solution: Solution
    rounds: int
    checked_pairs: int
    candidate_seconds: float
    solve_seconds: float
    certify_seconds: float

    @property
    def candidate_pairs(self) -> int:
        """(Row, class) pairs of the last graph solved."""
        return len(self.solution.arcs)


def _capacity_factor(problem: Problem) -> int:
    """How many times ``k_nearest`` classes a row looks at first: twice where volunteers
    take many needs each (a mean capacity of 4.5 or more). There each class is wanted by
    many rows, and a row's nearest few are often all priced out: high capacity 10k x 500
    took 4 certificate rounds with 8 classes a row, 1 with 16 (engine 0.57 -> 0.28 s).
    Where capacities are 1-3 more classes only make every search longer."""
    if not len(problem.capacity):
        return 1
    return int(np.clip(round(float(np.sqrt(problem.capacity.mean() / 2.0))), 1, 2))


def assign(
    problem: Problem,
    *,
    k_nearest: int = 10,
    k_nearest_needs: int = 4,
    max_rounds: int = 16,
    max_full_pairs: int = FULL_GRAPH_MAX_PAIRS,
) -> Assignment:
    """Optimal priority-then-cost assignment of needs to volunteers.

    Serves the greatest total weight of needs, exactly, then among those assignments
    minimises the total cost (great-circle km plus volunteer penalty, compared in
    whole micrometres). Interchangeable needs and volunteers (same point and
    attributes) are aggregated first; a candidate graph of nearest volunteer classes
    is solved exactly (successive shortest paths), its dual prices are checked against
    every feasible pair, violating pairs are added and the graph solved again (from the
    third round on, from the last solution: only the rows that gained a pair are routed
    anew, and only pairs whose prices rose are checked again). After
    ``max_rounds`` the full feasible graph is solved instead (if it has at most
    ``max_full_pairs`` pairs), so a valid instance is never left unproven for want of
    rounds. Ties go to the lower indices (ids).

    Parameters
    ----------
    problem : Problem
        The validated instance.
    k_nearest, k_nearest_needs : int
        Nearest classes per row (times the row's size, up to 64 times) and rows per
        class in the first graph. Tuning only: the served weight and total cost do not
        depend on them (which of two equally good pairings is returned may).
    max_rounds : int
        Certificate rounds before the full feasible graph is solved.
    max_full_pairs : int
        Size limit of that full graph.

    Returns
    -------
    Assignment

    Examples
    --------
    Two needs of category 0, one volunteer with capacity 1: the heavier need wins.

    >>> p = Problem([0.0, 0.0], [0.0, 0.01], [0, 0], [10, 40], [0.0], [0.005], [[True]], [5.0])
    >>> a = assign(p)
    >>> a.need.tolist(), a.volunteer.tolist(), a.proven_optimal, a.path
    ([1], [0], True, 'candidate_graph')
    >>> round(float(a.km[0]), 3)
    0.556
    """
    if not (1 <= k_nearest <= 256 and 0 <= k_nearest_needs <= 256 and max_rounds >= 1):
        raise ValueError("k_nearest in [1, 256], k_nearest_needs in [0, 256], max_rounds >= 1")
    t0 = time.perf_counter()
    g = group(problem)
    index = CategoryIndex(g)
    per_km = units_per_km(g)
    z = z_order(g)
    arcs = candidates(g, index, k_nearest * _capacity_factor(problem), k_nearest_needs)
    # Violating pairs added per row: eight per need the first time the row violates,
    # doubling each time it violates again (where supply is far or scarce a displacement
    # chain otherwise advances a few pairs per round), at most 512. Most rows that
    # violate once violate again with two (metro 100k: 9 rounds with two, 7 with eight;
    # country 300k: 6 and 5); more than eight makes every later search through them
    # longer for few rounds saved (scarce 10k x 1k, 6 rounds either way, solves 10 %
    # slower with sixteen).
    add_per_row = 8 * np.minimum(g.row_supply, 32)
    times = np.zeros(g.n_rows, dtype=np.int64)
    t1 = time.perf_counter()
    solve_s = certify_s = 0.0
    checked = 0
    rounds = 0
    path = "candidate_graph"
    prev: Solution | None = None
    sol: Solution | None = None
    checked_last: Checked | None = None
    moved = None  # where the last graph's arcs are in this one
    while True:
        rounds += 1
        ts = time.perf_counter()
        # Rounds from the third start from the last solution. The first pairs added move
        # many rows at once (metro 100k: 7,318; country 1M: 13,713), and routing them all
        # again in priority order is cheaper there (metro 100k round 2: 1.0 s cold, 1.8 s
        # warm until it gave up; country 1M: 10.6 s warm).
        # Through the solve only what it starts from is held, slimmed, and handed over (its
        # flows and where its arcs went are dropped once the warm start is made): country
        # 1M, the last solution whole (its arcs, costs, flows) was 400 MB of the peak.
        if rounds == 2:  # a cold solve: nothing of the last is needed through it
            prev = checked_last = moved = None
        elif prev is not None and checked_last is not None:
            prev = slim(prev)
            checked_last = replace(checked_last, solution=duals_only(prev))
        sol = None
        handed = [prev, moved]
        prev = moved = None
        sol = solve_graph(g, arcs, per_km, z, handed=handed)
        prev = sol
        tc = time.perf_counter()
        solve_s += tc - ts
        grow = np.minimum(add_per_row << np.minimum(times, 6), 512)
        bad, n_checked, checked_last = violations(g, index, sol, per_km, grow, checked_last)
        checked += n_checked
        certify_s += time.perf_counter() - tc
        if not len(bad):
            proven = sol.duals_ok
            break
        if rounds >= max_rounds:
            tf = time.perf_counter()
            if count_feasible_upper(g, index) <= max_full_pairs:
                sol = solve_graph(g, full_graph(g, index), per_km, z)
                proven, path = sol.duals_ok, "full_graph"
                rounds += 1
            else:
                proven, path = False, "unproven"
            solve_s += time.perf_counter() - tf
            break
        times[distinct(bad.row)] += 1
        arcs, moved = merge_into(g, arcs, bad)
    need, vol = spread(
        problem,
        g,
        sol.arcs.row,
        sol.arcs.col,
        sol.cost,
        sol.flow,
        sol.slack_flow,
    )
    km = problem.pair_km(need, vol)
    return Assignment(
        need=need,
        volunteer=vol,
        km=km,
        cost=km + problem.penalty[vol],
        proven_optimal=bool(proven),
        path=path,
        cost_resolution_km=1.0 / per_km,
        groups=g,
        solution=sol,
        rounds=rounds,
        checked_pairs=checked,
        candidate_seconds=t1 - t0,
        solve_seconds=solve_s,
        certify_seconds=certify_s,
    )
