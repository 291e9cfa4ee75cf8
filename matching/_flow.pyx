# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Successive shortest paths for the transportation problem of the engine (compiled).

Rows (groups of interchangeable needs) have a supply that must be routed in full;
columns (classes of interchangeable volunteers, and per row one slack column per
priority weight: "left unserved") have a capacity. Arc costs are exact integers
``w * 2**80 + c`` held in 128 bits, so "served weight first, then cost" is an exact
lexicographic order, never a big-M in floating point.

Rows are processed in the given order; each unit of supply left takes a Dijkstra
search over reduced costs to the nearest column with room, touching and resetting
only what it explores. At equal distance a column with room is taken before one
without (so thousands of zero-distance ties end a search at once), then the lower
``col_tie``. Each row's arcs are scanned cheapest first (sorted here), and a scan
stops at the first arc that cannot lead nearer than the nearest column with room
already reached: ``cost - alpha[row]`` bounds an arc's reduced cost from below, as
every ``beta <= 0``. Columns beyond that bound are never popped, so the search and its
result are those without the pruning, only shorter where rows hold hundreds of arcs.
Invariants, and at the end the LP optimality certificate: every arc
has a reduced cost ``cost - alpha[row] - beta[col] >= 0``, ``= 0`` where it carries
flow; every ``beta <= 0``, and ``0`` on columns with room.

A warm start takes an optimal routing of a subgraph (the engine's last certificate
round, before it added arcs) with its prices. Rows with an added arc of negative reduced
cost are unrouted and their price lowered until none is negative; that leaves every
invariant but one: columns they left may have room at a negative price. Such a column
is a deficit of the flow problem whose sink ("routed") sits at price 0, and is refilled
by Dijkstra searches backwards (over arcs into it, then the arcs their rows hold):
phase 0, before routing, to the nearest unrouted row, unless a column at price 0 is as
near (then, from there, the sink's price would be the nearer start, and it waits);
phase 1 routes the unrouted rows as a cold start does; phase 2 refills what is left
from the nearest column priced 0 that holds a unit (which gives it up), or prices the
column 0 itself when that is nearer. Each is a shortest path with the price update of
successive shortest paths, so the invariants and the certificate hold at the end.
"""

import numpy as np

from matching._flow_py import _warm_fits, warm_arrays, warm_check_rows

from libc.stdlib cimport free, malloc, qsort, realloc
from libc.stdint cimport int32_t, int64_t

cdef extern from *:
    """
    typedef __int128 i128;
    static const __int128 I128_INF = (((__int128)1) << 125);
    """
    ctypedef long long i128
    i128 I128_INF

cdef int SHIFT = 80
# The costs `_by_cost` compares (qsort passes no context; one solve at a time holds them).
cdef const int64_t* _sort_w = NULL
cdef const int64_t* _sort_c = NULL
# First size of the search heap (it doubles when full, up to one entry per arc).
cdef Py_ssize_t HEAP_START = 4096
# Rows with at most this many arcs are sorted by insertion, longer ones by qsort.
cdef Py_ssize_t SHORT_ROW = 32
# Arcs, rows and columns a solve takes (its numbers are 32-bit).
cdef int64_t INDEX_LIMIT = 2**31 - 1


cdef int _by_cost(const void* x, const void* y) noexcept nogil:
    cdef int64_t a = (<const int32_t*> x)[0]
    cdef int64_t b = (<const int32_t*> y)[0]
    if _sort_w[a] != _sort_w[b]:
        return -1 if _sort_w[a] < _sort_w[b] else 1
    if _sort_c[a] != _sort_c[b]:
        return -1 if _sort_c[a] < _sort_c[b] else 1
    return (a > b) - (a < b)


cdef inline bint _after(int64_t a, int64_t b, const int64_t* w, const int64_t* c) noexcept nogil:
    """Whether arc a sorts after arc b (by cost, then index), as `_by_cost` orders them."""
    if w[a] != w[b]:
        return w[a] > w[b]
    if c[a] != c[b]:
        return c[a] > c[b]
    return a > b


cdef inline void _insertion_sort(int32_t* p, Py_ssize_t n, const int64_t* w, const int64_t* c) noexcept nogil:
    """``p[:n]`` by cost, then index: for a row's few arcs, cheaper than qsort's calls."""
    cdef Py_ssize_t i, j
    cdef int32_t x
    for i in range(1, n):
        x = p[i]
        j = i - 1
        while j >= 0 and _after(p[j], x, w, c):
            p[j + 1] = p[j]
            j -= 1
        p[j + 1] = x


cdef struct Item:
    i128 key
    int64_t tie
    int64_t col


cdef inline bint _before(Item* a, Item* b) noexcept nogil:
    return a.key < b.key or (a.key == b.key and a.tie < b.tie)


cdef inline void _push(Item* heap, Py_ssize_t* size, i128 key, int64_t tie, int64_t col) noexcept nogil:
    cdef Py_ssize_t i = size[0]
    cdef Py_ssize_t parent
    cdef Item it
    it.key = key
    it.tie = tie
    it.col = col
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(&it, &heap[parent]):
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = it


cdef inline void _pop(Item* heap, Py_ssize_t* size) noexcept nogil:
    cdef Py_ssize_t n = size[0] - 1
    cdef Item last = heap[n]
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t child
    size[0] = n
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and _before(&heap[child + 1], &heap[child]):
            child += 1
        if not _before(&heap[child], &last):
            break
        heap[i] = heap[child]
        i = child
    if n > 0:
        heap[i] = last


cdef inline bint _grow(Item** heap, Py_ssize_t* cap, Py_ssize_t most) noexcept nogil:
    """Doubles the heap, up to ``most`` entries (a search pushes once per arc at most);
    False if out of memory (the heap is then as it was)."""
    cdef Py_ssize_t want = min(2 * cap[0], most)
    cdef Item* grown = <Item*> realloc(heap[0], want * sizeof(Item))
    if not grown:
        return False
    heap[0] = grown
    cap[0] = want
    return True


cdef struct Holders:
    # Per column, the arcs carrying flow into it: a block of ``hold`` from ``off[q]``,
    # ``n[q]`` long; ``pos[a]`` is arc a's place there (-1: none).
    const int64_t* off
    int64_t* n
    int32_t* hold
    int32_t* pos


cdef inline void _hold(Holders* h, int64_t a, int64_t q) noexcept nogil:
    h.pos[a] = h.off[q] + h.n[q]
    h.hold[h.pos[a]] = a
    h.n[q] += 1


cdef inline void _release(Holders* h, int64_t a, int64_t q) noexcept nogil:
    """Arc a leaves q's block: the block's last arc takes its place."""
    cdef int64_t last
    h.n[q] -= 1
    last = h.hold[h.off[q] + h.n[q]]
    h.hold[h.pos[a]] = last
    h.pos[last] = h.pos[a]
    h.pos[a] = -1


cdef inline i128 _cost(const int64_t* w, const int64_t* c, Py_ssize_t a) noexcept nogil:
    """Arc a's cost ``w * 2**80 + c`` (made where it is read: 16 bytes an arc less than
    holding it)."""
    return ((<i128> w[a]) << SHIFT) + <i128> c[a]


def _solve_order(const int64_t[::1] indptr, const int64_t[::1] arc_w,
                 const int64_t[::1] arc_c):
    """The order in which a solve takes the given arcs: each row's by cost, then index (a
    total order: insertion sort and qsort agree); None where every row's are so already
    (`relabel` lays them out so: the solve then reads the given arrays). Rows of up to
    SHORT_ROW arcs by insertion (country 300k: 1.9 % of the engine's time went to qsort
    and its calls), longer ones by qsort, holding the GIL: `_by_cost` reads module
    globals, which two threads solving at once must not share."""
    global _sort_w, _sort_c
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1
    cdef Py_ssize_t nnz = arc_w.shape[0]
    cdef Py_ssize_t t, a
    cdef bint in_order = True
    if nnz == 0:
        return None
    with nogil:
        for t in range(n_rows):
            for a in range(indptr[t] + 1, indptr[t + 1]):
                if arc_w[a - 1] > arc_w[a] or (arc_w[a - 1] == arc_w[a] and arc_c[a - 1] > arc_c[a]):
                    in_order = False
                    break
            if not in_order:
                break
    if in_order:
        return None
    perm_np = np.arange(nnz, dtype=np.int32)
    cdef int32_t[::1] perm = perm_np
    with nogil:
        for t in range(n_rows):
            if 1 < indptr[t + 1] - indptr[t] <= SHORT_ROW:
                _insertion_sort(&perm[indptr[t]], indptr[t + 1] - indptr[t], &arc_w[0], &arc_c[0])
    _sort_w = &arc_w[0]
    _sort_c = &arc_c[0]
    try:
        for t in range(n_rows):
            if indptr[t + 1] - indptr[t] > SHORT_ROW:
                qsort(&perm[indptr[t]], indptr[t + 1] - indptr[t], sizeof(int32_t), _by_cost)
    finally:
        _sort_w = NULL
        _sort_c = NULL
    return perm_np


def solve_transport(row_supply, row_order, indptr, indices, arc_w, arc_c, col_cap, col_tie,
                    warm=None, work_limit=-1):
    """See `_solve_transport` (its parameters). ``indices`` may be of any integer type:
    they are taken as 32-bit (our own layout, `relabel`, makes them so: 4 bytes an arc
    less), after a check that each names a column."""
    cols = np.ascontiguousarray(indices, dtype=np.int32)
    if len(cols) and (int(np.min(indices)) < 0 or int(np.max(indices)) >= len(col_cap)):
        raise ValueError("an arc's column is out of range")
    return _solve_transport(row_supply, row_order, indptr, cols, arc_w, arc_c, col_cap,
                            col_tie, warm, work_limit)


def _solve_transport(
    const int64_t[::1] row_supply,
    const int64_t[::1] row_order,
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const int64_t[::1] arc_w,
    const int64_t[::1] arc_c,
    const int64_t[::1] col_cap,
    const int64_t[::1] col_tie,
    warm=None,
    int64_t work_limit=-1,
):
    """Min-cost routing of every row's supply, at most ``col_cap`` units per column.

    Parameters
    ----------
    row_supply : int64 array, shape (n_rows,)
    row_order : int64 array
        Permutation of the rows: the order in which their supply is routed.
    indptr, indices : int64, int32 arrays
        The arcs in CSR form (rows x columns), each (row, column) at most once.
    arc_w, arc_c : int64 arrays
        Each arc's cost ``arc_w * 2**80 + arc_c`` (weight part, then cost part).
    col_cap, col_tie : int64 arrays, shape (n_cols,)
        Capacity, and tie-break rank (lower first) among columns at equal distance.
    warm : tuple of int64 arrays, optional
        ``(flow, alpha_w, alpha_c, beta_w, beta_c[, rows])``: an optimal routing with its
        duals on a subgraph of these arcs (``flow`` per given arc, 0 on arcs it did not
        have; ``rows``, increasing, the only rows that gained arcs: only they are looked
        at for arcs of negative reduced cost). The solve starts from it: rows with an arc of negative reduced cost
        are unrouted and routed again, then every column left with room and a
        negative price is refilled (or priced 0) by a search backwards from it
        (phase 0 below). Ignored if it is not such a routing.
    work_limit : int
        With ``warm``: give up (``stats["aborted"] = 1``, nothing else returned is
        meaningful) once the rows scanned and columns popped exceed it (-1: never), so
        a caller can solve from nothing instead when the warm start proves costlier.

    Returns
    -------
    flow : int64 array, shape (nnz,)
    alpha_w, alpha_c : int64 arrays, shape (n_rows,)
        Row duals, weight and cost parts.
    beta_w, beta_c : int64 arrays, shape (n_cols,)
        Column duals (``<= 0``, ``0`` where a column has room).
    stats : dict
        ``searches``, ``column_pops``, ``row_scans``, ``arc_scans``, ``warm_rows``
        (rows routed again), ``refills`` (backward searches), ``refill_scans`` (arcs
        they scanned), ``aborted``.

    Raises
    ------
    ValueError
        When a row's supply cannot be routed (every row needs enough capacity), or the
        graph has 2**31 - 1 arcs, rows or columns or more.
    """
    cdef Py_ssize_t n_rows = row_supply.shape[0]
    cdef Py_ssize_t n_cols = col_cap.shape[0]
    cdef Py_ssize_t nnz = indices.shape[0]
    cdef Py_ssize_t a, b, k, k2, t, h, s_i
    cdef int64_t q, r, s, end, delta, v, top_tie
    cdef i128 d, nd, d_end, rc, best_room
    cdef Py_ssize_t heap_cap
    cdef Py_ssize_t heap_size, n_pop, n_scan, n_path, relaxed
    cdef int64_t searches = 0, column_pops = 0, row_scans = 0, arc_scans = 0
    cdef int64_t warm_rows = 0, refills = 0, refill_scans = 0
    cdef int failed = -1
    cdef Py_ssize_t n_rt, q0, t_col, end_row
    cdef i128 e_end
    cdef bint deferred
    cdef bint aborted = False
    cdef int64_t t_tie
    cdef i128 t_key
    cdef bint use_warm = False
    cdef bint row_bad

    if nnz >= INDEX_LIMIT or n_rows >= INDEX_LIMIT or n_cols >= INDEX_LIMIT:
        raise ValueError(f"at most {INDEX_LIMIT - 1} arcs, rows and columns")
    # Arc, row and column numbers inside the solve are 32-bit (12 million arcs: 290 MB
    # less than 64-bit ones).
    arc_row_np = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(np.asarray(indptr)))
    indeg = np.bincount(np.asarray(indices), minlength=n_cols).astype(np.int64)
    block = np.minimum(indeg, np.asarray(col_cap))
    hold_off_np = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(block, out=hold_off_np[1:])
    flow_np = np.zeros(nnz, dtype=np.int64)
    excess_np = np.asarray(row_supply, dtype=np.int64).copy()
    load_np = np.zeros(n_cols, dtype=np.int64)
    hold_np = np.zeros(max(int(hold_off_np[n_cols]), 1), dtype=np.int32)
    nhold_np = np.zeros(max(n_cols, 1), dtype=np.int64)
    arc_pos_np = np.full(max(nnz, 1), -1, dtype=np.int32)
    pred_arc_np = np.full(max(n_cols, 1), -1, dtype=np.int64)
    back_arc_np = np.full(max(n_rows, 1), -1, dtype=np.int64)
    col_done_np = np.zeros(max(n_cols, 1), dtype=np.int8)
    row_done_np = np.zeros(max(n_rows, 1), dtype=np.int8)
    popped_np = np.zeros(max(n_cols, 1), dtype=np.int64)
    scanned_np = np.zeros(max(n_rows, 1), dtype=np.int64)
    touched_np = np.zeros(max(n_cols, 1), dtype=np.int64)
    path_np = np.zeros(2 * (n_rows + n_cols) + 2, dtype=np.int64)

    # A warm start (see ``warm``): its arrays, and those of the backward searches.
    if warm is not None and nnz > 0:
        use_warm = _warm_fits_here(warm, np.asarray(row_supply), np.asarray(indptr),
                              np.asarray(indices), np.asarray(col_cap))
    m_rows = max(n_rows, 1) if use_warm else 1
    m_cols = max(n_cols, 1) if use_warm else 1
    if use_warm:
        w_aw_np, w_ac_np, w_bw_np, w_bc_np = (
            np.ascontiguousarray(x, dtype=np.int64) for x in warm[1:5])
        check_np = np.asarray(warm_check_rows(warm, n_rows), dtype=np.int64)
        col_start_np = np.zeros(n_cols + 1, dtype=np.int64)
        np.cumsum(indeg, out=col_start_np[1:])
        row_pos_np = np.empty(n_rows, dtype=np.int64)
        row_pos_np[np.asarray(row_order)] = np.arange(n_rows, dtype=np.int64)
    else:
        w_aw_np = w_ac_np = w_bw_np = w_bc_np = check_np = np.zeros(1, dtype=np.int64)
        col_start_np = np.zeros(2, dtype=np.int64)
        row_pos_np = np.zeros(1, dtype=np.int64)
    cdef const int64_t[::1] w_aw = w_aw_np
    cdef const int64_t[::1] w_ac = w_ac_np
    cdef const int64_t[::1] w_bw = w_bw_np
    cdef const int64_t[::1] w_bc = w_bc_np
    cdef const int64_t[::1] check_rows = check_np
    cdef Py_ssize_t n_check = len(check_np) if use_warm else 0
    cdef const int64_t[::1] col_start = col_start_np
    col_tie_np = np.asarray(col_tie)
    deficit_np = np.zeros(m_cols, dtype=np.int64)
    cdef int64_t[::1] deficit = deficit_np
    cdef Py_ssize_t n_def = 0
    cdef const int64_t[::1] row_pos = row_pos_np
    cdef const int64_t[::1] indeg_v = indeg
    col_arcs_np = np.zeros(max(nnz, 1) if use_warm else 1, dtype=np.int32)
    # The warm flow as given; in the solve's order below, where that differs.
    wflow_np = (np.ascontiguousarray(warm[0], dtype=np.int64) if use_warm
                else np.zeros(1, dtype=np.int64))
    rpred_col_np = np.full(m_cols, -1, dtype=np.int64)
    rpred_row_np = np.full(m_rows, -1, dtype=np.int64)
    touched_rows_np = np.zeros(m_rows, dtype=np.int64)
    cdef int32_t[::1] col_arcs = col_arcs_np
    cdef const int64_t[::1] wflow = wflow_np
    cdef int64_t[::1] rpred_col = rpred_col_np
    cdef int64_t[::1] rpred_row = rpred_row_np
    cdef int64_t[::1] touched_rows = touched_rows_np

    # Arc a of the solve is given arc perm[a] (see `_solve_order`): its cost and column,
    # and the warm flow, in the solve's order. Where the arcs come in that order (the
    # engine's always do) the given arrays themselves (country 1M: 24 bytes an arc less).
    perm_np = _solve_order(indptr, arc_w, arc_c)
    if perm_np is None:
        s_w_np, s_c_np, s_col_np = np.asarray(arc_w), np.asarray(arc_c), np.asarray(indices)
    else:
        s_w_np = np.asarray(arc_w)[perm_np]
        s_c_np = np.asarray(arc_c)[perm_np]
        s_col_np = np.asarray(indices)[perm_np]
        if use_warm:
            wflow_np = np.ascontiguousarray(wflow_np[perm_np])
            wflow = wflow_np
    if nnz == 0:
        s_w_np = s_c_np = np.zeros(1, dtype=np.int64)
        s_col_np = np.zeros(1, dtype=np.int32)
    cdef const int64_t[::1] s_w = s_w_np
    cdef const int64_t[::1] s_c = s_c_np
    cdef const int32_t[::1] sorted_col = s_col_np
    cdef const int64_t* cw = &s_w[0]
    cdef const int64_t* cc = &s_c[0]
    cdef const int32_t[::1] arc_row = arc_row_np
    cdef const int64_t[::1] hold_off = hold_off_np
    cdef int64_t[::1] flow = flow_np
    cdef int64_t[::1] excess = excess_np
    cdef int64_t[::1] load = load_np
    cdef int32_t[::1] hold = hold_np
    cdef int64_t[::1] nhold = nhold_np
    cdef int32_t[::1] arc_pos = arc_pos_np
    cdef int64_t[::1] pred_arc = pred_arc_np
    cdef int64_t[::1] back_arc = back_arc_np
    cdef signed char[::1] col_done = col_done_np
    cdef signed char[::1] row_done = row_done_np
    cdef int64_t[::1] popped = popped_np
    cdef int64_t[::1] scanned = scanned_np
    cdef int64_t[::1] touched = touched_np
    cdef int64_t[::1] path = path_np
    cdef Py_ssize_t n_touched
    cdef Holders holders
    holders.off = &hold_off[0]
    holders.n = &nhold[0]
    holders.hold = &hold[0]
    holders.pos = &arc_pos[0]

    cdef i128* alpha = <i128*> malloc(max(n_rows, 1) * sizeof(i128))
    cdef i128* beta = <i128*> malloc(max(n_cols, 1) * sizeof(i128))
    cdef i128* dist_col = <i128*> malloc(max(n_cols, 1) * sizeof(i128))
    cdef i128* dist_row = <i128*> malloc(max(n_rows, 1) * sizeof(i128))
    heap_cap = min(nnz + 2, HEAP_START)
    cdef Item* heap = <Item*> malloc(heap_cap * sizeof(Item))
    if not (alpha and beta and dist_col and dist_row and heap):
        free(alpha); free(beta); free(dist_col); free(dist_row); free(heap)
        raise MemoryError()
    try:
        with nogil:
            for t in range(n_rows):
                alpha[t] = 0
                dist_row[t] = I128_INF
            for t in range(n_cols):
                beta[t] = 0
                dist_col[t] = I128_INF
            top_tie = (<int64_t> 1) << 62
            if use_warm:
                for t in range(n_cols):
                    beta[t] = ((<i128> w_bw[t]) << SHIFT) + <i128> w_bc[t]
                for t in range(n_rows):
                    alpha[t] = ((<i128> w_aw[t]) << SHIFT) + <i128> w_ac[t]
                # The warm routing (its arcs tight, else it is not used).
                for a in range(nnz):
                    if wflow[a] > 0 and _cost(cw, cc, a) - alpha[arc_row[a]] - beta[sorted_col[a]] != 0:
                        use_warm = False
                        break
                if use_warm:
                    for a in range(nnz):
                        if wflow[a] > 0:
                            q = sorted_col[a]
                            flow[a] = wflow[a]
                            load[q] += flow[a]
                            excess[arc_row[a]] -= flow[a]
                            _hold(&holders, a, q)
                    # Rows with an arc of negative reduced cost are unrouted; their price
                    # is lowered until every arc of theirs has a reduced cost >= 0.
                    for k in range(n_check):
                        t = check_rows[k]
                        row_bad = False
                        for a in range(indptr[t], indptr[t + 1]):
                            if _cost(cw, cc, a) - alpha[t] - beta[sorted_col[a]] < 0:
                                row_bad = True
                                break
                        if not row_bad:
                            continue
                        warm_rows += 1
                        for a in range(indptr[t], indptr[t + 1]):
                            q = sorted_col[a]
                            if flow[a] > 0:
                                load[q] -= flow[a]
                                excess[t] += flow[a]
                                flow[a] = 0
                                _release(&holders, a, q)
                            if indeg_v[q] == 1:
                                # Only this row reaches it (its slack columns): now empty.
                                beta[q] = 0
                        d = I128_INF
                        for a in range(indptr[t], indptr[t + 1]):
                            rc = _cost(cw, cc, a) - beta[sorted_col[a]]
                            if rc < d:
                                d = rc
                        alpha[t] = d
                    # The columns to refill: with room at a negative price (no others
                    # become so), by tie rank; and, if any, each column's arcs in solve
                    # order (a counting sort) for the backward searches.
                    for t in range(n_cols):
                        if load[t] < col_cap[t] and beta[t] < 0:
                            deficit[n_def] = t
                            n_def += 1
                    if n_def > 0:
                        with gil:
                            picked = deficit_np[:n_def]
                            picked[:] = picked[np.argsort(col_tie_np[picked], kind="stable")]
                        for t in range(n_cols):
                            rpred_col[t] = 0
                        for a in range(nnz):
                            q = sorted_col[a]
                            col_arcs[col_start[q] + rpred_col[q]] = a
                            rpred_col[q] += 1
                        for t in range(n_cols):
                            rpred_col[t] = -1
                else:
                    for t in range(n_cols):
                        beta[t] = 0
                    for t in range(n_rows):
                        alpha[t] = 0
            for phase in range(3):
                if phase == 1:
                    for s_i in range(n_rows):
                        s = row_order[s_i]
                        while excess[s] > 0:
                            searches += 1
                            heap_size = 0
                            n_pop = 0
                            n_scan = 0
                            n_touched = 0
                            end = -1
                            d_end = 0
                            best_room = I128_INF
                            # The source row at distance 0; rows reached later are relaxed in
                            # the order they were scanned (``relaxed`` trails ``n_scan``).
                            row_done[s] = 1
                            dist_row[s] = 0
                            back_arc[s] = -1
                            scanned[0] = s
                            n_scan = 1
                            relaxed = 0
                            while True:
                                while relaxed < n_scan:
                                    r = scanned[relaxed]
                                    relaxed += 1
                                    d = dist_row[r]
                                    row_scans += 1
                                    for a in range(indptr[r], indptr[r + 1]):
                                        if d + _cost(cw, cc, a) - alpha[r] > best_room:
                                            break
                                        arc_scans += 1
                                        q = sorted_col[a]
                                        if col_done[q]:
                                            continue
                                        rc = _cost(cw, cc, a) - alpha[r] - beta[q]
                                        nd = d + rc
                                        if nd < dist_col[q]:
                                            if dist_col[q] == I128_INF:
                                                touched[n_touched] = q
                                                n_touched += 1
                                            dist_col[q] = nd
                                            pred_arc[q] = a
                                            if load[q] < col_cap[q] and nd < best_room:
                                                best_room = nd
                                            if heap_size == heap_cap and not _grow(&heap, &heap_cap, nnz + 2):
                                                with gil:
                                                    raise MemoryError()
                                            _push(heap, &heap_size, nd,
                                                  (top_tie if load[q] >= col_cap[q] else 0) + col_tie[q],
                                                  q)
                                # The nearest column not yet popped.
                                q = -1
                                while heap_size > 0:
                                    q = heap[0].col
                                    d = heap[0].key
                                    _pop(heap, &heap_size)
                                    if col_done[q] or d > dist_col[q]:
                                        q = -1
                                        continue
                                    break
                                if q < 0:
                                    failed = <int> s
                                    break
                                column_pops += 1
                                col_done[q] = 1
                                if load[q] < col_cap[q]:
                                    end = q
                                    d_end = d
                                    break
                                popped[n_pop] = q
                                n_pop += 1
                                # The rows holding q are reached at the same distance (tight arcs).
                                for h in range(hold_off[q], hold_off[q] + nhold[q]):
                                    b = hold[h]
                                    v = arc_row[b]
                                    if row_done[v]:
                                        continue
                                    row_done[v] = 1
                                    dist_row[v] = d
                                    back_arc[v] = b
                                    scanned[n_scan] = v
                                    n_scan += 1
                            if failed >= 0:
                                break
                            # Duals: scanned rows up, popped columns down, by how much nearer
                            # than the end they were.
                            for t in range(n_scan):
                                v = scanned[t]
                                alpha[v] += d_end - dist_row[v]
                            for t in range(n_pop):
                                q = popped[t]
                                beta[q] -= d_end - dist_col[q]
                            # The path back from the end: forward arcs into columns, backward arcs
                            # out of the rows holding them.
                            delta = excess[s]
                            if col_cap[end] - load[end] < delta:
                                delta = col_cap[end] - load[end]
                            n_path = 0
                            q = end
                            while True:
                                a = pred_arc[q]
                                path[n_path] = a
                                n_path += 1
                                r = arc_row[a]
                                if r == s:
                                    break
                                b = back_arc[r]
                                path[n_path] = b
                                n_path += 1
                                if flow[b] < delta:
                                    delta = flow[b]
                                q = sorted_col[b]
                            for k in range(n_path):
                                a = path[k]
                                q = sorted_col[a]
                                if k % 2 == 0:
                                    if flow[a] == 0:
                                        _hold(&holders, a, q)
                                    flow[a] += delta
                                else:
                                    flow[a] -= delta
                                    if flow[a] == 0:
                                        _release(&holders, a, q)
                            load[end] += delta
                            excess[s] -= delta
                            for t in range(n_touched):
                                q = touched[t]
                                dist_col[q] = I128_INF
                                col_done[q] = 0
                            for t in range(n_scan):
                                v = scanned[t]
                                dist_row[v] = I128_INF
                                row_done[v] = 0
                            if use_warm and 0 <= work_limit < row_scans + column_pops:
                                aborted = True
                                break
                        if failed >= 0 or aborted:
                            break
                if phase != 1 and use_warm and failed < 0 and not aborted:
                    # Columns left with room and a negative price: each is refilled, a unit
                    # at a time, along the shortest backward path from an unrouted row
                    # (phase 0, before routing: only where none is nearer than a column
                    # priced 0) or from a column with room at price 0 (phase 2; or it is
                    # priced 0 itself, when that is nearer).
                    for k in range(n_def):
                        q0 = deficit[k]
                        while load[q0] < col_cap[q0] and beta[q0] < 0:
                            refills += 1
                            heap_size = 0
                            n_pop = 0
                            n_scan = 0
                            n_rt = 0
                            t_key = I128_INF
                            t_tie = 0
                            t_col = -1
                            end_row = -1
                            col_done[q0] = 1
                            dist_col[q0] = 0
                            rpred_col[q0] = -1
                            popped[0] = q0
                            n_pop = 1
                            relaxed = 0
                            while True:
                                # Labelled columns: "priced 0 from here", and the rows that
                                # could send them a unit.
                                while relaxed < n_pop:
                                    q = popped[relaxed]
                                    relaxed += 1
                                    d = dist_col[q]
                                    column_pops += 1
                                    rc = d - beta[q]
                                    if rc < t_key or (rc == t_key and col_tie[q] < t_tie):
                                        t_key = rc
                                        t_tie = col_tie[q]
                                        t_col = q
                                    for h in range(col_start[q], col_start[q + 1]):
                                        a = col_arcs[h]
                                        r = arc_row[a]
                                        refill_scans += 1
                                        if row_done[r]:
                                            continue
                                        nd = d + _cost(cw, cc, a) - alpha[r] - beta[q]
                                        if nd >= t_key or nd >= dist_row[r]:
                                            continue
                                        if dist_row[r] == I128_INF:
                                            touched_rows[n_rt] = r
                                            n_rt += 1
                                        dist_row[r] = nd
                                        rpred_row[r] = a
                                        if heap_size == heap_cap and not _grow(&heap, &heap_cap, nnz + 2):
                                            with gil:
                                                raise MemoryError()
                                        _push(heap, &heap_size, nd, row_pos[r], r)
                                # The nearest row, unless pricing a column 0 is as near.
                                r = -1
                                while heap_size > 0 and heap[0].key < t_key:
                                    r = heap[0].col
                                    d = heap[0].key
                                    _pop(heap, &heap_size)
                                    if row_done[r] or d > dist_row[r]:
                                        r = -1
                                        continue
                                    break
                                if r < 0:
                                    break
                                row_done[r] = 1
                                scanned[n_scan] = r
                                n_scan += 1
                                row_scans += 1
                                if phase == 0 and excess[r] > 0:
                                    end_row = r
                                    e_end = d
                                    break
                                for a in range(indptr[r], indptr[r + 1]):
                                    if flow[a] > 0:
                                        q = sorted_col[a]
                                        if col_done[q]:
                                            continue
                                        col_done[q] = 1
                                        dist_col[q] = d
                                        rpred_col[q] = a
                                        popped[n_pop] = q
                                        n_pop += 1
                            if phase == 0 and end_row < 0:
                                # A column priced 0 is nearer than any unrouted row: later.
                                deferred = True
                            else:
                                deferred = False
                                if end_row < 0:
                                    e_end = t_key
                                # Prices: labelled columns up, popped rows down, by how much
                                # nearer than the end they were.
                                for t in range(n_pop):
                                    q = popped[t]
                                    beta[q] += e_end - dist_col[q]
                                for t in range(n_scan):
                                    v = scanned[t]
                                    alpha[v] -= e_end - dist_row[v]
                                # The path to q0: from the unrouted row end_row (its arc first),
                                # or from t_col, which gives up a unit its row sends on.
                                delta = col_cap[q0] - load[q0]
                                n_path = 0
                                if end_row >= 0:
                                    if excess[end_row] < delta:
                                        delta = excess[end_row]
                                    a = rpred_row[end_row]
                                    path[0] = a
                                    n_path = 1
                                    q = sorted_col[a]
                                else:
                                    q = t_col
                                while q != q0:
                                    b = rpred_col[q]
                                    path[n_path] = b
                                    n_path += 1
                                    if flow[b] < delta:
                                        delta = flow[b]
                                    a = rpred_row[arc_row[b]]
                                    path[n_path] = a
                                    n_path += 1
                                    q = sorted_col[a]
                                # Units leave each column before others arrive (its holder
                                # block has room for its capacity only): backward arcs first.
                                for k2 in range(1 if end_row >= 0 else 0, n_path, 2):
                                    a = path[k2]
                                    q = sorted_col[a]
                                    flow[a] -= delta
                                    if flow[a] == 0:
                                        _release(&holders, a, q)
                                for k2 in range(0 if end_row >= 0 else 1, n_path, 2):
                                    a = path[k2]
                                    q = sorted_col[a]
                                    if flow[a] == 0:
                                        _hold(&holders, a, q)
                                    flow[a] += delta
                                if end_row >= 0:
                                    excess[end_row] -= delta
                                elif n_path:
                                    load[t_col] -= delta
                                if n_path:
                                    load[q0] += delta
                            for t in range(n_pop):
                                q = popped[t]
                                dist_col[q] = I128_INF
                                col_done[q] = 0
                            for t in range(n_rt):
                                v = touched_rows[t]
                                dist_row[v] = I128_INF
                                row_done[v] = 0
                            if 0 <= work_limit < row_scans + column_pops:
                                aborted = True
                            if deferred or aborted:
                                break
                        if aborted:
                            break
                if aborted:
                    break
        if failed >= 0 and not aborted:
            raise ValueError(f"row {failed} cannot be routed to a column with room")
        aw = np.empty(n_rows, dtype=np.int64)
        ac = np.empty(n_rows, dtype=np.int64)
        bw = np.empty(n_cols, dtype=np.int64)
        bc = np.empty(n_cols, dtype=np.int64)
        if not aborted:
            _split(alpha, n_rows, aw, ac)
            _split(beta, n_cols, bw, bc)
    finally:
        free(alpha); free(beta); free(dist_col); free(dist_row); free(heap)
    if perm_np is None:
        given_flow = flow_np
    else:
        given_flow = np.zeros(nnz, dtype=np.int64)
        given_flow[perm_np] = flow_np
    stats = {
        "searches": int(searches),
        "column_pops": int(column_pops),
        "row_scans": int(row_scans),
        "arc_scans": int(arc_scans),
        "warm_rows": int(warm_rows),
        "refills": int(refills),
        "refill_scans": int(refill_scans),
        "aborted": int(aborted),
    }
    return given_flow, aw, ac, bw, bc, stats


cdef void _split(i128* values, Py_ssize_t n, int64_t[::1] hi, int64_t[::1] lo):
    """``values = hi * 2**80 + lo`` with ``|lo| < 2**79`` (lo must fit in int64)."""
    cdef Py_ssize_t t
    cdef i128 x, w, half = (<i128> 1) << (SHIFT - 1)
    cdef i128 lim = (<i128> 1) << 62
    for t in range(n):
        x = values[t]
        w = (x + half) >> SHIFT
        x = x - (w << SHIFT)
        if x >= lim or x <= -lim:
            raise OverflowError("a dual price's cost part does not fit in 64 bits")
        hi[t] = <int64_t> w
        lo[t] = <int64_t> x


cdef struct Entry:
    int64_t w
    int64_t c
    int64_t pos
    int32_t col
    int32_t order


cdef int _entry_cmp(const void* x, const void* y) noexcept nogil:
    """Entries of one row by cost, then position: no globals (`relabel` sorts without the
    GIL)."""
    cdef const Entry* a = <const Entry*> x
    cdef const Entry* b = <const Entry*> y
    if a.w != b.w:
        return -1 if a.w < b.w else 1
    if a.c != b.c:
        return -1 if a.c < b.c else 1
    return (a.pos > b.pos) - (a.pos < b.pos)


cdef void _sort_entries(Entry* e, Py_ssize_t n) noexcept nogil:
    """``e[:n]`` by `_entry_cmp`: by insertion up to SHORT_ROW entries, else qsort."""
    cdef Py_ssize_t i, j
    cdef Entry x
    if n > SHORT_ROW:
        qsort(e, n, sizeof(Entry), _entry_cmp)
        return
    for i in range(1, n):
        x = e[i]
        j = i - 1
        while j >= 0 and _entry_cmp(&e[j], &x) > 0:
            e[j + 1] = e[j]
            j -= 1
        e[j + 1] = x


def relabel(
    const int64_t[::1] row_perm,
    const int64_t[::1] col_new,
    const int32_t[::1] arc_row,
    const int32_t[::1] arc_col,
    const int64_t[::1] cost,
    const int64_t[::1] slack_ptr,
    const int64_t[::1] slack_weight,
    int64_t n_cls,
):
    """`matching._flow_py.relabel`, in one pass (country 1M: numpy's gathers and masks
    took about 0.8 s a round)."""
    cdef Py_ssize_t n_rows = row_perm.shape[0]
    cdef Py_ssize_t n_arcs = arc_row.shape[0]
    cdef Py_ssize_t n_slack = slack_weight.shape[0]
    cdef Py_ssize_t total = n_arcs + n_slack
    cdef Py_ssize_t nr, r, k, s, p = 0
    if slack_ptr.shape[0] != n_rows + 1 or arc_col.shape[0] != n_arcs or cost.shape[0] != n_arcs:
        raise ValueError("relabel: arrays of different lengths")
    if col_new.shape[0] < n_cls + n_slack:
        raise ValueError("relabel: col_new shorter than the classes and slack columns")
    cdef bint bad = False
    arc_ptr_np = np.zeros(n_rows + 1, dtype=np.int64)
    indptr_np = np.empty(n_rows + 1, dtype=np.int64)
    if total >= INDEX_LIMIT:
        raise ValueError(f"at most {INDEX_LIMIT - 1} arcs and slack columns")
    indices_np = np.empty(total, dtype=np.int32)
    arc_w_np = np.empty(total, dtype=np.int64)
    arc_c_np = np.empty(total, dtype=np.int64)
    order_np = np.empty(total, dtype=np.int32)
    cdef int64_t[::1] arc_ptr = arc_ptr_np
    cdef int64_t[::1] indptr = indptr_np
    cdef int32_t[::1] indices = indices_np
    cdef int64_t[::1] arc_w = arc_w_np
    cdef int64_t[::1] arc_c = arc_c_np
    cdef int32_t[::1] order = order_np
    seen_np = np.zeros(max(n_rows, 1), dtype=np.int8)
    cdef signed char[::1] seen = seen_np
    cdef Py_ssize_t start, mid, n, j, longest = 0
    cdef int32_t x_col
    cdef int64_t x_c, x_w
    cdef bint long_row
    cdef Entry* buf = NULL
    with nogil:
        for k in range(n_arcs):
            if arc_row[k] < 0 or arc_row[k] >= n_rows or (k > 0 and arc_row[k] < arc_row[k - 1]):
                bad = True
                break
            if arc_col[k] < 0 or arc_col[k] >= n_cls:
                bad = True
                break
            arc_ptr[arc_row[k] + 1] += 1
        for r in range(n_rows):
            arc_ptr[r + 1] += arc_ptr[r]
            if slack_ptr[r] < 0 or slack_ptr[r + 1] < slack_ptr[r] or slack_ptr[r + 1] > n_slack:
                bad = True
            elif arc_ptr[r + 1] - arc_ptr[r] + slack_ptr[r + 1] - slack_ptr[r] > longest:
                longest = arc_ptr[r + 1] - arc_ptr[r] + slack_ptr[r + 1] - slack_ptr[r]
    buf = <Entry*> malloc(max(longest, 1) * sizeof(Entry))
    if not buf:
        raise MemoryError()
    with nogil:
        for nr in range(n_rows):
            if bad:
                break
            indptr[nr] = p
            r = row_perm[nr]
            if r < 0 or r >= n_rows or seen[r] or p + (arc_ptr[r + 1] - arc_ptr[r]) + (
                slack_ptr[r + 1] - slack_ptr[r]
            ) > total:
                bad = True
                break
            seen[r] = 1
            # The row's entries by cost, then as laid out (arcs, then slack columns): the
            # order the solve takes them. Each block is sorted as it is written, by
            # insertion (stable), where short; the row is sorted whole below where a block
            # is long or the blocks are out of order (a slack weight <= 0).
            start = p
            long_row = arc_ptr[r + 1] - arc_ptr[r] > SHORT_ROW
            for k in range(arc_ptr[r], arc_ptr[r + 1]):
                x_col = col_new[arc_col[k]]
                x_c = cost[k]
                j = p
                if not long_row:
                    while j > start and arc_c[j - 1] > x_c:
                        indices[j] = indices[j - 1]
                        arc_c[j] = arc_c[j - 1]
                        order[j] = order[j - 1]
                        j -= 1
                indices[j] = x_col
                arc_w[p] = 0
                arc_c[j] = x_c
                order[j] = k
                p += 1
            mid = p
            long_row = long_row or slack_ptr[r + 1] - slack_ptr[r] > SHORT_ROW
            for s in range(slack_ptr[r], slack_ptr[r + 1]):
                x_col = col_new[n_cls + s]
                x_w = slack_weight[s]
                j = p
                if not long_row:
                    while j > mid and arc_w[j - 1] > x_w:
                        indices[j] = indices[j - 1]
                        arc_w[j] = arc_w[j - 1]
                        order[j] = order[j - 1]
                        j -= 1
                indices[j] = x_col
                arc_w[j] = x_w
                arc_c[p] = 0
                order[j] = n_arcs + s
                p += 1
            n = p - start
            if not long_row and (mid == start or mid == p or arc_w[mid] > 0 or (
                arc_w[mid] == 0 and arc_c[mid - 1] <= 0
            )):
                continue
            for k in range(n):
                buf[k].w = arc_w[start + k]
                buf[k].c = arc_c[start + k]
                buf[k].pos = k
                buf[k].col = indices[start + k]
                buf[k].order = order[start + k]
            _sort_entries(buf, n)
            for k in range(n):
                arc_w[start + k] = buf[k].w
                arc_c[start + k] = buf[k].c
                indices[start + k] = buf[k].col
                order[start + k] = buf[k].order
        indptr[n_rows] = p
    free(buf)
    if bad:
        raise ValueError(
            "relabel: arcs not sorted by row, a row, class or slack out of range, or "
            "row_perm not a permutation of the rows"
        )
    if p != total:
        raise ValueError("relabel: row_perm is not a permutation of the rows")
    return indptr_np, indices_np, arc_w_np, arc_c_np, order_np


def duals_prove(indptr, indices, w, c, flow, aw, ac, bw, bc, col_cap):
    """See `_duals_prove`; ``indices`` of any integer type (taken as 32-bit if each fits:
    else nothing is proved)."""
    cols = np.ascontiguousarray(indices, dtype=np.int32)
    if len(cols) and (int(np.min(indices)) < 0 or int(np.max(indices)) >= len(col_cap)):
        return False
    return _duals_prove(indptr, cols, w, c, flow, aw, ac, bw, bc, col_cap)


def _duals_prove(
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const int64_t[::1] w,
    const int64_t[::1] c,
    const int64_t[::1] flow,
    const int64_t[::1] aw,
    const int64_t[::1] ac,
    const int64_t[::1] bw,
    const int64_t[::1] bc,
    const int64_t[::1] col_cap,
):
    """`matching._flow_py.duals_prove`, in one pass and exact (128-bit reduced costs),
    recomputed from the given arrays: nothing of the solve's own state is trusted."""
    cdef Py_ssize_t n_rows = aw.shape[0]
    cdef Py_ssize_t n_cols = col_cap.shape[0]
    cdef Py_ssize_t r, a, q
    cdef i128 rw, rc
    cdef bint ok = True
    cdef Py_ssize_t nnz = indices.shape[0]
    if indptr.shape[0] != n_rows + 1 or ac.shape[0] != n_rows or bw.shape[0] != n_cols:
        return False
    if bc.shape[0] != n_cols or w.shape[0] != nnz or c.shape[0] != nnz or flow.shape[0] != nnz:
        return False
    if n_rows and (indptr[0] != 0 or indptr[n_rows] != nnz):
        return False
    load_np = np.zeros(max(n_cols, 1), dtype=np.int64)
    cdef int64_t[::1] load = load_np
    with nogil:
        for r in range(n_rows):
            if indptr[r + 1] < indptr[r]:
                ok = False
                break
            for a in range(indptr[r], indptr[r + 1]):
                q = indices[a]
                if q < 0 or q >= n_cols:
                    ok = False
                    break
                rw = <i128> w[a] - aw[r] - bw[q]
                rc = <i128> c[a] - ac[r] - bc[q]
                if rw < 0 or (rw == 0 and rc < 0):
                    ok = False
                    break
                if flow[a] > 0:
                    if rw != 0 or rc != 0:
                        ok = False
                        break
                    load[q] += flow[a]
            if not ok:
                break
        if ok:
            for q in range(n_cols):
                if bw[q] > 0 or (bw[q] == 0 and bc[q] > 0):
                    ok = False
                    break
                if load[q] < col_cap[q] and (bw[q] != 0 or bc[q] != 0):
                    ok = False
                    break
    return bool(ok)


def _warm_fits_here(warm, row_supply, indptr, indices, col_cap):
    """`matching._flow_py._warm_fits`, its sums in loops: the same answer without its
    temporaries (country 1M: about 340 MB at the solve's peak). Arrays that are not all
    int64 go to the twin."""
    arrays = warm_arrays(warm, len(row_supply), len(col_cap), len(indices))
    if arrays is None:
        return False
    flow, _, _, bw, bc, rows = arrays
    if any(x.dtype != np.int64 for x in (flow, bw, bc)) or (
        rows is not None and rows.dtype != np.int64
    ):
        return _warm_fits(warm, row_supply, indptr, indices, col_cap)
    return _fits(
        np.ascontiguousarray(flow),
        np.ascontiguousarray(bw),
        np.ascontiguousarray(bc),
        np.ascontiguousarray(rows) if rows is not None else np.zeros(0, dtype=np.int64),
        rows is not None,
        row_supply,
        indptr,
        np.ascontiguousarray(indices, dtype=np.int32),
        col_cap,
    )


cdef bint _fits(
    const int64_t[::1] flow,
    const int64_t[::1] bw,
    const int64_t[::1] bc,
    const int64_t[::1] rows,
    bint has_rows,
    const int64_t[::1] row_supply,
    const int64_t[::1] indptr,
    const int32_t[::1] indices,
    const int64_t[::1] col_cap,
):
    cdef Py_ssize_t n_rows = row_supply.shape[0]
    cdef Py_ssize_t n_cols = col_cap.shape[0]
    cdef Py_ssize_t nnz = indices.shape[0]
    cdef Py_ssize_t r, a, q, k
    cdef int64_t routed
    cdef bint ok = True
    load_np = np.zeros(max(n_cols, 1), dtype=np.int64)
    cdef int64_t[::1] load = load_np
    if indptr.shape[0] != n_rows + 1 or (n_rows and indptr[n_rows] != nnz):
        return False
    with nogil:
        if has_rows:
            for k in range(rows.shape[0]):
                if rows[k] < 0 or rows[k] >= n_rows or (k > 0 and rows[k] <= rows[k - 1]):
                    ok = False
                    break
        for q in range(n_cols):
            if bw[q] > 0 or (bw[q] == 0 and bc[q] > 0):
                ok = False
        for r in range(n_rows):
            if not ok:
                break
            routed = 0
            for a in range(indptr[r], indptr[r + 1]):
                q = indices[a]
                if flow[a] < 0 or q < 0 or q >= n_cols:
                    ok = False
                    break
                routed += flow[a]
                load[q] += flow[a]
            if routed > row_supply[r]:
                ok = False
        if ok:
            for q in range(n_cols):
                if load[q] > col_cap[q]:
                    ok = False
                    break
    return ok
