"""The exact solve of one graph of rows and classes: costs in whole units, the compiled
successive-shortest-path solver (or its plain-Python twin), and its dual prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._candidates import Arcs
from ._groups import Groups
from ._problem import cost_units

__all__ = ["COMPILED", "Solution", "solve_graph", "units_per_km"]

_Int = NDArray[np.int64]

solve_transport: Callable[..., Any]
try:
    from ._flow import solve_transport

    COMPILED = True
except ImportError:  # not compiled (no C compiler at install): the same method in Python
    from ._flow_py import solve_transport

    COMPILED = False


@dataclass(frozen=True)
class Solution:
    """An optimal routing of one graph, with the LP duals that prove it there.

    Duals are pairs (weight part, cost part in units): a row's ``alpha``, a class's
    ``beta`` (``<= 0``, ``0`` with room). Arc ``(r, q)`` has reduced cost
    ``cost - alpha[r] - beta[q] >= 0``.
    """

    arcs: Arcs
    cost: _Int
    flow: _Int
    slack_flow: _Int
    alpha_w: _Int
    alpha_c: _Int
    beta_w: _Int
    beta_c: _Int
    duals_ok: bool
    stats: dict[str, int]


def units_per_km(g: Groups) -> float:
    """Integer cost units per km for this instance (1e9 unless sums could overflow)."""
    worst = min(g.max_km, float(g.class_radius.max(initial=0.0)))
    worst += float(g.class_penalty.max(initial=0.0))
    return cost_units(worst, g.n_rows + g.n_classes + len(g.slack_row))


def arc_costs(g: Groups, arcs: Arcs, per_km: float) -> _Int:
    """Exact cost of each arc: its km and its class's penalty, each rounded to a unit."""
    return np.rint(arcs.km * per_km).astype(np.int64) + np.rint(
        g.class_penalty[arcs.col] * per_km
    ).astype(np.int64)


def _lex_neg(w: _Int, c: _Int) -> NDArray[np.bool_]:
    return (w < 0) | ((w == 0) & (c < 0))


def solve_graph(g: Groups, arcs: Arcs, per_km: float) -> Solution:
    """Route every row's needs into classes or its slack columns, optimally on ``arcs``."""
    n_rows, n_cls, n_slack = g.n_rows, g.n_classes, len(g.slack_row)
    cost = arc_costs(g, arcs, per_km)
    rows = np.concatenate([arcs.row, g.slack_row]).astype(np.int64)
    cols = np.concatenate([arcs.col, n_cls + np.arange(n_slack)]).astype(np.int64)
    w = np.concatenate([np.zeros(len(arcs), dtype=np.int64), g.slack_weight])
    c = np.concatenate([cost, np.zeros(n_slack, dtype=np.int64)])
    order = np.lexsort((cols, rows))
    rows, cols, w, c = rows[order], cols[order], w[order], c[order]
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    # Heaviest rows first (their searches find free volunteers), then by rank.
    top = np.zeros(n_rows, dtype=np.int64)
    if n_slack:
        np.maximum.at(top, g.slack_row, g.slack_weight)
    row_order = np.lexsort((np.arange(n_rows), -top)).astype(np.int64)
    position = np.empty(n_rows, dtype=np.int64)
    position[row_order] = np.arange(n_rows)
    # At equal distance: lower classes first; among slack columns, those of the rows
    # routed last (so a tie never displaces a row routed earlier, i.e. a lower id).
    slack_rank = np.lexsort((np.arange(n_slack), position[g.slack_row]))
    slack_tie = np.empty(n_slack, dtype=np.int64)
    slack_tie[slack_rank] = np.arange(n_slack)[::-1]
    col_tie = np.concatenate([np.arange(n_cls, dtype=np.int64), n_cls + slack_tie])
    col_cap = np.concatenate([g.class_capacity, g.slack_count]).astype(np.int64)
    flow, aw, ac, bw, bc, stats = solve_transport(
        g.row_supply.astype(np.int64), row_order, indptr, cols, w, c, col_cap, col_tie
    )
    # Duals checked here, in the units optimised, not trusted from the solver.
    red_w = w - aw[rows] - bw[cols]
    red_c = c - ac[rows] - bc[cols]
    load = np.bincount(cols, weights=flow, minlength=n_cls + n_slack)
    room = load < col_cap
    ok = not np.any(_lex_neg(red_w, red_c))
    ok &= bool(np.all((red_w[flow > 0] == 0) & (red_c[flow > 0] == 0)))
    ok &= not np.any(_lex_neg(-bw, -bc))
    ok &= bool(np.all((bw[room] == 0) & (bc[room] == 0)))
    ok &= bool(np.all(np.bincount(rows, weights=flow, minlength=n_rows) == g.row_supply))
    back = np.empty(len(order), dtype=np.int64)
    back[order] = np.arange(len(order))
    flow_arcs = flow[back[: len(arcs)]]
    slack_flow = flow[back[len(arcs) :]]
    return Solution(
        arcs=arcs,
        cost=cost,
        flow=flow_arcs,
        slack_flow=slack_flow,
        alpha_w=aw,
        alpha_c=ac,
        beta_w=bw[:n_cls],
        beta_c=bc[:n_cls],
        duals_ok=bool(ok),
        stats=stats,
    )
