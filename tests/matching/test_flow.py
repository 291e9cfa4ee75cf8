"""The compiled transportation solver against its Python twin and brute force, and the
dual prices it returns as a certificate."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import _flow_py as flow_py
from matching import _solvers as solvers
from matching._flow_py import solve_transport as python_solver

SOLVERS = [python_solver]
if solvers.COMPILED:
    from matching import _flow as compiled
    from matching._flow import solve_transport as compiled_solver

    SOLVERS.append(compiled_solver)


def test_the_compiled_solver_is_built():
    # `make test` compiles matching/_flow.pyx (CI has a compiler); without one the engine
    # uses the same method in plain Python: the same answers, tens of times slower.
    if os.environ.get("CI") != "true" and not solvers.COMPILED:
        pytest.skip("matching/_flow.pyx is not compiled (no C compiler?)")
    assert solvers.COMPILED


@st.composite
def graphs(draw):
    """Rows with supplies, shared columns with capacities, and per row its slack columns."""
    n = draw(st.integers(1, 3))
    m = draw(st.integers(0, 3))
    supply = [draw(st.integers(1, 2)) for _ in range(n)]
    cap = [draw(st.integers(0, 2)) for _ in range(m)]
    arcs = []
    for r in range(n):
        for q in range(m):
            if draw(st.booleans()):
                arcs.append((r, q, 0, draw(st.sampled_from([0, 0, 5, 7, 10]))))
        for w in sorted(set(draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=2)))):
            cap.append(supply[r])
            arcs.append((r, len(cap) - 1, w, 0))
    arcs.sort()
    return supply, cap, arcs


def arrays(supply, cap, arcs):
    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    n = len(supply)
    indptr = np.searchsorted([a[0] for a in arcs], np.arange(n + 1))
    return (
        i64(supply),
        i64(np.arange(n)),
        i64(indptr),
        i64([a[1] for a in arcs]),
        i64([a[2] for a in arcs]),
        i64([a[3] for a in arcs]),
        i64(cap),
        i64(np.arange(len(cap))),
    )


def brute_force(supply, cap, arcs):
    units = [r for r, s in enumerate(supply) for _ in range(s)]
    options = [[k for k, a in enumerate(arcs) if a[0] == u] for u in units]
    best = None
    for choice in itertools.product(*options):
        load = np.bincount([arcs[k][1] for k in choice], minlength=len(cap))
        if np.all(load <= cap):
            value = (sum(arcs[k][2] for k in choice), sum(arcs[k][3] for k in choice))
            best = value if best is None or value < best else best
    return best


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None)
@given(graphs())
def test_the_optimum_and_the_prices_that_prove_it(graph):
    supply, cap, arcs = graph
    args = arrays(supply, cap, arcs)
    results = [solve(*args) for solve in SOLVERS]
    for other in results[1:]:
        for x, y in zip(results[0][:5], other[:5], strict=True):
            assert x.tolist() == y.tolist()
    flow, aw, ac, bw, bc, _ = results[-1]
    _, _, indptr, cols, w, c, capacity, _ = args
    assert (int((flow * w).sum()), int((flow * c).sum())) == brute_force(supply, cap, arcs)
    rows = np.repeat(np.arange(len(supply)), np.diff(indptr))
    red_w, red_c = w - aw[rows] - bw[cols], c - ac[rows] - bc[cols]
    assert not np.any((red_w < 0) | ((red_w == 0) & (red_c < 0)))  # dual feasible
    assert np.all((red_w == 0) & (red_c == 0) | (flow == 0))  # complementary slackness
    load = np.bincount(cols, weights=flow, minlength=len(cap))
    assert np.all(load <= capacity)
    assert np.all((bw < 0) | ((bw == 0) & (bc <= 0)))
    assert np.all((bw[load < capacity] == 0) & (bc[load < capacity] == 0))


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_row_with_nowhere_to_go_is_an_error_not_a_wrong_answer(solve):
    with pytest.raises(ValueError, match="row 0 cannot be routed"):
        solve(*arrays([2], [1], [(0, 0, 1, 0)]))


@pytest.mark.parametrize("solve", SOLVERS)
def test_at_equal_cost_a_column_with_room_ends_the_search(solve):
    # 200 zero-cost columns, all but the last full: one search finds the free one.
    n = 200
    arcs = [(r, q, 0, 0) for r in range(n) for q in range(n)] + [(r, n + r, 1, 0) for r in range(n)]
    arcs.sort()
    flow, *_, stats = solve(*arrays([1] * n, [1] * n + [1] * n, arcs))
    assert int(flow[[a[2] == 0 for a in arcs]].sum()) == n
    assert stats["searches"] == n
    assert stats["column_pops"] == n  # no plateau explored


def test_a_search_through_thousands_of_full_columns_gets_the_same_answer():
    # 5,000 rows each hold their only column; the last row reaches all of them (more
    # entries than the compiled solver's first heap) and can only be left unserved.
    n = 5000
    arcs = [(r, r, 0, 0) for r in range(n)]
    arcs += [(n, q, 0, 1 + q % 7) for q in range(n)] + [(n, n, 1, 0)]
    arcs.sort()
    results = [solve(*arrays([1] * (n + 1), [1] * (n + 1), arcs)) for solve in SOLVERS]
    for flow, *_ in results:
        assert flow.tolist() == [1] * n + [0] * n + [1]
    for other in results[1:]:
        for x, y in zip(results[0][:5], other[:5], strict=True):
            assert x.tolist() == y.tolist()


def test_solves_in_threads_at_once_give_the_answers_of_solves_one_by_one():
    # The web app and the worker may match in threads of one process: the compiled
    # solver's sort must not share state between two solves.
    if not solvers.COMPILED:
        pytest.skip("matching/_flow.pyx is not compiled")
    from concurrent.futures import ThreadPoolExecutor

    def graph(seed):
        rng = np.random.default_rng(seed)
        n, m = 400, 300
        arcs = sorted(
            {
                (r, int(q), 0, int(rng.integers(0, 1000)))
                for r in range(n)
                for q in rng.integers(0, m, 12)
            }
        )
        arcs += [(r, m + r, 1, 0) for r in range(n)]
        arcs.sort()
        return arrays([1] * n, [2] * m + [1] * n, arcs)

    graphs = [graph(seed) for seed in range(8)]
    alone = [compiled_solver(*g)[0].tolist() for g in graphs]
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            together = [
                f.result()[0].tolist() for f in [pool.submit(compiled_solver, *g) for g in graphs]
            ]
        assert together == alone


@st.composite
def grown_graphs(draw):
    """A graph, and the subgraph a warm start comes from (every row keeps its slack
    columns, so both can route everything): few distinct costs on purpose, capacities
    from none to more than all supply, rows of one to three units."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 6))
    supply = [draw(st.integers(1, 3)) for _ in range(n)]
    cap = [draw(st.integers(0, 4)) for _ in range(m)]
    costs = draw(st.sampled_from([[0], [0, 5], [0, 3, 5, 7, 11], [0, 10**6]]))
    arcs, first = [], []
    for r in range(n):
        for q in range(m):
            if draw(st.integers(0, 3)):
                arcs.append((r, q, 0, draw(st.sampled_from(costs))))
                first.append(draw(st.booleans()))
        for w in sorted(set(draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=2)))):
            cap.append(supply[r])
            arcs.append((r, len(cap) - 1, w, 0))
            first.append(True)
    order = sorted(range(len(arcs)), key=lambda k: arcs[k])
    return supply, cap, [arcs[k] for k in order], [first[k] for k in order]


def check_certificate(args, result):
    _, _, indptr, cols, w, c, capacity, _ = args
    flow, aw, ac, bw, bc, _ = result
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    red_w, red_c = w - aw[rows] - bw[cols], c - ac[rows] - bc[cols]
    assert not np.any((red_w < 0) | ((red_w == 0) & (red_c < 0)))
    assert np.all((red_w == 0) & (red_c == 0) | (flow == 0))
    load = np.bincount(cols, weights=flow, minlength=len(capacity))
    assert np.all(load <= capacity)
    assert np.all(np.bincount(rows, weights=flow, minlength=len(indptr) - 1) == args[0])
    assert np.all((bw < 0) | ((bw == 0) & (bc <= 0)))
    assert np.all((bw[load < capacity] == 0) & (bc[load < capacity] == 0))


@pytest.mark.timeout(120)
@settings(max_examples=400, deadline=None)
@given(grown_graphs())
def test_a_warm_start_from_a_subgraph_reaches_the_optimum_with_its_proof(graph):
    supply, cap, arcs, first = graph
    sub = [a for a, keep in zip(arcs, first, strict=True) if keep]
    full_args = arrays(supply, cap, arcs)
    _, _, _, _, w, c, _, _ = full_args
    cold = python_solver(*full_args)
    check_certificate(full_args, cold)
    at = [k for k, keep in enumerate(first) if keep]
    results = []
    for solve in SOLVERS:
        prev = solve(*arrays(supply, cap, sub))
        flow0 = np.zeros(len(arcs), dtype=np.int64)
        flow0[at] = prev[0]
        results.append(solve(*full_args, (flow0, *prev[1:5])))
    for other in results[1:]:
        for x, y in zip(results[0][:5], other[:5], strict=True):
            assert x.tolist() == y.tolist()
        # The same searches (the compiled one scans fewer arcs of each row: its pruning).
        same = lambda stats: {k: v for k, v in stats.items() if k != "arc_scans"}  # noqa: E731
        assert same(other[5]) == same(results[0][5])
    warm = results[-1]
    check_certificate(full_args, warm)
    assert warm[5]["aborted"] == 0
    # Told which rows gained arcs (the only ones that can have one of negative reduced
    # cost), a warm start looks at those only, to the same answer.
    gained = np.unique([a[0] for a, keep in zip(arcs, first, strict=True) if not keep])
    for solve in SOLVERS:
        prev = solve(*arrays(supply, cap, sub))
        flow0 = np.zeros(len(arcs), dtype=np.int64)
        flow0[at] = prev[0]
        hinted = solve(*full_args, (flow0, *prev[1:5], gained.astype(np.int64)))
        for x, y in zip(hinted[:5], warm[:5], strict=True):
            assert x.tolist() == y.tolist()
    value = lambda f: (int((f * w).sum()), int((f * c).sum()))  # noqa: E731
    assert value(warm[0]) == value(cold[0])


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_warm_start_refills_the_columns_its_unrouted_rows_leave(solve):
    # Row 0 holds column 0 (2 km); an added arc makes column 1 (1 km) the better one for
    # it, while row 1, left unserved, can use only column 0: the move frees column 0 at
    # a negative price, and the backward search gives it to row 1.
    supply, cap = [1, 1], [1, 1, 1, 1]
    sub = [(0, 0, 0, 2), (0, 2, 1, 0), (1, 0, 0, 3), (1, 3, 1, 0)]
    full = sorted([*sub, (0, 1, 0, 1)])
    prev = solve(*arrays(supply, cap, sub))
    assert prev[0].tolist() == [1, 0, 0, 1]  # row 1 unserved
    at = [full.index(a) for a in sub]
    flow0 = np.zeros(len(full), dtype=np.int64)
    flow0[at] = prev[0]
    result = solve(*arrays(supply, cap, full), (flow0, *prev[1:5]))
    check_certificate(arrays(supply, cap, full), result)
    assert result[0].tolist() == [0, 1, 0, 1, 0]  # both served: 1 km and 3 km
    assert result[5]["warm_rows"] == 1
    assert result[5]["refills"] >= 1
    # Not worth it past a limit of work: the caller is told, and solves from nothing.
    assert solve(*arrays(supply, cap, full), (flow0, *prev[1:5]), 0)[5]["aborted"] == 1


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_warm_start_that_is_not_a_solution_of_the_graph_is_ignored(solve):
    supply, cap, arcs = [1], [1, 1], [(0, 0, 0, 5), (0, 1, 1, 0)]
    args = arrays(supply, cap, arcs)
    cold = solve(*args)
    z = np.zeros(1, dtype=np.int64)
    for bad in [
        (np.array([2, 0]), z, z, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)),
        (np.array([1, 0]), z, z, np.array([1, 0]), np.zeros(2, dtype=np.int64)),
        (np.array([1, 0]), z, z, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)),
        (np.array([1]), z, z, z, z),
        (np.array([1, 0]), z, z, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), z + 1),
        (np.array([1, 0]), z, z, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), 0, 0),
    ]:
        result = solve(*args, bad)
        assert result[5]["warm_rows"] == 0 and result[5]["refills"] == 0
        for x, y in zip(cold[:5], result[:5], strict=True):
            assert x.tolist() == y.tolist()


# -- relabel and duals_prove: compiled against the twin -------------------------------------

RELABELS = [flow_py.relabel] + ([compiled.relabel] if solvers.COMPILED else [])
PROVERS = [flow_py.duals_prove] + ([compiled.duals_prove] if solvers.COMPILED else [])


@pytest.mark.parametrize("seed", range(6))
def test_long_rows_and_short_rows_are_scanned_in_the_same_order(seed):
    """Rows of 1-90 arcs (insertion sort up to 32, qsort above) at costs of a few values
    (ties broken by index): the compiled solver routes and prices as the twin does."""
    rng = np.random.default_rng(seed)
    n, m = 40, 120
    arcs = []
    for r in range(n):
        for q in sorted(rng.choice(m, size=int(rng.integers(1, 91)), replace=False)):
            arcs.append((r, int(q), 0, int(rng.choice([0, 3, 3, 8]))))
        arcs.append((r, m + r, int(rng.integers(1, 4)), 0))
    arcs.sort()
    cap = [int(x) for x in rng.integers(0, 2, m)] + [1] * n
    args = arrays([1] * n, cap, arcs)
    results = [solve(*args) for solve in SOLVERS]
    for other in results[1:]:
        for x, y in zip(results[0][:5], other[:5], strict=True):
            assert x.tolist() == y.tolist()


@st.composite
def layouts(draw):
    """Arcs sorted by row, each row's slack columns, a row order and column numbering."""
    n_rows = draw(st.integers(0, 6))
    n_cls = draw(st.integers(1, 5))
    arc_row, arc_col = [], []
    for r in range(n_rows):
        for q in sorted(draw(st.sets(st.integers(0, n_cls - 1), max_size=n_cls))):
            arc_row.append(r)
            arc_col.append(q)
    slack_deg = [draw(st.integers(0, 2)) for _ in range(n_rows)]
    slack_ptr = np.concatenate([[0], np.cumsum(slack_deg)]).astype(np.int64)
    n_slack = int(slack_ptr[-1])
    row_perm = np.asarray(draw(st.permutations(range(n_rows))), dtype=np.int64)
    col_new = np.asarray(draw(st.permutations(range(n_cls + n_slack))), dtype=np.int64)
    return (
        row_perm,
        col_new,
        np.asarray(arc_row, dtype=np.int32),
        np.asarray(arc_col, dtype=np.int32),
        np.asarray([draw(st.integers(0, 99)) for _ in arc_row], dtype=np.int64),
        slack_ptr,
        # Weights <= 0 too: a row whose slack columns sort before its arcs.
        np.asarray([draw(st.integers(-3, 70)) for _ in range(n_slack)], dtype=np.int64),
        n_cls,
    )


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_relabel_lays_the_graph_out_as_its_twin_does(layout):
    row_perm, col_new, arc_row, arc_col, cost, slack_ptr, slack_weight, n_cls = layout
    out = [relabel(*layout) for relabel in RELABELS]
    for other in out[1:]:
        for x, y in zip(out[0], other, strict=True):
            assert x.tolist() == y.tolist()
    indptr, indices, arc_w, arc_c, order = out[-1]
    n_arcs = len(arc_row)
    # Row by row in the new order: each entry is the arc (or slack column) ``order`` says.
    for new, old in enumerate(row_perm.tolist()):
        for p in range(indptr[new], indptr[new + 1]):
            k = int(order[p])
            if k < n_arcs:
                assert arc_row[k] == old and indices[p] == col_new[arc_col[k]]
                assert (arc_w[p], arc_c[p]) == (0, cost[k])
            else:
                s = k - n_arcs
                assert slack_ptr[old] <= s < slack_ptr[old + 1]
                assert indices[p] == col_new[n_cls + s]
                assert (arc_w[p], arc_c[p]) == (slack_weight[s], 0)
    assert sorted(order.tolist()) == list(range(n_arcs + len(slack_weight)))
    assert_rows_by_cost(indptr, arc_w, arc_c, order)


def assert_rows_by_cost(indptr, arc_w, arc_c, order):
    """Each row's entries by cost (weight part, then cost part), equal costs as laid out
    (arcs in order, then slack columns): the order the solver takes them in."""
    for r in range(len(indptr) - 1):
        lo, hi = int(indptr[r]), int(indptr[r + 1])
        keys = list(
            zip(arc_w[lo:hi].tolist(), arc_c[lo:hi].tolist(), order[lo:hi].tolist(), strict=True)
        )
        assert keys == sorted(keys)


@pytest.mark.parametrize("seed", range(4))
def test_relabel_sorts_long_rows_as_its_twin_does_and_the_solver_takes_them_so(seed):
    """Rows of 1-90 arcs at costs of a few values (insertion sort up to 32, qsort above):
    laid out by cost, ties as given; solved from that layout, the routing is the one the
    solver finds from the arcs in class order (it sorts them itself then)."""
    rng = np.random.default_rng(seed)
    n_rows, n_cls = 30, 100
    arc_row, arc_col = [], []
    for r in range(n_rows):
        for q in sorted(rng.choice(n_cls, size=int(rng.integers(1, 91)), replace=False)):
            arc_row.append(r)
            arc_col.append(int(q))
    cost = rng.choice([0, 3, 3, 8, 20], size=len(arc_row)).astype(np.int64)
    slack_ptr = np.arange(n_rows + 1, dtype=np.int64)
    slack_weight = rng.integers(1, 4, n_rows).astype(np.int64)
    row_perm = rng.permutation(n_rows).astype(np.int64)
    col_new = np.arange(n_cls + n_rows, dtype=np.int64)
    layout = (
        row_perm,
        col_new,
        np.asarray(arc_row, dtype=np.int32),
        np.asarray(arc_col, dtype=np.int32),
        cost,
        slack_ptr,
        slack_weight,
        n_cls,
    )
    out = [relabel(*layout) for relabel in RELABELS]
    for other in out[1:]:
        for x, y in zip(out[0], other, strict=True):
            assert x.tolist() == y.tolist()
    indptr, indices, arc_w, arc_c, order = out[-1]
    assert_rows_by_cost(indptr, arc_w, arc_c, order)
    # The same graph with each row's entries in class order (as laid out before sorting).
    by_layout = np.lexsort((order, np.repeat(np.arange(n_rows), np.diff(indptr))))
    supply = np.ones(n_rows, dtype=np.int64)
    cap = np.concatenate([rng.integers(0, 2, n_cls), np.ones(n_rows)]).astype(np.int64)
    tie = np.arange(n_cls + n_rows, dtype=np.int64)
    rows = np.arange(n_rows, dtype=np.int64)
    for solve in SOLVERS:
        sorted_flow, *sorted_duals, _ = solve(supply, rows, indptr, indices, arc_w, arc_c, cap, tie)
        given_flow, *given_duals, _ = solve(
            supply, rows, indptr, indices[by_layout], arc_w[by_layout], arc_c[by_layout], cap, tie
        )
        assert given_flow.tolist() == sorted_flow[by_layout].tolist()
        for x, y in zip(sorted_duals, given_duals, strict=True):
            assert x.tolist() == y.tolist()


@pytest.mark.skipif(not solvers.COMPILED, reason="matching/_flow.pyx is not compiled")
def test_relabel_refuses_what_would_write_out_of_bounds():
    one = np.zeros(1, dtype=np.int64)
    ptr = np.zeros(3, dtype=np.int64)
    rows, cols = np.array([1, 0], dtype=np.int32), np.zeros(2, dtype=np.int32)
    cost = np.zeros(2, dtype=np.int64)
    perm = np.array([0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="not sorted by row"):
        compiled.relabel(perm, one, rows, cols, cost, ptr, one[:0], 1)
    rows = np.array([0, 1], dtype=np.int32)
    with pytest.raises(ValueError, match="not a permutation"):
        compiled.relabel(np.array([0, 0], dtype=np.int64), one, rows, cols, cost, ptr, one[:0], 1)
    with pytest.raises(ValueError, match="out of range"):
        compiled.relabel(perm, one, rows, cols + 1, cost, ptr, one[:0], 1)


@settings(max_examples=200, deadline=None)
@given(graphs(), st.integers(0, 7), st.integers(0, 50))
def test_duals_prove_what_the_solver_proved_and_nothing_flawed(graph, flaw, at):
    """A solution's own duals prove it (both implementations); each flaw a solver could
    have (a negative reduced cost, flow on an arc that is not tight, a column priced
    above 0, a column with room priced below 0, flow moved) is caught by both alike."""
    supply, cap, arcs = graph
    args = arrays(supply, cap, arcs)
    flow, aw, ac, bw, bc, _ = python_solver(*args)
    _, _, indptr, cols, w, c, capacity, _ = args
    proof = [indptr, cols, w, c, flow, aw, ac, bw, bc, capacity]
    assert all(prove(*proof) for prove in PROVERS)
    bad = [x.copy() for x in proof]
    pick = lambda x: at % max(len(x), 1)  # noqa: E731
    if flaw == 0 and len(aw):
        bad[6][pick(aw)] += 1  # a row priced up: one of its arcs now negative
    elif flaw == 1 and len(bw):
        bad[8][pick(bw)] += 1  # a column priced above 0 (or below its arcs)
    elif flaw == 2 and len(bw):
        bad[8][pick(bw)] -= 1  # a column priced down: tight arcs into it no longer are
    elif flaw == 3 and len(flow):
        bad[4][pick(flow)] += 1  # more flow on an arc
    elif flaw == 4 and len(c):
        bad[3][pick(c)] -= 1  # an arc made cheaper than its prices allow
    elif flaw == 5 and len(bw):
        bad[7][pick(bw)] -= 1  # weight part of a column's price down
    elif flaw == 6 and len(flow) > 1:
        bad[4] = np.roll(bad[4], 1)  # flow moved to other arcs
    verdicts = {prove(*bad) for prove in PROVERS}
    assert len(verdicts) == 1
    reference = flow_py.duals_prove(*bad)
    # The reference, written out: what "proved" means.
    rows = np.repeat(np.arange(len(aw)), np.diff(indptr))
    fw, fc, fl = (
        bad[2] - bad[5][rows] - bad[7][bad[1]],
        bad[3] - bad[6][rows] - bad[8][bad[1]],
        bad[4],
    )
    load = np.bincount(bad[1], weights=fl, minlength=len(capacity))
    expected = bool(
        np.all((fw > 0) | ((fw == 0) & (fc >= 0)))
        and np.all(((fw == 0) & (fc == 0)) | (fl <= 0))
        and np.all((bad[7] < 0) | ((bad[7] == 0) & (bad[8] <= 0)))
        and np.all(((bad[7] == 0) & (bad[8] == 0)) | (load >= capacity))
    )
    assert reference == expected


@pytest.mark.skipif(not solvers.COMPILED, reason="matching/_flow.pyx is not compiled")
@settings(max_examples=300, deadline=None)
@given(graphs(), st.integers(0, 8), st.integers(0, 50))
def test_the_compiled_solver_takes_the_warm_starts_its_twin_takes(graph, flaw, at):
    """Whether a warm start fits the graph (flows within supplies and capacities, prices
    at most 0, the rows to check increasing and in range): the compiled check, in loops,
    answers as the twin's on valid and flawed warm starts alike."""
    supply, cap, arcs = graph
    args = arrays(supply, cap, arcs)
    flow, aw, ac, bw, bc, _ = python_solver(*args)
    row_supply, _, indptr, cols, _, _, capacity, _ = args
    warm = [flow.copy(), aw, ac, bw.copy(), bc.copy(), np.arange(len(supply), dtype=np.int64)]
    pick = lambda x: at % max(len(x), 1)  # noqa: E731
    if flaw == 0 and len(flow):
        warm[0][pick(flow)] += 1  # over a supply or a capacity
    elif flaw == 1 and len(flow):
        warm[0][pick(flow)] -= 1  # negative, or less routed (that fits)
    elif flaw == 2:
        warm[3][pick(bw)] += 1  # a price above 0
    elif flaw == 3:
        warm[4][pick(bc)] += 1
    elif flaw == 4:
        warm[5] = warm[5][::-1].copy()  # rows not increasing
    elif flaw == 5:
        warm[5] = warm[5] + 1  # a row out of range
    elif flaw == 6:
        warm = warm[:5]  # no rows: all are checked
    elif flaw == 7:
        warm[0] = warm[0][:-1]  # the wrong shape
    fits = (
        compiled._warm_fits_here(tuple(warm), row_supply, indptr, cols, capacity),
        flow_py._warm_fits(tuple(warm), row_supply, indptr, cols, capacity),
    )
    assert fits[0] == fits[1]
    if flaw in (6, 8):
        assert fits[0]  # the solution itself fits
    if flaw == 5 or (flaw == 4 and len(supply) > 1) or (flaw == 7 and len(flow)):
        assert not fits[0]


@pytest.mark.skipif(not solvers.COMPILED, reason="matching/_flow.pyx is not compiled")
@pytest.mark.parametrize("column", [-1, 2, 2**32])
def test_an_arc_into_no_column_is_refused_not_read_out_of_bounds(column):
    """Columns are taken as 32-bit inside the solve: one that names no column (or would
    wrap round) is an error, and proves nothing."""
    args = list(arrays([1], [1, 1], [(0, 0, 0, 1), (0, 1, 1, 0)]))
    args[3] = np.array([0, column], dtype=np.int64)
    with pytest.raises(ValueError, match="column is out of range"):
        compiled_solver(*args)
    flow = np.zeros(2, dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    assert not compiled.duals_prove(args[2], args[3], args[4], args[5], flow, zero, zero,
                                    np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64),
                                    args[6])  # fmt: skip
