"""`solve_transport`, `relabel` and `duals_prove` in plain Python (numpy): the fallback
when `matching/_flow.pyx` is not compiled.

The same algorithm, order and tie-breaks as the compiled module, on exact Python
integers, so both give the same routing, duals and certificate; it is only slower
(tens of times at city scale). See `matching._flow` for the method.
"""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

from ._arrays import blocks

__all__ = ["duals_prove", "relabel", "solve_transport"]

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
    warm: tuple[_Int, ...] | None = None,
    work_limit: int = -1,
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
    arc_row_np = np.repeat(np.arange(n_rows), np.diff(indptr))
    # Each row's arcs by cost, then index, as the compiled module orders them.
    perm = np.lexsort((np.arange(nnz), arc_c, arc_w, arc_row_np))
    cols = indices[perm].tolist()
    cost = [
        (w << _SHIFT) + c for w, c in zip(arc_w[perm].tolist(), arc_c[perm].tolist(), strict=True)
    ]
    cap = col_cap.tolist()
    tie = col_tie.tolist()
    arc_row = arc_row_np.tolist()
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
    warm_rows = refills = refill_scans = 0

    def hold(a: int, q: int) -> None:
        position[a] = len(holder_list[q])
        holder_list[q].append(a)

    def release(a: int, q: int) -> None:
        gap = position.pop(a)
        last = holder_list[q].pop()
        if last != a:
            holder_list[q][gap] = last
            position[last] = gap

    use_warm = (
        warm is not None and nnz > 0 and _warm_fits(warm, row_supply, indptr, indices, col_cap)
    )
    if warm is not None and use_warm:
        wflow = np.asarray(warm[0], dtype=np.int64)[perm].tolist()
        beta = [(w << _SHIFT) + c for w, c in zip(warm[3].tolist(), warm[4].tolist(), strict=True)]
        alpha = [(w << _SHIFT) + c for w, c in zip(warm[1].tolist(), warm[2].tolist(), strict=True)]
        use_warm = all(
            f == 0 or cost[a] - alpha[arc_row[a]] - beta[cols[a]] == 0 for a, f in enumerate(wflow)
        )
        if not use_warm:
            alpha, beta = [0] * n_rows, [0] * n_cols
    deficits: list[int] = []
    col_arcs: list[list[int]] = [[] for _ in range(n_cols)] if use_warm else []
    if use_warm:
        indeg = [0] * n_cols
        for a, q in enumerate(cols):
            indeg[q] += 1
            col_arcs[q].append(a)
        for a, f in enumerate(wflow):
            if f > 0:
                q = cols[a]
                flow[a] = f
                load[q] += f
                excess[arc_row[a]] -= f
                hold(a, q)
        for t in warm_check_rows(warm, n_rows).tolist():
            arcs = range(ptr[t], ptr[t + 1])
            if not any(cost[a] - alpha[t] - beta[cols[a]] < 0 for a in arcs):
                continue
            warm_rows += 1
            for a in arcs:
                q = cols[a]
                if flow[a] > 0:
                    load[q] -= flow[a]
                    excess[t] += flow[a]
                    flow[a] = 0
                    release(a, q)
                if indeg[q] == 1:
                    beta[q] = 0
            alpha[t] = min(cost[a] - beta[cols[a]] for a in arcs)
        # The columns to refill (no others become so), by tie rank.
        deficits = [q for q in range(n_cols) if load[q] < cap[q] and beta[q] < 0]
        deficits.sort(key=lambda q: (tie[q], q))
    row_pos = [0] * n_rows
    for k, r in enumerate(row_order.tolist()):
        row_pos[r] = k

    def over() -> bool:
        return use_warm and 0 <= work_limit < row_scans + column_pops

    def refill(phase: int) -> bool:
        """Refill columns with room and a negative price (see the compiled module):
        phase 0 from unrouted rows only, deferring any a column priced 0 is nearer to;
        phase 2 from columns priced 0 (or by pricing the column 0). False once the work
        is over ``work_limit``."""
        nonlocal refills, refill_scans, column_pops, row_scans
        for q0 in deficits:
            while load[q0] < cap[q0] and beta[q0] < 0:
                refills += 1
                dist_col = {q0: 0}
                rpred_col = {q0: -1}
                labelled = [q0]
                dist_row: dict[int, int] = {}
                rpred_row: dict[int, int] = {}
                row_done: set[int] = set()
                popped_rows: list[int] = []
                heap: list[tuple[int, int, int]] = []
                t_key, t_tie, t_col = -1, 0, -1
                end_row, e_end = -1, 0
                relaxed = 0
                while True:
                    while relaxed < len(labelled):
                        q = labelled[relaxed]
                        relaxed += 1
                        d = dist_col[q]
                        column_pops += 1
                        rc = d - beta[q]
                        if t_col < 0 or rc < t_key or (rc == t_key and tie[q] < t_tie):
                            t_key, t_tie, t_col = rc, tie[q], q
                        for a in col_arcs[q]:
                            r = arc_row[a]
                            refill_scans += 1
                            if r in row_done:
                                continue
                            nd = d + cost[a] - alpha[r] - beta[q]
                            if nd >= t_key or nd >= dist_row.get(r, nd + 1):
                                continue
                            dist_row[r] = nd
                            rpred_row[r] = a
                            heapq.heappush(heap, (nd, row_pos[r], r))
                    r = -1
                    while heap and heap[0][0] < t_key:
                        d, _, r = heapq.heappop(heap)
                        if r in row_done or d > dist_row[r]:
                            r = -1
                            continue
                        break
                    if r < 0:
                        break
                    row_done.add(r)
                    popped_rows.append(r)
                    row_scans += 1
                    if phase == 0 and excess[r] > 0:
                        end_row, e_end = r, d
                        break
                    for a in range(ptr[r], ptr[r + 1]):
                        if flow[a] > 0 and cols[a] not in dist_col:
                            dist_col[cols[a]] = d
                            rpred_col[cols[a]] = a
                            labelled.append(cols[a])
                if phase == 0 and end_row < 0:
                    if over():
                        return False
                    break
                if end_row < 0:
                    e_end = t_key
                for q in labelled:
                    beta[q] += e_end - dist_col[q]
                for r in popped_rows:
                    alpha[r] -= e_end - dist_row[r]
                delta = cap[q0] - load[q0]
                path = []
                if end_row >= 0:
                    delta = min(delta, excess[end_row])
                    path.append(rpred_row[end_row])
                    q = cols[path[0]]
                else:
                    q = t_col
                while q != q0:
                    b = rpred_col[q]
                    path.append(b)
                    delta = min(delta, flow[b])
                    a = rpred_row[arc_row[b]]
                    path.append(a)
                    q = cols[a]
                # Backward arcs first, then forward ones (as the compiled module).
                backward = path[1::2] if end_row >= 0 else path[0::2]
                forward = path[0::2] if end_row >= 0 else path[1::2]
                for a in backward:
                    flow[a] -= delta
                    if flow[a] == 0:
                        release(a, cols[a])
                for a in forward:
                    if flow[a] == 0:
                        hold(a, cols[a])
                    flow[a] += delta
                if end_row >= 0:
                    excess[end_row] -= delta
                elif path:
                    load[t_col] -= delta
                if path:
                    load[q0] += delta
                if over():
                    return False
        return True

    aborted = use_warm and not refill(0)
    for s in row_order.tolist():
        if aborted:
            break
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
                        hold(a, q)
                    flow[a] += delta
                else:
                    flow[a] -= delta
                    if flow[a] == 0:
                        release(a, q)
            load[end] += delta
            excess[s] -= delta
            if over():
                aborted = True
                break
    if use_warm and not aborted:
        aborted = not refill(2)
    if aborted:
        z = np.zeros(n_rows, dtype=np.int64), np.zeros(n_cols, dtype=np.int64)
        stats = {"aborted": 1, "warm_rows": warm_rows, "refills": refills}
        return np.zeros(nnz, dtype=np.int64), z[0], z[0], z[1], z[1], stats
    aw, ac = _split(alpha)
    bw, bc = _split(beta)
    stats = {
        "searches": searches,
        "column_pops": column_pops,
        "row_scans": row_scans,
        "arc_scans": arc_scans,
        "warm_rows": warm_rows,
        "refills": refills,
        "refill_scans": refill_scans,
        "aborted": 0,
    }
    given_flow = np.zeros(nnz, dtype=np.int64)
    given_flow[perm] = flow
    return given_flow, aw, ac, bw, bc, stats


def warm_check_rows(warm, n_rows: int) -> _Int:
    """The rows a warm start looks at for arcs of negative reduced cost: its sixth entry
    (increasing; the caller knows only they gained arcs), else all."""
    if len(warm) == 6:
        return np.asarray(warm[5], dtype=np.int64)
    return np.arange(n_rows, dtype=np.int64)


def warm_arrays(warm, n_rows: int, n_cols: int, n_arcs: int):
    """``warm``'s arrays (flow, alpha_w, alpha_c, beta_w, beta_c, rows or None) if they
    have the shapes of a graph of ``n_rows`` rows, ``n_cols`` columns and ``n_arcs``
    arcs (rows, if given, a 1-d integer array), else None."""
    try:
        flow, aw, ac, bw, bc = (np.asarray(x) for x in warm[:5])
        rows = np.asarray(warm[5]) if len(warm) == 6 else None
    except (TypeError, ValueError):
        return None
    if len(warm) not in (5, 6):
        return None
    if rows is not None and (rows.ndim != 1 or rows.dtype.kind not in "iu"):
        return None
    if flow.shape != (n_arcs,) or aw.shape != ac.shape or aw.shape != (n_rows,):
        return None
    if bw.shape != bc.shape or bw.shape != (n_cols,):
        return None
    return flow, aw, ac, bw, bc, rows


def _warm_fits(warm, row_supply: _Int, indptr: _Int, indices: _Int, col_cap: _Int) -> bool:
    """Whether ``warm`` has the shapes of this graph and routes within its bounds (its
    flows >= 0, at most each row's supply and each column's capacity; prices <= 0)."""
    n_rows, n_cols = len(row_supply), len(col_cap)
    arrays = warm_arrays(warm, n_rows, n_cols, len(indices))
    if arrays is None:
        return False
    flow, _, _, bw, bc, rows = arrays
    if rows is not None and (
        np.any(rows < 0) or np.any(rows >= n_rows) or np.any(np.diff(rows) <= 0)
    ):
        return False
    if np.any(flow < 0) or np.any(bw > 0) or np.any((bw == 0) & (bc > 0)):
        return False
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    if np.any(np.bincount(rows, weights=flow, minlength=n_rows) > row_supply):
        return False
    return not np.any(np.bincount(indices, weights=flow, minlength=n_cols) > col_cap)


def _split(values: list[int]) -> tuple[_Int, _Int]:
    """``values = hi * 2**80 + lo`` with ``|lo| < 2**79``, as int64 arrays."""
    half = 1 << (_SHIFT - 1)
    hi = [(x + half) >> _SHIFT for x in values]
    lo = [x - (w << _SHIFT) for x, w in zip(values, hi, strict=True)]
    if any(abs(x) >= 1 << 62 for x in lo):
        raise OverflowError("a dual price's cost part does not fit in 64 bits")
    return np.array(hi, dtype=np.int64), np.array(lo, dtype=np.int64)


def relabel(
    row_perm: _Int,
    col_new: _Int,
    arc_row: NDArray,
    arc_col: NDArray,
    cost: _Int,
    slack_ptr: _Int,
    slack_weight: _Int,
    n_cls: int,
) -> tuple[_Int, NDArray[np.int32], _Int, _Int, NDArray[np.int32]]:
    """A graph's arcs (sorted by row, ``cost`` each) and its rows' slack columns (row r's
    from ``slack_ptr[r]``, weight ``slack_weight``, column ``n_cls + s``) as the CSR
    graph `solve_transport` takes, rows in the order ``row_perm`` (new -> old), columns
    renumbered ``col_new``: per new row its arcs and its slack columns, by cost (weight
    part, then cost part), equal costs as laid out (arcs, then slack columns): the order in
    which `solve_transport` takes each row's arcs, so it need not sort them.

    Returns indptr, indices, arc_w, arc_c, and ``order``: where each entry was among the
    arcs, then the slack columns (``n_arcs + s``)."""
    n_rows, n_arcs = len(row_perm), len(arc_row)
    deg = np.bincount(arc_row, minlength=n_rows).astype(np.int64)
    arc_ptr = np.cumsum(deg) - deg
    slack_deg = np.diff(slack_ptr).astype(np.int64)
    slack_at = n_arcs + np.asarray(slack_ptr[:-1], dtype=np.int64)
    order = blocks(
        np.stack([arc_ptr[row_perm], slack_at[row_perm]], axis=1).ravel(),
        np.stack([deg[row_perm], slack_deg[row_perm]], axis=1).ravel(),
    )
    is_arc = order < n_arcs
    at_arc, at_slack = order[is_arc], order[~is_arc] - n_arcs
    indices = np.empty(len(order), dtype=np.int32)
    indices[is_arc] = col_new[arc_col[at_arc]]
    indices[~is_arc] = col_new[n_cls + at_slack]
    arc_w = np.zeros(len(order), dtype=np.int64)
    arc_w[~is_arc] = slack_weight[at_slack]
    arc_c = np.zeros(len(order), dtype=np.int64)
    arc_c[is_arc] = cost[at_arc]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum((deg + slack_deg)[row_perm], out=indptr[1:])
    # Each row's entries by cost, then as laid out: the order `solve_transport` takes them.
    row = np.repeat(np.arange(n_rows), np.diff(indptr))
    by_cost = np.lexsort((np.arange(len(order)), arc_c, arc_w, row))
    return (
        indptr,
        indices[by_cost],
        arc_w[by_cost],
        arc_c[by_cost],
        order[by_cost].astype(np.int32),
    )


def duals_prove(
    indptr: _Int,
    indices: _Int,
    w: _Int,
    c: _Int,
    flow: _Int,
    aw: _Int,
    ac: _Int,
    bw: _Int,
    bc: _Int,
    col_cap: _Int,
) -> bool:
    """Whether row duals ``(aw, ac)`` and column duals ``(bw, bc)`` prove ``flow`` optimal
    on this CSR graph (arc costs ``w * 2**80 + c``): no arc of negative reduced cost,
    every arc with flow tight, column prices ``<= 0`` and ``0`` where a column has room.
    (That every row's supply is routed the caller checks from the flow.)"""
    rows = np.repeat(np.arange(len(aw), dtype=np.int64), np.diff(indptr))
    red_w = w - aw[rows] - bw[indices]
    red_c = c - ac[rows] - bc[indices]
    del rows
    load = np.bincount(indices, weights=flow, minlength=len(col_cap))
    room = load < col_cap
    used = flow > 0
    return bool(
        not np.any(_lex_neg(red_w, red_c))
        and np.all((red_w[used] == 0) & (red_c[used] == 0))
        and not np.any(_lex_neg(-bw, -bc))
        and np.all((bw[room] == 0) & (bc[room] == 0))
    )


def _lex_neg(w: _Int, c: _Int) -> NDArray[np.bool_]:
    return (w < 0) | ((w == 0) & (c < 0))
