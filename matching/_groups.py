"""Interchangeable needs and volunteers, aggregated: the transportation problem the solvers see.

A *row* is a group of needs at the same point, of the same category and vetting
requirement and without exclusions (a need with exclusions is a row of its own): every
volunteer can serve all of them or none, at the same cost. Its supply is the group's
size; its priority weights become *slack columns*, one per weight, whose capacity is
the number of needs of that weight and whose cost (the weight) is what leaving one of
them unserved costs. A *class* is a group of volunteers at the same point offering the
same categories with the same vetting and penalty, never excluded, and reaching the
same needs (co-located radii with no need between them merge); its capacity is the
members' sum. SMS intake puts hundreds of people on one ZIP centroid: there the
aggregation turns thousands of zero-distance ties into a handful of rows and classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._arrays import blocks, distinct
from ._kdtree import cKDTree
from ._problem import Problem, chord_km, gathered_km

__all__ = ["Groups", "group", "spread"]

_IntArray = NDArray[np.intp]
_AnyInt = NDArray[np.signedinteger[Any]]  # row and class numbers, 32- or 64-bit


@dataclass(frozen=True)
class Groups:
    """Rows (need groups), their slack columns, and volunteer classes of a `Problem`.

    Attributes
    ----------
    row_of_need : ndarray of int, shape (n,)
    row_ptr, row_members : ndarray of int
        CSR: the needs of each row, by index.
    row_xyz, row_category, row_vetted, row_supply, row_excludes :
        Per row: point, category, vetting requirement, size, whether it has exclusions.
    slack_row, slack_weight, slack_count : ndarray
        Per slack column (sorted by row, then weight): its row, weight and capacity.
    slack_ptr : ndarray of int, shape (n_rows + 1,)
        The slack columns of each row.
    class_of_vol : ndarray of int, shape (m,)
        Class of each volunteer (-1 for volunteers with no capacity or no category).
    class_ptr, class_members : ndarray of int
        CSR: the volunteers of each class, by index.
    class_xyz, class_offers, class_radius, class_vetted, class_penalty, class_capacity :
        Per class.
    excluded_rows, excluded_cols : ndarray of int
        The excluded (row, class) pairs, sorted.
    """

    row_of_need: _IntArray
    row_ptr: _IntArray
    row_members: _IntArray
    row_xyz: NDArray[np.float64]
    row_category: _IntArray
    row_vetted: NDArray[np.bool_]
    row_supply: NDArray[np.int64]
    slack_row: _IntArray
    slack_weight: NDArray[np.int64]
    slack_count: NDArray[np.int64]
    slack_ptr: _IntArray
    class_of_vol: _IntArray
    class_ptr: _IntArray
    class_members: _IntArray
    class_xyz: NDArray[np.float64]
    class_offers: NDArray[np.bool_]
    class_radius: NDArray[np.float64]
    class_vetted: NDArray[np.bool_]
    class_penalty: NDArray[np.float64]
    class_capacity: NDArray[np.int64]
    exclude_keys: NDArray[np.int64]
    max_km: float

    @property
    def n_rows(self) -> int:
        return len(self.row_supply)

    @property
    def n_classes(self) -> int:
        return len(self.class_capacity)

    def feasible(self, row: _AnyInt, col: _AnyInt, km: NDArray[np.float64]) -> NDArray:
        """Which (row, class) pairs at these distances may be matched."""
        ok = self.class_offers[col, self.row_category[row]]
        ok &= km <= np.minimum(self.class_radius[col], self.max_km)
        ok &= ~(self.row_vetted[row] & ~self.class_vetted[col])
        if len(self.exclude_keys):
            keys = row.astype(np.int64) * self.n_classes + col
            at = np.minimum(np.searchsorted(self.exclude_keys, keys), len(self.exclude_keys) - 1)
            ok &= self.exclude_keys[at] != keys
        return ok

    def pair_km(self, row: _AnyInt, col: _AnyInt) -> NDArray[np.float64]:
        return gathered_km(self.row_xyz, row, self.class_xyz, col)


def _bits(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Exact bit patterns of floats (so -0.0 and 0.0 differ only if they differ as points)."""
    return (np.asarray(values, dtype=np.float64) + 0.0).view(np.int64)


def _label(columns: list[NDArray]) -> tuple[_IntArray, _IntArray, _IntArray, _IntArray]:
    """Group records by equal keys, groups ranked by their first (lowest) record.

    Returns each record's group, each group's first record, and the groups' members in
    CSR form (``members[ptr[g]:ptr[g + 1]]``, by index): one sort of the keys, with the
    groups' blocks then moved into rank order (no second sort by group).
    """
    n = len(columns[0])
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(1, dtype=np.intp), empty
    order = np.lexsort([*columns[::-1]])
    keys = np.stack([c[order] for c in columns], axis=1)
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    starts = np.flatnonzero(new)
    # The sort is stable: each block lists its records by index, lowest first.
    first = order[starts]
    by_rank = np.argsort(first, kind="stable")
    rank = np.empty_like(by_rank)
    rank[by_rank] = np.arange(len(by_rank))
    label = np.empty(n, dtype=np.intp)
    label[order] = rank[np.cumsum(new) - 1]
    lengths = np.diff(np.append(starts, n))[by_rank]
    ptr = np.zeros(len(by_rank) + 1, dtype=np.intp)
    np.cumsum(lengths, out=ptr[1:])
    members = order[blocks(starts[by_rank], lengths)].astype(np.intp)
    return label, first[by_rank].astype(np.intp), ptr, members


def _effective_reach(p: Problem, usable: _IntArray) -> NDArray[np.float64]:
    """Per usable volunteer, the farthest need point it reaches (-1 if none); computed only
    where several volunteers share a point (elsewhere its own reach: nothing to merge)."""
    reach = p.reach()[usable]
    out = reach.copy()
    if not len(usable) or not p.n_need:
        return out
    # Volunteers by point (a sort: np.unique on rows of two columns takes 1.2 s for 1M).
    point = _label([_bits(p.lat_lon_vol[usable, 0]), _bits(p.lat_lon_vol[usable, 1])])[0]
    count = np.bincount(point)
    shared = np.flatnonzero(count[point] > 1)
    if not len(shared):
        return out
    first = _label([_bits(p.xyz_need[:, k]) for k in range(3)])[1]
    need_pts = p.xyz_need[first]
    tree = cKDTree(need_pts)
    by_point = shared[np.argsort(point[shared], kind="stable")]
    starts = np.flatnonzero(np.r_[True, point[by_point][1:] != point[by_point][:-1]])
    for s, e in zip(starts, [*starts[1:], len(by_point)], strict=True):
        vols = by_point[s:e]
        here = p.xyz_vol[usable[vols[0]]]
        r = float(reach[vols].max())
        chord = 2.0 * np.sin(min(r / 6371.009, np.pi) * 0.5) * (1 + 1e-9) + 1e-12
        near = np.asarray(tree.query_ball_point(here, chord), dtype=np.intp)
        km = np.sort(chord_km(need_pts[near], np.broadcast_to(here, (len(near), 3))))
        if not len(km):
            out[vols] = -1.0
            continue
        at = np.searchsorted(km, reach[vols], side="right") - 1
        out[vols] = np.where(at >= 0, km[np.maximum(at, 0)], -1.0)
    return out


def group(p: Problem) -> Groups:
    """Rows, slack columns and volunteer classes of a problem.

    Examples
    --------
    Three needs on one point (weights 10, 10, 40) and two identical volunteers:

    >>> p = Problem([0.0] * 3, [0.0] * 3, [0, 0, 0], [10, 10, 40], [0.0, 0.0], [0.0, 0.0],
    ...             [[True], [True]], [5.0, 5.0])
    >>> g = group(p)
    >>> g.row_supply.tolist(), g.slack_weight.tolist(), g.slack_count.tolist()
    ([3], [10, 40], [2, 1])
    >>> g.class_capacity.tolist(), g.class_members.tolist()
    ([2], [0, 1])
    """
    n, m = p.n_need, p.n_vol
    excl_need = distinct(p.exclude_keys // max(m, 1))
    excl_vol = distinct(p.exclude_keys % max(m, 1))
    own = np.full(n, -1, dtype=np.int64)
    own[excl_need] = excl_need
    row_of_need, first, row_ptr, row_members = _label(
        [
            _bits(p.lat_lon_need[:, 0]),
            _bits(p.lat_lon_need[:, 1]),
            p.category.astype(np.int64),
            p.needs_vetted.astype(np.int64),
            own,
        ]
    )
    n_rows = len(first)
    # Slack columns: (row, weight), sorted by row then weight.
    if n:
        keys = np.unique(row_of_need.astype(np.int64) * (2**21) + p.weight, return_counts=True)
        slack_row = (keys[0] // (2**21)).astype(np.intp)
        slack_weight = keys[0] % (2**21)
        slack_count = keys[1].astype(np.int64)
    else:
        slack_row = np.zeros(0, dtype=np.intp)
        slack_weight = slack_count = np.zeros(0, dtype=np.int64)
    slack_ptr = np.searchsorted(slack_row, np.arange(n_rows + 1)).astype(np.intp)
    # Volunteer classes among volunteers who can take anything.
    usable = np.flatnonzero((p.capacity > 0) & p.offers.any(axis=1))
    class_of_vol = np.full(m, -1, dtype=np.intp)
    if len(usable):
        offer_bits = np.packbits(p.offers[usable], axis=1)
        if offer_bits.shape[1] <= 8:
            # Up to 64 categories: the offer's bits as one integer (np.unique on rows of
            # bytes takes 0.5 s for 1M; `_label` only compares keys).
            wide = np.zeros((len(usable), 8), dtype=np.uint8)
            wide[:, : offer_bits.shape[1]] = offer_bits
            offer_key = wide.view(np.int64).reshape(-1)
        else:
            offer_key = np.unique(offer_bits, axis=0, return_inverse=True)[1].reshape(-1)
        solo = np.full(len(usable), -1, dtype=np.int64)
        is_excl = np.isin(usable, excl_vol)
        solo[is_excl] = usable[is_excl]
        label, _, class_ptr, members_local = _label(
            [
                _bits(p.lat_lon_vol[usable, 0]),
                _bits(p.lat_lon_vol[usable, 1]),
                offer_key.astype(np.int64),
                _bits(_effective_reach(p, usable)),
                p.vetted[usable].astype(np.int64),
                _bits(p.penalty[usable]),
                solo,
            ]
        )
        class_of_vol[usable] = label
        n_classes = len(class_ptr) - 1
    else:
        n_classes = 0
        class_ptr, members_local = np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.intp)
    class_members = usable[members_local]
    head = class_members[class_ptr[:-1]] if n_classes else np.zeros(0, dtype=np.intp)
    radius = np.full(n_classes, np.inf)
    if n_classes:
        np.minimum.at(radius, class_of_vol[usable], p.radius[usable])
    capacity = np.bincount(class_of_vol[usable], weights=p.capacity[usable], minlength=n_classes)
    ex_rows = row_of_need[p.exclude_keys // max(m, 1)]
    ex_cols = class_of_vol[p.exclude_keys % max(m, 1)]
    keep = ex_cols >= 0
    exclude_keys = distinct(ex_rows[keep].astype(np.int64) * max(n_classes, 1) + ex_cols[keep])
    return Groups(
        row_of_need=row_of_need,
        row_ptr=row_ptr,
        row_members=row_members,
        row_xyz=p.xyz_need[first],
        row_category=p.category[first],
        row_vetted=p.needs_vetted[first],
        row_supply=np.diff(row_ptr).astype(np.int64),
        slack_row=slack_row,
        slack_weight=slack_weight.astype(np.int64),
        slack_count=slack_count,
        slack_ptr=slack_ptr,
        class_of_vol=class_of_vol,
        class_ptr=class_ptr,
        class_members=class_members,
        class_xyz=p.xyz_vol[head],
        class_offers=p.offers[head],
        class_radius=radius,
        class_vetted=p.vetted[head],
        class_penalty=p.penalty[head],
        class_capacity=capacity.astype(np.int64),
        exclude_keys=exclude_keys,
        max_km=p.max_km,
    )


def spread(
    p: Problem,
    g: Groups,
    arc_row: _IntArray,
    arc_col: _IntArray,
    arc_cost: NDArray[np.int64],
    arc_flow: NDArray[np.int64],
    slack_flow: NDArray[np.int64],
) -> tuple[_IntArray, _IntArray]:
    """Needs and volunteers of a routing of rows into classes, ties by id.

    Within a row the served needs of each weight are its lowest ids (the unserved are
    its slack flow); the row's served needs, heaviest first then by id, take its
    routed units cheapest first. A class's needs, by id, fill its volunteers in id
    order up to each one's capacity.

    Returns
    -------
    need, volunteer : ndarray of int
        Matched pairs sorted by need.
    """
    empty = np.zeros(0, dtype=np.intp)
    if not g.n_rows or not len(arc_row):
        return empty, empty
    # Served needs per slack column: the lowest ids of that weight in the row.
    served_count = g.slack_count - slack_flow
    need_slack = np.searchsorted(
        g.slack_row.astype(np.int64) * (2**21) + g.slack_weight,
        g.row_of_need.astype(np.int64) * (2**21) + p.weight,
    )
    order = np.lexsort((np.arange(p.n_need), need_slack))
    rank = np.arange(p.n_need) - np.searchsorted(need_slack[order], need_slack[order])
    served_sorted = rank < served_count[need_slack[order]]
    served = order[served_sorted]
    # Within each row: heaviest first, then id.
    srow = g.row_of_need[served]
    by_row = np.lexsort((served, -p.weight[served], srow))
    served, srow = served[by_row], srow[by_row]
    # Units routed from each row, cheapest arc first, then class order.
    use = arc_flow > 0
    r, c, k, f = arc_row[use], arc_col[use], arc_cost[use], arc_flow[use]
    by_arc = np.lexsort((c, k, r))
    r, c, f = r[by_arc], c[by_arc], f[by_arc]
    unit_col = np.repeat(c, f)
    unit_row = np.repeat(r, f)
    if len(unit_row) != len(srow) or np.any(unit_row != srow):
        raise RuntimeError("routing and served counts disagree")  # a solver bug, never input
    # Each class's needs by id fill its volunteers in id order.
    by_class = np.lexsort((served, unit_col))
    need_sorted, col_sorted = served[by_class], unit_col[by_class]
    rank = np.arange(len(col_sorted)) - np.searchsorted(col_sorted, col_sorted)
    members = g.class_members
    caps = p.capacity[members]
    seat_start = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum(caps, out=seat_start[1:])
    # The k-th need of a class sits on the volunteer whose seats cover position k.
    class_seat0 = seat_start[g.class_ptr[:-1]]
    seat = class_seat0[col_sorted] + rank
    vol = members[np.searchsorted(seat_start, seat, side="right") - 1]
    by_need = np.argsort(need_sorted, kind="stable")
    return need_sorted[by_need].astype(np.intp), vol[by_need].astype(np.intp)
