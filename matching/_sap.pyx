# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Shortest augmenting paths for sparse rectangular assignment with column
capacities (compiled).

Rows are added one at a time; each takes a Dijkstra search over reduced costs
from the row to the nearest column with room left, then the path is augmented
and the column prices of the searched region updated (Jonker-Volgenant's
augmentation step, on a sparse graph, with a binary heap). A column of
capacity k holds up to k rows at one price (the optimum prices a volunteer's
k places alike, so they need not be k columns). A search touches only the
region it explores and resets only what it touched, so on geographic graphs,
where the nearest free column is a few hops away, the work grows about
linearly with the rows instead of as rows x columns (scipy's LAPJVsp).

Invariants: every column price is <= 0, columns with room left are priced 0,
every arc has a reduced cost >= 0 and every matched arc 0; at the end these are
the LP dual prices that prove the assignment optimal.
"""

import numpy as np

from libc.math cimport INFINITY


cdef inline bint _before(double k1, int q1, double k2, int q2) noexcept nogil:
    return k1 < k2 or (k1 == k2 and q1 < q2)


cdef inline void _push(double* hk, int* hq, Py_ssize_t* size, double key, int q) noexcept nogil:
    cdef Py_ssize_t i = size[0]
    cdef Py_ssize_t parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(key, q, hk[parent], hq[parent]):
            break
        hk[i] = hk[parent]
        hq[i] = hq[parent]
        i = parent
    hk[i] = key
    hq[i] = q


cdef inline void _pop(double* hk, int* hq, Py_ssize_t* size) noexcept nogil:
    """Remove the root; the caller has read it."""
    cdef Py_ssize_t n = size[0] - 1
    cdef double key = hk[n]
    cdef int q = hq[n]
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t child
    size[0] = n
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and _before(hk[child + 1], hq[child + 1], hk[child], hq[child]):
            child += 1
        if not _before(hk[child], hq[child], key, q):
            break
        hk[i] = hk[child]
        hq[i] = hq[child]
        i = child
    if n > 0:
        hk[i] = key
        hq[i] = q


cdef struct _Search:
    double* dist
    int* pred
    double* pred_cost
    int* touched
    Py_ssize_t n_touched
    double* heap_key
    int* heap_col
    Py_ssize_t heap_size
    double bound
    const int* load
    const int* capacity


cdef inline void _reach(_Search* se, int q, double nd, int row, double arc_cost) noexcept nogil:
    """Column ``q`` reached at reduced distance ``nd`` from ``row`` by an arc of this cost."""
    if nd > se.bound:
        return  # beyond the nearest column with room already reached: cannot matter
    if se.load[q] < se.capacity[q] and nd < se.bound:
        se.bound = nd
    if se.dist[q] == INFINITY:
        se.touched[se.n_touched] = q
        se.n_touched += 1
    if nd < se.dist[q]:
        se.dist[q] = nd
        se.pred[q] = row
        se.pred_cost[q] = arc_cost
        _push(se.heap_key, se.heap_col, &se.heap_size, nd, q)


def assign_rows(
    const long long[::1] indptr,
    const int[::1] indices,
    const double[::1] cost,
    const int[::1] capacity,
):
    """Min-cost assignment of every row to a column, at most ``capacity`` rows a column.

    Parameters
    ----------
    indptr, indices, cost : arrays
        The graph in CSR form (rows x columns); every row must be able to reach a
        column with room (give each row a column of its own to be sure).
    capacity : array of int32
        Rows each column may take.

    Returns
    -------
    col_of_row : ndarray of intp
    price : ndarray of float64
        Column prices (<= 0, 0 on columns with room left).

    Raises
    ------
    ValueError
        When a row cannot be assigned.
    """
    cdef Py_ssize_t n_row = indptr.shape[0] - 1
    cdef Py_ssize_t n_col = capacity.shape[0]
    cdef Py_ssize_t nnz = indices.shape[0]
    cap_np = np.asarray(capacity, dtype=np.intc)
    first_np = np.zeros(n_col + 1, dtype=np.int64)
    np.cumsum(cap_np, out=first_np[1:])
    col_of_row_a = np.full(n_row, -1, dtype=np.intp)
    load_a = np.zeros(n_col, dtype=np.intc)
    holder_a = np.full(max(int(first_np[n_col]), 1), -1, dtype=np.intc)
    price_a = np.zeros(n_col, dtype=np.float64)
    matched_cost_a = np.zeros(n_row, dtype=np.float64)
    dist_a = np.full(n_col, INFINITY, dtype=np.float64)
    pred_a = np.full(n_col, -1, dtype=np.intc)
    pred_cost_a = np.zeros(n_col, dtype=np.float64)
    done_a = np.zeros(n_col, dtype=np.int8)
    touched_a = np.zeros(n_col, dtype=np.intc)
    scanned_a = np.zeros(n_col, dtype=np.intc)
    heap_key_a = np.zeros(nnz + 1, dtype=np.float64)
    heap_col_a = np.zeros(nnz + 1, dtype=np.intc)
    cdef long long[::1] first = first_np
    cdef Py_ssize_t[::1] col_of_row = col_of_row_a
    cdef int[::1] load = load_a
    cdef int[::1] holder = holder_a
    cdef double[::1] price = price_a
    cdef double[::1] dist = dist_a
    cdef int[::1] pred = pred_a
    cdef double[::1] pred_cost = pred_cost_a
    cdef double[::1] matched_cost = matched_cost_a
    cdef signed char[::1] done = done_a
    cdef int[::1] touched = touched_a
    cdef int[::1] scanned = scanned_a
    cdef double[::1] heap_key = heap_key_a
    cdef int[::1] heap_col = heap_col_a
    cdef Py_ssize_t s, k, t, h, n_scanned
    cdef int q, q2, r, end, prev
    cdef double start, key, base, nd, reach, c
    cdef int failed = -1
    cdef _Search se
    se.dist = &dist[0]
    se.pred = &pred[0]
    se.pred_cost = &pred_cost[0]
    se.touched = &touched[0]
    se.heap_key = &heap_key[0]
    se.heap_col = &heap_col[0]
    se.load = &load[0]
    se.capacity = &capacity[0]
    with nogil:
        for s in range(n_row):
            # The row's own price: its cheapest arc costs 0 reduced.
            start = INFINITY
            for k in range(indptr[s], indptr[s + 1]):
                c = cost[k] - price[indices[k]]
                if c < start:
                    start = c
            if start == INFINITY:
                failed = <int>s
                break
            se.n_touched = 0
            se.heap_size = 0
            se.bound = INFINITY
            n_scanned = 0
            for k in range(indptr[s], indptr[s + 1]):
                q = indices[k]
                nd = cost[k] - price[q] - start
                _reach(&se, q, nd if nd > 0 else 0, <int>s, cost[k])
            end = -1
            reach = 0
            while se.heap_size > 0:
                key = heap_key[0]
                q = heap_col[0]
                _pop(&heap_key[0], &heap_col[0], &se.heap_size)
                if done[q] or key > dist[q]:
                    continue
                done[q] = 1
                scanned[n_scanned] = q
                n_scanned += 1
                if load[q] < capacity[q]:
                    end = q
                    reach = key
                    break
                # Each row on q may leave it for another column: that arc's reduced
                # cost, measured from the row's matched arc (reduced cost 0).
                for h in range(first[q], first[q] + load[q]):
                    r = holder[h]
                    base = key - matched_cost[r] + price[q]
                    for k in range(indptr[r], indptr[r + 1]):
                        q2 = indices[k]
                        if not done[q2]:
                            nd = base + cost[k] - price[q2]
                            _reach(&se, q2, nd if nd > key else key, r, cost[k])
            if end < 0:
                failed = <int>s
                break
            # Prices of the searched region drop by how much closer it was than the end.
            for t in range(n_scanned):
                q = scanned[t]
                price[q] += dist[q] - reach
            # Augment along the search tree back to the new row: each row on the path
            # moves to the column it reached, the last one to the column with room.
            q = end
            while True:
                r = pred[q]
                prev = <int>col_of_row[r]
                col_of_row[r] = q
                holder[first[q] + load[q]] = r
                load[q] += 1
                matched_cost[r] = pred_cost[q]
                if r == s:
                    break
                # r leaves prev: its place there goes to the next row of the path.
                for h in range(first[prev], first[prev] + load[prev]):
                    if holder[h] == r:
                        holder[h] = holder[first[prev] + load[prev] - 1]
                        break
                load[prev] -= 1
                q = prev
            for t in range(se.n_touched):
                q = touched[t]
                dist[q] = INFINITY
                done[q] = 0
    if failed >= 0:
        raise ValueError(f"row {failed} cannot be assigned to a column with room")
    return col_of_row_a, price_a
