"""Candidate graphs between need rows and volunteer classes: nearest ones first, or all
feasible pairs (the exact fallback), from k-d trees on 3-D unit vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._arrays import distinct, distinct_first
from ._geo import km_to_chord
from ._groups import Groups
from ._kdtree import cKDTree, workers

__all__ = ["Arcs", "CategoryIndex", "candidates", "full_graph", "merge", "merge_into"]

_IntArray = NDArray[np.intp]
# Pairs looked at per chunk of a ball query (bounds the memory of one step).
_CHUNK_PAIRS = 2_000_000
# Nearest classes a ball query asks for first, where its balls hold at most _KNN_BALL
# classes on average (more, and most rows would be asked for their balls again). That
# query runs on every core, the ball query on one: country 1M, the first certificate
# (8.5 million pairs), alternating in one process, 16 and 4: 8.1-8.5 s; 32 and 12:
# 7.6-7.7 s; 64 and 24: 5.4-6.8 s; 128 and 48: 5.8-7.0 s.
_KNN = 64
_KNN_BALL = 24.0


#: Rows and classes of arcs are 32-bit (12 million arcs: 96 MB less each time a graph is
#: held); a row or class number past 2**31 would need some 50 GB of rows first.
ARC_INDEX = np.int32


@dataclass(frozen=True)
class Arcs:
    """Feasible (row, class) pairs, sorted by row then class, with their km (rows and
    classes as `ARC_INDEX`; multiply them only after widening to int64)."""

    row: _IntArray
    col: _IntArray
    km: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> Arcs:
        """No pairs."""
        return cls(np.zeros(0, dtype=ARC_INDEX), np.zeros(0, dtype=ARC_INDEX), np.zeros(0))


class CategoryIndex:
    """Per category, k-d trees of the volunteer classes offering it (all, and vetted ones),
    and of the rows needing it."""

    def __init__(self, g: Groups) -> None:
        self.members: list[_IntArray] = []
        self.trees: list[cKDTree | None] = []
        self.vetted_members: list[_IntArray] = []
        self.vetted_trees: list[cKDTree | None] = []
        self.rows: list[_IntArray] = []
        self.reach_km: list[float] = []
        n_cat = g.class_offers.shape[1] if g.n_classes else int(g.row_category.max(initial=-1)) + 1
        n_cat = max(n_cat, int(g.row_category.max(initial=-1)) + 1)
        for c in range(n_cat):
            members = (
                np.flatnonzero(g.class_offers[:, c])
                if g.n_classes and c < g.class_offers.shape[1]
                else np.zeros(0, dtype=np.intp)
            )
            self.members.append(members)
            self.trees.append(cKDTree(g.class_xyz[members]) if len(members) else None)
            vetted = members[g.class_vetted[members]]
            self.vetted_members.append(vetted)
            self.vetted_trees.append(cKDTree(g.class_xyz[vetted]) if len(vetted) else None)
            self.rows.append(np.flatnonzero(g.row_category == c))
            reach = float(g.class_radius[members].max()) if len(members) else 0.0
            self.reach_km.append(min(g.max_km, reach))

    def pools(self, g: Groups, c: int, rows: _IntArray):
        """(rows, pool, tree) for the rows not needing vetting and those needing it."""
        strict = g.row_vetted[rows]
        yield rows[~strict], self.members[c], self.trees[c]
        yield rows[strict], self.vetted_members[c], self.vetted_trees[c]


def chord_bound(km: float) -> float:
    """A chord a little above the one of ``km``: k-d queries must not miss a boundary pair."""
    return float(km_to_chord(km)) * (1 + 1e-9) + 1e-12


def _finish(g: Groups, row: _IntArray, col: _IntArray) -> Arcs:
    """The distinct feasible pairs among these, sorted, with their km."""
    return _from_keys(g, distinct(row.astype(np.int64) * g.n_classes + col))


def _from_keys(g: Groups, keys: NDArray[np.int64]) -> Arcs:
    """The feasible pairs among these distinct sorted keys (``row * n_classes + class``),
    with their km: a block of pairs at a time (the temporaries of a million rows'
    candidate pairs at once: 1.5 GB)."""
    if not len(keys):
        return Arcs.empty()
    parts = []
    for start in range(0, len(keys), _CHUNK_PAIRS):
        part = keys[start : start + _CHUNK_PAIRS]
        r = (part // g.n_classes).astype(ARC_INDEX)
        q = (part % g.n_classes).astype(ARC_INDEX)
        km = g.pair_km(r, q)
        ok = g.feasible(r, q, km)
        parts.append(Arcs(r[ok], q[ok], km[ok]))
    if len(parts) == 1:
        return parts[0]
    return Arcs(
        np.concatenate([a.row for a in parts]),
        np.concatenate([a.col for a in parts]),
        np.concatenate([a.km for a in parts]),
    )


def merge_into(g: Groups, a: Arcs, b: Arcs) -> tuple[Arcs, NDArray[np.int64]]:
    """`merge` of arcs ``b`` into ``a``, and where ``a``'s arcs are in the result.

    ``b`` sorted by row then class, each pair once, as ``a``: its new pairs are
    inserted in place (a million rows' 12 million arcs and a few thousand new ones:
    a copy, not a sort of them all).
    """
    if not len(a):
        return merge(g, a, b), np.zeros(0, dtype=np.int64)
    n = g.n_classes
    ka = a.row.astype(np.int64) * n + a.col
    kb = b.row.astype(np.int64) * n + b.col
    if len(kb) > 1 and np.any(kb[1:] <= kb[:-1]):
        raise ValueError("merge_into: b must be sorted by row then class, each pair once")
    at = np.searchsorted(ka, kb)
    fresh = np.flatnonzero((at >= len(ka)) | (ka[np.minimum(at, len(ka) - 1)] != kb))
    at = at[fresh]
    merged = Arcs(
        np.insert(a.row, at, b.row[fresh]),
        np.insert(a.col, at, b.col[fresh]),
        np.insert(a.km, at, b.km[fresh]),
    )
    # Arc k of a moves up by the new arcs inserted before it.
    shift = np.cumsum(np.bincount(at, minlength=len(ka) + 1)[: len(ka)])
    shift += np.arange(len(ka))
    return merged, shift


def merge(g: Groups, a: Arcs, b: Arcs) -> Arcs:
    """Union of two arc sets (distances are kept, not recomputed)."""
    row = np.concatenate([a.row, b.row])
    col = np.concatenate([a.col, b.col])
    km = np.concatenate([a.km, b.km])
    keys, first = distinct_first(row.astype(np.int64) * g.n_classes + col)
    return Arcs(
        (keys // g.n_classes).astype(ARC_INDEX), (keys % g.n_classes).astype(ARC_INDEX), km[first]
    )


def candidates(g: Groups, index: CategoryIndex, k_vol: int, k_need: int) -> Arcs:
    """Nearest classes of each row (more for larger rows, so a crowd on one point is not
    offered the same few) and nearest rows of each class."""
    rows_out: list[_IntArray] = []
    cols_out: list[_IntArray] = []
    for c in range(len(index.members)):
        bound = chord_bound(index.reach_km[c])
        for rows, pool, tree in index.pools(g, c, index.rows[c]):
            if tree is None or not len(rows):
                continue
            # A row of s needs looks at k * s classes, at most 64 k.
            want = np.minimum(k_vol * np.minimum(g.row_supply[rows], 64), len(pool))
            for k in distinct(want):
                part = rows[want == k]
                _, idx = tree.query(
                    g.row_xyz[part],
                    k=int(k),
                    distance_upper_bound=bound,
                    workers=workers(len(part)),
                )
                idx = np.asarray(idx).reshape(len(part), int(k))
                hit = idx < len(pool)
                rows_out.append(np.broadcast_to(part[:, None], idx.shape)[hit])
                cols_out.append(pool[idx[hit]])
        rows = index.rows[c]
        members = index.members[c]
        if k_need > 0 and len(rows) and len(members):
            kn = min(k_need, len(rows))
            _, idx = cKDTree(g.row_xyz[rows]).query(
                g.class_xyz[members],
                k=kn,
                distance_upper_bound=bound,
                workers=workers(len(members)),
            )
            idx = np.asarray(idx).reshape(len(members), kn)
            hit = idx < len(rows)
            rows_out.append(rows[idx[hit]])
            cols_out.append(np.broadcast_to(members[:, None], idx.shape)[hit])
    keys = [r.astype(np.int64) * g.n_classes + q for r, q in zip(rows_out, cols_out, strict=True)]
    rows_out.clear()
    cols_out.clear()
    return _from_keys(g, distinct(np.concatenate(keys)) if keys else np.zeros(0, np.int64))


def ball_pairs(tree: cKDTree, pool: _IntArray, xyz: NDArray, rows: _IntArray, km: float):
    """Chunks of (row, class, chord) pairs within ``km`` of each row's point (in no
    particular order).

    Where balls hold a few classes each, the ``_KNN`` nearest within ``km`` are asked
    for (a query on every core), and only the rows with ``_KNN`` found, whose balls may
    hold more, are asked for their balls (one thread): country 300k, the first
    certificate (1.7 million pairs) 2.4-2.8 -> 1.65-2.0 s, the second 2.1-2.4 -> 1.2-1.8 s.
    """
    if not len(rows) or tree is None:
        return
    chord = chord_bound(km)
    sample = xyz[rows[:: max(1, len(rows) // 32)]]
    per_row = float(np.mean(tree.query_ball_point(sample, chord, return_length=True)))
    if per_row <= _KNN_BALL and tree.n > _KNN:
        step = max(1, _CHUNK_PAIRS // _KNN)
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            d, idx = tree.query(
                xyz[part], k=_KNN, distance_upper_bound=chord, workers=workers(len(part))
            )
            hit = idx < tree.n
            more = hit[:, -1].copy()  # _KNN found: maybe more in the ball
            hit[more] = False
            r, j = np.nonzero(hit)
            if len(r):
                yield part[r], pool[idx[r, j]], d[r, j]
            if np.any(more):
                yield from _balls(tree, pool, xyz, part[more], chord, _KNN)
        return
    yield from _balls(tree, pool, xyz, rows, chord, per_row)


def _balls(tree: cKDTree, pool: _IntArray, xyz: NDArray, rows: _IntArray, chord: float, per_row):
    """`ball_pairs` by dual-tree search, chunks of about ``_CHUNK_PAIRS`` pairs."""
    step = max(1, int(_CHUNK_PAIRS // max(per_row, 1.0)))
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        near = tree.sparse_distance_matrix(cKDTree(xyz[part]), chord, output_type="ndarray")
        if len(near):
            yield part[near["j"]], pool[near["i"]], near["v"]


def count_feasible_upper(g: Groups, index: CategoryIndex) -> int:
    """An upper bound of the full feasible graph's size: pairs within each category's reach."""
    total = 0
    for c in range(len(index.members)):
        for rows, _pool, tree in index.pools(g, c, index.rows[c]):
            if tree is None or not len(rows):
                continue
            counts = tree.query_ball_point(
                g.row_xyz[rows], chord_bound(index.reach_km[c]), return_length=True
            )
            total += int(np.sum(counts))
    return total


def full_graph(g: Groups, index: CategoryIndex) -> Arcs:
    """Every feasible (row, class) pair."""
    parts: list[Arcs] = []
    for c in range(len(index.members)):
        for rows, pool, tree in index.pools(g, c, index.rows[c]):
            for r, q, _ in ball_pairs(tree, pool, g.row_xyz, rows, index.reach_km[c]):
                parts.append(_finish(g, r, q))
    if not parts:
        return Arcs.empty()
    return Arcs(
        np.concatenate([a.row for a in parts]),
        np.concatenate([a.col for a in parts]),
        np.concatenate([a.km for a in parts]),
    )
