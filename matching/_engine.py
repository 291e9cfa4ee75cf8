"""Array-level engine: candidate graph, sparse assignment, dual certificate."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import (
    connected_components,
    maximum_bipartite_matching,
    min_weight_full_bipartite_matching,
)

from ._geo import chord_to_km, km_to_chord, unit_vectors
from ._kdtree import cKDTree

_sap_assign_rows: Callable[..., tuple[NDArray[np.intp], NDArray[np.float64]]] | None
try:
    from ._sap import assign_rows as _sap_assign_rows
except ImportError:  # not compiled (no C compiler at install): scipy's LAPJVsp, slower
    _sap_assign_rows = None

__all__ = ["Assignment", "assign"]

_IntArray = NDArray[np.intp]
_FloatArray = NDArray[np.float64]
_BoolArray = NDArray[np.bool_]

# Exact ties are broken towards lower indices by nudges below a micrometre.
_TIE_KM = 1e-9
# Relative float tolerance of dual prices (values reach big * weight).
_TOL_BF = 1e-14
# Label-correcting passes before a residual graph is declared to hold a negative cycle.
_MAX_PASSES = 5000
# Violating pairs added per need and proof round.
_ADD_PER_NEED = 8

# Ball radii of the certificate are rounded up to these steps (km, factor sqrt 2).
_RADIUS_STEPS = 0.05 * np.sqrt(2.0) ** np.arange(40)


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
        Whether the dual certificate holds on the full feasible graph.
    need_threshold : ndarray of float
        Per need, the dual price ``theta``: the need is worth serving by any
        volunteer whose cost plus price is below it.
    volunteer_price : ndarray of float
        Per volunteer, the dual price of its capacity (>= 0).
    candidate_need, candidate_volunteer : ndarray of int
        The final candidate graph (feasible pairs), sorted by need then volunteer.
    candidate_cost : ndarray of float
        Cost of each candidate pair.
    rounds, checked_pairs : int
        Solve rounds, and pairs examined by the last check.
    candidate_seconds, solve_seconds, certify_seconds : float
        Time by phase.
    """

    need: _IntArray
    volunteer: _IntArray
    km: _FloatArray
    cost: _FloatArray
    proven_optimal: bool
    need_threshold: _FloatArray
    volunteer_price: _FloatArray
    candidate_need: _IntArray
    candidate_volunteer: _IntArray
    candidate_cost: _FloatArray
    rounds: int
    checked_pairs: int
    candidate_seconds: float
    solve_seconds: float
    certify_seconds: float


@dataclass(frozen=True)
class _Problem:
    """Validated arrays of one instance."""

    xyz_need: _FloatArray
    xyz_vol: _FloatArray
    category: _IntArray
    weight: NDArray[np.int64]
    offers: _BoolArray
    radius: _FloatArray
    capacity: NDArray[np.int64]
    need_vetted: _BoolArray
    vol_vetted: _BoolArray
    penalty: _FloatArray
    exclude_keys: NDArray[np.int64]
    max_km: float

    @property
    def n_need(self) -> int:
        return len(self.category)

    @property
    def n_vol(self) -> int:
        return len(self.radius)

    def tie(self, need: _IntArray, vol: _IntArray) -> _FloatArray:
        """Sub-micrometre cost nudges so exact ties go to the lower indices (ids)."""
        return _TIE_KM * (vol / max(self.n_vol, 1) + need / max(self.n_need, 1))

    def feasible(self, need: _IntArray, vol: _IntArray, km: _FloatArray) -> _BoolArray:
        """Which of these same-category pairs may be matched."""
        ok = km <= np.minimum(self.radius[vol], self.max_km)
        ok &= self.capacity[vol] > 0
        ok &= ~(self.need_vetted[need] & ~self.vol_vetted[vol])
        if len(self.exclude_keys):
            keys = need.astype(np.int64) * self.n_vol + vol
            at = np.minimum(np.searchsorted(self.exclude_keys, keys), len(self.exclude_keys) - 1)
            ok &= self.exclude_keys[at] != keys
        return ok


class _CategoryIndex:
    """Per category, k-d trees of the volunteers with free capacity offering it.

    ``members``/``trees`` hold all of them, ``vetted_members``/``vetted_trees``
    the vetted ones only (for needs that require vetting).
    """

    def __init__(self, problem: _Problem) -> None:
        self.members: list[_IntArray] = []
        self.trees: list[cKDTree | None] = []
        self.vetted_members: list[_IntArray] = []
        self.vetted_trees: list[cKDTree | None] = []
        self.reach_km: list[float] = []
        free = problem.capacity > 0
        for c in range(problem.offers.shape[1]):
            members = np.flatnonzero(problem.offers[:, c] & free)
            self.members.append(members)
            self.trees.append(cKDTree(problem.xyz_vol[members]) if len(members) else None)
            vetted = members[problem.vol_vetted[members]]
            self.vetted_members.append(vetted)
            self.vetted_trees.append(cKDTree(problem.xyz_vol[vetted]) if len(vetted) else None)
            reach = float(problem.radius[members].max()) if len(members) else 0.0
            self.reach_km.append(min(problem.max_km, reach))


def _as_1d(name: str, values: ArrayLike | None, n: int, dtype: type, default: object) -> NDArray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr: NDArray = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def _validate(
    need_lat: ArrayLike,
    need_lon: ArrayLike,
    need_category: ArrayLike,
    need_weight: ArrayLike,
    vol_lat: ArrayLike,
    vol_lon: ArrayLike,
    vol_offers: ArrayLike,
    vol_radius_km: ArrayLike,
    vol_capacity: ArrayLike | None,
    need_vetted: ArrayLike | None,
    vol_vetted: ArrayLike | None,
    vol_penalty: ArrayLike | None,
    exclude: ArrayLike | None,
    max_km: float,
) -> _Problem:
    lat_n = np.asarray(need_lat, dtype=np.float64).reshape(-1)
    n = len(lat_n)
    lon_n = _as_1d("need_lon", need_lon, n, np.float64, 0.0)
    category = _as_1d("need_category", need_category, n, np.intp, 0)
    weight = _as_1d("need_weight", need_weight, n, np.int64, 1)
    lat_v = np.asarray(vol_lat, dtype=np.float64).reshape(-1)
    m = len(lat_v)
    lon_v = _as_1d("vol_lon", vol_lon, m, np.float64, 0.0)
    offers = np.asarray(vol_offers, dtype=bool)
    if offers.ndim != 2 or offers.shape[0] != m:
        raise ValueError(f"vol_offers must have shape ({m}, n_categories), got {offers.shape}")
    radius = _as_1d("vol_radius_km", vol_radius_km, m, np.float64, 0.0)
    capacity = _as_1d("vol_capacity", vol_capacity, m, np.int64, 1)
    penalty = _as_1d("vol_penalty", vol_penalty, m, np.float64, 0.0)
    for name, lat, lon in (("need", lat_n, lon_n), ("volunteer", lat_v, lon_v)):
        if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):
            raise ValueError(f"{name} coordinates must be finite degrees within range")
    if np.any((category < 0) | (category >= max(offers.shape[1], 1))):
        raise ValueError("need_category must index the columns of vol_offers")
    if np.any(weight <= 0):
        raise ValueError("need_weight must be positive integers")
    if not (np.all(radius >= 0) and np.all(np.isfinite(radius))):
        raise ValueError("vol_radius_km must be finite and >= 0")
    if np.any(capacity < 0) or not (np.all(penalty >= 0) and np.all(np.isfinite(penalty))):
        raise ValueError("vol_capacity and vol_penalty must be >= 0")
    if not (max_km > 0 and np.isfinite(max_km)):
        raise ValueError("max_km must be a positive number")
    keys = np.zeros(0, dtype=np.int64)
    if exclude is not None:
        pairs = np.asarray(exclude, dtype=np.int64).reshape(-1, 2)
        if np.any((pairs < 0) | (pairs >= np.array([max(n, 1), max(m, 1)]))):
            raise ValueError("exclude must hold (need index, volunteer index) pairs")
        keys = np.unique(pairs[:, 0] * m + pairs[:, 1])
    return _Problem(
        xyz_need=unit_vectors(lat_n, lon_n).reshape(n, 3),
        xyz_vol=unit_vectors(lat_v, lon_v).reshape(m, 3),
        category=category,
        weight=weight,
        offers=offers,
        radius=radius,
        capacity=capacity,
        need_vetted=_as_1d("need_vetted", need_vetted, n, np.bool_, False),
        vol_vetted=_as_1d("vol_vetted", vol_vetted, m, np.bool_, False),
        penalty=penalty,
        exclude_keys=keys,
        max_km=float(max_km),
    )


def _candidates(
    problem: _Problem,
    index: _CategoryIndex,
    k_vol: int,
    k_need: int,
    only: _BoolArray | None = None,
) -> tuple[_IntArray, _IntArray]:
    """Nearest volunteers of each need (of the ``only`` needs, if given), and
    nearest needs of each volunteer."""
    need_parts: list[_IntArray] = []
    vol_parts: list[_IntArray] = []
    for c, members in enumerate(index.members):
        tree = index.trees[c]
        mask = problem.category == c
        needs = np.flatnonzero(mask if only is None else mask & only)
        if tree is None or not len(needs):
            continue
        bound = float(km_to_chord(index.reach_km[c])) * (1 + 1e-9) + 1e-12
        strict = problem.need_vetted[needs]
        for side, pool, pool_tree in (
            (needs[~strict], members, tree),
            (needs[strict], index.vetted_members[c], index.vetted_trees[c]),
        ):
            if pool_tree is None or not len(side):
                continue
            k = min(k_vol, len(pool))
            _, idx = pool_tree.query(problem.xyz_need[side], k=k, distance_upper_bound=bound)
            idx = idx.reshape(len(side), k)
            hit = idx < len(pool)
            need_parts.append(np.broadcast_to(side[:, None], idx.shape)[hit])
            vol_parts.append(pool[idx[hit]])
        if k_need > 0:
            kn = min(k_need, len(needs))
            _, idx = cKDTree(problem.xyz_need[needs]).query(
                problem.xyz_vol[members], k=kn, distance_upper_bound=bound
            )
            idx = idx.reshape(len(members), kn)
            hit = idx < len(needs)
            need_parts.append(needs[idx[hit]])
            vol_parts.append(np.broadcast_to(members[:, None], idx.shape)[hit])
    if not need_parts:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    return np.concatenate(need_parts), np.concatenate(vol_parts)


def _unservable(problem: _Problem, need: _IntArray, vol: _IntArray) -> _BoolArray:
    """Needs left out by a maximum-cardinality matching of the candidate graph."""
    if not len(need):
        return np.ones(problem.n_need, dtype=bool)
    slots = np.minimum(problem.capacity, np.bincount(vol, minlength=problem.n_vol))
    start = np.concatenate([[0], np.cumsum(slots)])
    rep = slots[vol]
    within = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
    graph = sp.csr_array(
        (np.ones(len(within)), (np.repeat(need, rep), np.repeat(start[vol], rep) + within)),
        shape=(problem.n_need, int(start[-1])),
    )
    matched = maximum_bipartite_matching(graph, perm_type="column") >= 0
    return ~matched


def _pair_km(problem: _Problem, need: _IntArray, vol: _IntArray) -> _FloatArray:
    chord = np.linalg.norm(problem.xyz_need[need] - problem.xyz_vol[vol], axis=1)
    return chord_to_km(chord)


def _dedupe(problem: _Problem, need: _IntArray, vol: _IntArray) -> tuple[_IntArray, _IntArray]:
    """Unique pairs sorted by (need, volunteer): the order that breaks ties by id."""
    keys = np.sort(need.astype(np.int64) * problem.n_vol + vol)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return (keys // problem.n_vol).astype(np.intp), (keys % problem.n_vol).astype(np.intp)


def _merge(
    problem: _Problem,
    pairs: tuple[_IntArray, _IntArray, _FloatArray],
    more: tuple[_IntArray, _IntArray, _FloatArray],
) -> tuple[_IntArray, _IntArray, _FloatArray]:
    """`_dedupe` of two pair lists with their distances, computed once per pair."""
    need, vol, km = (np.concatenate([a, b]) for a, b in zip(pairs, more, strict=True))
    keys = need.astype(np.int64) * problem.n_vol + vol
    keys, first = np.unique(keys, return_index=True)
    n_vol = problem.n_vol
    return (keys // n_vol).astype(np.intp), (keys % n_vol).astype(np.intp), km[first]


@dataclass(frozen=True)
class _Solution:
    match: _IntArray  # per need: volunteer index or -1
    threshold: _FloatArray  # per need: theta
    price: _FloatArray  # per volunteer: capacity price (>= 0)
    duals_ok: bool


def _bellman_ford(
    tail: _IntArray, head: _IntArray, weight: _FloatArray, n: int, tol: float
) -> tuple[_FloatArray, bool]:
    """Shortest distances from a root joined to every node by a 0 arc (node n-1 fixed at 0).

    Vectorised label-correcting passes over the arcs whose tail improved;
    improvements below ``tol`` are ignored so float noise cannot cycle.
    """
    dist = np.zeros(n)
    order = np.argsort(tail, kind="stable")
    tail, head, weight = tail[order], head[order], weight[order]
    indptr = np.searchsorted(tail, np.arange(n + 1))
    active = np.unique(tail)
    for _ in range(min(n + 1, _MAX_PASSES)):
        if not len(active):
            return dist, True
        starts, ends = indptr[active], indptr[active + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return dist, True
        arcs = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        cand = dist[tail[arcs]] + weight[arcs]
        best = np.full(n, np.inf)
        np.minimum.at(best, head[arcs], cand)
        improved = best < dist - tol
        improved[n - 1] = False  # the root of free columns stays at 0
        if best[n - 1] < -tol:
            return dist, False
        active = np.flatnonzero(improved)
        dist[active] = best[active]
    return dist, False


def _assign_by_component(graph: sp.csr_array, batch_rows: int = 512) -> _IntArray:
    """Column of each row in a min-cost full matching, one connected component at a time.

    scipy's LAPJVsp spends O(columns) per augmentation on rectangular input,
    so independent components (a country's cities) are solved separately,
    small ones batched together.
    """
    n_row, n_col = graph.shape
    coo = graph.tocoo()
    links = sp.coo_array(
        (np.ones(coo.nnz), (coo.row, n_row + coo.col)), shape=(n_row + n_col, n_row + n_col)
    )
    _, label = connected_components(links, directed=False)
    row_order = np.argsort(label[:n_row], kind="stable")
    col_order = np.argsort(label[n_row:], kind="stable")
    row_label = label[:n_row][row_order]
    col_label = label[n_row:][col_order]
    blocks = graph[row_order][:, col_order].tocsr()
    # Cut between components once a batch holds batch_rows rows.
    starts = np.flatnonzero(np.r_[True, row_label[1:] != row_label[:-1]])
    cuts = [0]
    for start in starts[1:]:
        if start - cuts[-1] >= batch_rows:
            cuts.append(int(start))
    cuts.append(n_row)
    col_of_row = np.empty(n_row, dtype=np.intp)
    for r0, r1 in itertools.pairwise(cuts):
        c0 = int(np.searchsorted(col_label, row_label[r0], side="left"))
        c1 = int(np.searchsorted(col_label, row_label[r1 - 1], side="right"))
        _, local = min_weight_full_bipartite_matching(blocks[r0:r1, c0:c1])
        col_of_row[row_order[r0:r1]] = col_order[c0 + np.asarray(local)]
    return col_of_row


def _assign_slots(graph: sp.csr_array, n_slot: int) -> _IntArray:
    """`_assign_by_component` for few slots: each slot picks a need or stays idle.

    Same optimum: a slot serving need ``r`` costs ``c_rq - (slack_r - 1)``
    (the pair minus the need's priority), an idle slot 0; every entry is
    lifted by one constant so all are positive.
    """
    n_row = graph.shape[0]
    coo = graph.tocoo()
    real = coo.col < n_slot
    slack = graph[np.arange(n_row), n_slot + np.arange(n_row)]
    lift = float(np.max(slack, initial=1.0)) + 1.0
    rows = np.concatenate([coo.col[real], np.arange(n_slot)])
    cols = np.concatenate([coo.row[real], n_row + np.arange(n_slot)])
    data = np.concatenate(
        [coo.data[real] - np.asarray(slack)[coo.row[real]] + lift, np.full(n_slot, lift)]
    )
    flipped = sp.csr_array((data, (rows, cols)), shape=(n_slot, n_row + n_slot))
    need_of_slot = _assign_by_component(flipped)
    col_of_row = n_slot + np.arange(n_row)
    served = need_of_slot < n_row
    col_of_row[need_of_slot[served]] = np.flatnonzero(served)
    return col_of_row


def _fix_and_solve(
    graph: sp.csr_array,
    n_slot: int,
    slot_owner: _IntArray,
    guess: _IntArray,
    free_rows: _BoolArray,
) -> _IntArray:
    """Rows not in ``free_rows`` keep ``guess`` (a volunteer, or -1 for unmatched);
    the free rows are assigned optimally on the columns left."""
    n_row, n_col = graph.shape
    col_of_row = np.full(n_row, -1, dtype=np.intp)
    fixed = np.flatnonzero(~free_rows & (guess >= 0))
    fixed = fixed[np.lexsort((fixed, guess[fixed]))]
    own = guess[fixed]
    rank = np.arange(len(own)) - np.searchsorted(own, own)
    col_of_row[fixed] = np.searchsorted(slot_owner, own) + rank
    idle = np.flatnonzero(~free_rows & (guess < 0))
    col_of_row[idle] = n_slot + idle
    rest = np.flatnonzero(free_rows)
    if len(rest):
        keep = np.ones(n_col, dtype=bool)
        keep[col_of_row[~free_rows]] = False
        keep_cols = np.flatnonzero(keep)
        col_of_row[rest] = keep_cols[_assign_by_component(graph[rest][:, keep_cols])]
    return col_of_row


def _grow(
    graph: sp.csr_array, n_slot: int, slot_owner: _IntArray, rows: _BoolArray, hops: int
) -> _BoolArray:
    """Rows within ``hops`` row-volunteer-row steps of ``rows`` in the graph."""
    real = graph.indices < n_slot
    row_ids = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))[real]
    vol_ids = slot_owner[graph.indices[real]]
    n_vol = int(slot_owner[-1]) + 1 if n_slot else 0
    out = rows.copy()
    for _ in range(hops):
        vols = np.zeros(n_vol, dtype=bool)
        vols[vol_ids[out[row_ids]]] = True
        out[row_ids[vols[vol_ids]]] = True
    return out


def _column_duals(
    graph: sp.csr_array, col_of_row: _IntArray, tol: float
) -> tuple[_FloatArray, bool, _FloatArray]:
    """`_arc_duals` of a sparse graph."""
    coo = graph.tocoo()
    return _arc_duals(
        coo.row.astype(np.intp), coo.col.astype(np.intp), coo.data, graph.shape, col_of_row, tol
    )


def _arc_duals(
    r: _IntArray,
    q: _IntArray,
    c: _FloatArray,
    shape: tuple[int, int],
    col_of_row: _IntArray,
    tol: float,
) -> tuple[_FloatArray, bool, _FloatArray]:
    """Column prices proving ``col_of_row`` optimal, or ok=False when it is not.

    From the residual graph: ``v_q - v_m(r) <= c_rq - c_rm(r)`` for every arc
    ``(r, q)`` of cost ``c``, ``v_q <= 0``, and ``v_q = 0`` for free columns
    (merged into one root node). These are the highest such prices.
    """
    n_row, n_col = shape
    own = col_of_row[r]
    matched_cost = np.zeros(n_row)
    is_match = q == own
    matched_cost[r[is_match]] = c[is_match]
    used = np.zeros(n_col + 1, dtype=bool)
    used[col_of_row] = True
    node = np.where(used[:-1], np.arange(n_col), n_col)
    arcs = ~is_match
    tail, head = own[arcs], node[q[arcs]]
    weight = c[arcs] - matched_cost[r[arcs]]
    v, ok = _bellman_ford(tail, head, weight, n_col + 1, tol)
    return v, ok, matched_cost


def _solve_candidates(
    problem: _Problem,
    need: _IntArray,
    vol: _IntArray,
    cost: _FloatArray,
    big: float,
    previous: tuple[_IntArray, _IntArray] | None = None,
) -> _Solution:
    """Optimal assignment on the candidate graph, with its dual prices."""
    n_need, n_vol = problem.n_need, problem.n_vol
    match = np.full(n_need, -1, dtype=np.intp)
    threshold = (big * problem.weight).astype(np.float64)
    price = np.zeros(n_vol)
    if not len(need):
        return _Solution(match, threshold, price, True)
    rows, row_of = np.unique(need, return_inverse=True)
    degree = np.bincount(vol, minlength=n_vol)
    slots = np.minimum(problem.capacity, degree)
    slot_start = np.concatenate([[0], np.cumsum(slots)])
    n_slot = int(slot_start[-1])
    n_row = len(rows)
    # Capacity by column replication: one column per usable slot of a volunteer.
    rep = slots[vol]
    total = int(rep.sum())
    within = np.arange(total) - np.repeat(np.cumsum(rep) - rep, rep)
    e_row = np.concatenate([np.repeat(row_of, rep), np.arange(n_row)])
    e_col = np.concatenate([np.repeat(slot_start[vol], rep) + within, n_slot + np.arange(n_row)])
    # Leaving a need unmatched costs big * weight: a slack column of its own.
    # Every row is matched exactly once, so +1 on every entry keeps the optimum
    # and keeps zero-km pairs from vanishing as sparse zeros.
    e_cost = np.concatenate([np.repeat(cost, rep), big * problem.weight[rows]]) + 1.0
    n_col = n_slot + n_row
    graph = sp.csr_array((e_cost, (e_row, e_col)), shape=(n_row, n_col))
    graph.sum_duplicates()
    slot_owner = np.repeat(np.arange(n_vol), slots)
    scale = big * float(problem.weight.max()) + 1.0
    tol = _TOL_BF * scale + 1e-12
    # LAPJVsp costs O(rows x columns) here, so later rounds first re-solve only
    # the neighbourhood of the new candidate pairs, the other rows keeping the
    # previous optimum. The duals prove or refute the result; refuted, the
    # neighbourhood grows, and finally the whole graph is solved.
    duals_ok = False
    if previous is not None:
        prev_match, new_rows = previous
        guess = prev_match[rows]
        seeds = np.isin(rows, new_rows)
        for hops in (1, 3):
            free_rows = _grow(graph, n_slot, slot_owner, seeds, hops)
            if free_rows.sum() > 0.7 * n_row:
                break
            col_of_row = _fix_and_solve(graph, n_slot, slot_owner, guess, free_rows)
            v, duals_ok, matched_cost = _column_duals(graph, col_of_row, tol)
            if duals_ok:
                break
    if not duals_ok:
        # When every row can be matched at once, the weight is maximal with all
        # rows served, and the slack columns only widen LAPJVsp's work. When
        # slots are scarcer than needs, the slots are the rows to assign.
        slots_only = graph[:, :n_slot]
        if n_slot >= n_row and np.all(
            maximum_bipartite_matching(slots_only, perm_type="column") >= 0
        ):
            col_of_row = _assign_by_component(slots_only)
        elif n_slot < n_row:
            col_of_row = _assign_slots(graph, n_slot)
        else:
            col_of_row = _assign_by_component(graph)
        v, duals_ok, matched_cost = _column_duals(graph, col_of_row, tol)
    matched = col_of_row < n_slot
    match[rows[matched]] = slot_owner[col_of_row[matched]]
    u = matched_cost - v[col_of_row]
    threshold[rows] = u - 1.0
    slot_v = v[:n_slot]
    has = slots > 0
    top = np.full(n_vol, 0.0)
    if n_slot:
        top[has] = np.maximum.reduceat(slot_v, slot_start[:-1][has])
    spare = problem.capacity > slots
    price = np.where(spare, 0.0, np.maximum(-top, 0.0))
    return _Solution(match, threshold, price, duals_ok)


def _solve_sap(
    problem: _Problem,
    need: _IntArray,
    vol: _IntArray,
    cost: _FloatArray,
    big: float,
) -> _Solution:
    """`_solve_candidates` by compiled shortest augmenting paths.

    Rows are all needs; columns are the volunteers, each with its capacity, then
    one slack column per need, costing big * weight: leaving the need unserved.
    """
    assert _sap_assign_rows is not None
    n_need, n_vol = problem.n_need, problem.n_vol
    n_col = n_vol + n_need
    # Candidate pairs come sorted by need; each row's slack arc goes last. +1 on
    # every arc keeps the optimum (every row takes exactly one column) and keeps
    # every cost positive.
    per_row = np.bincount(need, minlength=n_need).astype(np.int64) + 1
    indptr = np.concatenate([[0], np.cumsum(per_row)])
    slack_at = indptr[1:] - 1
    is_pair = np.ones(int(indptr[-1]), dtype=bool)
    is_pair[slack_at] = False
    e_row = np.repeat(np.arange(n_need), per_row)
    e_col = np.empty(len(e_row), dtype=np.intp)
    e_cost = np.empty(len(e_row))
    e_col[is_pair] = vol
    e_col[slack_at] = n_vol + np.arange(n_need)
    e_cost[is_pair] = cost + 1.0
    e_cost[slack_at] = big * problem.weight + 1.0
    capacity = np.concatenate([problem.capacity, np.ones(n_need, dtype=np.int64)])
    scale = big * float(problem.weight.max(initial=1)) + 1.0
    tol = _TOL_BF * scale + 1e-12
    col_of_row, v = _sap_assign_rows(
        indptr.astype(np.int64), e_col.astype(np.intc), e_cost, capacity.astype(np.intc)
    )
    # The search's prices are the LP duals: check them rather than trust floats.
    own = col_of_row[e_row] == e_col
    matched_cost = np.zeros(n_need)
    matched_cost[e_row[own]] = e_cost[own]
    u = matched_cost - v[col_of_row]
    room = np.bincount(col_of_row, minlength=n_col) < capacity
    duals_ok = bool(
        np.all(e_cost - u[e_row] - v[e_col] >= -tol)
        and np.all(v <= tol)
        and np.all(np.abs(v[room]) <= tol)
    )
    match = np.where(col_of_row < n_vol, col_of_row, -1)
    threshold = matched_cost - v[col_of_row] - 1.0
    price = np.maximum(-v[:n_vol], 0.0)
    return _Solution(match, threshold, price, duals_ok)


def _nearest_violations(
    problem: _Problem,
    pool: _IntArray,
    tree: cKDTree,
    group: _IntArray,
    reach_km: float,
    level: _FloatArray,
    threshold: _FloatArray,
    tol: float,
) -> tuple[_IntArray, _IntArray, _BoolArray]:
    """The nearest ``_ADD_PER_NEED`` volunteers of ``pool`` for each need of ``group``,
    kept where feasible and violating; and which needs got at least one."""
    k = min(_ADD_PER_NEED, len(pool))
    chord = float(km_to_chord(reach_km)) * (1 + 1e-9) + 1e-12
    dist, idx = tree.query(problem.xyz_need[group], k=k, distance_upper_bound=chord)
    dist, idx = dist.reshape(len(group), k), idx.reshape(len(group), k)
    hit = idx < len(pool)
    at = np.broadcast_to(np.arange(len(group))[:, None], idx.shape)[hit]
    need, vol, km = group[at], pool[idx[hit]], chord_to_km(dist[hit])
    gap = km + level[vol] + problem.tie(need, vol) - threshold[need]
    bad = gap < -tol
    bad[bad] = problem.feasible(need[bad], vol[bad], km[bad])
    settled = np.zeros(len(group), dtype=bool)
    settled[at[bad]] = True
    return need[bad], vol[bad], settled


def _violations(
    problem: _Problem, index: _CategoryIndex, sol: _Solution, tol: float, big: float
) -> tuple[_IntArray, _IntArray, int]:
    """Feasible pairs whose reduced cost is negative under the solution's duals.

    For need ``i`` and volunteer ``j`` the reduced cost is
    ``cost_ij + price_j - threshold_i``. It can only be negative when
    ``price_j < threshold_i`` and the distance is below ``threshold_i -
    price_j``, so needs are grouped by threshold (whole multiples of ``big``,
    the value of one priority point, then km steps), and each group looks only
    at the volunteers priced below its threshold, within a ball of the
    largest such distance. Work is chunked to bound memory.
    """
    found_need: list[_IntArray] = []
    found_vol: list[_IntArray] = []
    checked = 0
    level = problem.penalty + sol.price
    for c, members in enumerate(index.members):
        needs = np.flatnonzero(problem.category == c)
        if index.trees[c] is None or not len(needs):
            continue
        theta = sol.threshold[needs]
        reach = np.minimum(index.reach_km[c], theta - level[members].min())
        needs, theta, reach = needs[reach > 0], theta[reach > 0], reach[reach > 0]
        tier = np.floor(theta / big).astype(np.int64)
        step = np.minimum(np.searchsorted(_RADIUS_STEPS, reach), len(_RADIUS_STEPS) - 1)
        for t in np.unique(tier):
            in_tier = tier == t
            top = float(theta[in_tier].max())
            pool = members[level[members] < top]
            if not len(pool):
                continue
            # Below half the members a smaller tree pays for its building.
            whole = index.trees[c]
            if whole is not None and 2 * len(pool) > len(members):
                tree, pool = whole, members
            else:
                tree = cKDTree(problem.xyz_vol[pool])
            group_all, step_all = needs[in_tier], step[in_tier]
            if t >= 1:
                # Priced above any distance: every feasible volunteer cheaper than the
                # tier's lowest threshold minus the reach undercuts these needs, so the
                # nearest few of those settle most of them without a wide ball.
                cheap = members[level[members] < float(theta[in_tier].min()) - index.reach_km[c]]
                if len(cheap):
                    cheap_tree = (
                        tree if len(cheap) == len(pool) else cKDTree(problem.xyz_vol[cheap])
                    )
                    need, vol, settled = _nearest_violations(
                        problem,
                        cheap,
                        cheap_tree,
                        group_all,
                        index.reach_km[c],
                        level,
                        sol.threshold,
                        tol,
                    )
                    found_need.append(need)
                    found_vol.append(vol)
                    group_all, step_all = group_all[~settled], step_all[~settled]
            for st_ in np.unique(step_all):
                group = group_all[step_all == st_]
                radius = min(float(_RADIUS_STEPS[st_]), index.reach_km[c])
                chord = float(km_to_chord(radius)) * (1 + 1e-9) + 1e-12
                # Chunks of needs sized to keep each pair list near a million.
                sample = problem.xyz_need[group[:: max(1, len(group) // 16)]]
                per_need = float(np.mean(tree.query_ball_point(sample, chord, return_length=True)))
                chunk = max(1, int(1_000_000 // max(per_need, 1.0)))
                for start in range(0, len(group), chunk):
                    part = group[start : start + chunk]
                    near = tree.sparse_distance_matrix(
                        cKDTree(problem.xyz_need[part]), chord, output_type="ndarray"
                    )
                    if not len(near):
                        continue
                    vol = pool[near["i"]]
                    need = part[near["j"]]
                    checked += len(vol)
                    km = chord_to_km(near["v"])
                    gap = km + level[vol] + problem.tie(need, vol) - sol.threshold[need]
                    bad = gap < -tol
                    bad[bad] = problem.feasible(need[bad], vol[bad], km[bad])
                    need, vol, gap = need[bad], vol[bad], gap[bad]
                    # The most negative few per need are enough to move the solve on;
                    # adding them all can flood the graph where supply is scarce.
                    order = np.lexsort((vol, gap, need))
                    need, vol = need[order], vol[order]
                    rank = np.arange(len(need)) - np.searchsorted(need, need)
                    found_need.append(need[rank < _ADD_PER_NEED])
                    found_vol.append(vol[rank < _ADD_PER_NEED])
    if not found_need:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, checked
    return np.concatenate(found_need), np.concatenate(found_vol), checked


def assign(
    need_lat: ArrayLike,
    need_lon: ArrayLike,
    need_category: ArrayLike,
    need_weight: ArrayLike,
    vol_lat: ArrayLike,
    vol_lon: ArrayLike,
    vol_offers: ArrayLike,
    vol_radius_km: ArrayLike,
    vol_capacity: ArrayLike | None = None,
    *,
    need_vetted: ArrayLike | None = None,
    vol_vetted: ArrayLike | None = None,
    vol_penalty: ArrayLike | None = None,
    exclude: ArrayLike | None = None,
    max_km: float = 25.0,
    k_nearest: int = 8,
    k_nearest_needs: int = 4,
    max_rounds: int = 16,
) -> Assignment:
    """Optimal priority-then-distance assignment of needs to volunteers (arrays in).

    Serves the greatest total weight of needs, then among those assignments
    minimises the total cost (great-circle km plus volunteer penalty). The
    solve runs on a candidate graph (nearest volunteers per need and nearest
    needs per volunteer); the LP dual prices of that solve are then checked
    against every feasible pair, and violating pairs are added and the graph
    re-solved until the certificate holds.

    Parameters
    ----------
    need_lat, need_lon : array_like, shape (n,)
        Need locations in degrees.
    need_category : array_like of int, shape (n,)
        Column of `vol_offers` naming each need's category.
    need_weight : array_like of int, shape (n,)
        Positive integer priority weights.
    vol_lat, vol_lon : array_like, shape (m,)
        Volunteer locations in degrees.
    vol_offers : array_like of bool, shape (m, n_categories)
        Which categories each volunteer offers.
    vol_radius_km : array_like, shape (m,)
        Travel radius of each volunteer.
    vol_capacity : array_like of int, shape (m,), optional
        Needs each volunteer may take (default 1).
    need_vetted, vol_vetted : array_like of bool, optional
        Needs requiring a vetted volunteer; vetted volunteers.
    vol_penalty : array_like, shape (m,), optional
        Extra cost per assigned need, km-equivalents, >= 0.
    exclude : array_like of int, shape (p, 2), optional
        ``(need index, volunteer index)`` pairs that may not be matched.
    max_km : float
        Network-wide distance limit.
    k_nearest, k_nearest_needs, max_rounds : int
        Tuning of the first candidate graph and of the proof loop.

    Returns
    -------
    Assignment

    Raises
    ------
    ValueError
        On arrays of the wrong shape or values out of range.

    Examples
    --------
    Two needs of category 0, one volunteer with capacity 1: the heavier need wins.

    >>> a = assign([0.0, 0.0], [0.0, 0.01], [0, 0], [10, 40],
    ...            [0.0], [0.005], [[True]], [5.0])
    >>> a.need.tolist(), a.volunteer.tolist(), a.proven_optimal
    ([1], [0], True)
    >>> round(float(a.km[0]), 3)
    0.556
    """
    t0 = time.perf_counter()
    problem = _validate(
        need_lat,
        need_lon,
        need_category,
        need_weight,
        vol_lat,
        vol_lon,
        vol_offers,
        vol_radius_km,
        vol_capacity,
        need_vetted,
        vol_vetted,
        vol_penalty,
        exclude,
        max_km,
    )
    index = _CategoryIndex(problem)
    raw_need, raw_vol = _candidates(problem, index, k_nearest, k_nearest_needs)
    need, vol = _dedupe(problem, raw_need, raw_vol)
    km = _pair_km(problem, need, vol)
    keep = problem.feasible(need, vol, km)
    need, vol, km = need[keep], vol[keep], km[keep]
    # Needs that cannot all be served at once in this graph get wider
    # candidate lists before the first solve: where supply is short the proof
    # would otherwise bring their pairs in a few at a time, each round a solve.
    for widen in (4,):
        lonely = _unservable(problem, need, vol)
        if not lonely.any():
            break
        more_need, more_vol = _candidates(problem, index, widen * k_nearest, 0, lonely)
        more_km = _pair_km(problem, more_need, more_vol)
        ok = problem.feasible(more_need, more_vol, more_km)
        need, vol, km = _merge(problem, (need, vol, km), (more_need[ok], more_vol[ok], more_km[ok]))
    # Any weight gain of 1 point must outweigh any possible cost difference.
    slots = int(np.minimum(problem.capacity, problem.n_need).sum())
    worst = min(problem.max_km, float(problem.radius.max(initial=0.0)))
    worst += float(problem.penalty.max(initial=0.0))
    big = 1.0 + min(problem.n_need, slots) * worst
    scale = big * float(problem.weight.max(initial=1)) + 1.0
    tol = 4 * _TOL_BF * scale + 1e-10
    t1 = time.perf_counter()
    solve_s = certify_s = 0.0
    proven = False
    checked = 0
    rounds = 0
    previous: tuple[_IntArray, _IntArray] | None = None
    while True:
        rounds += 1
        ts = time.perf_counter()
        cost = km + problem.penalty[vol] + problem.tie(need, vol)
        if _sap_assign_rows is not None:
            sol = _solve_sap(problem, need, vol, cost, big)
        else:
            sol = _solve_candidates(problem, need, vol, cost, big, previous)
        tc = time.perf_counter()
        solve_s += tc - ts
        bad_need, bad_vol, checked = _violations(problem, index, sol, tol, big)
        certify_s += time.perf_counter() - tc
        if not len(bad_need):
            proven = sol.duals_ok
            break
        if rounds >= max_rounds:
            break
        previous = (sol.match, np.unique(bad_need))
        need, vol, km = _merge(
            problem, (need, vol, km), (bad_need, bad_vol, _pair_km(problem, bad_need, bad_vol))
        )
    matched = np.flatnonzero(sol.match >= 0)
    pair_vol = sol.match[matched]
    pair_km = _pair_km(problem, matched, pair_vol)
    return Assignment(
        need=matched,
        volunteer=pair_vol,
        km=pair_km,
        cost=pair_km + problem.penalty[pair_vol],
        proven_optimal=proven,
        need_threshold=sol.threshold - 0.0,
        volunteer_price=sol.price,
        candidate_need=need,
        candidate_volunteer=vol,
        candidate_cost=km + problem.penalty[vol],
        rounds=rounds,
        checked_pairs=checked,
        candidate_seconds=t1 - t0,
        solve_seconds=solve_s,
        certify_seconds=certify_s,
    )
