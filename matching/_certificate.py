"""The optimality certificate over *all* feasible pairs: find every (row, class) pair whose
reduced cost under a solution's dual prices is negative, without listing the pairs
that cannot be.

Row ``r`` and class ``q`` at ``km`` have reduced cost ``km + penalty_q - beta_q -
alpha_r`` (pairs of exact integers: weight part, then cost in units). Write
``theta_r = alpha_r`` and ``lambda_q = penalty_q - beta_q >= 0``: the pair violates when
``km + lambda_q < theta_r``. A class whose weight part of ``lambda`` is below the row's
violates at any distance in range; one with an equal weight part only within
``(theta - lambda)`` km. So rows are taken by the weight part of ``theta`` (a tier), and
each tier looks at the classes priced below it (nearest few first), then, for the rows
those did not settle, within the one ball that can still hold a violation.

After a warm start most prices are as they were when last checked. A pair violates
only if ``theta_r - lambda_q`` exceeds its km, so a pair that did not violate then and
whose row price did not rise and class price did not rise (``lambda`` did not fall)
cannot now: rows whose price rose (or whose violating pairs were not all returned last
time: "open") are checked with every class, the others with the classes whose price
rose only. Metro 100k, rounds 3-6: 0.24-0.03 s a check (whole: ~0.5 s each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._arrays import distinct
from ._candidates import Arcs, CategoryIndex, ball_pairs, chord_bound, merge
from ._geo import chord_to_km
from ._groups import Groups
from ._kdtree import cKDTree, workers
from ._solvers import Solution

__all__ = ["Checked", "violations"]

_IntArray = NDArray[np.intp]
_Int = NDArray[np.int64]
# Nearest classes priced below a tier looked at before a ball query.
_NEAREST = 8
# Below its k-d tree chord, a pair's exact distance can be no shorter than this (km; the
# two computations differ by ~1e-12 km).
_CHORD_SLACK_KM = 1e-6
# Ball radii are rounded up to these steps (km, factor sqrt 2), to batch the queries.
_STEPS = 0.05 * np.sqrt(2.0) ** np.arange(48)


def _ball_pairs_about(tree: cKDTree, xyz: NDArray, km: float) -> float:
    """About how many points of ``tree`` lie within ``km`` of all of ``xyz`` (a sample)."""
    sample = xyz[:: max(1, len(xyz) // 16)]
    counts = tree.query_ball_point(sample, chord_bound(km), return_length=True)
    return float(np.mean(counts)) * len(xyz)


def _keep_best(row: _IntArray, col: _IntArray, rw: _Int, rc: _Int, per_row: _Int) -> tuple:
    """The most negative few pairs of each row (``per_row[row]`` of them)."""
    order = np.lexsort((col, rc, rw, row))
    row, col = row[order], col[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row)
    keep = rank < per_row[row]
    return row[keep], col[keep]


def _above(w: _Int, c: _Int, w0: _Int, c0: _Int) -> NDArray[np.bool_]:
    return (w > w0) | ((w == w0) & (c > c0))


@dataclass(frozen=True)
class Checked:
    """What a certificate check leaves for the next: the solution it checked, and the
    rows whose violating pairs it did not all return (they may violate still)."""

    solution: Solution
    open_rows: NDArray[np.bool_]


def violations(
    g: Groups,
    index: CategoryIndex,
    sol: Solution,
    per_km: float,
    add_per_row: _Int,
    since: Checked | None = None,
) -> tuple[Arcs, int, Checked]:
    """Feasible pairs of negative reduced cost (the few most negative per row).

    ``since``: the check of the solution ``sol`` was warm-started from. Then only pairs
    that can have become violating are looked at: a pair whose row price did not rise
    and whose class price did not rise cannot, unless its row was left open (its
    violating pairs not all returned). The pairs found are the same as a whole check's.

    Returns
    -------
    arcs : Arcs
        Empty when the duals are feasible for every feasible pair: then, with the
        in-graph checks of `Solution.duals_ok`, the solution is optimal.
    checked : int
        Pairs whose reduced cost was computed.
    done : Checked
        For the next round's ``since``.
    """
    rows_up = cols_up = None
    if since is not None and sol.warm:
        old = since.solution
        rows_up = _above(sol.alpha_w, sol.alpha_c, old.alpha_w, old.alpha_c) | since.open_rows
        cols_up = _above(sol.beta_w, sol.beta_c, old.beta_w, old.beta_c)
    open_rows = np.zeros(g.n_rows, dtype=bool)
    pen_units = np.rint(g.class_penalty * per_km).astype(np.int64)
    lam_w = -sol.beta_w
    lam_c = pen_units - sol.beta_c
    found_r: list[_IntArray] = []
    found_q: list[_IntArray] = []
    found_w: list[_Int] = []
    found_c: list[_Int] = []
    checked = 0

    def check(r: _IntArray, q: _IntArray, chord=None) -> NDArray[np.bool_]:
        """Which pairs violate (their exact distance computed only where one can: a
        class priced below the row's weight, or at it within ``gap`` units, which the
        k-d tree's ``chord`` may already rule out)."""
        nonlocal checked
        checked += len(r)
        rw = lam_w[q] - sol.alpha_w[r]
        gap = sol.alpha_c[r] - lam_c[q]
        may = (rw < 0) | ((rw == 0) & (gap > 0))
        if chord is not None:
            low_km = chord_to_km(chord) - _CHORD_SLACK_KM
            may &= (rw < 0) | (low_km * per_km - 0.5 < gap)
        at = np.flatnonzero(may)
        km = g.pair_km(r[at], q[at])
        rc = np.rint(km * per_km).astype(np.int64) - gap[at]
        hit = (rw[at] < 0) | ((rw[at] == 0) & (rc < 0))
        hit[hit] = g.feasible(r[at[hit]], q[at[hit]], km[hit])
        at = at[hit]
        found_r.append(r[at])
        found_q.append(q[at])
        found_w.append(rw[at])
        found_c.append(rc[hit])
        bad = np.zeros(len(r), dtype=bool)
        bad[at] = True
        return bad

    def check_pool(rows: _IntArray, pool: _IntArray, pool_tree, reach: float) -> None:
        """Every pair of ``rows`` and ``pool`` (``pool_tree`` a k-d tree of it) that
        can violate."""
        if not len(rows) or not len(pool):
            return
        lw, lc = lam_w[pool], lam_c[pool]
        low_w = int(lw.min())
        low_c = int(lc[lw == low_w].min())
        tw, tc = sol.alpha_w[rows], sol.alpha_c[rows]
        may = (tw > low_w) | ((tw == low_w) & (tc > low_c))
        rows, tw, tc = rows[may], tw[may], tc[may]
        for t in distinct(tw):
            in_tier = tw == t
            tier_rows, tier_c = rows[in_tier], tc[in_tier]
            below = pool[lw < t]
            level = pool[lw == t]
            settled = np.zeros(len(tier_rows), dtype=bool)
            # Rows whose balls hold fewer pairs in all than there are classes priced
            # below go straight to their balls: a tree of those classes, to find their
            # nearest few, would cost more (country 300k: ten trees of 300k classes for
            # tiers of 80-1,000 unserved rows, 1 s; in a metro a 15 km ball holds half
            # the city, and the tree is much the cheaper).
            if len(below) and _ball_pairs_about(pool_tree, g.row_xyz[tier_rows], reach) > len(
                below
            ):
                k = min(_NEAREST, len(below))
                _, idx = cKDTree(g.class_xyz[below]).query(
                    g.row_xyz[tier_rows],
                    k=k,
                    distance_upper_bound=chord_bound(reach),
                    workers=workers(len(tier_rows)),
                )
                idx = np.asarray(idx).reshape(len(tier_rows), k)
                hit = idx < len(below)
                at = np.broadcast_to(np.arange(len(tier_rows))[:, None], idx.shape)[hit]
                bad = check(tier_rows[at], below[idx[hit]])
                settled[at[bad]] = True
                # Their other pairs are not looked at: open until checked again.
                open_rows[tier_rows[settled]] = True
            rest, rest_c = tier_rows[~settled], tier_c[~settled]
            if not len(rest):
                continue
            both = pool[lw <= t]  # below and level, in pool order (sorted)
            if not len(both):
                continue
            # Most of the pool: its own tree, the pairs of classes priced above the
            # tier dropped unchecked (they cannot violate), rather than a new tree.
            whole = 2 * len(both) >= len(pool)
            tree = pool_tree if whole else cKDTree(g.class_xyz[both])
            among = pool if whole else both
            if len(below):
                radius = np.full(len(rest), reach)
            else:
                # Only classes at the tier's own weight: within (theta - lambda) km.
                slack = (rest_c - int(lam_c[level].min())).astype(np.float64) / per_km
                radius = np.minimum(slack, reach)
            step = np.minimum(np.searchsorted(_STEPS, radius), len(_STEPS) - 1)
            for s in distinct(step):
                part = rest[step == s]
                km = min(float(_STEPS[s]), reach)
                for r, q, chord in ball_pairs(tree, among, g.row_xyz, part, km):
                    if whole:
                        keep = lam_w[q] <= t
                        r, q, chord = r[keep], q[keep], chord[keep]
                    check(r, q, chord)

    for c in range(len(index.members)):
        reach = index.reach_km[c]
        if cols_up is None or rows_up is None:
            for rows, pool, pool_tree in index.pools(g, c, index.rows[c]):
                check_pool(rows, pool, pool_tree, reach)
            continue
        # Rows whose price rose (or left open), with every class; the others with the
        # classes whose price rose only.
        for rows, pool, pool_tree in index.pools(g, c, index.rows[c]):
            check_pool(rows[rows_up[rows]], pool, pool_tree, reach)
            rising = pool[cols_up[pool]]
            if len(rising):
                check_pool(rows[~rows_up[rows]], rising, cKDTree(g.class_xyz[rising]), reach)

    if not found_r:
        return Arcs.empty(), checked, Checked(sol, open_rows)
    all_r = np.concatenate(found_r)
    # Rows with more violating pairs than are returned stay open.
    open_rows |= np.bincount(all_r, minlength=g.n_rows) > add_per_row
    row, col = _keep_best(
        all_r,
        np.concatenate(found_q),
        np.concatenate(found_w),
        np.concatenate(found_c),
        add_per_row,
    )
    return (
        merge(g, Arcs.empty(), Arcs(row, col, g.pair_km(row, col))),
        checked,
        Checked(sol, open_rows),
    )
