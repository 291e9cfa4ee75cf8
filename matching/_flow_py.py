"""`solve_transport` in plain Python: the fallback when `matching/_flow.pyx` is not compiled.

The same algorithm, order and tie-breaks as the compiled module, on exact Python
integers, so both give the same routing, duals and certificate; it is only slower
(tens of times at city scale). See `matching._flow` for the method.
"""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

__all__ = ["solve_transport"]

_SHIFT = 80
_TOP_TIE = 1 << 62
_Int = NDArray[np.int64]


def solve_transport(
    row_supply: _Int,
    row_order: _Int,
    indptr: _Int,
    indices: _Int,
    arc_w: _Int,
    arc_c: _Int,
    col_cap: _Int,
    col_tie: _Int,
) -> tuple[_Int, _Int, _Int, _Int, _Int, dict[str, int]]:
    """Min-cost routing of every row's supply; see `matching._flow.solve_transport`.

    Examples
    --------
    One row of supply 2, a column of capacity 1 (cost 5) and its slack (cost 1 << 80):

    >>> import numpy as np
    >>> i64 = lambda *x: np.array(x, dtype=np.int64)
    >>> flow, *_ = solve_transport(i64(2), i64(0), i64(0, 2), i64(0, 1), i64(0, 1),
    ...                            i64(5, 0), i64(1, 2), i64(0, 1))
    >>> flow.tolist()
    [1, 1]
    """
    n_rows, n_cols, nnz = len(row_supply), len(col_cap), len(indices)
    ptr = indptr.tolist()
    cols = indices.tolist()
    cost = [(w << _SHIFT) + c for w, c in zip(arc_w.tolist(), arc_c.tolist(), strict=True)]
    cap = col_cap.tolist()
    tie = col_tie.tolist()
    arc_row = np.repeat(np.arange(n_rows), np.diff(indptr)).tolist()
    flow = [0] * nnz
    excess = row_supply.tolist()
    load = [0] * n_cols
    # Arcs carrying flow into each column, kept as the compiled module keeps them
    # (append; remove by moving the last one into the gap) so the order is the same.
    holder_list: list[list[int]] = [[] for _ in range(n_cols)]
    position: dict[int, int] = {}
    alpha = [0] * n_rows
    beta = [0] * n_cols
    searches = column_pops = row_scans = arc_scans = 0
    for s in row_order.tolist():
        while excess[s] > 0:
            searches += 1
            dist_col: dict[int, int] = {}
            pred_arc: dict[int, int] = {}
            col_done: set[int] = set()
            dist_row = {s: 0}
            back_arc = {s: -1}
            scanned = [s]
            popped: list[int] = []
            heap: list[tuple[int, int, int]] = []
            relaxed = 0
            end = -1
            d_end = 0
            while True:
                while relaxed < len(scanned):
                    r = scanned[relaxed]
                    relaxed += 1
                    d = dist_row[r]
                    row_scans += 1
                    for a in range(ptr[r], ptr[r + 1]):
                        arc_scans += 1
                        q = cols[a]
                        if q in col_done:
                            continue
                        nd = d + cost[a] - alpha[r] - beta[q]
                        if nd < dist_col.get(q, nd + 1):
                            dist_col[q] = nd
                            pred_arc[q] = a
                            flag = _TOP_TIE if load[q] >= cap[q] else 0
                            heapq.heappush(heap, (nd, flag + tie[q], q))
                q = -1
                while heap:
                    d, _, q = heapq.heappop(heap)
                    if q in col_done or d > dist_col[q]:
                        q = -1
                        continue
                    break
                if q < 0:
                    raise ValueError(f"row {s} cannot be routed to a column with room")
                column_pops += 1
                col_done.add(q)
                if load[q] < cap[q]:
                    end, d_end = q, d
                    break
                popped.append(q)
                for b in holder_list[q]:
                    v = arc_row[b]
                    if v in dist_row:
                        continue
                    dist_row[v] = d
                    back_arc[v] = b
                    scanned.append(v)
            for v in scanned:
                alpha[v] += d_end - dist_row[v]
            for q in popped:
                beta[q] -= d_end - dist_col[q]
            delta = min(excess[s], cap[end] - load[end])
            path = []
            q = end
            while True:
                a = pred_arc[q]
                path.append(a)
                r = arc_row[a]
                if r == s:
                    break
                b = back_arc[r]
                path.append(b)
                delta = min(delta, flow[b])
                q = cols[b]
            for k, a in enumerate(path):
                q = cols[a]
                if k % 2 == 0:
                    if flow[a] == 0:
                        position[a] = len(holder_list[q])
                        holder_list[q].append(a)
                    flow[a] += delta
                else:
                    flow[a] -= delta
                    if flow[a] == 0:
                        gap = position.pop(a)
                        last = holder_list[q].pop()
                        if last != a:
                            holder_list[q][gap] = last
                            position[last] = gap
            load[end] += delta
            excess[s] -= delta
    aw, ac = _split(alpha)
    bw, bc = _split(beta)
    stats = {
        "searches": searches,
        "column_pops": column_pops,
        "row_scans": row_scans,
        "arc_scans": arc_scans,
    }
    return np.array(flow, dtype=np.int64), aw, ac, bw, bc, stats


def _split(values: list[int]) -> tuple[_Int, _Int]:
    """``values = hi * 2**80 + lo`` with ``|lo| < 2**79``, as int64 arrays."""
    half = 1 << (_SHIFT - 1)
    hi = [(x + half) >> _SHIFT for x in values]
    lo = [x - (w << _SHIFT) for x, w in zip(values, hi, strict=True)]
    if any(abs(x) >= 1 << 62 for x in lo):
        raise OverflowError("a dual price's cost part does not fit in 64 bits")
    return np.array(hi, dtype=np.int64), np.array(lo, dtype=np.int64)
