"""Reference and baseline assignments: dense LSA, first-come-first-served, greedy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._geo import chord_to_km, km_to_chord
from ._kdtree import cKDTree
from ._problem import Problem

__all__ = ["dense_assign", "first_come_first_served", "greedy_cheapest_first"]

_Pairs = tuple[NDArray[np.intp], NDArray[np.intp]]


def dense_assign(p: Problem) -> _Pairs:
    """The optimum by `scipy.optimize.linear_sum_assignment` on the dense matrix.

    Rows are needs; columns are one per unit of
    volunteer capacity plus one slack column per need costing ``big * weight``
    (so leaving a need unmatched is priced, never silently free); forbidden
    pairs get a finite cost above every slack. Memory is O(n * (capacity + n)):
    a reference for tests and benchmarks, not for production sizes.

    Returns
    -------
    need, volunteer : ndarray of int
        Matched pairs sorted by need.

    Examples
    --------
    >>> dense_assign(Problem([0.0, 0.0], [0.0, 0.01], [0, 0], [10, 40], [0.0], [0.005],
    ...                      [[True]], [5.0]))
    (array([1]), array([0]))
    """
    # Imported here: scipy.optimize takes ~0.7 s to import, and only this reference needs it.
    from scipy.optimize import linear_sum_assignment

    n, m = p.n_need, p.n_vol
    empty = np.zeros(0, dtype=np.intp)
    if n == 0 or m == 0:
        return empty, empty
    cap = np.minimum(p.capacity, n)
    worst = min(p.max_km, float(p.radius.max())) + float(p.penalty.max())
    big = 1.0 + min(n, int(cap.sum())) * worst
    forbidden = 4.0 * (big * float(p.weight.max()) + worst + 1.0)
    cost = np.empty((n, m))
    step = max(1, 2_000_000 // max(m, 1))
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        rows = np.arange(r0, r1)
        chord = np.linalg.norm(p.xyz_need[r0:r1, None, :] - p.xyz_vol[None, :, :], axis=2)
        km = chord_to_km(chord)
        need = np.broadcast_to(rows[:, None], km.shape).ravel()
        vol = np.broadcast_to(np.arange(m)[None, :], km.shape).ravel()
        ok = p.feasible(need, vol, km.ravel()).reshape(km.shape)
        ok &= p.offers[:, p.category[rows]].T
        cost[r0:r1] = np.where(ok, km + p.penalty[None, :], forbidden)
    slack = np.full((n, n), forbidden)
    np.fill_diagonal(slack, big * p.weight)
    full = np.concatenate([np.repeat(cost, cap, axis=1), slack], axis=1)
    del cost, slack
    rows, cols = linear_sum_assignment(full)
    owner = np.repeat(np.arange(m), cap)
    real = (cols < len(owner)) & (full[rows, np.minimum(cols, full.shape[1] - 1)] < forbidden)
    return rows[real].astype(np.intp), owner[cols[real]].astype(np.intp)


def _nearest_feasible(p: Problem, k: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Up to k nearest feasible volunteers per need, sorted by need then cost."""
    need_parts, vol_parts = [], []
    free = p.capacity > 0
    for c in range(p.offers.shape[1]):
        members = np.flatnonzero(p.offers[:, c] & free)
        needs = np.flatnonzero(p.category == c)
        if not len(members) or not len(needs):
            continue
        reach = min(p.max_km, float(p.radius[members].max()))
        kk = min(k, len(members))
        _, idx = cKDTree(p.xyz_vol[members]).query(
            p.xyz_need[needs], k=kk, distance_upper_bound=float(km_to_chord(reach)) * (1 + 1e-9)
        )
        idx = idx.reshape(len(needs), kk)
        hit = idx < len(members)
        need_parts.append(np.broadcast_to(needs[:, None], idx.shape)[hit])
        vol_parts.append(members[idx[hit]])
    if not need_parts:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    need, vol = np.concatenate(need_parts), np.concatenate(vol_parts)
    km = p.pair_km(need, vol)
    ok = p.feasible(need, vol, km)
    need, vol, cost = need[ok], vol[ok], (km + p.penalty[vol])[ok]
    order = np.lexsort((vol, cost, need))
    return need[order], vol[order]


def first_come_first_served(p: Problem, arrival: ArrayLike | None = None, k: int = 64) -> _Pairs:
    """Dispatch in arrival order, each need to its nearest feasible free volunteer.

    ``arrival`` is a sort key per need (earliest first; default the index order);
    ``k`` is how many nearest volunteers a need looks at (it stays unmatched if all
    ``k`` are busy).

    Examples
    --------
    >>> first_come_first_served(Problem([0.0, 0.0], [0.0, 0.01], [0, 0], [10, 40],
    ...                                 [0.0], [0.005], [[True]], [5.0]))
    (array([0]), array([0]))
    """
    need, vol = _nearest_feasible(p, k)
    starts = np.searchsorted(need, np.arange(p.n_need + 1))
    order = (
        np.arange(p.n_need)
        if arrival is None
        else np.lexsort((np.arange(p.n_need), np.asarray(arrival)))
    )
    left = p.capacity.tolist()
    vols = vol.tolist()
    bounds = starts.tolist()
    out_need, out_vol = [], []
    for i in order.tolist():
        for j in vols[bounds[i] : bounds[i + 1]]:
            if left[j] > 0:
                left[j] -= 1
                out_need.append(i)
                out_vol.append(j)
                break
    result_need = np.array(out_need, dtype=np.intp)
    result_vol = np.array(out_vol, dtype=np.intp)
    by_need = np.argsort(result_need, kind="stable")
    return result_need[by_need], result_vol[by_need]


def greedy_cheapest_first(p: Problem, k: int = 16) -> _Pairs:
    """Take pairs cheapest first among each need's ``k`` nearest feasible volunteers.

    Ignores priority entirely (a priority-weighted greedy is worse: it serves
    low-priority needs first). Same arguments as `assign`.

    Examples
    --------
    >>> greedy_cheapest_first(Problem([0.0, 0.0], [0.0, 0.01], [0, 0], [10, 40],
    ...                               [0.0], [0.0], [[True]], [5.0]))
    (array([0]), array([0]))
    """
    need, vol = _nearest_feasible(p, k)
    cost = p.pair_km(need, vol) + p.penalty[vol]
    order = np.lexsort((vol, need, cost))
    left = p.capacity.tolist()
    done = [False] * p.n_need
    out_need, out_vol = [], []
    for i, j in zip(need[order].tolist(), vol[order].tolist(), strict=True):
        if not done[i] and left[j] > 0:
            done[i] = True
            left[j] -= 1
            out_need.append(i)
            out_vol.append(j)
    result_need = np.array(out_need, dtype=np.intp)
    result_vol = np.array(out_vol, dtype=np.intp)
    by_need = np.argsort(result_need, kind="stable")
    return result_need[by_need], result_vol[by_need]
