"""The exact solve of one graph of rows and classes: costs in whole units, the compiled
successive-shortest-path solver (or its plain-Python twin), and its dual prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._arrays import distinct
from ._candidates import Arcs
from ._groups import Groups
from ._problem import cost_units

__all__ = [
    "COMPILED",
    "Solution",
    "ZOrder",
    "duals_only",
    "slim",
    "solve_graph",
    "units_per_km",
    "z_order",
]

_Int = NDArray[np.int64]

solve_transport: Callable[..., Any]
relabel: Callable[..., Any]
duals_prove: Callable[..., bool]
try:
    from ._flow import duals_prove, relabel, solve_transport

    COMPILED = True
except ImportError:  # not compiled (no C compiler at install): the same method in Python
    from ._flow_py import duals_prove, relabel, solve_transport

    COMPILED = False


@dataclass(frozen=True)
class Solution:
    """An optimal routing of one graph, with the LP duals that prove it there.

    Duals are pairs (weight part, cost part in units): a row's ``alpha``, a class's
    ``beta`` (``<= 0``, ``0`` with room; ``slack_beta`` for the slack columns). Arc
    ``(r, q)`` has reduced cost ``cost - alpha[r] - beta[q] >= 0``. ``stats`` counts the
    solver's work; ``warm`` says whether it started from an earlier solution, and
    ``cold_work`` is the work (rows scanned, columns popped) of the last solve from
    nothing in the chain of warm starts that led here. ``cost``, each arc's in units, is
    made when first read (`arc_costs`: not held through the solve; country 1M, 8 bytes
    an arc at its peak), from ``per_km`` and the classes' penalties.
    """

    arcs: Arcs
    flow: _Int
    slack_flow: _Int
    alpha_w: _Int
    alpha_c: _Int
    beta_w: _Int
    beta_c: _Int
    slack_beta_w: _Int
    slack_beta_c: _Int
    duals_ok: bool
    stats: dict[str, int]
    per_km: float
    class_penalty: NDArray[np.float64] = field(repr=False, compare=False)
    warm: bool = False
    cold_work: int = 0

    @cached_property
    def cost(self) -> _Int:
        """Each arc's cost in units: its km and its class's penalty, each rounded."""
        return _costs(self.arcs, self.class_penalty, self.per_km)


def units_per_km(g: Groups) -> float:
    """Integer cost units per km for this instance (1e9 unless sums could overflow)."""
    worst = min(g.max_km, float(g.class_radius.max(initial=0.0)))
    worst += float(g.class_penalty.max(initial=0.0))
    return cost_units(worst, g.n_rows + g.n_classes + len(g.slack_row))


def arc_costs(g: Groups, arcs: Arcs, per_km: float) -> _Int:
    """Exact cost of each arc: its km and its class's penalty, each rounded to a unit."""
    return _costs(arcs, g.class_penalty, per_km)


def _costs(arcs: Arcs, class_penalty: NDArray[np.float64], per_km: float) -> _Int:
    if not len(arcs):
        return np.zeros(0, dtype=np.int64)
    return np.rint(arcs.km * per_km).astype(np.int64) + np.rint(
        class_penalty[arcs.col] * per_km
    ).astype(np.int64)


def _spread_bits() -> _Int:
    """``_SPREAD[v]``: the 10 bits of ``v`` moved to every third bit (bit b to 3 b)."""
    v = np.arange(1024, dtype=np.int64)
    out = np.zeros(1024, dtype=np.int64)
    for bit in range(10):
        out |= ((v >> bit) & 1) << (3 * bit)
    return out


_SPREAD = _spread_bits()


def _morton(xyz: NDArray[np.float64]) -> NDArray[np.int64]:
    """A Z-order key of points (10 bits per axis over their bounding box; bit b of axis a
    at bit 3 b + a), by table (a loop over the 30 bits took 0.7 s for 2 million points).
    """
    if not len(xyz):
        return np.zeros(0, dtype=np.int64)
    low, high = xyz.min(axis=0), xyz.max(axis=0)
    q = ((xyz - low) / np.maximum(high - low, 1e-300) * 1023.0).astype(np.int64)
    return _SPREAD[q[:, 0]] | (_SPREAD[q[:, 1]] << 1) | (_SPREAD[q[:, 2]] << 2)


@dataclass(frozen=True)
class ZOrder:
    """Rows and columns (classes, then slack columns) renumbered in Z-order of their
    points: ``*_perm[new] = old``, ``*_new[old] = new``; and the routing order, tie ranks,
    capacities and supplies of `routing_order`. The same for every graph of one `Groups`,
    so `assign` makes it once."""

    row_perm: _Int
    row_new: _Int
    col_perm: _Int
    col_new: _Int
    #: What every solve of ``g`` routes by, fixed by ``g`` too (`routing_order`).
    row_order: _Int
    col_tie: _Int
    col_cap: _Int
    supply: _Int


def z_order(g: Groups) -> ZOrder:
    """The Z-order numbering of ``g``'s rows and columns (a row's slack columns sit with
    the row)."""
    n_rows, n_cls = g.n_rows, g.n_classes
    key = _morton(np.concatenate([g.class_xyz, g.row_xyz]))
    row_key = key[n_cls:]
    row_perm = np.argsort(row_key, kind="stable")
    row_new = np.empty(n_rows, dtype=np.int64)
    row_new[row_perm] = np.arange(n_rows)
    col_key = np.concatenate([key[:n_cls], row_key[g.slack_row]])
    col_perm = np.argsort(col_key, kind="stable")
    col_new = np.empty(len(col_key), dtype=np.int64)
    col_new[col_perm] = np.arange(len(col_key))
    return ZOrder(row_perm, row_new, col_perm, col_new, *routing_order(g))


def routing_order(g: Groups) -> tuple[_Int, _Int, _Int, _Int]:
    """The order in which a solve routes ``g``'s rows (heaviest first, their searches
    finding free volunteers; then by rank), its columns' tie ranks (at equal distance:
    lower classes first; among slack columns those of the rows routed last, so a tie
    never displaces a row routed earlier, i.e. a lower id), capacities, and the rows'
    supplies."""
    n_rows, n_cls, n_slack = g.n_rows, g.n_classes, len(g.slack_row)
    top = np.zeros(n_rows, dtype=np.int64)
    if n_slack:
        np.maximum.at(top, g.slack_row, g.slack_weight)
    row_order = np.lexsort((np.arange(n_rows), -top)).astype(np.int64)
    position = np.empty(n_rows, dtype=np.int64)
    position[row_order] = np.arange(n_rows)
    slack_rank = np.lexsort((np.arange(n_slack), position[g.slack_row]))
    slack_tie = np.empty(n_slack, dtype=np.int64)
    slack_tie[slack_rank] = np.arange(n_slack)[::-1]
    col_tie = np.concatenate([np.arange(n_cls, dtype=np.int64), n_cls + slack_tie])
    col_cap = np.concatenate([g.class_capacity, g.slack_count]).astype(np.int64)
    return row_order, col_tie, col_cap, g.row_supply.astype(np.int64)


def _relabelled(
    g: Groups,
    z: ZOrder,
    arcs: Arcs,
    per_km: float,
    supply: _Int,
    row_order: _Int,
    col_cap: _Int,
    col_tie: _Int,
    handed: list | None = None,
    work_limit=-1,
):
    """`solve_transport` on rows and columns renumbered in Z-order of their points (a
    search touches nearby ones, now near in memory), its answer mapped back and its
    duals checked. The same answer: a cold solve's choices depend on ``row_order`` and
    ``col_tie``, never on the numbering (a warm start unroutes rows in numbering order,
    which among equally good routings may matter; the numbering is fixed by the
    instance). The solver's arcs are the graph's (sorted by row, `arc_costs` each, made
    here and dropped once laid out: not held through the solve), then
    the slack columns' (sorted by row, weight ``g.slack_weight``): each row's two blocks
    are moved whole into the new order by `relabel`, without a sort, and nothing is
    built in the old order first (a million rows' 12 million arcs took 8 bytes an arc
    for each array).
    ``handed``: a list holding the warm start or None (flow per arc and slack column,
    row and column prices, the rows that gained arcs), taken out and renumbered.

    Returns flow (per arc, then per slack column), alpha_w, alpha_c, beta_w, beta_c (old
    numbering), stats and whether the duals prove the routing.
    """
    row_perm, row_new, col_perm, col_new = z.row_perm, z.row_new, z.col_perm, z.col_new
    cost = arc_costs(g, arcs, per_km)
    indptr, indices, arc_w, arc_c, order = relabel(
        row_perm,
        col_new,
        np.asarray(arcs.row, dtype=np.int32),
        np.asarray(arcs.col, dtype=np.int32),
        cost,
        np.asarray(g.slack_ptr, dtype=np.int64),
        np.ascontiguousarray(g.slack_weight, dtype=np.int64),
        g.n_classes,
    )
    del cost
    warm = handed.pop() if handed else None
    if warm is not None:
        flow0, aw0, ac0, bw0, bc0, gained = warm
        warm = (
            flow0[order],
            aw0[row_perm],
            ac0[row_perm],
            bw0[col_perm],
            bc0[col_perm],
            np.sort(row_new[gained]),
        )
        del flow0  # the last reference to the old order's flow
    flow2, aw, ac, bw, bc, stats = solve_transport(
        supply[row_perm],
        row_new[row_order],
        indptr,
        indices,
        arc_w,
        arc_c,
        col_cap[col_perm],
        col_tie[col_perm],
        warm,
        work_limit,
    )
    del warm
    ok = False
    if not stats.get("aborted"):
        ok = duals_prove(indptr, indices, arc_w, arc_c, flow2, aw, ac, bw, bc, col_cap[col_perm])
    del indices, arc_w, arc_c
    flow = np.empty_like(flow2)
    flow[order] = flow2
    return flow, aw[row_new], ac[row_new], bw[col_new], bc[col_new], stats, ok


def slim(sol: Solution) -> Solution:
    """``sol`` without its arcs and their costs: what a warm start from it, given where
    its arcs went, and the certificate's next check need (flows and prices). Country 1M:
    the last round's graph, 24 bytes an arc, no longer held through the next solve."""
    return replace(sol, arcs=Arcs.empty())


def duals_only(sol: Solution) -> Solution:
    """``sol``'s prices (and flags), without its arcs, costs or flows: what the
    certificate's next check compares prices with (it does not hold the flows)."""
    empty = np.zeros(0, dtype=np.int64)
    return replace(sol, arcs=Arcs.empty(), flow=empty, slack_flow=empty)


def _warm_start(g: Groups, arcs: Arcs, prev: Solution | None, at: _Int | None = None):
    """``prev``'s routing and prices on ``arcs`` (which must hold all of ``prev``'s arcs,
    both sorted by row, then class), as `solve_transport` takes them; None if it does
    not fit. ``at``: where ``prev``'s arcs are in ``arcs``, if known (`merge_into`); then
    ``prev`` may be `slim` (its arcs are not looked at)."""
    if prev is None or not prev.duals_ok:
        return None
    if at is None:
        if len(prev.arcs) != len(prev.flow):
            return None  # slim: where its arcs went is not known
        keys = arcs.row.astype(np.int64) * g.n_classes + arcs.col
        old = prev.arcs.row.astype(np.int64) * g.n_classes + prev.arcs.col
        if len(keys) > 1 and np.any(keys[1:] <= keys[:-1]):
            return None
        at = np.searchsorted(keys, old)
        if np.any(at >= len(keys)) or np.any(keys[np.minimum(at, len(keys) - 1)] != old):
            return None
        del keys, old
    elif len(at) != len(prev.flow) or (len(at) and (at.min() < 0 or at.max() >= len(arcs))):
        return None
    flow = np.zeros(len(arcs) + len(g.slack_row), dtype=np.int64)
    flow[at] = prev.flow
    flow[len(arcs) :] = prev.slack_flow
    gained = np.ones(len(arcs), dtype=bool)
    gained[at] = False
    return (
        flow,
        prev.alpha_w,
        prev.alpha_c,
        np.concatenate([prev.beta_w, prev.slack_beta_w]),
        np.concatenate([prev.beta_c, prev.slack_beta_c]),
        # Only rows that gained arcs can have one of negative reduced cost (prev was
        # proven on its own arcs).
        distinct(arcs.row[gained]),
    )


def solve_graph(
    g: Groups,
    arcs: Arcs,
    per_km: float,
    z: ZOrder | None = None,
    warm: Solution | None = None,
    warm_at: _Int | None = None,
    handed: list | None = None,
) -> Solution:
    """Route every row's needs into classes or its slack columns, optimally on ``arcs``
    (``z``: `z_order` of ``g``, made here if not given).

    ``warm``: an earlier solution on a subgraph of ``arcs`` (the last certificate
    round's), to start from: only rows that now have an arc of negative reduced cost are
    routed again. The answer is as optimal either way, and checked the same. The graph
    is solved again from nothing if the warm start takes more than half the work (rows
    scanned, columns popped) of the last solve from nothing (where many rows move,
    routing them in priority order is cheaper: metro 100k, round 2: 5.7 s warm, 1.2 s
    cold; rounds 3-6: 0.2-0.9 s warm, 1.3-1.5 s cold), or if its answer were not proven
    here. Among equally good routings a warm start may settle a tie differently.
    ``warm_at``: where ``warm``'s arcs are in ``arcs``, if known (else they are looked
    up). A wrong one only costs the warm start (its routing is checked).
    ``handed``: instead of ``warm`` and ``warm_at``, a list ``[warm, warm_at]`` which this
    empties, so that once the warm start is made neither is held through the solve
    (country 1M: 16 bytes an arc of the last graph).
    """
    if handed:
        warm, warm_at = handed
        handed.clear()
    n_rows, n_cls = g.n_rows, g.n_classes
    if len(arcs) > 1 and np.any(arcs.row[1:] < arcs.row[:-1]):
        by_row = np.argsort(arcs.row, kind="stable")
        arcs = Arcs(arcs.row[by_row], arcs.col[by_row], arcs.km[by_row])
        warm_at = None
    start = _warm_start(g, arcs, warm, warm_at if warm is not None else None)
    del warm_at
    limit = warm.cold_work // 2 if start is not None and warm is not None else -1
    last_cold_work = warm.cold_work if warm is not None else 0
    del warm
    z = z_order(g) if z is None else z
    args = (g, z, arcs, per_km, z.supply, z.row_order, z.col_cap, z.col_tie)
    warmed = start is not None
    # Handed over in a list, which `_relabelled` empties: the warm flow in the old order
    # is freed once renumbered, not held through the solve (country 1M: 110 MB).
    handed = [start]
    del start
    flow, aw, ac, bw, bc, stats, ok = _relabelled(*args, handed, limit)
    if stats.get("aborted"):
        warmed = False
        flow, aw, ac, bw, bc, stats, ok = _relabelled(*args)
    cold_work = last_cold_work if warmed else stats["row_scans"] + stats["column_pops"]
    routed = np.bincount(arcs.row, weights=flow[: len(arcs)], minlength=n_rows) + np.bincount(
        g.slack_row, weights=flow[len(arcs) :], minlength=n_rows
    )
    ok &= bool(np.all(routed == g.row_supply))
    if warmed and not ok:
        return solve_graph(g, arcs, per_km, z)
    flow_arcs = flow[: len(arcs)]
    slack_flow = flow[len(arcs) :]
    return Solution(
        arcs=arcs,
        flow=flow_arcs,
        slack_flow=slack_flow,
        alpha_w=aw,
        alpha_c=ac,
        beta_w=bw[:n_cls],
        beta_c=bc[:n_cls],
        slack_beta_w=bw[n_cls:],
        slack_beta_c=bc[n_cls:],
        duals_ok=bool(ok),
        stats=stats,
        warm=warmed,
        cold_work=cold_work,
        per_km=per_km,
        class_penalty=g.class_penalty,
    )
